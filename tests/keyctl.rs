//! The keyctl backend in the real kernel keyring. Each vault runs in its own fresh session
//! keyring (`keyctl session -`), as separate logins would, so a key seen by a second process
//! came through the user keyring.
//!
//! The user keyring is shared by every process of this uid on the machine, so each test uses
//! key names of its own and removes them, even when it fails.

use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::Sandbox;

/// `keyctl session - vault --backend keyctl ARGS`.
fn in_new_session(t: &Sandbox, args: &[&str], env: &[(&str, &str)]) -> Output {
    t.command("keyctl")
        .args([
            "session",
            "-",
            env!("CARGO_BIN_EXE_vault"),
            "--backend",
            "keyctl",
        ])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("keyctl runs (apt install keyutils)")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Removes the test's key from the kernel whatever happens.
struct Cleanup<'a>(&'a Sandbox, &'a str);

impl Drop for Cleanup<'_> {
    fn drop(&mut self) {
        let _ = in_new_session(self.0, &["remove", "-f", self.1], &[]);
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

    stdout(&in_new_session(
        &t,
        &["add", &profile, "--env", "--no-add-config"],
        &[
            ("AWS_ACCESS_KEY_ID", "AKIAKEYCTLTEST000001"),
            ("AWS_SECRET_ACCESS_KEY", "keyctl-secret"),
        ],
    ));
    // Another process, in another session keyring.
    let listed = stdout(&in_new_session(&t, &["list", "--credentials"], &[]));
    assert!(listed.lines().any(|l| l == profile), "{listed}");
    let exported = stdout(&in_new_session(
        &t,
        &["export", &profile, "--no-session", "--format", "json"],
        &[],
    ));
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

    stdout(&in_new_session(&t, &["remove", "-f", &profile], &[]));
    let listed = stdout(&in_new_session(&t, &["list", "--credentials"], &[]));
    assert!(!listed.lines().any(|l| l == profile), "{listed}");
}

#[test]
fn an_unknown_scope_is_a_clear_error() {
    let t = Sandbox::new();
    t.vault(["list", "--backend", "keyctl", "--keyctl-scope", "galaxy"])
        .run()
        .code(1)
        .stderr_has("unknown scope \"galaxy\"; choose one of: user, usersession, session");
}
