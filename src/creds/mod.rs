//! Getting credentials for a profile. `chain.rs` decides a `Plan` (`plan.rs`) from the resolved
//! profile chain, `execute.rs` runs it with the providers (one per file) through the session
//! cache and its locks, and every outside service (STS, IAM, the MFA prompter, the clock)
//! comes in `Services` from `cmd`.

pub(crate) mod account;
pub(crate) mod answer_limit;
mod assume_role;
mod aws;
mod cache;
mod chain;
mod credential_process;
mod credentials;
mod execute;
#[cfg(test)]
mod fake;
pub(crate) mod iam;
mod lock;
mod mfa;
mod plan;
#[cfg(test)]
mod plan_cases;
mod services;
mod session_token;
pub(crate) mod sso;
mod static_keys;
mod sts;
#[cfg(test)]
mod tests;
mod web_identity;

use std::collections::HashSet;
use std::time::Duration;

pub(crate) use aws::AwsSts;
pub(crate) use aws::address as sts_address;
pub(crate) use cache::{DEFAULT_MIN_TTL, SessionCache};
pub(crate) use chain::{ChainOptions, configured_endpoint, sts_target};
pub(crate) use credentials::{Credentials, rfc3339_seconds};
pub(crate) use iam::{AwsIam, Iam};
pub(crate) use mfa::MfaSource;
pub(crate) use plan::Plan;
pub(crate) use services::{Browser, BrowserError, Notice, PromptError, Prompter, Services};
pub(crate) use sso::signin::SignInMode;
pub use sts::StsError;
pub(crate) use sts::Target as StsTarget;
pub(crate) use sts::{AssumeRoleRequest, SessionTokenRequest, Sts, WebIdentityRequest};

use crate::config::{self, Config, Overrides, ProfileChain, ProfileConfig};
use crate::ctx::Env;
use crate::duration;
use crate::keystore::keys::{KeyKind, classify};
use crate::keystore::{self, Keystore};
use crate::secret::Secret;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("profile {profile}: {operation} failed: {source}")]
    Sts {
        profile: String,
        operation: &'static str,
        #[source]
        source: StsError,
    },
    #[error(
        "profile {profile}: credentials missing; store keys with `vault add {profile}`, or give the profile a source_profile, credential_process or web identity"
    )]
    MissingCredentials { profile: String },
    /// No stored keys, but the plaintext credentials file has some (issue 17).
    #[error(
        "profile {profile}: its keys are not in vault but in plain text in {}; move them into the keystore with `vault import {profile}`",
        path.display()
    )]
    KeysInCredentialsFile {
        profile: String,
        path: std::path::PathBuf,
    },
    /// A `source_profile` naming a profile that exists nowhere: most often a typo.
    #[error(
        "profile {by} has source_profile = {profile}, but there is no profile {profile} in {} and no keys are stored for it{}",
        path.display(),
        config::close_names(suggestions)
    )]
    UnknownSource {
        by: String,
        profile: String,
        path: std::path::PathBuf,
        suggestions: Vec<String>,
    },
    /// Only a new sign-in can help, and this run may not ask (the prompt hook).
    #[error(
        "an IAM Identity Center sign-in is needed for {start_url}; run: vault sso login, or the command again in a terminal"
    )]
    SignInNeeded { start_url: String },
    #[error("IAM Identity Center sign-in for {start_url}: {reason}")]
    SignIn { start_url: String, reason: String },
    #[error("profile {profile}: {reason}")]
    Sso { profile: String, reason: String },
    #[error("profile {profile}: {reason}")]
    Source { profile: String, reason: String },
    #[error("MFA for {serial}: {reason}")]
    Mfa { serial: String, reason: String },
    #[error(
        "profile {profile}: its credential_process runs vault for {profile} again, which would never end; give {profile} stored keys (`vault add {profile}`) or point credential_process at another profile"
    )]
    Recursion { profile: String },
    #[error(transparent)]
    Keystore(#[from] keystore::Error),
    #[error(transparent)]
    Config(#[from] config::Error),
    #[error(
        "profile {profile} does not sign in through IAM Identity Center (no sso_session or sso_start_url in its chain)"
    )]
    NotSso { profile: String },
    /// A `--duration` AWS would refuse for the chain it applies to: a usage error, found before
    /// any call.
    #[error("{reason}")]
    DurationOutOfRange { reason: String },
}

/// What the steps of a plan use while they run.
pub(crate) struct Context<'a> {
    pub(crate) keystore: &'a dyn Keystore,
    pub(crate) services: &'a Services,
    pub(crate) mfa: &'a MfaSource,
    pub(crate) cache: SessionCache<'a>,
    pub(crate) locks: lock::Locks,
    pub(crate) env: &'a Env,
    pub(crate) sign_in: SignInPolicy,
    /// Whether this run waited for a lock another process held: then a sign-in that process
    /// needed has failed, and this one does not start another (see `sso::access_token`).
    pub(crate) waited: std::cell::Cell<bool>,
}

/// Whether and how this run may sign a person in to IAM Identity Center.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SignInPolicy {
    /// False from the prompt hook, which never opens a browser.
    pub(crate) allowed: bool,
    pub(crate) mode: SignInMode,
}

impl Context<'_> {
    /// The code for `serial`'s device, when a step has one.
    fn mfa_code(
        &self,
        serial: Option<&str>,
        mfa_process: Option<&str>,
    ) -> Result<Option<sts::MfaCode>, Error> {
        let Some(serial) = serial else {
            return Ok(None);
        };
        let code = self
            .mfa
            .code_for(serial, mfa_process, self.services.prompter.as_ref())?;
        Ok(Some(sts::MfaCode {
            serial: serial.to_owned(),
            code,
        }))
    }
}

/// What the user asked for on the command line.
#[derive(Debug, Default)]
pub(crate) struct Request {
    pub(crate) profile: String,
    pub(crate) overrides: Overrides,
    pub(crate) options: ChainOptions,
    pub(crate) mfa: Option<Secret>,
    /// Whether the user may be asked (an MFA code, a sign-in); not from the prompt hook.
    pub(crate) interactive: bool,
    /// How an IAM Identity Center sign-in happens, when one is needed.
    pub(crate) sign_in: SignInMode,
    /// A cached session must have at least this long left to be used (over `AWS_MIN_TTL`):
    /// `refresh` asks for more than its refresh window, or it would get the same credentials.
    pub(crate) min_ttl: Option<Duration>,
}

/// The plan for `request.profile` and the chain it came from: every decision, and no call.
pub(crate) fn plan(
    env: &Env,
    config: &Config,
    stored: &HashSet<String>,
    request: &Request,
) -> Result<(Plan, ProfileChain), Error> {
    if credential_process::running_for(env).any(|p| p == request.profile) {
        return Err(Error::Recursion {
            profile: request.profile.clone(),
        });
    }
    if !config.has_profile(&request.profile) && !stored.contains(&request.profile) {
        return Err(import_hint(env, &request.profile).unwrap_or_else(|| {
            config
                .unknown_profile(&request.profile, stored.iter().map(String::as_str))
                .into()
        }));
    }
    let chain = config.resolve_chain(&request.profile, &request.overrides, env)?;
    let plan = chain::plan(&chain, &|name| stored.contains(name), request.options, env).map_err(
        |err| match err {
            Error::MissingCredentials { profile } => import_hint(env, &profile)
                .or_else(|| unknown_source(config, &chain, &profile))
                .unwrap_or(Error::MissingCredentials { profile }),
            other => other,
        },
    )?;
    Ok((plan, chain))
}

/// The error for a `source_profile` that names a profile with neither a section nor keys,
/// instead of advising `vault add` for what is most often a typo.
fn unknown_source(config: &Config, chain: &ProfileChain, profile: &str) -> Option<Error> {
    if config.has_profile(profile) {
        return None;
    }
    let at = chain.profiles.iter().position(|p| p.name == profile)?;
    let by = chain.profiles.get(at.checked_sub(1)?)?;
    Some(Error::UnknownSource {
        by: by.name.clone(),
        profile: profile.to_owned(),
        path: config.path().to_owned(),
        suggestions: crate::suggest::closest(profile, config.profile_names()),
    })
}

/// The error for a profile with no stored keys whose keys are still in the plaintext
/// credentials file: `vault import` is the way out. Reads that file, so only on this error
/// path.
pub(crate) fn import_hint(env: &Env, profile: &str) -> Option<Error> {
    let path = config::credentials_file::importable(env, profile)?;
    Some(Error::KeysInCredentialsFile {
        profile: profile.to_owned(),
        path,
    })
}

/// The credentials for `request.profile`, and the chain they came from.
pub(crate) fn get(
    services: &Services,
    env: &Env,
    config: &Config,
    keystore: &dyn Keystore,
    request: &Request,
) -> Result<(Credentials, ProfileChain), Error> {
    let (plan, chain) = plan(env, config, &stored_keys(keystore)?, request)?;
    log::debug!("credentials for {}: {}", request.profile, plan.describe());
    let mfa = MfaSource {
        token: request.mfa.clone(),
        interactive: request.interactive,
    };
    let cx = Context::new(services, env, keystore, &mfa, request);
    let creds = execute::run(&plan, &cx)?;
    Ok((creds, chain))
}

/// The profiles that have long-term keys in the keystore.
fn stored_keys(keystore: &dyn Keystore) -> Result<HashSet<String>, Error> {
    Ok(keystore
        .list()?
        .into_iter()
        .filter(|key| classify(key) == KeyKind::Credentials)
        .collect())
}

impl<'a> Context<'a> {
    fn new(
        services: &'a Services,
        env: &'a Env,
        keystore: &'a dyn Keystore,
        mfa: &'a MfaSource,
        request: &Request,
    ) -> Self {
        Self {
            keystore,
            services,
            mfa,
            cache: SessionCache::new(
                keystore,
                services.clock,
                min_ttl(env).max(request.min_ttl.unwrap_or_default()),
            ),
            locks: lock::Locks::new(services.lock_dir.clone()),
            env,
            sign_in: SignInPolicy {
                allowed: request.interactive,
                mode: request.sign_in,
            },
            waited: std::cell::Cell::new(false),
        }
    }
}

/// The IAM Identity Center sign-in that `request.profile`'s chain starts with.
pub(crate) fn sso_session_of(
    env: &Env,
    config: &Config,
    keystore: &dyn Keystore,
    request: &Request,
) -> Result<sso::SsoSession, Error> {
    let (plan, _) = plan(env, config, &stored_keys(keystore)?, request)?;
    match plan.source.what {
        plan::Source::SsoRoleCredentials(role) => Ok(role.sso),
        _ => Err(Error::NotSso {
            profile: request.profile.clone(),
        }),
    }
}

/// `vault sso login`: a fresh sign-in (or a refresh) for `sso`, whatever is stored. Returns
/// when the new access token expires.
pub(crate) fn sso_login(
    services: &Services,
    env: &Env,
    keystore: &dyn Keystore,
    sso: &sso::SsoSession,
    request: &Request,
) -> Result<time::OffsetDateTime, Error> {
    let mfa = MfaSource::default();
    let cx = Context::new(services, env, keystore, &mfa, request);
    sso.sign_in_again(&cx)
}

/// `vault sso populate`: every account and role `sso` reaches, signing in when needed.
pub(crate) fn sso_assignments(
    services: &Services,
    env: &Env,
    keystore: &dyn Keystore,
    sso: &sso::SsoSession,
    request: &Request,
) -> Result<Vec<(String, String, String)>, Error> {
    let mfa = MfaSource::default();
    let cx = Context::new(services, env, keystore, &mfa, request);
    sso.assignments(&cx)
}

/// `vault sso logout`: ends the sign-in at the service (when there is one), then removes the
/// token, the AWS CLI's copy vault shared, and every role session made with it. Returns how
/// many sessions went.
pub(crate) fn sso_logout(
    services: &Services,
    env: &Env,
    keystore: &dyn Keystore,
    sso: &sso::SsoSession,
) -> Result<usize, Error> {
    sso.log_out(services, env, keystore)
}

/// `AWS_MIN_TTL`: how long a cached session must still be valid to be reused. Like aws-vault,
/// a value that is not a duration is ignored (with a note under --debug).
pub(crate) fn min_ttl(env: &Env) -> Duration {
    match env.non_empty("AWS_MIN_TTL").map(duration::parse) {
        Some(Ok(ttl)) => ttl,
        Some(Err(err)) => {
            log::debug!("ignoring AWS_MIN_TTL: {err}");
            DEFAULT_MIN_TTL
        }
        None => DEFAULT_MIN_TTL,
    }
}

/// Credentials for `role_arn`, assumed with `source` (the credentials of `profile`): what the
/// credential server's `/role-arn/<ARN>` route answers. The duration is the profile's AssumeRole
/// duration; the session name aws-vault's default, the time in nanoseconds.
pub(crate) fn assume_role_with(
    source: &Credentials,
    profile: &ProfileConfig,
    role_arn: &str,
    services: &Services,
    env: &Env,
) -> Result<Credentials, Error> {
    let request = sts::AssumeRoleRequest {
        role_arn: role_arn.to_owned(),
        session_name: services.clock.now().unix_timestamp_nanos().to_string(),
        duration: profile
            .assume_role_duration
            .unwrap_or(Duration::from_hours(1)),
        external_id: None,
        mfa: None,
        tags: std::collections::BTreeMap::new(),
        transitive_tag_keys: Vec::new(),
        source_identity: None,
    };
    let target = chain::sts_target(profile, env);
    services
        .sts
        .assume_role(&target, source, &request)
        .map_err(|source| sts_failed(profile, "AssumeRole", source))
}

/// Allow-all: the federated user gets what the caller may do, and no more (AWS intersects the
/// policy with the caller's permissions).
const FEDERATION_POLICY: &str =
    r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*"}]}"#;
/// GetFederationToken's limit on the name.
const FEDERATED_NAME_MAX: usize = 32;

/// Credentials the console federation accepts (docs/aws-vault.md §6). Role, SSO and web-identity
/// credentials already are. Long-term keys (or a credential_process's) are first traded for a
/// federated user's, named after the IAM user found through sts:GetCallerIdentity, which needs
/// no IAM permission (aws-vault asks iam:GetUser, and fails without it).
pub(crate) fn for_console(
    creds: Credentials,
    profile: &ProfileConfig,
    duration: Duration,
    services: &Services,
    env: &Env,
) -> Result<Credentials, Error> {
    let from_role = profile.role_arn.is_some()
        || profile.sso_start_url.is_some()
        || profile.web_identity_token_file.is_some()
        || profile.web_identity_token_process.is_some();
    if from_role {
        return Ok(creds);
    }
    let arn = caller_arn(&creds, profile, services, env)?;
    let resource = arn_resource(&arn);
    if resource.starts_with("assumed-role/") {
        return Ok(creds);
    }
    let name = federated_name(resource);
    log::debug!("console: GetFederationToken as {name} for {arn}");
    let target = chain::sts_target(profile, env);
    services
        .sts
        .get_federation_token(&target, &creds, &name, FEDERATION_POLICY, duration)
        .map_err(|source| sts_failed(profile, "GetFederationToken", source))
}

/// The ARN `creds` belong to (sts:GetCallerIdentity, which needs no permission).
pub(crate) fn caller_arn(
    creds: &Credentials,
    profile: &ProfileConfig,
    services: &Services,
    env: &Env,
) -> Result<String, Error> {
    let target = chain::sts_target(profile, env);
    services
        .sts
        .get_caller_identity(&target, creds)
        .map_err(|source| sts_failed(profile, "GetCallerIdentity", source))
}

/// `user/path/alice` of `arn:aws:iam::123456789012:user/path/alice`.
pub(crate) fn arn_resource(arn: &str) -> &str {
    arn.splitn(6, ':').nth(5).unwrap_or_default()
}

pub(crate) fn sts_failed(
    profile: &ProfileConfig,
    operation: &'static str,
    source: StsError,
) -> Error {
    Error::Sts {
        profile: profile.name.clone(),
        operation,
        source,
    }
}

/// `user/path/alice` → `alice`, at most 32 characters.
fn federated_name(resource: &str) -> String {
    let name = resource.rsplit('/').next().unwrap_or(resource);
    name.chars().take(FEDERATED_NAME_MAX).collect()
}

#[cfg(test)]
mod console_tests {
    use super::federated_name;

    #[test]
    fn the_federated_user_is_named_after_the_iam_user_and_cut_to_32() {
        assert_eq!(federated_name("user/alice"), "alice");
        assert_eq!(federated_name("user/team/ops/bob"), "bob");
        assert_eq!(federated_name("root"), "root");
        let long = "user/a-very-long-user-name-that-goes-past-the-limit";
        assert_eq!(federated_name(long), "a-very-long-user-name-that-goes-");
        assert_eq!(federated_name(long).len(), 32);
    }
}
