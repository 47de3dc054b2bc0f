//! What `exec` and `export` share: turning their flags into credentials for a profile.

use super::open_keystore;
use crate::cli::{CredentialArgs, GlobalArgs};
use crate::config::{Config, Overrides, ProfileChain};
use crate::creds::{self, ChainOptions, Credentials, Request};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::secret::Secret;
use std::time::Duration;

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

pub(super) fn fetch(
    profile: &str,
    args: &CredentialArgs,
    min_ttl: Option<std::time::Duration>,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(Credentials, ProfileChain), Error> {
    if let Some(active) = ctx.env.non_empty("AWS_VAULT") {
        // aws-vault refuses here; a warning lets people switch profiles without exiting.
        super::warn(&format!(
            "AWS_VAULT is already set (profile {active}); the credentials of {profile} replace it for this command"
        ));
    }
    fetch_quietly(profile, args, min_ttl, global, ctx)
}

/// `fetch` without the nested-`AWS_VAULT` warning: for the credential server's renewals, which
/// would otherwise repeat it.
pub(super) fn fetch_quietly(
    profile: &str,
    args: &CredentialArgs,
    min_ttl: Option<std::time::Duration>,
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
    let inner = Ctx {
        env,
        clock: ctx.clock,
        interactive: ctx.interactive,
    };
    let request = Request {
        profile: profile.to_owned(),
        overrides: overrides(args),
        options: ChainOptions {
            no_session: args.no_session,
            requested_duration: args.duration.filter(|d| !d.is_zero()),
        },
        mfa: args.mfa_token.clone().map(Secret::new),
        min_ttl,
    };
    creds::get(&inner, &config, keystore.as_ref(), &request)
}
