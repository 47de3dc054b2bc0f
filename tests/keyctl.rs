//! The keyctl backend in the real kernel keyring. Each vault runs in its own fresh session
//! keyring (`keyctl session -`), as separate logins would, so a key seen by a second process
//! came through the user keyring.
//!
//! The user keyring is shared by every process of this uid on the machine, so each test uses
//! key names of its own and removes them, even when it fails.

use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::{Run, Sandbox};

const SESSION: [&str; 5] = [
    "session",
    "-",
    env!("CARGO_BIN_EXE_vault"),
    "--backend",
    "keyctl",
];

/// `keyctl session - vault --backend keyctl ARGS`: keyctl names the keyring it joined on
/// stderr, and vault must say nothing more there unless the test says so.
fn in_new_session(t: &Sandbox, args: &[&str]) -> Run {
    t.program("keyctl")
        .args(SESSION)
        .args(args)
        .stderr_like("Joined session keyring: [..]\n")
}

/// The output of a keyctl command of the test's own, which must succeed quietly.
#[track_caller]
fn stdout(output: &Output) -> String {
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Removes the test's key from the kernel whatever happens (and asserts nothing, since it
/// also runs while a failed test unwinds).
struct Cleanup<'a>(&'a Sandbox, &'a str);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command("keyctl")
            .args(SESSION)
            .args(["remove", "-f", self.1])
            .output();
    }
}

#[test]
fn add_list_and_remove_in_the_kernel_keyring_seen_by_a_second_process() {
    let t = Sandbox::new();
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    let profile = format!("keyctl-test-{}-{nanos}", std::process::id());
    let _cleanup = Cleanup(&t, &profile);

    in_new_session(&t, &["add", &profile, "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAKEYCTLTEST000001")
        .env("AWS_SECRET_ACCESS_KEY", "keyctl-secret")
        .stdout(&format!(
            "Added credentials to profile \"{profile}\" in vault\n"
        ))
        .run();
    // Another process, in another session keyring.
    let listed = in_new_session(&t, &["list", "--credentials"]).run().stdout;
    assert!(listed.lines().any(|l| l == profile), "{listed}");
    let exported = in_new_session(
        &t,
        &["export", &profile, "--no-session", "--format", "json"],
    )
    .run()
    .stdout;
    assert!(exported.contains("\"AKIAKEYCTLTEST000001\""), "{exported}");
    assert!(exported.contains("\"keyctl-secret\""), "{exported}");

    // aws-vault's layout: a user key named after the profile, in the keyring `aws-vault`
    // linked from the user keyring, holding the credentials JSON.
    let ring = t
        .command("keyctl")
        .args(["search", "@u", "keyring", "aws-vault"])
        .output()
        .unwrap();
    let ring = stdout(&ring).trim().to_owned();
    let key = t
        .command("keyctl")
        .args(["search", &ring, "user", &profile])
        .output()
        .unwrap();
    let key = stdout(&key).trim().to_owned();
    let payload = stdout(&t.command("keyctl").args(["pipe", &key]).output().unwrap());
    let data: serde_json::Value = serde_json::from_str(&payload).expect("credentials JSON");
    assert_eq!(data["AccessKeyID"], "AKIAKEYCTLTEST000001");

    in_new_session(&t, &["remove", "-f", &profile])
        .stdout("Deleted credentials.\n")
        .run();
    let listed = in_new_session(&t, &["list", "--credentials"]).run().stdout;
    assert!(!listed.lines().any(|l| l == profile), "{listed}");
}

#[test]
fn an_unknown_scope_is_a_clear_error() {
    let t = Sandbox::new();
    t.vault(["list", "--backend", "keyctl", "--keyctl-scope", "galaxy"])
        .status(1)
        .stderr(
            "vault: error: --keyctl-scope (AWS_VAULT_KEYCTL_SCOPE): unknown scope \"galaxy\"; \
             choose one of: user, usersession, session, process, thread\n",
        )
        .run();
}
