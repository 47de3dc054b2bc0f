//! The hook and tab completion. doctor is a child of the shell and sees only its exported
//! variables, and the hook exports nothing: its `vault` function tells `vault doctor`, for that
//! one run, the shell (`__VAULT_SHELL`, the marker `use` relies on too), the version that wrote
//! the hook (`__VAULT_HOOK_VERSION`) and whether completion is registered
//! (`__VAULT_COMPLETION`: `registered`, `missing`, or in zsh `no-compinit`). So "the hook is
//! loaded" means exactly what `vault use` needs, and a child shell started without the hook is
//! not taken for one that has it.

use super::Finding;
use crate::ctx::Env;
use crate::shell::ShellKind;

const SHELL_VAR: &str = "__VAULT_SHELL";
const VERSION_VAR: &str = "__VAULT_HOOK_VERSION";
const COMPLETION_VAR: &str = "__VAULT_COMPLETION";

pub(super) fn check(env: &Env) -> Vec<Finding> {
    let Some(shell) = env.non_empty(SHELL_VAR).and_then(ShellKind::from_name) else {
        let shell = env
            .non_empty("SHELL")
            .and_then(ShellKind::from_name)
            .unwrap_or(ShellKind::Bash);
        let (line, file) = rc_line(shell);
        return vec![Finding::problem(
            "hook",
            "the vault hook is not loaded in this shell, so `vault use` cannot work here",
            format!("add `{line}` to {file} and open a new shell"),
        )];
    };
    let (line, file) = rc_line(shell);
    let ours = env!("CARGO_PKG_VERSION");
    let mut findings = Vec::new();
    match env.non_empty(VERSION_VAR) {
        Some(version) if version == ours => findings.push(Finding::ok(
            "hook",
            format!(
                "the {} hook of vault {ours} is loaded in this shell",
                shell.value_name()
            ),
        )),
        hook => {
            let from = hook.map_or_else(
                || "an older vault".to_owned(),
                |version| format!("vault {version}"),
            );
            findings.push(Finding::problem(
                "hook",
                format!("the hook in this shell is from {from}, but this binary is vault {ours}"),
                format!("open a new shell, or run `{line}` in this one"),
            ));
            // An older hook does not report its completion.
            return findings;
        }
    }
    findings.push(completion(
        shell,
        env.non_empty(COMPLETION_VAR),
        &line,
        file,
    ));
    findings
}

fn completion(shell: ShellKind, state: Option<&str>, line: &str, file: &str) -> Finding {
    match state {
        Some("registered") => Finding::ok(
            "completion",
            "tab completion of vault is registered in this shell",
        ),
        Some("no-compinit") => Finding::problem(
            "completion",
            "zsh's completion system is not started (compinit has not run), so vault's tab completion is not registered",
            "add `autoload -Uz compinit && compinit` to ~/.zshrc and open a new shell",
        ),
        _ => Finding::problem(
            "completion",
            format!(
                "tab completion of vault is not registered in this {} shell: something after the hook removed or replaced it",
                shell.value_name()
            ),
            format!("move `{line}` to the end of {file} and open a new shell"),
        ),
    }
}

/// The startup-file line and the file it goes in.
fn rc_line(shell: ShellKind) -> (String, &'static str) {
    let full = shell.rc_line();
    match full.split_once("   # in ") {
        Some((line, file)) => (line.to_owned(), file),
        None => (full.to_owned(), "your shell's startup file"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdicts(pairs: &[(&str, &str)]) -> Vec<(String, bool)> {
        check(&Env::from_pairs(pairs.iter().copied()))
            .into_iter()
            .map(|f| (f.check.to_owned(), f.ok))
            .collect()
    }

    #[test]
    fn without_the_hooks_marker_the_fix_is_the_line_for_the_users_shell() {
        let findings = check(&Env::from_pairs([("SHELL", "/usr/bin/zsh")]));
        assert_eq!(findings.len(), 1);
        assert_eq!(
            findings[0].fix.as_deref(),
            Some("add `eval \"$(vault hook zsh)\"` to ~/.zshrc and open a new shell")
        );
    }

    #[test]
    fn a_hook_from_another_version_is_a_problem() {
        let version = env!("CARGO_PKG_VERSION");
        assert_eq!(
            verdicts(&[
                (SHELL_VAR, "bash"),
                (VERSION_VAR, version),
                (COMPLETION_VAR, "registered")
            ]),
            [("hook".to_owned(), true), ("completion".to_owned(), true)]
        );
        assert_eq!(
            verdicts(&[(SHELL_VAR, "bash"), (VERSION_VAR, "0.0.1")]),
            [("hook".to_owned(), false)]
        );
    }

    #[test]
    fn zsh_without_compinit_is_told_to_start_it() {
        let findings = check(&Env::from_pairs([
            (SHELL_VAR, "zsh"),
            (VERSION_VAR, env!("CARGO_PKG_VERSION")),
            (COMPLETION_VAR, "no-compinit"),
        ]));
        assert!(
            findings[1]
                .fix
                .as_deref()
                .is_some_and(|fix| fix.contains("compinit")),
            "{findings:?}"
        );
    }
}
