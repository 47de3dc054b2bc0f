//! `vault use`, `unuse` and `refresh`: credentials in the current shell, through the hook's
//! `vault` function, which evals what these print. They print shell code only, and nothing at
//! all on failure, so a failed `use` changes nothing.

use std::io::IsTerminal;

use std::time::Duration;
use time::OffsetDateTime;

use super::credentials::fetch;
use super::print;
use crate::cli::{CredentialArgs, GlobalArgs, RefreshArgs, UseArgs};
use crate::creds::rfc3339_seconds;
use crate::ctx::{Ctx, Env};
use crate::duration;
use crate::error::Error;
use crate::shell::ShellKind;
use crate::shell::state::{CLOCK_BOOT, EXPIRES_AT, REFRESH_AT, STATE, Saved, TOUCHED};

/// Set by the hook's function for the one command it runs.
const HOOK_SHELL: &str = "__VAULT_SHELL";
const REFRESH_WINDOW: &str = "AWS_VAULT_REFRESH_WINDOW";
const MIN_REFRESH_WINDOW: Duration = Duration::from_mins(5);

pub(crate) fn use_profile(args: &UseArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let shell = output_shell(ctx, "use")?;
    let mut saved = saved_state(&ctx.env).unwrap_or_else(|| Saved::capture(&ctx.env));
    saved.region.clone_from(&args.credentials.region);
    saved.duration_secs = args.credentials.duration.map(|d| d.as_secs());
    saved.session_ttl_secs = args.credentials.session_ttl.map(|d| d.as_secs());
    saved.no_session = args.credentials.no_session;
    let profile = super::required_profile(args.profile.as_deref(), global, ctx, "use")?;
    apply(
        &profile,
        &args.credentials,
        None,
        &saved,
        shell,
        global,
        ctx,
    )
}

pub(crate) fn refresh(args: &RefreshArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let shell = output_shell(ctx, "refresh")?;
    let (Some(saved), Some(profile)) = (saved_state(&ctx.env), ctx.env.non_empty("AWS_VAULT"))
    else {
        if args.if_needed {
            return Ok(());
        }
        return Err(Error::Message(
            "no profile is active in this shell; run: vault use PROFILE".to_owned(),
        ));
    };
    let now = ctx.clock.now().unix_timestamp();
    let refresh_at = ctx
        .env
        .non_empty(REFRESH_AT)
        .and_then(|v| v.parse::<i64>().ok());
    if args.if_needed && refresh_at.is_none_or(|at| now < at) {
        return Ok(());
    }
    let credentials = CredentialArgs {
        duration: saved.duration_secs.map(Duration::from_secs),
        session_ttl: saved.session_ttl_secs.map(Duration::from_secs),
        mfa_token: None,
        no_session: saved.no_session,
        region: saved.region.clone(),
    };
    // A cached session inside the refresh window would hand back the same credentials.
    let expires_at = ctx
        .env
        .non_empty(EXPIRES_AT)
        .and_then(|v| v.parse::<i64>().ok());
    let window = match (expires_at, refresh_at) {
        (Some(expires), Some(at)) => u64::try_from(expires - at).ok().map(Duration::from_secs),
        _ => None,
    };
    // From the prompt hook, nothing may wait for an answer.
    let quiet = Ctx {
        env: ctx.env.clone(),
        clock: ctx.clock,
        interactive: ctx.interactive && !args.if_needed,
    };
    apply(profile, &credentials, window, &saved, shell, global, &quiet)
}

pub(crate) fn unuse(ctx: &Ctx) -> Result<(), Error> {
    let shell = output_shell(ctx, "unuse")?;
    let Some(saved) = saved_state(&ctx.env) else {
        return Ok(()); // Nothing to put back: a second unuse does nothing.
    };
    let emit = shell.emitter();
    let mut code = String::new();
    for (name, value) in &saved.original {
        code.push_str(&match value {
            Some(value) => emit.set(name, value),
            None => emit.unset(name),
        });
    }
    code.push_str(&emit.unset(STATE));
    print(&code)
}

/// Fetches credentials as the shell was before the first `use`, and prints the code that
/// puts them in place.
fn apply(
    profile: &str,
    credentials: &CredentialArgs,
    min_ttl: Option<Duration>,
    saved: &Saved,
    shell: ShellKind,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(), Error> {
    let original = saved.original_env(&ctx.env);
    let as_before = Ctx {
        env: original.clone(),
        clock: ctx.clock,
        interactive: ctx.interactive,
    };
    let (creds, chain) = fetch(profile, credentials, min_ttl, global, &as_before)?;
    let now = ctx.clock.now().unix_timestamp();
    let expires = creds.expiration.map(OffsetDateTime::unix_timestamp);
    let region = chain.target().region.clone();
    let mut values: Vec<(&str, Option<String>)> = vec![
        ("AWS_ACCESS_KEY_ID", Some(creds.access_key_id.clone())),
        (
            "AWS_SECRET_ACCESS_KEY",
            Some(creds.secret_access_key.expose().to_owned()),
        ),
        (
            "AWS_SESSION_TOKEN",
            creds.session_token.as_ref().map(|t| t.expose().to_owned()),
        ),
        ("AWS_SECURITY_TOKEN", None),
        (
            "AWS_CREDENTIAL_EXPIRATION",
            creds.expiration.map(rfc3339_seconds),
        ),
        (
            "AWS_SESSION_EXPIRATION",
            creds.expiration.map(rfc3339_seconds),
        ),
        ("AWS_PROFILE", None),
        ("AWS_VAULT", Some(profile.to_owned())),
        (EXPIRES_AT, expires.map(|at| at.to_string())),
    ];
    let refresh_at = match expires {
        // Credentials that cannot be renewed further (a session near its end) are tried again
        // a minute later, not at every prompt.
        Some(at) => Some(
            (at - refresh_window(&original, at - now)?)
                .max(now + 60)
                .min(at)
                .to_string(),
        ),
        None => None,
    };
    values.push((REFRESH_AT, refresh_at));
    // By the real clock: the hook adds VAULT_CLOCK_OFFSET itself.
    let real_now = crate::ctx::Clock::System.now().unix_timestamp();
    values.push((CLOCK_BOOT, boot_time(real_now).map(|boot| boot.to_string())));
    // The region: the one resolved for the profile (which already prefers a region the user
    // set, unless --region was given); without one, whatever the shell had.
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        values.push((
            name,
            region
                .clone()
                .or_else(|| original.get(name).map(str::to_owned)),
        ));
    }
    let emit = shell.emitter();
    let mut code = String::new();
    for name in TOUCHED {
        if let Some((_, value)) = values.iter().find(|(n, _)| n == name) {
            code.push_str(&match value {
                Some(value) => emit.set(name, value),
                None => emit.unset(name),
            });
        }
    }
    code.push_str(&emit.set(STATE, &saved.encode()));
    print(&code)
}

/// How long before expiry the hook refreshes: `AWS_VAULT_REFRESH_WINDOW`, else 10% of the
/// lifetime, at least 5 minutes.
fn refresh_window(env: &Env, lifetime: i64) -> Result<i64, Error> {
    let window = match env.non_empty(REFRESH_WINDOW) {
        Some(text) => {
            duration::parse(text).map_err(|e| Error::Usage(format!("{REFRESH_WINDOW}: {e}")))?
        }
        None => {
            Duration::from_secs(u64::try_from(lifetime / 10).unwrap_or(0)).max(MIN_REFRESH_WINDOW)
        }
    };
    Ok(i64::try_from(window.as_secs()).unwrap_or(i64::MAX))
}

/// Unix seconds at boot, by /proc/uptime: fish's hook adds its uptime to it for a clock that
/// needs no process.
fn boot_time(now: i64) -> Option<i64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    // Whole seconds, as the hook reads them.
    let whole = text.split_whitespace().next()?.split('.').next()?;
    Some(now - whole.parse::<i64>().ok()?)
}

fn saved_state(env: &Env) -> Option<Saved> {
    env.non_empty(STATE).and_then(Saved::decode)
}

/// The shell to write code for: the hook says which. Without the hook, a terminal user gets
/// the line to add; a script that evals the output gets code for its `$SHELL`.
fn output_shell(ctx: &Ctx, command: &str) -> Result<ShellKind, Error> {
    if let Some(shell) = ctx.env.non_empty(HOOK_SHELL).and_then(ShellKind::from_name) {
        return Ok(shell);
    }
    let user_shell = ctx.env.non_empty("SHELL").and_then(ShellKind::from_name);
    if std::io::stdout().is_terminal() {
        let shell = user_shell.unwrap_or(ShellKind::Bash);
        return Err(Error::Message(format!(
            "`vault {command}` changes this shell through the shell hook, which is not loaded here. \\
             Add this line to your shell's startup file and start a new shell:\n    {}",
            shell.rc_line()
        )));
    }
    Ok(user_shell.unwrap_or(ShellKind::Bash))
}
