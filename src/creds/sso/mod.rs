//! IAM Identity Center (SSO) as a credential source: a signed-in token for the start URL, then
//! `GetRoleCredentials` for the profile's account and role (docs/aws-vault.md §3.8, done better:
//! the client is registered once with refresh-token grants and scopes, access tokens renew
//! silently with the refresh token, and one cross-process lock per start URL makes any number
//! of parallel callers share one sign-in).

pub(crate) mod aws;
pub(crate) mod client;
pub(crate) mod signin;
pub(crate) mod token;

use std::time::Duration;

use serde::Serialize;

use self::client::{
    Grant, OidcError, PortalError, RegisterRequest, Registration, TokenAnswer, grant,
};
use self::signin::{Loopback, SignInError};
use self::token::SignIn;
use super::credentials::Credentials;
use super::sts::Target;
use super::{Context, Error, Notice, configured_endpoint};
use crate::secret::Secret;

/// An access token with less than this left is renewed before it is used: a role call must not
/// start with a token about to lapse.
const TOKEN_MARGIN: Duration = Duration::from_mins(5);
/// What vault asks for when the session names no scopes: the scope that makes the service
/// issue a refresh token.
pub(crate) const DEFAULT_SCOPE: &str = "sso:account:access";

/// One IAM Identity Center sign-in: a start URL in its region, with the scopes vault asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SsoSession {
    pub(crate) start_url: String,
    pub(crate) sso_region: String,
    /// The `[sso-session]` name; `None` for a legacy profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) session: Option<String>,
    pub(crate) scopes: Vec<String>,
    /// Where the OIDC service and the portal are (an endpoint override, or the region's).
    pub(crate) oidc: Target,
    pub(crate) portal: Target,
}

/// GetRoleCredentials for one account and role, signed in through one start URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct SsoRole {
    pub(crate) profile: String,
    pub(crate) account_id: String,
    pub(crate) role_name: String,
    #[serde(flatten)]
    pub(crate) sso: SsoSession,
}

/// Which access token a caller can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Want<'a> {
    /// Any usable one.
    Any,
    /// A usable one other than this, which the portal refused.
    NotThis(&'a Secret),
    /// A new one, whatever is stored (`vault sso login`).
    New,
}

/// Where a token came from: one just made by a sign-in is not retried on a 401.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Stored,
    New,
}

impl SsoRole {
    pub(crate) fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        let (token, origin) = self.sso.access_token(cx, Want::Any)?;
        match self.role_credentials(cx, &token) {
            // A stored token the portal no longer takes: sign in anew, once.
            Err(PortalError::Unauthorized(reason)) if origin == Origin::Stored => {
                log::debug!(
                    "the SSO token of {} was refused ({reason}); renewing it",
                    self.sso.start_url
                );
                let (token, _) = self.sso.access_token(cx, Want::NotThis(&token))?;
                self.role_credentials(cx, &token)
                    .map_err(|err| self.portal_failed(err))
            }
            other => other.map_err(|err| self.portal_failed(err)),
        }
    }

    fn role_credentials(
        &self,
        cx: &Context<'_>,
        token: &Secret,
    ) -> Result<Credentials, PortalError> {
        log::debug!(
            "profile {}: calling GetRoleCredentials for {}/{}",
            self.profile,
            self.account_id,
            self.role_name
        );
        cx.services.sso_portal.get_role_credentials(
            &self.sso.portal,
            token,
            &self.account_id,
            &self.role_name,
        )
    }

    fn portal_failed(&self, err: PortalError) -> Error {
        let reason = match err {
            PortalError::Forbidden(reason) => format!(
                "the signed-in user may not use role {} in account {} ({reason}); check sso_account_id and sso_role_name, or ask your administrator for the assignment",
                self.role_name, self.account_id
            ),
            PortalError::Unauthorized(reason) => format!(
                "IAM Identity Center did not accept the new sign-in ({reason}); run `vault sso login` or the command again"
            ),
            PortalError::Other(err) => format!("GetRoleCredentials failed: {err}"),
        };
        Error::Sso {
            profile: self.profile.clone(),
            reason,
        }
    }
}

impl SsoSession {
    /// A usable access token for the start URL: the stored one, the AWS CLI's, a refreshed one,
    /// or a new sign-in, in that order, under the start URL's lock so that parallel callers
    /// sign in once. `renew` skips the stored and cached tokens (the portal refused them).
    fn access_token(&self, cx: &Context<'_>, want: Want<'_>) -> Result<(Secret, Origin), Error> {
        let now = || cx.services.clock.now();
        let lock_name = format!("oidc {}", self.start_url);
        let notify = || {
            (cx.services.notices)(&Notice::WaitingForSignIn {
                start_url: self.start_url.clone(),
            });
        };
        let guard = cx.locks.acquire(&lock_name, &notify);
        let waited = guard.as_ref().is_some_and(|g| g.waited) || cx.waited.get();
        cx.keystore.reread();
        let stored = token::load(cx.keystore, &self.start_url)?;
        // Any usable token but one the portal just refused (another caller may have renewed it
        // while this one waited).
        let acceptable = |token: &SignIn| match want {
            Want::Any => token.usable(now(), TOKEN_MARGIN),
            Want::NotThis(refused) => {
                token.access_token != *refused && token.usable(now(), TOKEN_MARGIN)
            }
            Want::New => false,
        };
        if let Some(token) = stored.as_ref().filter(|t| acceptable(t)) {
            return Ok((token.access_token.clone(), Origin::Stored));
        }
        if let Some(cached) = self.cli_cache_token(cx).filter(|t| acceptable(t)) {
            log::debug!("using the AWS CLI's SSO token for {}", self.start_url);
            // Only its access token: vault's own refresh token and client stay vault's, so
            // neither tool's refresh ever invalidates the other's.
            let adopted = SignIn {
                refresh_token: stored.as_ref().and_then(|t| t.refresh_token.clone()),
                client: stored.as_ref().and_then(|t| t.client.clone()),
                ..cached
            };
            self.store_or_warn(cx, &adopted);
            return Ok((adopted.access_token, Origin::Stored));
        }
        if let Some(token) = stored.as_ref()
            && let Some(fresh) = self.refresh(cx, token)?
        {
            return Ok((fresh, Origin::New));
        }
        // Another caller held the lock for a sign-in and left no token: it failed or was
        // cancelled. Starting one more for every caller that waited would open a browser tab
        // each; say so instead.
        if waited && want != Want::New {
            return Err(Error::SignIn {
                start_url: self.start_url.clone(),
                reason: "the sign-in another vault process started did not complete; run the command again to sign in".to_owned(),
            });
        }
        let token = self.sign_in(cx, stored.and_then(|t| t.client))?;
        Ok((token, Origin::New))
    }

    fn cli_cache_path(&self, env: &crate::ctx::Env) -> Option<std::path::PathBuf> {
        token::cli_cache_path(env, self.session.as_deref(), &self.start_url)
    }

    fn cli_cache_token(&self, cx: &Context<'_>) -> Option<SignIn> {
        let path = self.cli_cache_path(cx.env)?;
        token::from_cli_cache(&path, &self.start_url)
            .filter(|t| t.usable(cx.services.clock.now(), TOKEN_MARGIN))
    }

    /// A new access token from the refresh token, kept with the new refresh token the service
    /// may rotate to; `None` when there is nothing to refresh with or the service refused it.
    fn refresh(&self, cx: &Context<'_>, stored: &SignIn) -> Result<Option<Secret>, Error> {
        let (Some(refresh_token), Some(client)) = (&stored.refresh_token, &stored.client) else {
            return Ok(None);
        };
        if client.expires_at <= cx.services.clock.now() {
            return Ok(None);
        }
        let grant = Grant::RefreshToken {
            refresh_token: refresh_token.clone(),
        };
        log::debug!(
            "renewing the SSO token of {} with its refresh token",
            self.start_url
        );
        match cx
            .services
            .sso_oidc
            .create_token(&self.oidc, client, &grant)
        {
            Ok(answer) => Ok(Some(self.keep(
                cx,
                answer,
                client.clone(),
                Some(refresh_token),
            ))),
            // Refused in any of the ways the service words it: a new sign-in, once.
            Err(
                OidcError::InvalidGrant(reason)
                | OidcError::AccessDenied(reason)
                | OidcError::Expired(reason),
            ) => {
                log::debug!(
                    "the refresh token of {} was refused: {reason}",
                    self.start_url
                );
                Ok(None)
            }
            Err(OidcError::Other(err))
                if matches!(
                    err.code(),
                    Some("InvalidClientException" | "UnauthorizedClientException")
                ) =>
            {
                log::debug!(
                    "the client of {} is no longer accepted: {err}",
                    self.start_url
                );
                Ok(None)
            }
            Err(err) => {
                Err(SignInError::Service(err).into_error(&self.start_url, &self.sso_region))
            }
        }
    }

    /// Stores what CreateToken gave, with the client that got it, and returns the access token.
    fn keep(
        &self,
        cx: &Context<'_>,
        answer: TokenAnswer,
        client: Registration,
        previous_refresh: Option<&Secret>,
    ) -> Secret {
        let now = cx.services.clock.now();
        let token = SignIn {
            access_token: answer.access_token,
            expires_at: now + answer.expires_in,
            // The service may rotate the refresh token; without a new one the old one stands.
            refresh_token: answer.refresh_token.or_else(|| previous_refresh.cloned()),
            client: Some(client),
        };
        self.store_or_warn(cx, &token);
        if cx.sign_in.mode.share_cli_cache
            && let Some(path) = self.cli_cache_path(cx.env)
            && let Err(err) =
                token::write_cli_cache(&path, &self.start_url, &self.sso_region, &token)
        {
            (cx.services.notices)(&Notice::NotKept {
                what: format!("the AWS CLI's cache {}", path.display()),
                reason: err.to_string(),
            });
        }
        token.access_token
    }

    /// Keeps the sign-in in the keystore. A failure there costs the next command a sign-in,
    /// not this one its credentials: it is said, and the token is still used.
    fn store_or_warn(&self, cx: &Context<'_>, token: &SignIn) {
        if let Err(err) = token::store(cx.keystore, &self.start_url, token, cx.services.clock.now())
        {
            (cx.services.notices)(&Notice::NotKept {
                what: "the sign-in".to_owned(),
                reason: err.to_string(),
            });
        }
    }

    /// A new sign-in, through the browser or with a device code, as the request says.
    fn sign_in(&self, cx: &Context<'_>, client: Option<Registration>) -> Result<Secret, Error> {
        if !cx.sign_in.allowed {
            return Err(Error::SignInNeeded {
                start_url: self.start_url.clone(),
            });
        }
        let fail = |err: SignInError| err.into_error(&self.start_url, &self.sso_region);
        let mut browser_failed = false;
        if !cx.sign_in.mode.device_code {
            let loopback = Loopback::listen().map_err(|e| fail(SignInError::Local(e)))?;
            let client = self.client_for(cx, client.clone(), grant::AUTHORIZATION_CODE)?;
            match signin::with_browser(
                cx,
                &self.oidc,
                &client,
                &self.scopes,
                &loopback,
                cx.sign_in.mode.print_url,
            ) {
                Ok(answer) => return Ok(self.keep(cx, answer, client, None)),
                Err(SignInError::NoBrowser(reason)) => {
                    (cx.services.notices)(&Notice::NoBrowser { reason });
                    browser_failed = true;
                }
                Err(err) => return Err(fail(err)),
            }
        }
        let client = self.client_for(cx, client, grant::DEVICE_CODE)?;
        let open_browser =
            !cx.sign_in.mode.print_url && !cx.sign_in.mode.device_code && !browser_failed;
        let answer =
            signin::with_device_code(cx, &self.oidc, &client, &self.start_url, open_browser)
                .map_err(fail)?;
        Ok(self.keep(cx, answer, client, None))
    }

    /// The stored client while it is registered for `grant_type` and the session's scopes;
    /// else a new registration with that grant, the refresh grant and the scopes. A browser
    /// client registers the loopback redirect without a port: the service, like RFC 8252
    /// §7.3, takes any port of 127.0.0.1, so one registration serves every sign-in.
    fn client_for(
        &self,
        cx: &Context<'_>,
        stored: Option<Registration>,
        grant_type: &str,
    ) -> Result<Registration, Error> {
        let now = cx.services.clock.now();
        if let Some(client) = stored.filter(|c| {
            c.expires_at > now + TOKEN_MARGIN
                && c.grant_types.iter().any(|g| g == grant_type)
                && c.scopes == self.scopes
        }) {
            return Ok(client);
        }
        let request = RegisterRequest {
            client_name: format!("vault-{}", now.unix_timestamp()),
            grant_types: vec![grant_type.to_owned(), grant::REFRESH_TOKEN.to_owned()],
            scopes: self.scopes.clone(),
            redirect_uris: (grant_type == grant::AUTHORIZATION_CODE)
                .then(|| signin::REDIRECT_URI.to_owned())
                .into_iter()
                .collect(),
            issuer_url: self.start_url.clone(),
        };
        log::debug!(
            "registering an OIDC client for {} ({grant_type})",
            self.start_url
        );
        cx.services
            .sso_oidc
            .register_client(&self.oidc, &request)
            .map_err(|err| SignInError::Service(err).into_error(&self.start_url, &self.sso_region))
    }

    /// Every account and role the signed-in person can use, signing in first when needed:
    /// `(account id, account name, role name)`, sorted.
    pub(crate) fn assignments(
        &self,
        cx: &Context<'_>,
    ) -> Result<Vec<(String, String, String)>, Error> {
        let (token, _) = self.access_token(cx, Want::Any)?;
        let portal = &cx.services.sso_portal;
        let failed = |err: PortalError| Error::SignIn {
            start_url: self.start_url.clone(),
            reason: format!("listing the accounts and roles failed: {err}"),
        };
        let mut found = Vec::new();
        for account in portal.list_accounts(&self.portal, &token).map_err(failed)? {
            for role in portal
                .list_account_roles(&self.portal, &token, &account.id)
                .map_err(failed)?
            {
                found.push((account.id.clone(), account.name.clone(), role));
            }
        }
        found.sort();
        Ok(found)
    }

    /// A new access token whatever is stored: a refresh where the refresh token still works,
    /// else a sign-in. Returns when it expires.
    pub(crate) fn sign_in_again(&self, cx: &Context<'_>) -> Result<time::OffsetDateTime, Error> {
        self.access_token(cx, Want::New)?;
        let token = token::load(cx.keystore, &self.start_url)?;
        Ok(token.map_or_else(|| cx.services.clock.now(), |t| t.expires_at))
    }

    /// Ends the sign-in at the service, then removes the token and the role sessions made
    /// with it (aws-vault keys them by the start URL). A token the service no longer knows
    /// is removed all the same.
    pub(crate) fn log_out(
        &self,
        services: &super::Services,
        env: &crate::ctx::Env,
        keystore: &dyn crate::keystore::Keystore,
    ) -> Result<usize, Error> {
        let stored = token::load(keystore, &self.start_url)?;
        if let Some(stored) = &stored {
            match services
                .sso_portal
                .logout(&self.portal, &stored.access_token)
            {
                Ok(()) | Err(PortalError::Unauthorized(_)) => {}
                Err(err) => {
                    return Err(Error::SignIn {
                        start_url: self.start_url.clone(),
                        reason: format!("signing out failed ({err}); nothing was removed"),
                    });
                }
            }
        }
        token::remove(keystore, &self.start_url)?;
        // The AWS CLI's copy goes too when it is the one vault shared (the same token).
        if let (Some(stored), Some(path)) = (&stored, self.cli_cache_path(env))
            && token::from_cli_cache(&path, &self.start_url)
                .is_some_and(|cached| cached.access_token == stored.access_token)
        {
            let _ = std::fs::remove_file(&path);
        }
        let mut removed = 0;
        for key in keystore.list()? {
            let crate::keystore::keys::KeyKind::Session(session) =
                crate::keystore::keys::classify(&key)
            else {
                continue;
            };
            if session.kind == super::plan::kind::SSO_ROLE && session.mfa == self.start_url {
                match keystore.remove(&key) {
                    Ok(()) => removed += 1,
                    Err(crate::keystore::Error::NotFound { .. }) => {}
                    Err(err) => return Err(err.into()),
                }
            }
        }
        Ok(removed)
    }
}

impl SsoSession {
    /// The config's `[sso-session NAME]`, for `vault sso login --sso-session NAME`.
    pub(crate) fn named(
        config: &crate::config::Config,
        name: &str,
        env: &crate::ctx::Env,
    ) -> Result<Self, Error> {
        let settings = config.sso_session_settings(name)?;
        let (oidc, portal) = targets(
            &crate::config::ProfileConfig::default(),
            &settings.region,
            env,
        );
        Ok(Self {
            start_url: settings.start_url,
            sso_region: settings.region,
            session: Some(name.to_owned()),
            scopes: scopes_or_default(settings.scopes),
            oidc,
            portal,
        })
    }
}

/// The session's `sso_registration_scopes`, else the scope that brings a refresh token.
pub(crate) fn scopes_or_default(scopes: Vec<String>) -> Vec<String> {
    if scopes.is_empty() {
        vec![DEFAULT_SCOPE.to_owned()]
    } else {
        scopes
    }
}

/// Where the OIDC service and the portal of `region` are for this profile: the SDKs' endpoint
/// variables (`AWS_ENDPOINT_URL_SSO_OIDC`, `AWS_ENDPOINT_URL_SSO`, then `AWS_ENDPOINT_URL`) and
/// the profile's `endpoint_url`, else the region's own.
pub(crate) fn targets(
    profile: &crate::config::ProfileConfig,
    region: &str,
    env: &crate::ctx::Env,
) -> (Target, Target) {
    let target = |variable: &str| Target {
        region: region.to_owned(),
        endpoint: configured_endpoint(variable, profile, env),
    };
    (
        target("AWS_ENDPOINT_URL_SSO_OIDC"),
        target("AWS_ENDPOINT_URL_SSO"),
    )
}
