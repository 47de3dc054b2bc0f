//! `vault exec` as a process: exit codes, signals, the default command, and what leaks.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::moto;

fn sandbox() -> Sandbox {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[default]\nregion = eu-west-1\n[profile user]\n");
    t.add("user", "AKIAEXECTEST00000001", "exec-long-term-secret");
    t
}

#[test]
fn exit_codes_pass_through() {
    let t = sandbox();
    for code in [0, 1, 7] {
        t.vault(["exec", "user", "--", "sh", "-c", &format!("exit {code}")])
            .status(code)
            .run();
    }
    // Killed by SIGINT: a shell sees 130.
    let vault = env!("CARGO_BIN_EXE_vault");
    t.program("sh")
        .args([
            "-c",
            &format!("'{vault}' exec user -- sh -c 'kill -INT $$'; echo \"status $?\""),
        ])
        .stdout("status 130\n")
        .run();
}

#[test]
fn sigterm_reaches_the_command() {
    let t = sandbox();
    let child = t
        .vault([
            "exec",
            "user",
            "--",
            "sh",
            "-c",
            "trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done",
        ])
        .status(42)
        .stdout("ready\n")
        .start();
    let pid = child.id();
    // Wait until the command runs (vault has become it, or started it) and has its trap.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        if cmdline.starts_with(b"sh\0") || !children.trim().is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "the command never started");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    child.finish();
}

#[test]
fn the_command_defaults_to_the_shell() {
    let t = sandbox();
    let script = t.home().join("fake-shell");
    std::fs::write(&script, "#!/bin/sh\necho \"fake shell for $AWS_VAULT\"\n").unwrap();
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&script)
        .status()
        .unwrap();
    t.vault(["exec", "user"])
        .env("SHELL", &script)
        .stdout("fake shell for user\n")
        .run();
}

#[test]
fn a_missing_command_is_a_clear_error() {
    let t = sandbox();
    t.vault(["exec", "user", "--", "no-such-command-xyz"])
        .status(1)
        .stderr("vault: error: cannot run \"no-such-command-xyz\": command not found in PATH\n")
        .run();
}

#[test]
fn no_secret_reaches_argv_debug_output_or_a_plain_file() {
    let t = sandbox();
    let dump = t.home().join("cmdlines");
    // While the command runs, every process's argv is written down.
    let script = format!(
        "for f in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < \"$f\"; echo; done > '{}' 2>/dev/null; env",
        dump.display()
    );
    let done = t
        .vault(["--debug", "exec", "user", "--", "sh", "-c", &script])
        .stderr_debug_only()
        .run();
    let env: std::collections::BTreeMap<&str, &str> = done
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    let session_secret = env["AWS_SECRET_ACCESS_KEY"].to_owned();
    let session_token = env["AWS_SESSION_TOKEN"].to_owned();
    let argv = std::fs::read_to_string(&dump).unwrap();
    assert!(argv.contains("/proc/"), "the argv dump is empty");
    for secret in ["exec-long-term-secret", &session_secret, &session_token] {
        assert!(!argv.contains(secret), "a secret is in some process's argv");
        assert!(
            !done.stderr.contains(secret),
            "a secret is in the --debug output"
        );
        for (path, bytes) in t.files() {
            assert!(
                !String::from_utf8_lossy(&bytes).contains(secret),
                "{} holds a secret",
                path.display()
            );
        }
    }
    assert!(done.stderr.contains("vault: debug: "));
}
