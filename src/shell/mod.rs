//! Shell integration: one emitter per shell family (POSIX for bash and zsh, fish, PowerShell)
//! that quotes, sets and unsets, and (in `scripts`) the hook and completion scripts from the
//! top-level `shell/` folder.
//!
//! Everything emitted here is eval'd by a shell, and values come from the config file and from
//! STS: quoting is a security boundary. Every value goes out in the shell's most literal quote
//! form, so it comes back byte for byte and never runs.

mod fish;
mod posix;
mod pwsh;
mod scripts;
pub(crate) mod state;

use clap::ValueEnum;
pub(crate) use scripts::{COMPLETE_VAR, completion, hook, status_dir};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ShellKind {
    Bash,
    Zsh,
    Fish,
    #[value(alias = "powershell")]
    Pwsh,
}

impl ShellKind {
    /// The shell named by a path or name such as `/bin/zsh`, `-bash` or `pwsh.exe`.
    pub(crate) fn from_name(name: &str) -> Option<Self> {
        let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
        let base = base.trim_start_matches('-').trim_end_matches(".exe");
        Self::from_str(base, true).ok()
    }

    /// The line to put in the shell's startup file.
    pub(crate) fn value_name(self) -> &'static str {
        match self {
            Self::Bash => "bash",
            Self::Zsh => "zsh",
            Self::Fish => "fish",
            Self::Pwsh => "pwsh",
        }
    }

    pub(crate) fn rc_line(self) -> &'static str {
        match self {
            Self::Bash => "eval \"$(vault hook bash)\"   # in ~/.bashrc",
            Self::Zsh => "eval \"$(vault hook zsh)\"   # in ~/.zshrc",
            Self::Fish => "vault hook fish | source   # in ~/.config/fish/config.fish",
            Self::Pwsh => "Invoke-Expression (& vault hook pwsh | Out-String)   # in $PROFILE",
        }
    }

    fn emitter(self) -> &'static dyn Emitter {
        match self {
            Self::Bash | Self::Zsh => &posix::Posix,
            Self::Fish => &fish::Fish,
            Self::Pwsh => &pwsh::Pwsh,
        }
    }
}

/// Writes shell statements. Each returns one complete line, newline included. Only [`Script`]
/// calls these, after it has checked that the shell can hold the value.
trait Emitter {
    fn set(&self, name: &str, value: &str) -> String;
    fn unset(&self, name: &str) -> String;
}

/// The longest value vault puts into an environment. Linux refuses an environment string over
/// 128 KiB (`MAX_ARG_STRLEN`): after such a `use`, every program the shell starts fails with
/// E2BIG, `vault unuse` included. Half of that leaves room for the name and the rest.
pub(crate) const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Why a value cannot go into an environment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unholdable {
    /// No environment variable can hold a NUL, and fish cuts each line of a command
    /// substitution at one, closing quote included: the rest would run as code.
    #[error("{name} holds a NUL byte, which no environment variable can hold")]
    Nul { name: String },
    #[error(
        "{name} is {bytes} bytes long; an environment variable over {max} bytes would make every program the shell starts fail",
        max = MAX_VALUE_BYTES
    )]
    TooLong { name: String, bytes: usize },
}

/// Whether an environment can hold `value` as `name`: the check `exec` and `export` make too.
pub(crate) fn check_value(name: &str, value: &str) -> Result<(), Unholdable> {
    if value.contains('\0') {
        return Err(Unholdable::Nul {
            name: name.to_owned(),
        });
    }
    if value.len() > MAX_VALUE_BYTES {
        return Err(Unholdable::TooLong {
            name: name.to_owned(),
            bytes: value.len(),
        });
    }
    Ok(())
}

/// Shell code for one shell, built a statement at a time; a value the shell cannot hold is
/// refused before anything is written, so a refusal prints nothing.
pub(crate) struct Script {
    emitter: &'static dyn Emitter,
    code: String,
}

impl Script {
    pub(crate) fn new(kind: ShellKind) -> Self {
        Self {
            emitter: kind.emitter(),
            code: String::new(),
        }
    }

    pub(crate) fn set(&mut self, name: &str, value: &str) -> Result<(), Unholdable> {
        check_value(name, value)?;
        self.code.push_str(&self.emitter.set(name, value));
        Ok(())
    }

    pub(crate) fn unset(&mut self, name: &str) {
        self.code.push_str(&self.emitter.unset(name));
    }

    /// `set` for `Some`, `unset` for `None`.
    pub(crate) fn assign(&mut self, name: &str, value: Option<&str>) -> Result<(), Unholdable> {
        if let Some(value) = value {
            self.set(name, value)
        } else {
            self.unset(name);
            Ok(())
        }
    }

    pub(crate) fn finish(self) -> String {
        self.code
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shells_are_known_by_name_and_path() {
        assert_eq!(ShellKind::from_name("/bin/zsh"), Some(ShellKind::Zsh));
        assert_eq!(ShellKind::from_name("-bash"), Some(ShellKind::Bash));
        assert_eq!(ShellKind::from_name("pwsh.exe"), Some(ShellKind::Pwsh));
        assert_eq!(ShellKind::from_name("powershell"), Some(ShellKind::Pwsh));
        assert_eq!(ShellKind::from_name("/usr/bin/fish"), Some(ShellKind::Fish));
        assert_eq!(ShellKind::from_name("tcsh"), None);
    }

    #[test]
    fn every_shell_refuses_a_nul_and_an_oversized_value_before_writing_anything() {
        for kind in ShellKind::value_variants() {
            let mut script = Script::new(*kind);
            script.set("AWS_REGION", "eu-west-1").expect("plain value");
            let before = script.code.clone();
            assert_eq!(
                script.set("AWS_SESSION_TOKEN", "tok\0'; touch /tmp/x; '"),
                Err(Unholdable::Nul {
                    name: "AWS_SESSION_TOKEN".into()
                }),
                "{kind:?}"
            );
            let big = "a".repeat(MAX_VALUE_BYTES + 1);
            assert!(
                matches!(script.set("AWS_SESSION_TOKEN", &big), Err(Unholdable::TooLong { bytes, .. }) if bytes == big.len()),
                "{kind:?}"
            );
            assert_eq!(script.finish(), before, "{kind:?}");
        }
        let at_limit = "a".repeat(MAX_VALUE_BYTES);
        assert!(check_value("X", &at_limit).is_ok());
    }
}
