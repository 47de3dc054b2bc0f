//! Builds the `Services` that commands pass down to `creds`: the real AWS clients, the MFA
//! prompt on the terminal, the system clock, the lock directory, and what to say about
//! `creds`'s notices. The one place where those choices are made.

use std::io::{self, Write as _};
use std::time::Duration;

use crate::creds::{AwsIam, AwsSts, Notice, Prompter, Services, Sts};
use crate::ctx::Ctx;
use crate::secret::Secret;
use crate::tty;
use crate::visible::visible;

/// The services of a command; with `deadline`, every STS call is one attempt over within it
/// (the shell hook's apply step, which must not wait on a hung STS).
pub(super) fn services(ctx: &Ctx, deadline: Option<Duration>) -> Services {
    let sts: Box<dyn Sts> = match deadline {
        Some(deadline) => Box::new(AwsSts::with_deadline(deadline)),
        None => Box::new(AwsSts::default()),
    };
    Services {
        sts,
        iam: Box::new(AwsIam::default()),
        prompter: Box::new(TerminalPrompter),
        clock: ctx.clock,
        lock_dir: ctx.env.runtime_dir().map(|dir| dir.join("locks")),
        notices: Box::new(say),
    }
}

/// Asks on the controlling terminal, so the prompt works while stdout is captured.
struct TerminalPrompter;

impl Prompter for TerminalPrompter {
    fn mfa_code(&self, serial: &str) -> Result<Secret, tty::Error> {
        tty::read_line(&format!("Enter MFA code for {}: ", visible(serial))).map(Secret::new)
    }
}

fn say(notice: &Notice) {
    match notice {
        // Someone may be at an MFA prompt; say why nothing happens.
        Notice::WaitingForLock { .. } => {
            let _ = writeln!(
                io::stderr(),
                "vault: waiting for another vault process that is getting the same credentials"
            );
        }
    }
}
