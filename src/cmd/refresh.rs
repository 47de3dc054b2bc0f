//! `vault refresh`: renew the credentials `use` put into this shell.
//!
//! The hook never lets STS stand between the user and a command: inside the refresh window it
//! starts `refresh --background`, which fills the session cache and writes a one-line outcome
//! to a status file (no secret in it); at the next prompt or command the hook reads that file
//! with a builtin and, when the fetch worked, applies it with `refresh --from-cache`, which
//! makes no STS call. A failure names its cause, and says whether it may heal by itself (the
//! hook retries with back-off) or needs the user.

use std::path::Path;
use std::time::Duration;

use super::credentials::{Fetch, fetch_quietly};
use super::print;
use super::use_agent;
use super::use_profile::{credentials_code, output_shell, saved_state};
use crate::cli::{CredentialArgs, GlobalArgs, RefreshArgs};
use crate::config::Config;
use crate::creds::{self, StsError};
use crate::ctx::Ctx;
use crate::error::Error;
use crate::fsutil;
use crate::keystore;
use crate::shell::state::{EXPIRES_AT, REFRESH_AT, Saved};
use crate::visible::visible;

/// The longest a command waits on STS while the hook applies a background fetch.
const APPLY_DEADLINE: Duration = Duration::from_secs(2);

pub(crate) fn run(args: &RefreshArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    if args.background {
        return background(args, global, ctx);
    }
    let shell = output_shell(ctx, args.shell, "refresh")?;
    let Some((saved, profile)) = active(ctx) else {
        if args.if_needed {
            return Ok(());
        }
        return Err(Error::Message(
            "no profile is active in this shell; run: vault use PROFILE".to_owned(),
        ));
    };
    if saved.agent {
        // The agent renews in the background. `vault refresh` brings it new credentials (an
        // MFA code, a sign-in) for every shell on the profile; from the hook, `--if-needed`
        // gets this shell a token of its own, without a prompt, when its agent is gone (a new
        // one starts) or its token is not its own (a nested shell inherits its parent's).
        if args.from_cache || (args.if_needed && use_agent::token_is_good(ctx)) {
            return Ok(());
        }
        let mode = if args.if_needed {
            use_agent::Mode::Restore
        } else {
            use_agent::Mode::Renew
        };
        let (code, _) = use_agent::agent_code(
            profile,
            &credential_args(&saved),
            &saved,
            shell,
            global,
            &quiet(ctx, args.if_needed),
            mode,
        )?;
        return print(&code);
    }
    if args.if_needed && !due(ctx) {
        return Ok(());
    }
    // What a background fetch just cached is taken as it is (the usual AWS_MIN_TTL applies),
    // and what it could not cache (a role assumed from a cached session) gets 2 s.
    let how = if args.from_cache {
        Fetch {
            min_ttl: None,
            deadline: Some(APPLY_DEADLINE),
            ..Fetch::default()
        }
    } else {
        Fetch {
            min_ttl: left(ctx),
            ..Fetch::default()
        }
    };
    let (code, _) = credentials_code(
        profile,
        &credential_args(&saved),
        how,
        &saved,
        shell,
        global,
        &quiet(ctx, args.if_needed || args.from_cache),
    )?;
    print(&code)
}

/// The profile `use` made active, and the state it left.
fn active(ctx: &Ctx) -> Option<(Saved, &str)> {
    Some((saved_state(&ctx.env)?, ctx.env.non_empty("AWS_VAULT")?))
}

/// Whether the refresh window has opened.
fn due(ctx: &Ctx) -> bool {
    let now = ctx.clock.now().unix_timestamp();
    number(ctx, REFRESH_AT).is_some_and(|at| now >= at)
}

fn number(ctx: &Ctx, name: &str) -> Option<i64> {
    ctx.env.non_empty(name).and_then(|v| v.parse::<i64>().ok())
}

/// How long the shell's credentials have left. A refresh takes a cached session only when it
/// lasts longer than that (a role's own cached session would hand back the same credentials),
/// so a role is assumed again from its cached MFA session, and an MFA session that ends soon
/// asks for a code.
fn left(ctx: &Ctx) -> Option<Duration> {
    let expires = number(ctx, EXPIRES_AT)?;
    let now = ctx.clock.now().unix_timestamp();
    u64::try_from(expires - now).ok().map(Duration::from_secs)
}

/// The flags of the first `use`, which every refresh repeats.
pub(super) fn credential_args(saved: &Saved) -> CredentialArgs {
    CredentialArgs {
        duration: saved.duration_secs.map(Duration::from_secs),
        session_ttl: saved.session_ttl_secs.map(Duration::from_secs),
        mfa_token: None,
        // The role cache is what keeps a refresh cheap; AWS_VAULT_NO_ROLE_CACHE still applies.
        no_cache: false,
        no_session: saved.no_session,
        region: saved.region.clone(),
        use_device_code: false,
    }
}

/// From the prompt hook, nothing may wait for an answer.
fn quiet(ctx: &Ctx, quiet: bool) -> Ctx {
    Ctx {
        interactive: ctx.interactive && !quiet,
        ..ctx.clone()
    }
}

/// What a background fetch came to, as the hook reads it from the status file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// The cache holds fresh credentials (or there was nothing to do).
    Done,
    /// It may heal by itself (no network, throttling, a 5xx): the hook tries again later.
    Retry(String),
    /// Only the user can fix it (an MFA code, a passphrase, a refusal): `vault refresh`.
    NeedsYou(String),
}

impl Outcome {
    /// `ATTEMPT KIND` on the first line, the warning on the second.
    fn status_text(&self, attempt: u64, profile: &str) -> String {
        let profile = visible(profile);
        // STS messages are input too; one line, nothing a terminal would act on.
        match self {
            Self::Done => format!("{attempt} ok\n"),
            Self::Retry(cause) => format!(
                "{attempt} retry\nvault: the credentials of {profile} could not be refreshed: {}; vault tries again in the background\n",
                visible(cause)
            ),
            Self::NeedsYou(cause) => format!(
                "{attempt} needs\nvault: the credentials of {profile} could not be refreshed: {}; run: vault refresh\n",
                visible(cause)
            ),
        }
    }
}

/// `refresh --background`: fetch into the cache, then write the outcome. Prints nothing.
fn background(args: &RefreshArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let Some(file) = &args.status_file else {
        return Err(Error::Usage("--background needs --status-file".to_owned()));
    };
    let ctx = quiet(ctx, true);
    let (outcome, profile) = match active(&ctx) {
        None => (Outcome::Done, String::new()),
        Some((saved, profile)) => {
            let as_before = Ctx {
                env: saved.original_env(&ctx.env),
                ..ctx.clone()
            };
            let how = Fetch {
                min_ttl: left(&ctx),
                ..Fetch::default()
            };
            let fetched = fetch_quietly(profile, &credential_args(&saved), how, global, &as_before);
            let outcome = match fetched {
                Ok(_) => Outcome::Done,
                Err(err) => outcome_of(&err, &sts_endpoint(profile, &saved, &as_before)),
            };
            (outcome, profile.to_owned())
        }
    };
    write_status(file, &outcome.status_text(args.attempt, &profile))
}

/// The outcome file, written whole (temp file and rename), so the hook never reads half of
/// one. Files of shells that have exited are removed on the way.
fn write_status(file: &Path, text: &str) -> Result<(), Error> {
    let cannot = |e| Error::io(format!("cannot write {}", file.display()), e);
    if let Some(dir) = file.parent() {
        fsutil::create_private_dir(dir).map_err(cannot)?;
        remove_files_of_gone_shells(dir);
    }
    fsutil::write_atomic(file, text.as_bytes(), 0o600).map_err(cannot)
}

/// Status files are named after their shell's process id.
fn remove_files_of_gone_shells(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let gone = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None)
            == Err(nix::errno::Errno::ESRCH);
        if gone {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

/// Where the profile's STS calls go, for "STS unreachable at …".
fn sts_endpoint(profile: &str, saved: &Saved, ctx: &Ctx) -> String {
    let overrides = super::credentials::overrides(&credential_args(saved));
    Config::load(&ctx.env)
        .ok()
        .and_then(|config| config.resolve_chain(profile, &overrides, &ctx.env).ok())
        .map_or_else(
            || "STS".to_owned(),
            |chain| {
                // The last profile of the chain makes the first call.
                let first = chain.profiles.last().unwrap_or_else(|| chain.target());
                let target = creds::sts_target(first, &ctx.env);
                target
                    .endpoint
                    .unwrap_or_else(|| format!("https://sts.{}.amazonaws.com", target.region))
            },
        )
}

/// Sorts a failed fetch into what heals by itself and what needs the user, in one line.
pub(crate) fn outcome_of(err: &Error, endpoint: &str) -> Outcome {
    match err {
        Error::Credentials(creds::Error::Sts { source, .. }) => match source {
            StsError::Unreachable(reason) => {
                Outcome::Retry(format!("STS is unreachable at {endpoint} ({reason})"))
            }
            StsError::Service { code, status, .. } if may_heal(code.as_deref(), *status) => {
                Outcome::Retry(format!("STS is failing ({source})"))
            }
            StsError::Service { .. } => Outcome::NeedsYou(format!("STS refused ({source})")),
        },
        Error::Credentials(creds::Error::Mfa { serial, .. }) => {
            Outcome::NeedsYou(format!("an MFA code for {} is needed", visible(serial)))
        }
        Error::Credentials(creds::Error::SignInNeeded { .. } | creds::Error::SignIn { .. }) => {
            Outcome::NeedsYou(format!("an SSO sign-in is needed ({err})"))
        }
        Error::Credentials(creds::Error::Keystore(keystore::Error::NoPassphrase { .. }))
        | Error::Keystore(keystore::Error::NoPassphrase { .. }) => {
            Outcome::NeedsYou("the keystore passphrase is needed".to_owned())
        }
        other => Outcome::NeedsYou(other.report()),
    }
}

/// Throttling and server-side failures pass; a refusal does not.
fn may_heal(code: Option<&str>, status: Option<u16>) -> bool {
    const TRANSIENT: &[&str] = &[
        "Throttling",
        "ThrottlingException",
        "RequestLimitExceeded",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "InternalFailure",
        "IDPCommunicationError",
    ];
    status.is_some_and(|s| s >= 500 || s == 429) || code.is_some_and(|c| TRANSIENT.contains(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sts(source: StsError) -> Error {
        Error::Credentials(creds::Error::Sts {
            profile: "p".into(),
            operation: "GetSessionToken",
            source,
        })
    }

    #[test]
    fn network_throttling_and_server_errors_are_retried() {
        let down = sts(StsError::Unreachable("connection refused".into()));
        assert_eq!(
            outcome_of(&down, "http://127.0.0.1:9"),
            Outcome::Retry("STS is unreachable at http://127.0.0.1:9 (connection refused)".into())
        );
        for (code, status) in [("Throttling", 400), ("InternalFailure", 500), ("X", 503)] {
            let err = sts(StsError::Service {
                code: Some(code.into()),
                message: Some("m".into()),
                status: Some(status),
            });
            assert!(matches!(outcome_of(&err, "e"), Outcome::Retry(_)), "{code}");
        }
    }

    #[test]
    fn refusals_mfa_and_passphrase_need_the_user() {
        let refused = sts(StsError::Service {
            code: Some("AccessDenied".into()),
            message: Some("not allowed".into()),
            status: Some(403),
        });
        assert_eq!(
            outcome_of(&refused, "e"),
            Outcome::NeedsYou("STS refused (AccessDenied: not allowed (HTTP 403))".into())
        );
        let mfa = Error::Credentials(creds::Error::Mfa {
            serial: "arn:aws:iam::1:mfa/\u{1b}x".into(),
            reason: "r".into(),
        });
        assert_eq!(
            outcome_of(&mfa, "e"),
            Outcome::NeedsYou("an MFA code for arn:aws:iam::1:mfa/\\x1bx is needed".into())
        );
        let passphrase = Error::Keystore(keystore::Error::NoPassphrase {
            dir: "/k".into(),
            reason: "r".into(),
        });
        assert_eq!(
            outcome_of(&passphrase, "e"),
            Outcome::NeedsYou("the keystore passphrase is needed".into())
        );
        // The same, met while reading stored keys under `creds`.
        let locked = Error::Credentials(creds::Error::Keystore(keystore::Error::NoPassphrase {
            dir: "/k".into(),
            reason: "r".into(),
        }));
        assert_eq!(
            outcome_of(&locked, "e"),
            Outcome::NeedsYou("the keystore passphrase is needed".into())
        );
    }

    #[test]
    fn the_status_file_has_the_attempt_the_kind_and_one_line_of_warning() {
        assert_eq!(Outcome::Done.status_text(7, "p"), "7 ok\n");
        assert_eq!(
            Outcome::Retry("STS is unreachable at e (x)".into()).status_text(3, "p\u{1b}"),
            "3 retry\nvault: the credentials of p\\x1b could not be refreshed: STS is unreachable at e (x); vault tries again in the background\n"
        );
    }
}
