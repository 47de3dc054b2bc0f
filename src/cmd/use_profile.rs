//! `vault use` and `vault unuse`: credentials in the current shell, through the hook's `vault`
//! function, which evals what these print. They print shell code only, and nothing at all on
//! failure, so a failed `use` changes nothing. `refresh.rs` renews what `use` put in place.

use std::io::IsTerminal;
use std::time::Duration;

use time::OffsetDateTime;

use super::credentials::{Fetch, config_origin, fetch, origin_of};
use super::print;
use crate::cli::{CredentialArgs, GlobalArgs, UnuseArgs, UseArgs};
use crate::creds::rfc3339_seconds;
use crate::ctx::{Ctx, Env};
use crate::duration;
use crate::error::Error;
use crate::prompt::time_left;
use crate::shell::state::{CLOCK_BOOT, EXPIRES_AT, REFRESH_AT, STATE, Saved, TOUCHED};
use crate::shell::{Script, ShellKind};
use crate::visible::visible;

/// Set by the hook's function for the one command it runs.
const HOOK_SHELL: &str = "__VAULT_SHELL";
const REFRESH_WINDOW: &str = "AWS_VAULT_REFRESH_WINDOW";
const MIN_REFRESH_WINDOW: Duration = Duration::from_mins(5);
/// Where the values `unuse` puts back come from, for a refusal.
const STATE_ORIGIN: &str = "__VAULT_STATE, the state `vault use` keeps in this shell";

pub(crate) fn use_profile(args: &UseArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let shell = output_shell(ctx, args.shell, "use")?;
    let mut saved = saved_state(&ctx.env).unwrap_or_else(|| Saved::capture(&ctx.env));
    saved.region.clone_from(&args.credentials.region);
    saved.duration_secs = args.credentials.duration.map(|d| d.as_secs());
    saved.session_ttl_secs = args.credentials.session_ttl.map(|d| d.as_secs());
    saved.no_session = args.credentials.no_session;
    saved.agent = args.agent;
    let profile = super::required_profile(args.profile.as_deref(), global, ctx, "use")?;
    if args.agent {
        let (code, line) = super::use_agent::agent_code(
            &profile,
            &args.credentials,
            &saved,
            shell,
            global,
            ctx,
            super::use_agent::Mode::Use,
        )?;
        print(&code)?;
        say(ctx, &line);
        return Ok(());
    }
    let (code, applied) = credentials_code(
        &profile,
        &args.credentials,
        Fetch::default(),
        &saved,
        shell,
        global,
        ctx,
    )?;
    print(&code)?;
    // Keys replace what the agent served this shell: its token goes.
    super::use_agent::revoke_previous(ctx);
    // The shell evals stdout; this line is for the person, on stderr.
    let about = match (&applied.region, applied.left) {
        (Some(region), Some(left)) => {
            format!(" ({region}), {} left; refreshes itself", time_left(left))
        }
        (None, Some(left)) => format!(", {} left; refreshes itself", time_left(left)),
        (Some(region), None) => format!(" ({region}), long-term keys that do not expire"),
        (None, None) => ", long-term keys that do not expire".to_owned(),
    };
    say(ctx, &format!("vault: using {}{about}", visible(&profile)));
    Ok(())
}

/// What `use` put in place, for the line it says.
pub(super) struct Applied {
    region: Option<String>,
    /// Seconds until the credentials expire.
    left: Option<i64>,
}

/// One line on stderr, unless `AWS_VAULT_QUIET` asks for none.
pub(super) fn say(ctx: &Ctx, line: &str) {
    if !super::quiet(ctx) {
        super::note(line);
    }
}

pub(crate) fn unuse(args: &UnuseArgs, ctx: &Ctx) -> Result<(), Error> {
    let shell = output_shell(ctx, args.shell, "unuse")?;
    let Some(saved) = saved_state(&ctx.env) else {
        if let Some(profile) = ctx.env.non_empty("AWS_VAULT") {
            return Err(Error::Message(format!(
                "the credentials of {} in this shell come from `vault exec`, which `vault unuse` cannot undo; type `exit` to leave that shell",
                visible(profile)
            )));
        }
        return Ok(()); // Nothing to put back: a second unuse does nothing.
    };
    let mut script = Script::new(shell);
    for (name, value) in &saved.original {
        script
            .assign(name, value.as_deref())
            .map_err(Error::unholdable(STATE_ORIGIN))?;
    }
    script.unset(STATE);
    print(&script.finish())?;
    super::use_agent::revoke_previous(ctx);
    if let Some(profile) = ctx.env.non_empty("AWS_VAULT") {
        say(
            ctx,
            &format!(
                "vault: stopped using {}; the variables are as they were before",
                visible(profile)
            ),
        );
    }
    Ok(())
}

/// Fetches credentials as the shell was before the first `use`, and returns the code that
/// puts them in place. Every value is checked before any code is returned.
pub(super) fn credentials_code(
    profile: &str,
    credentials: &CredentialArgs,
    how: Fetch,
    saved: &Saved,
    shell: ShellKind,
    global: &GlobalArgs,
    ctx: &Ctx,
) -> Result<(String, Applied), Error> {
    let original = saved.original_env(&ctx.env);
    let as_before = Ctx {
        env: original.clone(),
        ..ctx.clone()
    };
    let (creds, chain) = fetch(profile, credentials, how, global, &as_before)?;
    let from_credentials = origin_of(&chain, credentials.no_session);
    let now = ctx.clock.now().unix_timestamp();
    let expires = creds.expiration.map(OffsetDateTime::unix_timestamp);
    let region = chain.target().region.clone();
    let region_origin = config_origin(profile);
    let mut values: Vec<Value<'_>> = vec![
        (
            "AWS_ACCESS_KEY_ID",
            Some(creds.access_key_id.clone()),
            &from_credentials,
        ),
        (
            "AWS_SECRET_ACCESS_KEY",
            Some(creds.secret_access_key.expose().to_owned()),
            &from_credentials,
        ),
        (
            "AWS_SESSION_TOKEN",
            creds.session_token.as_ref().map(|t| t.expose().to_owned()),
            &from_credentials,
        ),
        (
            "AWS_CREDENTIAL_EXPIRATION",
            creds.expiration.map(rfc3339_seconds),
            &from_credentials,
        ),
        (
            "AWS_SESSION_EXPIRATION",
            creds.expiration.map(rfc3339_seconds),
            &from_credentials,
        ),
        (
            "AWS_VAULT",
            Some(profile.to_owned()),
            "the profile name on the command line",
        ),
        (EXPIRES_AT, expires.map(|at| at.to_string()), ""),
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
    values.push((REFRESH_AT, refresh_at, ""));
    values.push((CLOCK_BOOT, boot_time(now).map(|boot| boot.to_string()), ""));
    push_region(&mut values, region.as_ref(), &original, &region_origin);
    let applied = Applied {
        region,
        left: expires.map(|at| at - now),
    };
    Ok((state_script(&values, saved, shell)?, applied))
}

/// A variable `use` sets, with where its value came from (for a refusal); `None` unsets it.
pub(super) type Value<'a> = (&'a str, Option<String>, &'a str);

/// The code that gives every variable `use` may touch its value (a variable not in `values`
/// is unset), and records the state. Every value is checked before any code is returned.
pub(super) fn state_script(
    values: &[Value<'_>],
    saved: &Saved,
    shell: ShellKind,
) -> Result<String, Error> {
    let mut script = Script::new(shell);
    for name in TOUCHED {
        match values.iter().find(|(n, _, _)| n == name) {
            Some((_, value, origin)) => script
                .assign(name, value.as_deref())
                .map_err(Error::unholdable(*origin))?,
            None => script.unset(name),
        }
    }
    script
        .set(STATE, &saved.encode())
        .map_err(Error::unholdable(
            "the values this shell had before `vault use`, which __VAULT_STATE keeps",
        ))?;
    Ok(script.finish())
}

/// The region: the one resolved for the profile (which already prefers a region the user
/// set, unless --region was given); without one, whatever the shell had.
pub(super) fn push_region<'a>(
    values: &mut Vec<Value<'a>>,
    region: Option<&String>,
    original: &Env,
    origin: &'a str,
) {
    for name in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        values.push((
            name,
            region
                .cloned()
                .or_else(|| original.get(name).map(str::to_owned)),
            origin,
        ));
    }
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
pub(super) fn boot_time(now: i64) -> Option<i64> {
    let text = std::fs::read_to_string("/proc/uptime").ok()?;
    // Whole seconds, as the hook reads them.
    let whole = text.split_whitespace().next()?.split('.').next()?;
    Some(now - whole.parse::<i64>().ok()?)
}

pub(super) fn saved_state(env: &Env) -> Option<Saved> {
    env.non_empty(STATE)
        .and_then(Saved::decode)
        .map(|saved| saved.complete(env))
}

/// The shell to write code for: `--shell`, else the one the hook names. It is never guessed
/// from `$SHELL`: a bash script run by a fish user has `SHELL=fish`, and fish quoting read by
/// bash runs code.
pub(super) fn output_shell(
    ctx: &Ctx,
    named: Option<ShellKind>,
    command: &str,
) -> Result<ShellKind, Error> {
    if let Some(shell) =
        named.or_else(|| ctx.env.non_empty(HOOK_SHELL).and_then(ShellKind::from_name))
    {
        return Ok(shell);
    }
    if std::io::stdout().is_terminal() {
        let shell = ctx
            .env
            .non_empty("SHELL")
            .and_then(ShellKind::from_name)
            .unwrap_or(ShellKind::Bash);
        return Err(Error::Message(hook_not_loaded(command, shell)));
    }
    Err(Error::Usage(shell_not_named(command)))
}

/// What a terminal user without the hook is told.
fn hook_not_loaded(command: &str, shell: ShellKind) -> String {
    format!(
        "`vault {command}` changes this shell through the shell hook, which is not loaded here. \
         Add this line to your shell's startup file and start a new shell:\n    {}",
        shell.rc_line()
    )
}

/// What a script that reads the output without the hook is told.
fn shell_not_named(command: &str) -> String {
    let args = if command == "use" {
        format!("{command} PROFILE")
    } else {
        command.to_owned()
    };
    format!(
        "`vault {command}` prints code for the shell that reads it, and without the shell hook that \
         shell must be named:\n    \
         eval \"$(vault {args} --shell bash)\"\n    \
         eval \"$(vault {args} --shell zsh)\"\n    \
         vault {args} --shell fish | source\n    \
         vault {args} --shell pwsh | Out-String | Invoke-Expression"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_not_loaded_message_is_plain_text() {
        assert_eq!(
            hook_not_loaded("use", ShellKind::Zsh),
            "`vault use` changes this shell through the shell hook, which is not loaded here. \
             Add this line to your shell's startup file and start a new shell:\n    \
             eval \"$(vault hook zsh)\"   # in ~/.zshrc"
        );
    }
}
