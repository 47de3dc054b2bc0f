//! Where MFA codes come from (docs/aws-vault.md §3.7): `--mfa-token`, else the profile's
//! `mfa_process`, else the prompter `cmd` passed in `Services` (a prompt on the controlling
//! terminal, `/dev/tty`, so it works while stdout is captured).

use std::fs::File;
use std::process::Stdio;

use super::Error;
use super::services::Prompter;
use crate::process;
use crate::secret::Secret;

#[derive(Default)]
pub(crate) struct MfaSource {
    /// `--mfa-token`: used for every MFA call of this run.
    pub(crate) token: Option<Secret>,
    /// Whether the terminal may be asked (not from the prompt hook).
    pub(crate) interactive: bool,
}

impl MfaSource {
    pub(crate) fn code_for(
        &self,
        serial: &str,
        mfa_process: Option<&str>,
        prompter: &dyn Prompter,
    ) -> Result<Secret, Error> {
        let code = if let Some(token) = &self.token {
            token.clone()
        } else if !self.interactive {
            // Not even mfa_process: it may wait for a YubiKey touch the user cannot see.
            return Err(Error::Mfa {
                serial: serial.to_owned(),
                reason: "a code is needed, and vault does not ask from the prompt hook; run: vault refresh"
                    .to_owned(),
            });
        } else if let Some(command) = mfa_process {
            run_mfa_process(serial, command)?
        } else {
            return ask(serial, prompter);
        };
        check_code(serial, &code)?;
        Ok(code)
    }
}

/// Asks the person, up to three times while what they type is not a code.
fn ask(serial: &str, prompter: &dyn Prompter) -> Result<Secret, Error> {
    let mut tries = 0;
    loop {
        let code = prompter.mfa_code(serial).map_err(|err| Error::Mfa {
            serial: serial.to_owned(),
            reason: format!("{err}; pass --mfa-token or set mfa_process in the profile"),
        })?;
        tries += 1;
        match check_code(serial, &code) {
            Err(err) if tries < TRIES => {
                prompter.not_a_code(&err.to_string(), TRIES - tries);
            }
            checked => return checked.map(|()| code),
        }
    }
}

/// How many times a person is asked for a code before vault gives up, as sudo does.
const TRIES: u32 = 3;

/// AWS MFA codes are six digits; anything else would only fail at STS, later and less clearly.
fn check_code(serial: &str, code: &Secret) -> Result<(), Error> {
    let text = code.expose();
    if text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(());
    }
    let what = if text.is_empty() {
        "empty"
    } else {
        "not 6 digits"
    };
    Err(Error::Mfa {
        serial: serial.to_owned(),
        reason: format!("the MFA code is {what}"),
    })
}

fn run_mfa_process(serial: &str, command: &str) -> Result<Secret, Error> {
    // The program only: the rest of the line may hold a secret (`oathtool --totp SEED`).
    let program = command.split_whitespace().next().unwrap_or_default();
    let fail = |reason: String| Error::Mfa {
        serial: serial.to_owned(),
        reason: format!("mfa_process {program} {reason}"),
    };
    // Like the fork: the process can talk to the user on the terminal (a YubiKey touch).
    let stdin = File::open("/dev/tty").map_or_else(|_| Stdio::null(), Stdio::from);
    let output = process::shell(command)
        .stdin(stdin)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| fail(format!("could not start: {e}")))?;
    if !output.status.success() {
        return Err(fail(format!("failed ({})", output.status)));
    }
    let text = String::from_utf8(output.stdout).map_err(|_| fail("printed non-text".to_owned()))?;
    Ok(Secret::new(text.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::creds::fake::FakePrompter;

    #[test]
    fn a_flag_token_is_used_and_checked() {
        let source = MfaSource {
            token: Some(Secret::new("123456")),
            interactive: false,
        };
        assert_eq!(
            source
                .code_for("arn:mfa", None, &FakePrompter::never())
                .unwrap()
                .expose(),
            "123456"
        );
        for bad in ["", "12345", "1234567", "12345a"] {
            let source = MfaSource {
                token: Some(Secret::new(bad)),
                interactive: false,
            };
            assert!(
                source
                    .code_for("arn:mfa", None, &FakePrompter::never())
                    .is_err(),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn mfa_process_output_is_trimmed_and_checked() {
        let source = MfaSource {
            token: None,
            interactive: true,
        };
        assert_eq!(
            source
                .code_for("s", Some("echo ' 654321 '"), &FakePrompter::never())
                .unwrap()
                .expose(),
            "654321"
        );
        let err = source
            .code_for("s", Some("exit 3"), &FakePrompter::never())
            .unwrap_err()
            .to_string();
        assert!(err.contains("failed"), "{err}");
        assert!(
            source
                .code_for("s", Some("echo nope"), &FakePrompter::never())
                .is_err()
        );
    }
}

#[cfg(test)]
mod hook_tests {
    use super::*;
    use crate::creds::fake::FakePrompter;

    #[test]
    fn from_the_prompt_hook_neither_a_prompt_nor_mfa_process_runs() {
        let source = MfaSource {
            token: None,
            interactive: false,
        };
        let err = source
            .code_for("arn:mfa", None, &FakePrompter::never())
            .unwrap_err()
            .to_string();
        assert!(err.contains("does not ask from the prompt hook"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("ran");
        let command = format!("touch {}; echo 123456", marker.display());
        assert!(
            source
                .code_for("arn:mfa", Some(&command), &FakePrompter::never())
                .is_err()
        );
        assert!(!marker.exists(), "mfa_process ran from the hook");
    }
}
