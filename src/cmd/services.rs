//! Builds the `Services` that commands pass down to `creds`: the real AWS clients, the MFA
//! prompt on the terminal, the system clock, the lock directory, and what to say about
//! `creds`'s notices. The one place where those choices are made.

use std::io::{self, IsTerminal as _, Write as _};
use std::time::Duration;

use crate::browser::OpenError;
use crate::creds::sso::aws::AwsSso;
use crate::creds::{AwsIam, AwsSts, Browser, BrowserError, Notice, Services, Sts};
use crate::ctx::{Ctx, Env};
use crate::secret::Secret;
use crate::visible::visible;

/// The services of a command; with `deadline`, every STS call is one attempt over within it
/// (the shell hook's apply step, which must not wait on a hung STS).
pub(super) fn services(ctx: &Ctx, deadline: Option<Duration>) -> Services {
    let sts: Box<dyn Sts> = match deadline {
        // The shell hook's step, which prints nothing and waits at most `deadline`.
        Some(deadline) => Box::new(AwsSts::with_deadline(deadline)),
        None if ctx.interactive && ctx.show_waits && !super::quiet(ctx) => {
            Box::new(super::waiting::Patient(Box::new(AwsSts::default())))
        }
        None => Box::new(AwsSts::default()),
    };
    Services {
        sts,
        iam: Box::new(AwsIam::default()),
        sso_oidc: Box::new(AwsSso::default()),
        sso_portal: Box::new(AwsSso::default()),
        prompter: Box::new(ctx.mfa_prompt.clone()),
        browser: Box::new(DesktopBrowser {
            env: ctx.env.clone(),
        }),
        clock: ctx.clock,
        lock_dir: ctx.env.runtime_dir().map(|dir| dir.join("locks")),
        notices: Box::new(say),
    }
}

/// `$BROWSER`, else the desktop's opener, as for `login`.
struct DesktopBrowser {
    env: Env,
}

impl Browser for DesktopBrowser {
    fn open(&self, url: &str, wait: Duration) -> Result<(), BrowserError> {
        // Through the one-time local redirect, so the URL is in no process's arguments.
        crate::browser::open_within(&Secret::new(url), &self.env, wait).map_err(|e| match e {
            OpenError::NotStarted(reason) => BrowserError::NotStarted(reason),
            OpenError::NotFetched(_) => BrowserError::NotOpened,
        })
    }
}

fn say(notice: &Notice) {
    let text = match notice {
        // Someone may be at an MFA prompt or a sign-in; say why nothing happens.
        Notice::WaitingForLock { .. } => {
            "vault: waiting for another vault process that is getting the same credentials"
                .to_owned()
        }
        Notice::WaitingForSignIn { start_url } => format!(
            "vault: waiting for the IAM Identity Center sign-in in progress for {}",
            visible(start_url)
        ),
        Notice::OpeningBrowser { url } => format!(
            "vault: opening the IAM Identity Center sign-in page in your browser (Ctrl-C cancels):\n{}",
            visible(url)
        ),
        Notice::OpenThisUrl {
            url,
            user_code: Some(code),
        } => format!(
            "vault: to sign in to IAM Identity Center, open this page and confirm the code {} (Ctrl-C cancels):\n{}",
            visible(code),
            visible(url)
        ),
        Notice::OpenThisUrl {
            url,
            user_code: None,
        } => format!(
            "vault: to sign in to IAM Identity Center, open this page on this machine (Ctrl-C cancels):\n{}",
            visible(url)
        ),
        Notice::NotKept { what, reason } => format!(
            "vault: warning: {what} could not be kept ({}); the next command may ask again",
            visible(reason)
        ),
        Notice::NoBrowser { reason } => format!(
            "vault: no browser could be opened ({}); signing in with a device code instead",
            visible(reason)
        ),
    };
    // Under credential_process the SDK keeps stderr to itself: a sign-in URL or device code
    // must still reach the person, on the terminal as the MFA prompt does.
    if !io::stderr().is_terminal()
        && matches!(
            notice,
            Notice::OpeningBrowser { .. } | Notice::OpenThisUrl { .. }
        )
        && let Ok(mut tty) = std::fs::OpenOptions::new().write(true).open("/dev/tty")
    {
        let _ = writeln!(tty, "{text}");
    }
    let _ = writeln!(io::stderr(), "{text}");
}
