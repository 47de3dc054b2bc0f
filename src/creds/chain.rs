//! Decides the plan for a resolved profile chain, as aws-vault v7.2 chooses its providers
//! (docs/aws-vault.md §3.4–3.7), with one change: AssumeRole is capped at 1h whenever its
//! source is temporary credentials, as AWS itself requires for role chaining. It only decides:
//! `execute.rs` makes the calls.
//!
//! For each profile, its source is the first of: keys stored under its name; its
//! `source_profile`'s credentials; SSO (not supported yet); web identity; credential_process.
//! Long-term keys are wrapped in GetSessionToken when allowed; a profile with `role_arn` then
//! adds AssumeRole, dropping its MFA when a GetSessionToken below already used that serial.

use std::fmt::Write as _;
use std::time::Duration;

use super::Error;
use super::assume_role::AssumeRole;
use super::credential_process::CredentialProcess;
use super::plan::{Call, Plan, Planned, Source, kind};
use super::session_token::SessionToken;
use super::sso::{SsoRole, SsoSession};
use super::static_keys::StoredKeys;
use super::sts::Target;
use super::web_identity::WebIdentity;
use crate::config::{ProfileChain, ProfileConfig, StsRegionalEndpoints};
use crate::ctx::Env;

const ONE_HOUR: Duration = Duration::from_hours(1);
const MAX_ASSUME_ROLE: Duration = Duration::from_hours(12);
/// Regions whose STS calls go to the global endpoint with `sts_regional_endpoints = legacy`.
const LEGACY_GLOBAL_REGIONS: &[&str] = &[
    "ap-northeast-1",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "aws-global",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
];

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ChainOptions {
    /// `--no-session`: never call GetSessionToken.
    pub(crate) no_session: bool,
    /// `--duration`, which must fit every role it applies to: AWS refuses more than 12h, and
    /// more than 1h for a role assumed with temporary credentials.
    pub(crate) requested_duration: Option<Duration>,
    /// `--no-cache` / `AWS_VAULT_NO_ROLE_CACHE=1`: assume roles without MFA anew each time, as
    /// aws-vault does, instead of reusing their cached sessions.
    pub(crate) no_role_cache: bool,
}

struct Builder<'a> {
    chain: &'a ProfileChain,
    has_stored_keys: &'a dyn Fn(&str) -> bool,
    options: ChainOptions,
    env: &'a Env,
    /// The MFA serial a GetSessionToken lower in the chain used ("chained MFA").
    chained_mfa: Option<String>,
}

/// The plan for the chain's target profile. Nothing runs and nothing is read but `env` and
/// which profiles have keys stored.
pub(crate) fn plan(
    chain: &ProfileChain,
    has_stored_keys: &dyn Fn(&str) -> bool,
    options: ChainOptions,
    env: &Env,
) -> Result<Plan, Error> {
    let mut builder = Builder {
        chain,
        has_stored_keys,
        options,
        env,
        chained_mfa: None,
    };
    builder.plan(0)
}

impl Builder<'_> {
    /// The plan that gives the credentials of the chain's profile `index`.
    fn plan(&mut self, index: usize) -> Result<Plan, Error> {
        let profile = &self.chain.profiles[index];
        let name = profile.name.clone();
        let mut plan = if (self.has_stored_keys)(&name) {
            let keys = Source::StoredKeys(StoredKeys { profile: name });
            Plan::from_source(Planned::fetched_each_time(keys))
        } else if profile.source_profile.is_some() {
            self.plan(index + 1)?
        } else if profile.sso_start_url.is_some() || profile.sso_session.is_some() {
            Plan::from_source(self.sso(profile)?)
        } else if profile.web_identity_token_file.is_some()
            || profile.web_identity_token_process.is_some()
        {
            return Ok(Plan::from_source(self.web_identity(profile)?));
        } else if let Some(command) = &profile.credential_process {
            let process = Source::CredentialProcess(CredentialProcess {
                profile: name.clone(),
                command: command.clone(),
            });
            let source = Planned::cached(process, kind::CREDENTIAL_PROCESS, &name, None);
            return Ok(Plan::from_source(source));
        } else {
            return Err(Error::MissingCredentials { profile: name });
        };

        let from_long_term_keys = plan.gives_long_term_keys();
        // As in aws-vault: only a profile without a role takes GetSessionToken. A role is
        // assumed straight from its source, even from keys stored under the role's own name.
        let Some(role_arn) = profile.role_arn.clone() else {
            if from_long_term_keys {
                match self.session_token_refusal(index) {
                    None => {
                        self.chained_mfa.clone_from(&profile.mfa_serial);
                        plan.calls.push(self.session_token(index));
                    }
                    Some(reason) => {
                        log::debug!("profile {}: no GetSessionToken: {reason}", profile.name);
                    }
                }
            }
            return Ok(plan);
        };
        let mfa_serial = profile
            .mfa_serial
            .clone()
            .filter(|serial| self.chained_mfa.as_ref() != Some(serial));
        let mut duration = profile.assume_role_duration.unwrap_or(ONE_HOUR);
        self.check_requested_duration(profile, from_long_term_keys)?;
        if !from_long_term_keys && duration > ONE_HOUR {
            log::debug!(
                "profile {}: capping AssumeRole at 1h: its source is temporary credentials",
                profile.name
            );
            duration = ONE_HOUR;
        }
        let assume = Call::AssumeRole(AssumeRole {
            profile: profile.name.clone(),
            role_arn,
            mfa_serial: mfa_serial.clone(),
            mfa_process: profile.mfa_process.clone(),
            duration,
            session_name: profile.role_session_name.clone(),
            external_id: profile.external_id.clone(),
            tags: profile.session_tags.clone(),
            transitive_tag_keys: profile.transitive_session_tags.clone(),
            source_identity: profile.source_identity.clone(),
            target: self.target(profile),
        });
        // aws-vault caches a role session only when MFA went into it; vault caches every one
        // (an AssumeRole costs 100-300 ms), keyed by all that shapes it. aws-vault never looks
        // up a role session without an MFA serial, so it ignores the extra ones.
        let inputs = inputs_digest(&assume, &plan);
        let mut call = match (&mfa_serial, self.options.no_role_cache) {
            (None, true) => Planned::fetched_each_time(assume),
            (serial, _) => {
                Planned::cached(assume, kind::ASSUME_ROLE, &profile.name, serial.as_deref())
            }
        };
        if let Some(id) = &mut call.cache {
            id.inputs = Some(inputs);
        }
        plan.calls.push(call);
        Ok(plan)
    }

    /// GetRoleCredentials for the profile's account and role, through its start URL. Every key
    /// must be there: a missing one is named, with the section it belongs in.
    fn sso(&self, profile: &ProfileConfig) -> Result<Planned<Source>, Error> {
        let place =
            |at: &Option<String>| at.as_ref().map(|at| format!(" ({at})")).unwrap_or_default();
        let missing = |key: &str| Error::Source {
            profile: profile.name.clone(),
            reason: match &profile.sso_session {
                Some(session) if key == "sso_start_url" || key == "sso_region" => format!(
                    "its sso_session {session} needs {key} in the [sso-session {session}] section{}",
                    place(&profile.sso_session_defined_at)
                ),
                _ => format!(
                    "an IAM Identity Center profile needs {key}{}",
                    place(&profile.defined_at)
                ),
            },
        };
        let start_url = profile
            .sso_start_url
            .clone()
            .ok_or_else(|| missing("sso_start_url"))?;
        let sso_region = profile
            .sso_region
            .clone()
            .ok_or_else(|| missing("sso_region"))?;
        let account_id = profile
            .sso_account_id
            .clone()
            .ok_or_else(|| missing("sso_account_id"))?;
        let role_name = profile
            .sso_role_name
            .clone()
            .ok_or_else(|| missing("sso_role_name"))?;
        let scopes = super::sso::scopes_or_default(profile.sso_registration_scopes.clone());
        let (oidc, portal) = super::sso::targets(profile, &sso_region, self.env);
        let role = Source::SsoRoleCredentials(SsoRole {
            profile: profile.name.clone(),
            account_id,
            role_name,
            sso: SsoSession {
                start_url: start_url.clone(),
                sso_region,
                session: profile.sso_session.clone(),
                scopes,
                oidc,
                portal,
            },
        });
        // aws-vault's key: the start URL stands where an MFA serial would.
        Ok(Planned::cached(
            role,
            kind::SSO_ROLE,
            &profile.name,
            Some(&start_url),
        ))
    }

    fn web_identity(&self, profile: &ProfileConfig) -> Result<Planned<Source>, Error> {
        let role_arn = profile.role_arn.clone().ok_or_else(|| Error::Source {
            profile: profile.name.clone(),
            reason: "a web identity token needs a role_arn".to_owned(),
        })?;
        let web = Source::AssumeRoleWithWebIdentity(WebIdentity {
            profile: profile.name.clone(),
            role_arn,
            duration: profile.assume_role_duration.unwrap_or(ONE_HOUR),
            session_name: profile.role_session_name.clone(),
            token_file: profile.web_identity_token_file.clone(),
            token_process: profile.web_identity_token_process.clone(),
            target: self.target(profile),
        });
        Ok(Planned::cached(
            web,
            kind::WEB_IDENTITY,
            &profile.name,
            None,
        ))
    }

    /// `--duration` applies to this role too: refuse what AWS would refuse, before any call.
    fn check_requested_duration(
        &self,
        profile: &ProfileConfig,
        from_long_term_keys: bool,
    ) -> Result<(), Error> {
        let Some(requested) = self.options.requested_duration else {
            return Ok(());
        };
        let (limit, why) = if from_long_term_keys {
            (MAX_ASSUME_ROLE, "AssumeRole accepts 15m to 12h")
        } else {
            (
                ONE_HOUR,
                "a role assumed with temporary credentials lasts 1h at most",
            )
        };
        if requested <= limit {
            return Ok(());
        }
        Err(Error::DurationOutOfRange {
            reason: format!(
                "--duration {} is out of range for profile {}: {why}",
                crate::duration::format_seconds(
                    i64::try_from(requested.as_secs()).unwrap_or(i64::MAX)
                ),
                profile.name
            ),
        })
    }

    /// Why GetSessionToken must not wrap this profile's long-term keys, or `None` if it may.
    fn session_token_refusal(&self, index: usize) -> Option<String> {
        if self.options.no_session {
            return Some("--no-session".to_owned());
        }
        let profile = &self.chain.profiles[index];
        // The profile that has this one as its source_profile; the target has none, and then
        // nothing else stands in the way.
        let sourcing = index.checked_sub(1).map(|i| &self.chain.profiles[i])?;
        match (&sourcing.mfa_serial, &profile.mfa_serial) {
            (None, _) => Some(format!("profile {} has no mfa_serial", sourcing.name)),
            (_, None) => Some(format!("profile {} has no mfa_serial", profile.name)),
            (Some(a), Some(b)) if a != b => {
                Some(format!("its mfa_serial differs from {}'s", sourcing.name))
            }
            _ if sourcing.assume_role_duration.unwrap_or(ONE_HOUR) > ONE_HOUR => Some(format!(
                "profile {} asks for a role session over 1h, which a chained session cannot give",
                sourcing.name
            )),
            _ => None,
        }
    }

    fn session_token(&self, index: usize) -> Planned<Call> {
        let profile = &self.chain.profiles[index];
        let durations = &self.chain.durations;
        let duration = if index > 0 {
            durations.chained_session_token
        } else {
            durations.session_token
        };
        let session = Call::GetSessionToken(SessionToken {
            profile: profile.name.clone(),
            mfa_serial: profile.mfa_serial.clone(),
            mfa_process: profile.mfa_process.clone(),
            duration,
            target: self.target(profile),
        });
        let serial = profile.mfa_serial.as_deref();
        Planned::cached(session, kind::SESSION_TOKEN, &profile.name, serial)
    }

    fn target(&self, profile: &ProfileConfig) -> Target {
        sts_target(profile, self.env)
    }
}

/// The region and endpoint for a profile's STS calls. The region falls back to us-east-1
/// (aws-vault has no fallback and fails). The endpoint follows the AWS SDKs:
/// `AWS_ENDPOINT_URL_STS`, then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`, all
/// ignored when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`; else the global endpoint for the
/// legacy regions when `sts_regional_endpoints = legacy`.
pub(crate) fn sts_target(profile: &ProfileConfig, env: &Env) -> Target {
    let region = profile
        .region
        .clone()
        .unwrap_or_else(|| "us-east-1".to_owned());
    let configured = configured_endpoint("AWS_ENDPOINT_URL_STS", profile, env);
    let legacy_global = (profile.sts_regional_endpoints == Some(StsRegionalEndpoints::Legacy)
        && LEGACY_GLOBAL_REGIONS.contains(&region.as_str()))
    .then(|| "https://sts.amazonaws.com".to_owned());
    Target {
        endpoint: configured.or(legacy_global),
        region,
    }
}

/// The endpoint the AWS SDKs would use for a service: its own variable
/// (`AWS_ENDPOINT_URL_STS`), then `AWS_ENDPOINT_URL`, then the profile's `endpoint_url`; none
/// when `AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true`.
pub(crate) fn configured_endpoint(
    service_variable: &str,
    profile: &ProfileConfig,
    env: &Env,
) -> Option<String> {
    let ignore_configured = env
        .non_empty("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if ignore_configured {
        return None;
    }
    env.non_empty(service_variable)
        .or_else(|| env.non_empty("AWS_ENDPOINT_URL"))
        .map(str::to_owned)
        .or_else(|| profile.endpoint_url.clone())
}

/// A digest of the role call and of the plan below it: a cached role session is reused only
/// for the same role, duration, session name, external ID, tags, source identity, region and
/// sources.
fn inputs_digest(call: &Call, below: &Plan) -> String {
    let text = serde_json::to_vec(&(call, below)).expect("plain data serialises");
    let digest = ring::digest::digest(&ring::digest::SHA256, &text);
    digest.as_ref()[..16]
        .iter()
        .fold(String::with_capacity(32), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

#[cfg(test)]
mod tests;
