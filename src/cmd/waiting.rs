//! Says that vault is waiting when a call takes longer than a second, so a slow STS does not look
//! like a hung vault: a spinner with the seconds on a terminal, one line otherwise.

use std::io::{IsTerminal as _, Write as _};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::{Duration, Instant};

use crate::creds::{
    AssumeRoleRequest, Credentials, SessionTokenRequest, Sts, StsError, StsTarget as Target,
    WebIdentityRequest, sts_address,
};

/// How long a call may take before vault says it is waiting.
const PATIENCE: Duration = Duration::from_secs(1);
const FRAMES: [char; 4] = ['|', '/', '-', '\\'];

/// Runs `call`; if it is not done within a second, says it waits for `what` until it is.
pub(super) fn while_waiting<R>(what: &str, call: impl FnOnce() -> R) -> R {
    let (done, finished) = mpsc::channel::<()>();
    let what = what.to_owned();
    let teller = std::thread::spawn(move || {
        if !matches!(
            finished.recv_timeout(PATIENCE),
            Err(RecvTimeoutError::Timeout)
        ) {
            return;
        }
        let mut stderr = std::io::stderr();
        if !stderr.is_terminal() {
            let _ = writeln!(stderr, "vault: waiting for {what}");
            return;
        }
        let started = Instant::now();
        for frame in FRAMES.iter().cycle() {
            let seconds = (started.elapsed() + PATIENCE).as_secs();
            let _ = write!(stderr, "\r{frame} vault: waiting for {what} ({seconds}s)");
            let _ = stderr.flush();
            if !matches!(
                finished.recv_timeout(Duration::from_millis(120)),
                Err(RecvTimeoutError::Timeout)
            ) {
                break;
            }
        }
        // Leave the line as it was before the spinner.
        let _ = write!(stderr, "\r\x1b[K");
    });
    let result = call();
    drop(done);
    let _ = teller.join();
    result
}

/// An STS that says when it keeps the user waiting.
pub(super) struct Patient(pub(super) Box<dyn Sts>);

impl Sts for Patient {
    fn get_session_token(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &SessionTokenRequest,
    ) -> Result<Credentials, StsError> {
        while_waiting(&sts(target), || {
            self.0.get_session_token(target, caller, request)
        })
    }

    fn assume_role(
        &self,
        target: &Target,
        caller: &Credentials,
        request: &AssumeRoleRequest,
    ) -> Result<Credentials, StsError> {
        while_waiting(&sts(target), || self.0.assume_role(target, caller, request))
    }

    fn assume_role_with_web_identity(
        &self,
        target: &Target,
        request: &WebIdentityRequest,
    ) -> Result<Credentials, StsError> {
        while_waiting(&sts(target), || {
            self.0.assume_role_with_web_identity(target, request)
        })
    }

    fn get_caller_identity(
        &self,
        target: &Target,
        caller: &Credentials,
    ) -> Result<String, StsError> {
        while_waiting(&sts(target), || self.0.get_caller_identity(target, caller))
    }

    fn get_federation_token(
        &self,
        target: &Target,
        caller: &Credentials,
        name: &str,
        policy: &str,
        duration: std::time::Duration,
    ) -> Result<Credentials, StsError> {
        while_waiting(&sts(target), || {
            self.0
                .get_federation_token(target, caller, name, policy, duration)
        })
    }
}

fn sts(target: &Target) -> String {
    format!("STS at {}", sts_address("sts", target))
}
