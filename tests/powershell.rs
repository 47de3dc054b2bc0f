//! PowerShell cannot be installed on this machine, so its hook and every text vault emits for
//! it are checked by parsing with tree-sitter-powershell (no error nodes) and pinned by
//! snapshots in tests/snapshots/. Set UPDATE_SNAPSHOTS=1 to rewrite them after a deliberate change.

use std::path::Path;

use crate::support::Sandbox;

const VAULT: &str = env!("CARGO_BIN_EXE_vault");

fn assert_parses(what: &str, text: &str) {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .expect("the grammar loads");
    let tree = parser.parse(text, None).expect("tree-sitter parses");
    let root = tree.root_node();
    assert!(
        !root.has_error(),
        "{what} does not parse as PowerShell:\n{}\n{text}",
        root.to_sexp()
    );
    assert!(root.child_count() > 0, "{what} parsed to nothing");
}

fn assert_snapshot(name: &str, text: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::write(&path, text).unwrap();
    }
    let pinned = std::fs::read_to_string(&path)
        .unwrap_or_else(|_| panic!("{} is missing; run with UPDATE_SNAPSHOTS=1", path.display()));
    assert_eq!(
        text, pinned,
        "{name} changed; if that is intended, run with UPDATE_SNAPSHOTS=1"
    );
}

#[test]
fn a_broken_script_is_caught_by_the_parser() {
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    let tree = parser
        .parse("$env:X = 'unterminated\nfunction {", None)
        .unwrap();
    assert!(
        tree.root_node().has_error(),
        "the parser accepts anything: the checks below would prove nothing"
    );
}

#[test]
fn the_powershell_hook_parses_and_is_pinned() {
    let output = std::process::Command::new(VAULT)
        .args(["hook", "pwsh"])
        .env("XDG_RUNTIME_DIR", "/run/user/1000")
        .output()
        .unwrap();
    let hook = String::from_utf8(output.stdout).unwrap();
    assert_parses("the hook", &hook);
    assert_snapshot(
        "hook.ps1",
        &hook.replace(&format!("'{VAULT}'"), "'<vault>'"),
    );
}

#[test]
fn emitted_use_and_unuse_text_parses_even_with_hostile_values() {
    let t = Sandbox::new();
    let hostile = "it's $(Invoke-Expression 'x') `n \u{2019}; \"q\" @{} 日本";
    let json = serde_json::json!({
        "Version": 1, "AccessKeyId": "ASIAPWSH", "SecretAccessKey": hostile,
        "SessionToken": format!("{hostile}\nsecond line"), "Expiration": "2099-01-01T00:00:00Z",
    });
    let file = t.home().join("p.json");
    std::fs::write(&file, json.to_string()).unwrap();
    t.write_config(&format!(
        "[profile p]\nregion = eu-west-1\ncredential_process = cat {}\n",
        file.display()
    ));
    let run = |args: &[&str], state: Option<&str>| {
        let mut run = t
            .vault(args)
            .env("__VAULT_SHELL", "pwsh")
            .env("AWS_VAULT_REFRESH_WINDOW", "5m")
            .env("AWS_PROFILE", "mine");
        if let Some(state) = state {
            run = run.env("__VAULT_STATE", state);
        }
        run.run().success().stdout
    };
    let used = run(&["use", "p"], None);
    assert_parses("use", &used);
    assert!(used.contains("$env:AWS_SECRET_ACCESS_KEY = 'it''s $(Invoke-Expression ''x'') `n \u{2019}\u{2019}; \"q\" @{} 日本'"), "{used}");
    let pinned = used
        .lines()
        .filter(|l| !l.starts_with("$env:VAULT_CLOCK_BOOT"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    assert_snapshot("use.ps1", &pinned);
    let state = used
        .lines()
        .find_map(|l| l.strip_prefix("$env:__VAULT_STATE = '"))
        .and_then(|l| l.strip_suffix('\''))
        .expect("use sets the state");
    let unused = run(&["unuse"], Some(state));
    assert_parses("unuse", &unused);
    assert_snapshot("unuse.ps1", &unused);
}
