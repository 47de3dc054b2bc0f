//! `SsoOidc` and `SsoPortal` on the AWS SDK, with the runtime, HTTP client, retries and timeouts
//! STS uses. Neither service signs its requests: the client secret and the access token are the
//! proofs, so the clients carry no AWS credentials.

use std::time::Duration;

use aws_sdk_sso::config::{BehaviorVersion, Region};
use aws_sdk_sts::error::{ProvideErrorMetadata, SdkError};
use time::OffsetDateTime;

use super::client::{
    Account, DeviceAuthorization, Grant, OidcError, PortalError, RegisterRequest, Registration,
    SsoOidc, SsoPortal, TokenAnswer, grant,
};
use crate::creds::StsError;
use crate::creds::aws::{SdkRuntime, map_service_error, retry_config, timeout_config};
use crate::creds::credentials::Credentials;
use crate::creds::sts::Target;
use crate::secret::Secret;

const OIDC: &str = "the IAM Identity Center OIDC service";
const PORTAL: &str = "the IAM Identity Center portal";

#[derive(Default)]
pub(crate) struct AwsSso {
    sdk: SdkRuntime,
}

impl AwsSso {
    fn oidc(&self, target: &Target) -> aws_sdk_ssooidc::Client {
        let mut config = aws_sdk_ssooidc::Config::builder()
            .behavior_version(aws_sdk_ssooidc::config::BehaviorVersion::latest())
            .region(aws_sdk_ssooidc::config::Region::new(target.region.clone()))
            .http_client(self.sdk.http())
            .interceptor(crate::creds::answer_limit::AnswerSizeLimit)
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        if let Some(endpoint) = &target.endpoint {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_ssooidc::Client::from_conf(config.build())
    }

    fn portal(&self, target: &Target) -> aws_sdk_sso::Client {
        let mut config = aws_sdk_sso::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new(target.region.clone()))
            .http_client(self.sdk.http())
            .interceptor(crate::creds::answer_limit::AnswerSizeLimit)
            .retry_config(retry_config())
            .timeout_config(timeout_config());
        if let Some(endpoint) = &target.endpoint {
            config = config.endpoint_url(endpoint);
        }
        aws_sdk_sso::Client::from_conf(config.build())
    }

    fn block_on<F: Future>(&self, service: &str, call: F) -> Result<F::Output, StsError> {
        let runtime = self
            .sdk
            .runtime()
            .map_err(|e| StsError::Unreachable(format!("cannot call {service}: {e}")))?;
        Ok(runtime.block_on(call))
    }

    /// Runs an OIDC call, with its errors sorted by what callers branch on.
    fn oidc_call<T, E, R>(
        &self,
        call: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, OidcError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        self.block_on(OIDC, call)
            .map_err(OidcError::Other)?
            .map_err(|e| oidc_error(&e))
    }

    /// Runs a portal call, with its errors sorted by what callers branch on.
    fn portal_call<T, E, R>(
        &self,
        call: impl Future<Output = Result<T, SdkError<E, R>>>,
    ) -> Result<T, PortalError>
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug + 'static,
    {
        self.block_on(PORTAL, call)
            .map_err(PortalError::Other)?
            .map_err(|e| portal_error(&e))
    }
}

/// The OIDC error codes callers branch on; anything else is the service refusing.
fn oidc_error<E, R>(err: &SdkError<E, R>) -> OidcError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = || service_message(err);
    match err.as_service_error().and_then(ProvideErrorMetadata::code) {
        Some("AuthorizationPendingException") => OidcError::Pending,
        Some("SlowDownException") => OidcError::SlowDown,
        Some("InvalidGrantException") => OidcError::InvalidGrant(message()),
        Some("AccessDeniedException") => OidcError::AccessDenied(message()),
        Some("ExpiredTokenException") => OidcError::Expired(message()),
        _ => OidcError::Other(map_service_error(OIDC, err)),
    }
}

fn portal_error<E, R>(err: &SdkError<E, R>) -> PortalError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    let message = || service_message(err);
    match err.as_service_error().and_then(ProvideErrorMetadata::code) {
        Some("UnauthorizedException") => PortalError::Unauthorized(message()),
        Some("ForbiddenException") => PortalError::Forbidden(message()),
        _ => PortalError::Other(map_service_error(PORTAL, err)),
    }
}

/// Every item of a paginated listing: `page` is asked with the token of the page before (none
/// at first) and gives its items and the next token, none or empty on the last page.
fn all_pages<T>(
    mut page: impl FnMut(Option<String>) -> Result<(Vec<T>, Option<String>), PortalError>,
) -> Result<Vec<T>, PortalError> {
    let mut items = Vec::new();
    let mut next = None;
    loop {
        let (mut more, token) = page(next)?;
        items.append(&mut more);
        match token.filter(|t| !t.is_empty()) {
            Some(token) => next = Some(token),
            None => return Ok(items),
        }
    }
}

/// The service's own words for an error it answered with.
fn service_message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata,
{
    err.as_service_error()
        .and_then(|e| e.message().map(str::to_owned))
        .unwrap_or_else(|| "no reason given".to_owned())
}

/// A member the service must send, or the answer is unusable.
fn required(value: Option<&str>, service: &str, what: &str) -> Result<String, StsError> {
    value
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
        .ok_or_else(|| missing(service, what))
}

fn missing(service: &str, what: &str) -> StsError {
    StsError::Unreachable(format!("{service} answered without {what}"))
}

fn seconds(value: i32) -> Duration {
    Duration::from_secs(u64::try_from(value).unwrap_or_default())
}

impl SsoOidc for AwsSso {
    fn register_client(
        &self,
        target: &Target,
        request: &RegisterRequest,
    ) -> Result<Registration, OidcError> {
        let call = self
            .oidc(target)
            .register_client()
            .client_name(&request.client_name)
            .client_type("public")
            .set_scopes(Some(request.scopes.clone()))
            .set_grant_types(Some(request.grant_types.clone()))
            .set_redirect_uris(
                (!request.redirect_uris.is_empty()).then(|| request.redirect_uris.clone()),
            )
            .issuer_url(&request.issuer_url)
            .send();
        let output = self.oidc_call(call)?;
        let field =
            |value: Option<&str>, name: &str| required(value, OIDC, name).map_err(OidcError::Other);
        Ok(Registration {
            client_id: field(output.client_id(), "a client id")?,
            client_secret: Secret::new(field(output.client_secret(), "a client secret")?),
            expires_at: OffsetDateTime::from_unix_timestamp(output.client_secret_expires_at())
                .map_err(|_| OidcError::Other(missing(OIDC, "a valid client expiry")))?,
            grant_types: request.grant_types.clone(),
            scopes: request.scopes.clone(),
        })
    }

    fn start_device_authorization(
        &self,
        target: &Target,
        client: &Registration,
        start_url: &str,
    ) -> Result<DeviceAuthorization, OidcError> {
        let call = self
            .oidc(target)
            .start_device_authorization()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose())
            .start_url(start_url)
            .send();
        let output = self.oidc_call(call)?;
        let field =
            |value: Option<&str>, name: &str| required(value, OIDC, name).map_err(OidcError::Other);
        Ok(DeviceAuthorization {
            device_code: Secret::new(field(output.device_code(), "a device code")?),
            user_code: field(output.user_code(), "a user code")?,
            verification_uri_complete: field(
                output.verification_uri_complete(),
                "a verification URL",
            )?,
            interval: seconds(output.interval()).max(Duration::from_secs(1)),
            expires_in: seconds(output.expires_in()),
        })
    }

    fn create_token(
        &self,
        target: &Target,
        client: &Registration,
        grant: &Grant,
    ) -> Result<TokenAnswer, OidcError> {
        let request = self
            .oidc(target)
            .create_token()
            .client_id(&client.client_id)
            .client_secret(client.client_secret.expose());
        let request = match grant {
            Grant::AuthorizationCode {
                code,
                verifier,
                redirect_uri,
            } => request
                .grant_type(grant::AUTHORIZATION_CODE)
                .code(code.expose())
                .code_verifier(verifier.expose())
                .redirect_uri(redirect_uri),
            Grant::DeviceCode { device_code } => request
                .grant_type(grant::DEVICE_CODE)
                .device_code(device_code.expose()),
            Grant::RefreshToken { refresh_token } => request
                .grant_type(grant::REFRESH_TOKEN)
                .refresh_token(refresh_token.expose()),
        };
        let output = self.oidc_call(request.send())?;
        let access_token = output
            .access_token()
            .ok_or_else(|| OidcError::Other(missing(OIDC, "an access token")))?;
        Ok(TokenAnswer {
            access_token: Secret::new(access_token),
            expires_in: seconds(output.expires_in()),
            refresh_token: output.refresh_token().map(Secret::new),
        })
    }
}

impl SsoPortal for AwsSso {
    fn get_role_credentials(
        &self,
        target: &Target,
        access_token: &Secret,
        account_id: &str,
        role_name: &str,
    ) -> Result<Credentials, PortalError> {
        let call = self
            .portal(target)
            .get_role_credentials()
            .access_token(access_token.expose())
            .account_id(account_id)
            .role_name(role_name)
            .send();
        let output = self.portal_call(call)?;
        let creds = output
            .role_credentials()
            .ok_or_else(|| PortalError::Other(missing(PORTAL, "role credentials")))?;
        let field = |value: Option<&str>, name: &str| {
            value
                .filter(|v| !v.is_empty() && !v.contains('\0'))
                .map(str::to_owned)
                .ok_or_else(|| PortalError::Other(missing(PORTAL, name)))
        };
        let expiration =
            OffsetDateTime::from_unix_timestamp_nanos(i128::from(creds.expiration()) * 1_000_000)
                .map_err(|_| PortalError::Other(missing(PORTAL, "a valid expiry")))?;
        Ok(Credentials {
            access_key_id: field(creds.access_key_id(), "an access key id")?,
            secret_access_key: Secret::new(field(creds.secret_access_key(), "a secret key")?),
            session_token: Some(Secret::new(field(
                creds.session_token(),
                "a session token",
            )?)),
            expiration: Some(expiration),
        })
    }

    fn list_accounts(
        &self,
        target: &Target,
        access_token: &Secret,
    ) -> Result<Vec<Account>, PortalError> {
        let client = self.portal(target);
        all_pages(|next| {
            let call = client
                .list_accounts()
                .access_token(access_token.expose())
                .set_next_token(next)
                .send();
            let page = self.portal_call(call)?;
            let accounts = page
                .account_list()
                .iter()
                .filter_map(|a| {
                    Some(Account {
                        id: a.account_id()?.to_owned(),
                        name: a.account_name().unwrap_or_default().to_owned(),
                    })
                })
                .collect();
            Ok((accounts, page.next_token().map(str::to_owned)))
        })
    }

    fn list_account_roles(
        &self,
        target: &Target,
        access_token: &Secret,
        account_id: &str,
    ) -> Result<Vec<String>, PortalError> {
        let client = self.portal(target);
        all_pages(|next| {
            let call = client
                .list_account_roles()
                .access_token(access_token.expose())
                .account_id(account_id)
                .set_next_token(next)
                .send();
            let page = self.portal_call(call)?;
            let roles = page
                .role_list()
                .iter()
                .filter_map(|r| r.role_name().map(str::to_owned))
                .collect();
            Ok((roles, page.next_token().map(str::to_owned)))
        })
    }

    fn logout(&self, target: &Target, access_token: &Secret) -> Result<(), PortalError> {
        let call = self
            .portal(target)
            .logout()
            .access_token(access_token.expose())
            .send();
        self.portal_call(call)?;
        Ok(())
    }
}
