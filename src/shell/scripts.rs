//! The scripts in the top-level `shell/` folder, embedded, and the one `render` that fills
//! their placeholders: the hooks (`vault hook SHELL`) and the tab-completion registrations
//! (`vault completion SHELL`), which the hooks include. Shell code lives in those files, where
//! shellcheck, shfmt, `zsh -n` and fish check it (tests/shell_lint.rs); this module only fills
//! in paths and joins the pieces.

use std::path::{Path, PathBuf};

use super::{ShellKind, fish, posix, pwsh};

const HOOK_BASH: &str = include_str!("../../shell/hook.bash");
const HOOK_ZSH: &str = include_str!("../../shell/hook.zsh");
const HOOK_FISH: &str = include_str!("../../shell/hook.fish");
const HOOK_PWSH: &str = include_str!("../../shell/hook.ps1");
const COMPLETE_BASH: &str = include_str!("../../shell/complete.bash");
const COMPLETE_ZSH: &str = include_str!("../../shell/complete.zsh");
const COMPLETE_FISH: &str = include_str!("../../shell/complete.fish");

/// The placeholders the scripts in `shell/` carry: the absolute path of the binary, the
/// directory of background-refresh outcomes, the command that answers completion requests and
/// the version of the binary, each as one word of the shell's (see [`word`]), and the
/// tab-completion registration.
const EXE_PLACEHOLDER: &str = "__VAULT_EXE_QUOTED__";
const STATUS_DIR_PLACEHOLDER: &str = "__VAULT_STATUS_DIR_QUOTED__";
const COMPLETER_PLACEHOLDER: &str = "__VAULT_COMPLETER_QUOTED__";
const COMPLETION_PLACEHOLDER: &str = "__VAULT_COMPLETION__";
/// The version of the binary that wrote the hook, which the hook hands to `vault doctor`.
const VERSION_PLACEHOLDER: &str = "__VAULT_VERSION_QUOTED__";

/// clap_complete's zsh registration ends with this line; `shell/complete.zsh` takes its place.
const CLAP_ZSH_COMPDEF: &str = "compdef _clap_dynamic_completer_vault vault";

/// `template` with each placeholder replaced by its value, in one pass: a value that happens to
/// contain a placeholder's name (a path can hold anything) is written as it is.
fn render(template: &str, fills: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some((at, placeholder, value)) = fills
        .iter()
        .filter_map(|&(placeholder, value)| Some((rest.find(placeholder)?, placeholder, value)))
        .min_by_key(|&(at, ..)| at)
    {
        out.push_str(&rest[..at]);
        out.push_str(value);
        rest = &rest[at + placeholder.len()..];
    }
    out.push_str(rest);
    out
}

/// `value` as one word of `kind`'s: as it is when no character in it means anything to the
/// shell (so `fish_indent`, which unquotes such a word, leaves the script as it is), else in the
/// shell's most literal quote form. PowerShell always quotes: a bare word would be a command.
fn word(kind: ShellKind, value: &str) -> String {
    let plain =
        |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '+' | ',' | ':');
    let bare = !value.is_empty() && !value.starts_with('-') && value.chars().all(plain);
    match kind {
        ShellKind::Bash | ShellKind::Zsh | ShellKind::Fish if bare => value.to_owned(),
        ShellKind::Bash | ShellKind::Zsh => posix::quote(value),
        ShellKind::Fish => fish::quote(value),
        ShellKind::Pwsh => pwsh::quote(value),
    }
}

/// The variable that turns a run of the binary into a completion request.
pub(crate) const COMPLETE_VAR: &str = "VAULT_COMPLETE";

/// clap_complete's own registration for `kind`, running `completer` for candidates.
fn clap_registration(kind: ShellKind, completer: &str) -> String {
    let name = match kind {
        ShellKind::Pwsh => "powershell",
        other => other.value_name(),
    };
    let mut script = Vec::new();
    if let Some(shell) = clap_complete::env::Shells::builtins().completer(name) {
        // Writing to a Vec cannot fail.
        let _ = shell.write_registration(COMPLETE_VAR, "vault", "vault", completer, &mut script);
    }
    String::from_utf8_lossy(&script).into_owned()
}

/// The tab-completion registration for `kind`, running `completer` for candidates. bash and
/// fish come whole from `shell/`, whose functions speak clap_complete's protocol themselves, so
/// that all of it passes the linters; zsh is clap_complete's with `shell/complete.zsh` in place
/// of its `compdef` line, and PowerShell is clap_complete's as it is.
pub(crate) fn completion(kind: ShellKind, completer: &str) -> String {
    match kind {
        ShellKind::Bash => render(
            COMPLETE_BASH,
            &[(COMPLETER_PLACEHOLDER, &word(kind, completer))],
        ),
        ShellKind::Fish => render(
            COMPLETE_FISH,
            &[(COMPLETER_PLACEHOLDER, &word(kind, completer))],
        ),
        ShellKind::Zsh => {
            clap_registration(kind, completer).replace(CLAP_ZSH_COMPDEF, COMPLETE_ZSH.trim_end())
        }
        ShellKind::Pwsh => clap_registration(kind, completer),
    }
}

/// Where `refresh --background` leaves its outcome for the hook of each shell (one file per
/// shell, named by its process id, with no secret in it): private to the user, and cleared at
/// logout where `XDG_RUNTIME_DIR` is set.
pub(crate) fn status_dir(env: &crate::ctx::Env) -> PathBuf {
    env.runtime_dir().map_or_else(
        || PathBuf::from(format!("/tmp/vault-{}/refresh", nix::unistd::getuid())),
        |dir| dir.join("refresh"),
    )
}

/// The hook for `kind`, calling the binary at `exe`. Its completion registration runs `vault`
/// itself, so the hook's function serves it (passing the request on to the binary).
pub(crate) fn hook(kind: ShellKind, exe: &Path, status_dir: &Path) -> String {
    let template = match kind {
        ShellKind::Bash => HOOK_BASH,
        ShellKind::Zsh => HOOK_ZSH,
        ShellKind::Fish => HOOK_FISH,
        ShellKind::Pwsh => HOOK_PWSH,
    };
    let registration = completion(kind, "vault");
    render(
        template,
        &[
            (EXE_PLACEHOLDER, &word(kind, &exe.to_string_lossy())),
            (
                STATUS_DIR_PLACEHOLDER,
                &word(kind, &status_dir.to_string_lossy()),
            ),
            (COMPLETION_PLACEHOLDER, registration.trim()),
            (VERSION_PLACEHOLDER, &word(kind, env!("CARGO_PKG_VERSION"))),
        ],
    )
}

#[cfg(test)]
mod tests {
    use clap::ValueEnum;

    use super::*;

    const PLACEHOLDERS: [&str; 5] = [
        EXE_PLACEHOLDER,
        STATUS_DIR_PLACEHOLDER,
        COMPLETER_PLACEHOLDER,
        COMPLETION_PLACEHOLDER,
        VERSION_PLACEHOLDER,
    ];

    #[test]
    fn rendering_leaves_no_placeholder_behind() {
        for kind in ShellKind::value_variants() {
            let text = hook(
                *kind,
                Path::new("/opt/it's here/vault"),
                Path::new("/run/v"),
            );
            for placeholder in PLACEHOLDERS {
                assert!(!text.contains(placeholder), "{kind:?}: {placeholder}");
            }
            assert!(text.contains("it"), "{kind:?}");
            assert!(text.contains(completion(*kind, "vault").trim()), "{kind:?}");
            let registration = completion(*kind, "my vault");
            for placeholder in PLACEHOLDERS {
                assert!(
                    !registration.contains(placeholder),
                    "{kind:?}: {placeholder}"
                );
            }
        }
    }

    #[test]
    fn a_path_holding_a_placeholder_name_is_written_as_it_is() {
        let text = render(
            "exe=__VAULT_EXE_QUOTED__ dir=__VAULT_STATUS_DIR_QUOTED__\n",
            &[
                (EXE_PLACEHOLDER, "/x/__VAULT_STATUS_DIR_QUOTED__"),
                (STATUS_DIR_PLACEHOLDER, "/run"),
            ],
        );
        assert_eq!(text, "exe=/x/__VAULT_STATUS_DIR_QUOTED__ dir=/run\n");
    }

    #[test]
    fn plain_words_stay_bare_and_the_rest_is_quoted() {
        assert_eq!(word(ShellKind::Bash, "/usr/bin/vault"), "/usr/bin/vault");
        assert_eq!(word(ShellKind::Fish, "vault"), "vault");
        assert_eq!(word(ShellKind::Zsh, "/a b/vault"), "'/a b/vault'");
        assert_eq!(word(ShellKind::Fish, "/it's/vault"), r"'/it\'s/vault'");
        assert_eq!(word(ShellKind::Bash, "~/vault"), "'~/vault'");
        assert_eq!(word(ShellKind::Bash, "-x"), "'-x'");
        assert_eq!(word(ShellKind::Bash, ""), "''");
        assert_eq!(word(ShellKind::Pwsh, "vault"), "'vault'");
    }

    /// The bash and fish files speak clap_complete's protocol themselves: if an upgrade of
    /// clap_complete changes what its own registration passes, these fail.
    #[test]
    fn the_bash_and_fish_completions_speak_clap_completes_protocol() {
        let clap = clap_registration(ShellKind::Bash, "vault");
        let ours = completion(ShellKind::Bash, "vault");
        let passed: Vec<&str> = clap
            .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .filter(|w| w.starts_with("_CLAP_"))
            .collect();
        assert!(passed.len() >= 4, "{clap}");
        for name in passed {
            assert!(
                ours.contains(&format!("{name}=")),
                "bash does not pass {name}"
            );
        }
        assert!(clap.contains(r#"VAULT_COMPLETE="bash""#) && ours.contains("VAULT_COMPLETE=bash"));
        assert!(clap.contains(r"local IFS=$'\013'") && ours.contains(r"__vault_sep=$'\v'"));

        let clap = clap_registration(ShellKind::Fish, "vault");
        let ours = completion(ShellKind::Fish, "vault");
        let asks = "VAULT_COMPLETE=fish vault -- (commandline --current-process --tokenize --cut-at-cursor) (commandline --current-token)";
        assert!(clap.contains(asks), "{clap}");
        assert!(ours.contains(asks), "{ours}");
        assert!(
            clap.contains("complete --keep-order --exclusive --command vault ")
                && ours.contains("complete --keep-order --exclusive --command vault ")
        );
    }

    #[test]
    fn the_zsh_completion_replaces_clap_completes_compdef_line() {
        let text = completion(ShellKind::Zsh, "vault");
        assert!(text.starts_with("#compdef vault\n"), "{text}");
        assert!(!text.contains(CLAP_ZSH_COMPDEF), "{text}");
        assert!(
            text.ends_with("\ncompdef __vault_complete vault\n"),
            "{text}"
        );
        assert!(text.contains("function _clap_dynamic_completer_vault()"));
    }
}
