//! The MFA prompt drivers of `--prompt` / `AWS_VAULT_PROMPT` (docs/aws-vault.md §8): the
//! terminal (the default), a desktop dialog (`zenity`, `kdialog`, `osascript`), a YubiKey's OATH
//! account (`ykman`), or Windows' credential dialog (`wincredui`).
//!
//! Unlike aws-vault, vault never switches to a dialog by itself when stdout is captured: its
//! terminal prompt reads `/dev/tty`, which works under `credential_process` and `--server`.

use std::path::PathBuf;
use std::process::Stdio;

use crate::creds::{PromptError, Prompter};
use crate::ctx::Env;
use crate::secret::Secret;
use crate::visible::visible;

/// The drivers `--prompt` accepts, in aws-vault's (alphabetical) order.
pub(crate) const DRIVERS: &[&str] = &[
    "kdialog",
    "osascript",
    "terminal",
    "wincredui",
    "ykman",
    "zenity",
];

const TITLE: &str = "aws-vault";

/// Why `--prompt` names no driver vault can use.
#[derive(Debug, thiserror::Error)]
pub enum ChoiceError {
    #[error(
        "the 'pass' prompt driver was removed in aws-vault 7; set `mfa_process = pass otp <entry>` in the profile instead"
    )]
    Pass,
    #[error("unknown prompt driver '{0}'; choose one of: {list}", list = DRIVERS.join(", "))]
    Unknown(String),
    #[error("the prompt driver '{driver}' needs the program '{program}', which is not on PATH")]
    NotInstalled {
        driver: &'static str,
        program: &'static str,
    },
    #[error(
        "the prompt driver 'wincredui' works only on Windows; use terminal, zenity, kdialog or ykman"
    )]
    WindowsOnly,
}

/// How MFA codes are asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Driver {
    Terminal,
    /// A desktop program that shows a dialog and prints the code: zenity, kdialog, osascript.
    Dialog {
        kind: DialogKind,
        program: PathBuf,
    },
    /// `ykman oath accounts code --single NAME`: the code from a YubiKey.
    Ykman {
        program: PathBuf,
        /// `YKMAN_OATH_CREDENTIAL_NAME`, else the MFA serial.
        account: Option<String>,
        /// `YKMAN_OATH_DEVICE_SERIAL`: which key, when several are plugged in.
        device: Option<String>,
        /// ykman 1 to 3 spell the command `oath code` (`AWS_VAULT_YKMAN_VERSION`).
        legacy: bool,
    },
    /// A driver whose program is not installed: an error when a code is needed, not before (a
    /// `AWS_VAULT_PROMPT=zenity` in an SSH session must not stop `list` or the prompt hook).
    Missing {
        driver: &'static str,
        program: &'static str,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DialogKind {
    Kdialog,
    Osascript,
    Zenity,
}

impl DialogKind {
    fn name(self) -> &'static str {
        match self {
            Self::Kdialog => "kdialog",
            Self::Osascript => "osascript",
            Self::Zenity => "zenity",
        }
    }

    fn arguments(self, prompt: &str) -> Vec<String> {
        match self {
            Self::Zenity => ["--entry", "--title", TITLE, "--text", prompt]
                .map(str::to_owned)
                .to_vec(),
            Self::Kdialog => ["--inputbox", prompt, "--title", TITLE]
                .map(str::to_owned)
                .to_vec(),
            Self::Osascript => {
                let quoted = prompt.replace('\\', "\\\\").replace('"', "\\\"");
                vec![
                    "-e".to_owned(),
                    format!(
                        "display dialog \"{quoted}\" default answer \"\" buttons {{\"Cancel\", \"OK\"}} default button \"OK\" with title \"{TITLE}\" with hidden answer"
                    ),
                    "-e".to_owned(),
                    "text returned of result".to_owned(),
                ]
            }
        }
    }
}

impl Driver {
    /// The driver `name` names (the terminal without one), checking that its program is
    /// installed.
    pub(crate) fn choose(name: Option<&str>, env: &Env) -> Result<Self, ChoiceError> {
        let installed = |program: &'static str| {
            let path = env.get("PATH").unwrap_or_default();
            let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
            which::which_in(program, Some(path), cwd).ok()
        };
        let dialog = |kind: DialogKind| {
            Ok(match installed(kind.name()) {
                Some(program) => Self::Dialog { kind, program },
                None => Self::Missing {
                    driver: kind.name(),
                    program: kind.name(),
                },
            })
        };
        match name.unwrap_or("terminal") {
            "" | "terminal" => Ok(Self::Terminal),
            "zenity" => dialog(DialogKind::Zenity),
            "kdialog" => dialog(DialogKind::Kdialog),
            "osascript" => dialog(DialogKind::Osascript),
            "ykman" => Ok(match installed("ykman") {
                Some(program) => Self::Ykman {
                    program,
                    account: env
                        .non_empty("YKMAN_OATH_CREDENTIAL_NAME")
                        .map(str::to_owned),
                    device: env.non_empty("YKMAN_OATH_DEVICE_SERIAL").map(str::to_owned),
                    legacy: matches!(env.get("AWS_VAULT_YKMAN_VERSION"), Some("1" | "2" | "3")),
                },
                None => Self::Missing {
                    driver: "ykman",
                    program: "ykman",
                },
            }),
            "wincredui" => Err(ChoiceError::WindowsOnly),
            "pass" => Err(ChoiceError::Pass),
            other => Err(ChoiceError::Unknown(visible(other).into_owned())),
        }
    }

    /// The program and arguments that give the code for `serial` (`None`: the terminal).
    fn command_line(&self, serial: &str) -> Option<(PathBuf, Vec<String>)> {
        match self {
            Self::Terminal | Self::Missing { .. } => None,
            Self::Dialog { kind, program } => {
                Some((program.clone(), kind.arguments(&prompt_text(serial))))
            }
            Self::Ykman {
                program,
                account,
                device,
                legacy,
            } => {
                let mut args = Vec::new();
                if let Some(device) = device {
                    args.extend(["--device".to_owned(), device.clone()]);
                }
                let words: &[&str] = if *legacy {
                    &["oath", "code", "--single"]
                } else {
                    &["oath", "accounts", "code", "--single"]
                };
                args.extend(words.iter().map(|w| (*w).to_owned()));
                args.push(account.clone().unwrap_or_else(|| serial.to_owned()));
                Some((program.clone(), args))
            }
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Terminal => "terminal",
            Self::Dialog { kind, .. } => kind.name(),
            Self::Ykman { .. } => "ykman",
            Self::Missing { driver, .. } => driver,
        }
    }
}

fn prompt_text(serial: &str) -> String {
    format!("Enter MFA code for {}: ", visible(serial))
}

impl Prompter for Driver {
    fn not_a_code(&self, why: &str, tries_left: u32) {
        // A dialog simply opens again; the terminal says why it asks again.
        if *self == Self::Terminal {
            crate::tty::say(&format!("{why}; try again ({tries_left} left)."));
        }
    }

    fn mfa_code(&self, serial: &str) -> Result<Secret, PromptError> {
        if let Self::Missing { driver, program } = self {
            return Err(PromptError::Driver {
                driver,
                reason: ChoiceError::NotInstalled { driver, program }.to_string(),
            });
        }
        let Some((program, args)) = self.command_line(serial) else {
            return Ok(Secret::new(crate::tty::read_line(&prompt_text(serial))?));
        };
        let driver = self.name();
        let failed = |reason: String| PromptError::Driver { driver, reason };
        log::debug!("asking for the MFA code with {}", program.display());
        // ykman asks to touch the key on stderr, and may read a PIN: the terminal's, so both
        // reach the person under credential_process too.
        let terminal = || {
            std::fs::File::options()
                .read(true)
                .write(true)
                .open("/dev/tty")
        };
        let (stdin, stderr) = match (matches!(self, Self::Ykman { .. }), terminal()) {
            (true, Ok(tty)) => {
                let copy = tty.try_clone().map_err(|e| failed(e.to_string()))?;
                (Stdio::from(tty), Stdio::from(copy))
            }
            _ => (Stdio::null(), Stdio::inherit()),
        };
        let output = run(&program, &args, stdin, stderr).map_err(|e| failed(e.to_string()))?;
        if !output.status.success() {
            return Err(failed(match output.status.code() {
                Some(1) if driver != "ykman" => "the dialog was cancelled".to_owned(),
                Some(code) => format!("it exited with status {code}"),
                None => "it was killed by a signal".to_owned(),
            }));
        }
        let text = String::from_utf8(output.stdout)
            .map_err(|_| failed("it printed something that is not text".to_owned()))?;
        Ok(Secret::new(text.trim()))
    }
}

fn run(
    program: &std::path::Path,
    args: &[String],
    stdin: Stdio,
    stderr: Stdio,
) -> std::io::Result<std::process::Output> {
    crate::process::program(program)
        .args(args)
        .stdin(stdin)
        .stderr(stderr)
        .stdout(Stdio::piped())
        .output()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_with_path(dir: &std::path::Path, more: &[(&str, &str)]) -> Env {
        let path = dir.display().to_string();
        let mut pairs = vec![("PATH", path.as_str())];
        pairs.extend_from_slice(more);
        Env::from_pairs(pairs)
    }

    #[test]
    fn names_pick_drivers_and_pass_or_unknown_names_are_refused() {
        let empty = tempfile::tempdir().unwrap();
        let env = env_with_path(empty.path(), &[]);
        assert_eq!(Driver::choose(None, &env).unwrap(), Driver::Terminal);
        assert_eq!(
            Driver::choose(Some("terminal"), &env).unwrap(),
            Driver::Terminal
        );
        let pass = Driver::choose(Some("pass"), &env).unwrap_err().to_string();
        assert!(pass.contains("mfa_process"), "{pass}");
        // Not installed: chosen, and an error only when a code is asked for.
        let zenity = Driver::choose(Some("zenity"), &env).unwrap();
        assert_eq!(
            zenity.mfa_code("arn:mfa").unwrap_err().to_string(),
            "the zenity prompt gave no code: the prompt driver 'zenity' needs the program \
             'zenity', which is not on PATH"
        );
        let unknown = Driver::choose(Some("dmenu"), &env).unwrap_err().to_string();
        assert!(
            unknown.starts_with("unknown prompt driver 'dmenu'"),
            "{unknown}"
        );
    }

    #[test]
    fn ykman_asks_for_the_serial_or_the_named_account() {
        let dir = tempfile::tempdir().unwrap();
        let program = dir.path().join("ykman");
        std::fs::write(&program, "").unwrap();
        let serial = "arn:aws:iam::111111111111:mfa/joe";
        let args = |more: &[(&str, &str)]| {
            let mut permissions = std::fs::metadata(&program).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
            std::fs::set_permissions(&program, permissions).unwrap();
            let driver = Driver::choose(Some("ykman"), &env_with_path(dir.path(), more)).unwrap();
            driver.command_line(serial).unwrap().1.join(" ")
        };
        assert_eq!(args(&[]), format!("oath accounts code --single {serial}"));
        assert_eq!(
            args(&[
                ("YKMAN_OATH_CREDENTIAL_NAME", "aws:joe"),
                ("YKMAN_OATH_DEVICE_SERIAL", "123"),
                ("AWS_VAULT_YKMAN_VERSION", "3"),
            ]),
            "--device 123 oath code --single aws:joe"
        );
    }

    #[test]
    fn an_osascript_prompt_cannot_break_out_of_its_string() {
        let args = DialogKind::Osascript.arguments("a \"b\" \\");
        assert!(
            args[1].contains(r#"display dialog "a \"b\" \\" default answer"#),
            "{}",
            args[1]
        );
    }
}
