//! The layer rules of CONTRIBUTING.md ("Rules that hold across layers"), checked on the source text: the domain layers (`creds`,
//! `config`, `keystore`, `shell`) never write to stdout or stderr (their callers in `cmd`
//! decide what the user sees) and never reach up into `cmd` or `cli`.

use std::path::{Path, PathBuf};

const DOMAIN_LAYERS: &[&str] = &["creds", "config", "keystore", "shell"];

/// What writing to the terminal's streams looks like in Rust source. A child process whose
/// stderr is `Stdio::inherit()` is not vault writing, so it is not listed.
const WRITES: &[&str] = &[
    "print!(",
    "println!(",
    "eprint!(",
    "eprintln!(",
    "dbg!(",
    "stdout()",
    "stderr()",
];

/// `cmd` and `cli` however they are reached: `crate::cmd`, `super::cli` from a layer's root,
/// `super::super::cmd`, or inside a grouped `use crate::{…}`.
const UPWARD_IMPORTS: &[&str] = &[
    "cmd::", "cli::", "{cmd", "{cli", " cmd,", " cli,", " cmd}", " cli}",
];

/// Questions go through the `Prompter` that `cmd` passes in `Services`; only the keystore's
/// passphrase prompt (`keystore/passphrase/`) reads the terminal itself.
const TERMINAL: &[&str] = &["tty::read"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable source dir")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `file:line: text` in the domain layers that contains one of `needles`, comments
/// left out.
fn offending_lines(needles: &[&str]) -> Vec<String> {
    offending_lines_in(DOMAIN_LAYERS, needles)
}

fn offending_lines_in(layers: &[&str], needles: &[&str]) -> Vec<String> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for layer in layers {
        rust_files(&src.join(layer), &mut files);
    }
    assert!(files.len() > 3, "the layers were not found: {files:?}");
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("readable source");
        for (number, line) in text.lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            if needles.iter().any(|needle| code.contains(needle)) {
                found.push(format!("{}:{}: {code}", file.display(), number + 1));
            }
        }
    }
    found
}

#[test]
fn the_domain_layers_write_nothing_to_stdout_or_stderr() {
    let found = offending_lines(WRITES);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_domain_layers_never_import_cmd_or_cli() {
    let found = offending_lines(UPWARD_IMPORTS);
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn only_the_keystore_passphrase_prompt_reads_the_terminal() {
    let mut found = offending_lines_in(&["creds", "config", "shell"], TERMINAL);
    found.extend(
        offending_lines_in(&["keystore"], TERMINAL)
            .into_iter()
            .filter(|line| !line.contains("keystore/passphrase/")),
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_checks_find_what_they_look_for() {
    // The scan itself must see a write and an import where there is one, or the two tests
    // above would pass on nothing.
    assert!(
        WRITES
            .iter()
            .any(|w| "let _ = writeln!(io::stderr(), \"x\");".contains(w))
    );
    for import in [
        "use crate::cmd::warn;",
        "use super::cli::GlobalArgs;",
        "use crate::{cli, config};",
        "use crate::{config, cmd};",
    ] {
        assert!(
            UPWARD_IMPORTS.iter().any(|i| import.contains(i)),
            "{import}"
        );
    }
    assert!(
        !offending_lines(TERMINAL).is_empty(),
        "the passphrase prompt reads the terminal"
    );
    assert!(!offending_lines(&["pub(crate)"]).is_empty());
}
