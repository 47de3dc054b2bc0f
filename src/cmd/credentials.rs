//! What `exec` and `export` share: turning their flags into credentials for a profile.

use super::open_keystore;
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::{Config, Overrides, ProfileChain};
use crate::creds::{self, ChainOptions, Credentials, Request, SignInMode};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::secret::Secret;
use std::time::Duration;

use crate::shell::state::STATE;
use crate::visible::visible;

/// The flags that beat the config. aws-vault reads a zero duration as "not given".
pub(super) fn overrides(args: &CredentialArgs) -> Overrides {
    Overrides {
        region: args.region.clone(),
        duration: args.duration.filter(|d| !d.is_zero()),
        session_ttl: args.session_ttl.filter(|d| !d.is_zero()),
    }
}

/// AWS's limits, checked before any call so a typo costs nothing: GetSessionToken takes 15m to
/// 36h, AssumeRole 15m to 12h (1h for a role assumed with temporary credentials, which the chain
/// builder checks once it knows the sources).
pub(super) fn check_durations(args: &CredentialArgs) -> Result<(), Error> {
    check_range("--duration", args.duration, MAX_SESSION_TOKEN)?;
    check_range("--session-ttl", args.session_ttl, MAX_SESSION_TOKEN)
}

const MIN_DURATION: Duration = Duration::from_mins(15);
const MAX_SESSION_TOKEN: Duration = Duration::from_hours(36);

fn check_range(flag: &str, value: Option<Duration>, max: Duration) -> Result<(), Error> {
    match value.filter(|d| !d.is_zero()) {
        Some(d) if d < MIN_DURATION || d > max => Err(Error::Usage(format!(
            "{flag} {} is out of range: AWS accepts 15m to 36h for GetSessionToken and 15m to 12h for AssumeRole (1h for a role assumed with temporary credentials)",
            crate::duration::format_seconds(i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        ))),
        _ => Ok(()),
    }
}

/// How `fetch` may get the credentials.
#[derive(Debug, Default, Clone, Copy)]
pub(super) struct Fetch {
    /// A cached session must have at least this long left to be used (over `AWS_MIN_TTL`).
    pub(super) min_ttl: Option<Duration>,
    /// Each STS call is one attempt over within this time: the shell hook applies a
    /// background fetch this way (whatever it cached costs nothing; a role assumed from a
    /// cached session is one quick call), so no prompt or command waits long on the network.
    pub(super) deadline: Option<Duration>,
    /// `--stdout`: an IAM Identity Center sign-in prints its URL instead of opening a browser.
    pub(super) print_url: bool,
}

pub(super) fn fetch(
    profile: &str,
    args: &CredentialArgs,
    how: Fetch,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, ProfileChain), Error> {
    // aws-vault refuses to run inside another profile's `exec`; a warning lets people switch
    // profiles without exiting. A shell's `vault use` profile is no such surprise, and the same
    // profile again is not a switch at all.
    let from_use = ctx.env.non_empty(STATE).is_some();
    if let Some(active) = ctx.env.non_empty("AWS_VAULT")
        && active != profile
        && !from_use
    {
        super::warn(&format!(
            "AWS_VAULT is already set (profile {}); the credentials of {} replace it for this command",
            visible(active),
            visible(profile)
        ));
    }
    fetch_quietly(profile, args, how, global, ctx)
}

/// `fetch` without the nested-`AWS_VAULT` warning: for the credential server's renewals, which
/// would otherwise repeat it.
pub(super) fn fetch_quietly(
    profile: &str,
    args: &CredentialArgs,
    how: Fetch,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, ProfileChain), Error> {
    check_durations(args)?;
    let config = Config::load(&ctx.env)?;
    let keystore = open_keystore(global, ctx)?;
    let mut env = ctx.env.clone();
    if ctx.env.non_empty("AWS_VAULT").is_some() {
        // Inside `vault exec`, the region variables are the outer profile's, set by vault, not
        // a choice of the user's: the inner profile's own region must win.
        env.set("AWS_REGION", None);
        env.set("AWS_DEFAULT_REGION", None);
    }
    let request = Request {
        profile: profile.to_owned(),
        overrides: overrides(args),
        options: ChainOptions {
            no_session: args.no_session,
            requested_duration: args.duration.filter(|d| !d.is_zero()),
            no_role_cache: args.no_cache
                || matches!(
                    ctx.env.non_empty("AWS_VAULT_NO_ROLE_CACHE"),
                    Some("1" | "true")
                ),
        },
        mfa: args.mfa_token.clone().map(Secret::new),
        interactive: ctx.interactive,
        sign_in: SignInMode {
            device_code: args.use_device_code,
            print_url: how.print_url,
            share_cli_cache: global.share_cli_cache,
        },
        min_ttl: how.min_ttl,
    };
    let services = super::services::services(ctx, how.deadline);
    Ok(creds::get(
        &services,
        &env,
        &config,
        keystore.as_ref(),
        &request,
    )?)
}

/// Where a chain's credentials come from, for an error about a value they hold.
pub(super) fn origin_of(chain: &ProfileChain, no_session: bool) -> String {
    let target = chain.target();
    let name = visible(&target.name);
    if target.role_arn.is_some() {
        format!("STS (AssumeRole for profile {name})")
    } else if target.web_identity_token_file.is_some()
        || target.web_identity_token_process.is_some()
    {
        format!("STS (AssumeRoleWithWebIdentity for profile {name})")
    } else if let Some(command) = &target.credential_process {
        format!(
            "the credential_process of profile {name} ({})",
            visible(command)
        )
    } else if no_session {
        format!("the keystore entry of profile {name}")
    } else {
        format!("STS (GetSessionToken for profile {name})")
    }
}

/// Refuses values no environment can hold, before anything runs or prints.
pub(super) fn check_values(set: &[(&str, String)], origin: &str) -> Result<(), Error> {
    for (name, value) in set {
        crate::shell::check_value(name, value).map_err(Error::unholdable(origin))?;
    }
    Ok(())
}

/// `check_values` for `export::env_pairs`: the keys come from the chain's source, the region
/// from the config.
pub(super) fn check_credential_values(
    pairs: &[(&str, String)],
    chain: &ProfileChain,
    no_session: bool,
) -> Result<(), Error> {
    let (regions, keys): (Vec<_>, Vec<_>) = pairs
        .iter()
        .cloned()
        .partition(|(name, _)| name.ends_with("REGION"));
    check_values(&keys, &origin_of(chain, no_session))?;
    check_values(&regions, &config_origin(&chain.target().name))
}

pub(super) fn config_origin(profile: &str) -> String {
    format!(
        "the AWS config file (profile {}, or the region variables)",
        visible(profile)
    )
}
