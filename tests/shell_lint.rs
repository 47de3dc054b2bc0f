//! Every shell script vault ships passes its linters: the files in `shell/`, and the text that
//! `vault hook` and `vault completion` render from them (paths filled in, clap_complete's zsh
//! part joined). See issue 13.
//!
//! - bash: `shellcheck --enable=all` and `shfmt -d`, laid out by `shell/.editorconfig`.
//! - zsh: `zsh -n` only. ShellCheck has no zsh dialect, and shfmt (3.x) cannot parse zsh: it
//!   stops at `${+functions[compdef]}` and `${1[i]}`.
//! - fish: `fish --no-execute` and `fish_indent --check`.
//! - PowerShell is parsed with tree-sitter in `powershell.rs`.
//!
//! A missing tool skips its checks with the reason printed; under `CI=true` it fails instead.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, PoisonError};

use crate::support::Sandbox;

const VAULT: &str = env!("CARGO_BIN_EXE_vault");

/// The checks for one dialect, each a command that reads the script from stdin.
fn checks(dialect: &str) -> &'static [&'static [&'static str]] {
    match dialect {
        "bash" => &[
            &["shellcheck", "--enable=all", "--shell=bash", "-"],
            &["shfmt", "-d"],
        ],
        "zsh" => &[&["zsh", "-n"]],
        "fish" => &[&["fish", "--no-execute"], &["fish_indent", "--check"]],
        other => panic!("no checks for {other}"),
    }
}

/// `tool` must run, checked once per test run: .ci/run installs every one, and a missing one
/// fails the test.
fn require(tool: &'static str) {
    static CHECKED: Mutex<BTreeMap<&str, bool>> = Mutex::new(BTreeMap::new());
    let package = if tool == "fish_indent" { "fish" } else { tool };
    let runs = *CHECKED
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .entry(tool)
        .or_insert_with(|| Command::new(tool).arg("--version").output().is_ok());
    assert!(
        runs,
        "{tool} does not run; install it: apt-get install {package}"
    );
}

/// Runs `check` on `script`, which it reads from stdin; shfmt is told the script is
/// `shell/NAME`, so it lays it out by shell/.editorconfig.
fn run(check: &[&str], name: &str, script: &[u8]) -> std::process::Output {
    let mut command = Command::new(check[0]);
    command.args(&check[1..]);
    if check[0] == "shfmt" {
        command
            .args(["--filename", &format!("shell/{name}")])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
    }
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", check[0]));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script)
        .expect("the linter reads the script");
    child.wait_with_output().expect("the linter runs")
}

/// Runs every check of `dialect` on `script` (`name` in messages) and asserts that
/// each succeeds and says nothing: no finding, no diff, no syntax error.
#[track_caller]
fn lint(dialect: &str, name: &str, script: &[u8]) {
    for check in checks(dialect) {
        require(check[0]);
        let out = run(check, name, script);
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.status.success() && said.is_empty(),
            "`{}` on {name}: {}\n{said}",
            check.join(" "),
            out.status
        );
    }
}

/// The dialect of a file in shell/, from its extension; `None` for what is checked elsewhere.
fn dialect(path: &Path) -> Option<&'static str> {
    match path.extension().and_then(|e| e.to_str()) {
        Some("bash") => Some("bash"),
        Some("zsh") => Some("zsh"),
        Some("fish") => Some("fish"),
        // PowerShell: powershell.rs.
        Some("ps1") => None,
        _ => match path.file_name().and_then(|n| n.to_str()) {
            Some(".gitattributes" | ".editorconfig") => None,
            _ => panic!("{} is in shell/ but no test lints it", path.display()),
        },
    }
}

#[test]
fn every_script_in_the_shell_folder_passes_its_linters() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("shell");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("shell/ is there")
        .map(|entry| entry.expect("shell/ lists").path())
        .collect();
    files.sort();
    let mut linted = 0;
    for path in &files {
        let Some(dialect) = dialect(path) else {
            continue;
        };
        let text = std::fs::read(path).unwrap();
        let header = match dialect {
            "bash" => "# shellcheck shell=bash\n",
            _ => "# vault: ",
        };
        assert!(
            text.starts_with(header.as_bytes()),
            "{} must open with {header:?}",
            path.display()
        );
        lint(dialect, &path.file_name().unwrap().to_string_lossy(), &text);
        linted += 1;
    }
    assert!(linted >= 6, "only {linted} scripts found in shell/");
}

/// What `vault ARGS` prints, run from `exe` in `t`.
fn rendered(t: &Sandbox, exe: &Path, args: &[&str]) -> Vec<u8> {
    let mut command = t.command(exe.to_str().expect("a UTF-8 path"));
    let out = command.args(args).output().expect("vault runs");
    assert!(
        out.status.success(),
        "vault {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[test]
fn every_rendered_hook_and_completion_passes_its_linters() {
    // The binary where it was built (a path that needs no quotes), and a copy in a directory
    // whose name needs them, so both forms of the filled-in path are linted.
    let t = Sandbox::new();
    let dir = t.home().join("it's a dir");
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("vault");
    if std::fs::hard_link(VAULT, &copy).is_err() {
        std::fs::copy(VAULT, &copy).unwrap();
    }
    for (exe, path) in [(Path::new(VAULT), "plain"), (copy.as_path(), "quoted")] {
        for shell in ["bash", "zsh", "fish"] {
            for what in ["hook", "completion"] {
                let text = rendered(&t, exe, &[what, shell]);
                lint(shell, &format!("{what}-{path}.{shell}"), &text);
            }
        }
    }
}

#[test]
fn the_linters_report_what_they_are_there_to_catch() {
    // Each check must fail on a script with a fault of its kind; else the tests above prove
    // nothing.
    let faults: [(&str, &str, &str); 5] = [
        ("shellcheck", "bash", "# shellcheck shell=bash\necho $1\n"),
        (
            "shfmt",
            "bash",
            "# shellcheck shell=bash\nf() {\n\techo \"$1\"\n}\n",
        ),
        ("zsh", "zsh", "if true; then\n"),
        ("fish", "fish", "if true\n"),
        ("fish_indent", "fish", "function f\necho\nend\n"),
    ];
    for (tool, dialect, script) in faults {
        require(tool);
        let check = checks(dialect)
            .iter()
            .find(|c| c[0] == tool)
            .expect("a check of that tool");
        let out = run(check, "fault.bash", script.as_bytes());
        assert!(
            !out.status.success(),
            "{tool} accepted a faulty {dialect} script:\n{script}"
        );
    }
}
