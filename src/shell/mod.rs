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

use std::path::{Path, PathBuf};

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
    fn value_name(self) -> &'static str {
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

const HOOK_BASH: &str = include_str!("../../shell/hook.bash");
const HOOK_ZSH: &str = include_str!("../../shell/hook.zsh");
const HOOK_FISH: &str = include_str!("../../shell/hook.fish");
const HOOK_PWSH: &str = include_str!("../../shell/hook.ps1");

/// The variable that turns a run of the binary into a completion request.
pub(crate) const COMPLETE_VAR: &str = "VAULT_COMPLETE";

/// The tab-completion registration for `kind`, running `completer` for candidates.
pub(crate) fn completion(kind: ShellKind, completer: &str) -> String {
    let name = match kind {
        ShellKind::Pwsh => "powershell",
        other => other.value_name(),
    };
    let mut script = Vec::new();
    if let Some(shell) = clap_complete::env::Shells::builtins().completer(name) {
        // Writing to a Vec cannot fail.
        let _ = shell.write_registration(COMPLETE_VAR, "vault", "vault", completer, &mut script);
    }
    let mut script = String::from_utf8_lossy(&script).into_owned();
    // After `--` (`vault exec p -- CMD ARGS`), the words are another command's: the shell's own
    // command and file completion takes over, as with aws-vault.
    match kind {
        // bash inserts a candidate as it is: quote each, or a profile name with a space or a
        // quote would break the command line (zsh and fish quote by themselves).
        ShellKind::Bash => script.push_str(BASH_QUOTING),
        ShellKind::Zsh => {
            script = script.replace(
                "compdef _clap_dynamic_completer_vault vault",
                &format!("{ZSH_AFTER_DASHES}compdef __vault_complete vault"),
            );
        }
        ShellKind::Fish => {
            script = script.replace(
                "complete --keep-order --exclusive --command vault --arguments",
                "complete --keep-order --exclusive --command vault --condition 'not __vault_after_dashes' --arguments",
            );
            script.push_str(FISH_AFTER_DASHES);
        }
        ShellKind::Pwsh => {}
    }
    script
}

const ZSH_AFTER_DASHES: &str = r"function __vault_complete() {
    local __vault_i
    for (( __vault_i = 2; __vault_i < CURRENT; __vault_i++ )); do
        if [[ ${words[__vault_i]} == -- ]]; then
            shift $__vault_i words
            (( CURRENT -= __vault_i ))
            _normal
            return
        fi
    done
    _clap_dynamic_completer_vault
}
";

const FISH_AFTER_DASHES: &str = r"function __vault_after_dashes
    contains -- -- (commandline --current-process --tokenize --cut-at-cursor)
end
function __vault_complete_command
    set -l __vault_words (commandline --current-process --tokenize --cut-at-cursor)
    set -l __vault_at (contains --index -- -- $__vault_words)
    set -l __vault_rest (string escape -- $__vault_words[(math $__vault_at + 1)..-1])
    complete --do-complete (string join ' ' -- $__vault_rest (commandline --current-token))
end
complete --command vault --condition __vault_after_dashes --no-files --arguments '(__vault_complete_command)'
";

const BASH_QUOTING: &str = r#"
__vault_complete_quoted() {
    # No globbing of candidates (a profile named * would become file names), and no stderr
    # on the command line.
    local -
    set -f
    local __vault_i
    for ((__vault_i = 1; __vault_i < COMP_CWORD; __vault_i++)); do
        if [[ ${COMP_WORDS[__vault_i]} == -- ]]; then
            __vault_complete_command $((__vault_i + 1))
            return 0
        fi
    done
    # bash splits words at = and : (COMP_WORDBREAKS): join the pieces typed without a space
    # between them, so vault sees `--region=eu-` whole, then answer for bash's last piece.
    local __vault_line=${COMP_LINE:0:COMP_POINT} __vault_pos=0 __vault_end=-1 __vault_i __vault_w
    local -a __vault_words=()
    local __vault_cword=0
    for __vault_i in "${!COMP_WORDS[@]}"; do
        __vault_w=${COMP_WORDS[__vault_i]}
        local __vault_rest=${__vault_line:__vault_pos}
        local __vault_before=${__vault_rest%%"$__vault_w"*}
        local __vault_start=$((__vault_pos + ${#__vault_before}))
        # An empty word is the one at the cursor.
        if [[ -z $__vault_w ]]; then __vault_start=${#__vault_line}; fi
        if ((__vault_i > 0 && __vault_start == __vault_end && ${#__vault_words[@]} > 0)); then
            __vault_words[-1]+=$__vault_w
        else
            __vault_words+=("$__vault_w")
        fi
        __vault_end=$((__vault_start + ${#__vault_w}))
        __vault_pos=$__vault_end
        if ((__vault_i == COMP_CWORD)); then __vault_cword=$((${#__vault_words[@]} - 1)); fi
    done
    local __vault_joined=${__vault_words[__vault_cword]}
    local __vault_cut=$((${#__vault_joined} - ${#COMP_WORDS[COMP_CWORD]}))
    # vault is asked about the word as it will read: after an opening quote readline quotes the
    # answer itself; otherwise backslash escapes are undone here and redone below.
    local __vault_quoted=''
    case ${COMP_WORDS[COMP_CWORD]} in
        \'* | \"*)
            __vault_quoted=1
            __vault_joined=${__vault_joined:0:__vault_cut}${__vault_joined:__vault_cut+1}
            ;;
        *) __vault_joined=${__vault_joined//\\/} ;;
    esac
    local -a COMP_WORDS=("${__vault_words[@]}")
    local COMP_CWORD=$__vault_cword
    _clap_complete_vault "$1" "$__vault_joined" "${COMP_WORDS[COMP_CWORD-1]}" 2>/dev/null
    for __vault_i in "${!COMPREPLY[@]}"; do
        __vault_w=${COMPREPLY[__vault_i]}
        if ((__vault_cut > 0)) && [[ $__vault_w == "${__vault_joined:0:__vault_cut}"* ]]; then
            __vault_w=${__vault_w:__vault_cut}
        fi
        if [[ -n $__vault_quoted ]]; then
            COMPREPLY[__vault_i]=$__vault_w
        else
            printf -v 'COMPREPLY[__vault_i]' '%q' "$__vault_w"
        fi
    done
}
# The command after `--`: bash-completion's own hand-over where it is loaded, else commands
# for the first word and files after it.
__vault_complete_command() {
    if declare -F _command_offset >/dev/null; then
        _command_offset "$1"
        return 0
    fi
    local __vault_word=${COMP_WORDS[COMP_CWORD]} __vault_line
    COMPREPLY=()
    set +f
    if ((COMP_CWORD == $1)); then
        while IFS= read -r __vault_line; do COMPREPLY+=("$__vault_line"); done < <(compgen -c -- "$__vault_word")
    else
        compopt -o filenames 2>/dev/null
        while IFS= read -r __vault_line; do COMPREPLY+=("$__vault_line"); done < <(compgen -f -- "$__vault_word")
    fi
}
complete -o nospace -o bashdefault -o nosort -F __vault_complete_quoted vault
"#;

/// The placeholders the hook scripts carry for the quoted absolute path of the binary and the
/// directory of background-refresh outcomes.
const EXE_PLACEHOLDER: &str = "__VAULT_EXE_QUOTED__";
const STATUS_DIR_PLACEHOLDER: &str = "__VAULT_STATUS_DIR_QUOTED__";

/// Where `refresh --background` leaves its outcome for the hook of each shell (one file per
/// shell, named by its process id, with no secret in it): private to the user, and cleared at
/// logout where `XDG_RUNTIME_DIR` is set.
pub(crate) fn status_dir(env: &crate::ctx::Env) -> PathBuf {
    env.runtime_dir().map_or_else(
        || PathBuf::from(format!("/tmp/vault-{}/refresh", nix::unistd::getuid())),
        |dir| dir.join("refresh"),
    )
}

/// The hook for `kind`, calling the binary at `exe`.
pub(crate) fn hook(kind: ShellKind, exe: &Path, status_dir: &Path) -> String {
    let template = match kind {
        ShellKind::Bash => HOOK_BASH,
        ShellKind::Zsh => HOOK_ZSH,
        ShellKind::Fish => HOOK_FISH,
        ShellKind::Pwsh => HOOK_PWSH,
    };
    let quote = |path: &Path| {
        let path = path.to_string_lossy();
        match kind {
            ShellKind::Bash | ShellKind::Zsh => posix::quote(&path),
            ShellKind::Fish => fish::quote(&path),
            ShellKind::Pwsh => pwsh::quote(&path),
        }
    };
    // The completer is `vault` itself, so the hook's function serves it (passing the request on
    // to the binary), and no path needs quoting in a script clap_complete writes.
    let registration = completion(kind, "vault");
    let registration = match kind {
        // Generated by clap_complete: its array assignment and $? test are deliberate.
        ShellKind::Bash => format!("# shellcheck disable=SC2207,SC2181\n{registration}"),
        // compdef exists only after compinit: register now if it is there, else at the first
        // prompt after it appears.
        ShellKind::Zsh => format!(
            "__vault_register_completion() {{\n  (( ${{+functions[compdef]}} )) || return 0\n{}\n  add-zsh-hook -d precmd __vault_register_completion\n}}\n\
             if (( ${{+functions[compdef]}} )); then\n  __vault_register_completion\nelse\n  add-zsh-hook precmd __vault_register_completion\nfi\n",
            registration.trim_end()
        ),
        _ => registration,
    };
    template
        .replace(EXE_PLACEHOLDER, &quote(exe))
        .replace(STATUS_DIR_PLACEHOLDER, &quote(status_dir))
        + "\n"
        + &registration
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

    #[test]
    fn rendering_leaves_no_placeholder_behind() {
        for kind in ShellKind::value_variants() {
            let text = hook(
                *kind,
                Path::new("/opt/it's here/vault"),
                Path::new("/run/v"),
            );
            assert!(!text.contains(EXE_PLACEHOLDER), "{kind:?}");
            assert!(!text.contains(STATUS_DIR_PLACEHOLDER), "{kind:?}");
            assert!(text.contains("it"), "{kind:?}");
        }
    }
}
