//! Shell integration: one emitter per shell family (POSIX for bash and zsh, fish, PowerShell)
//! that quotes, sets and unsets, and the hook scripts from the top-level `shell/` folder.
//!
//! Everything emitted here is eval'd by a shell, and values come from the config file and from
//! STS: quoting is a security boundary. Every value goes out in the shell's most literal quote
//! form, so it comes back byte for byte and never runs.

mod fish;
mod posix;
mod pwsh;
pub(crate) mod state;

use std::path::Path;

use clap::ValueEnum;

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
    pub(crate) fn rc_line(self) -> &'static str {
        match self {
            Self::Bash => "eval \"$(vault hook bash)\"   # in ~/.bashrc",
            Self::Zsh => "eval \"$(vault hook zsh)\"   # in ~/.zshrc",
            Self::Fish => "vault hook fish | source   # in ~/.config/fish/config.fish",
            Self::Pwsh => "Invoke-Expression (& vault hook pwsh | Out-String)   # in $PROFILE",
        }
    }

    pub(crate) fn emitter(self) -> &'static dyn Emitter {
        match self {
            Self::Bash | Self::Zsh => &posix::Posix,
            Self::Fish => &fish::Fish,
            Self::Pwsh => &pwsh::Pwsh,
        }
    }
}

/// Writes shell statements. Each returns one complete line, newline included.
pub(crate) trait Emitter {
    fn set(&self, name: &str, value: &str) -> String;
    fn unset(&self, name: &str) -> String;
}

const HOOK_BASH: &str = include_str!("../../shell/hook.bash");
const HOOK_ZSH: &str = include_str!("../../shell/hook.zsh");
const HOOK_FISH: &str = include_str!("../../shell/hook.fish");
const HOOK_PWSH: &str = include_str!("../../shell/hook.ps1");

/// The placeholder the hook scripts carry for the quoted absolute path of the binary.
const EXE_PLACEHOLDER: &str = "__VAULT_EXE_QUOTED__";

/// The hook for `kind`, calling the binary at `exe`.
pub(crate) fn hook(kind: ShellKind, exe: &Path) -> String {
    let template = match kind {
        ShellKind::Bash => HOOK_BASH,
        ShellKind::Zsh => HOOK_ZSH,
        ShellKind::Fish => HOOK_FISH,
        ShellKind::Pwsh => HOOK_PWSH,
    };
    let exe = exe.to_string_lossy();
    let quoted = match kind {
        ShellKind::Bash | ShellKind::Zsh => posix::quote(&exe),
        ShellKind::Fish => fish::quote(&exe),
        ShellKind::Pwsh => pwsh::quote(&exe),
    };
    template.replace(EXE_PLACEHOLDER, &quoted)
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
    fn rendering_leaves_no_placeholder_behind() {
        for kind in ShellKind::value_variants() {
            let text = hook(*kind, Path::new("/opt/it's here/vault"));
            assert!(!text.contains(EXE_PLACEHOLDER), "{kind:?}");
            assert!(text.contains("it"), "{kind:?}");
        }
    }
}
