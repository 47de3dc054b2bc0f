//! `vault rotate` against moto with request authentication on, so a deleted key is really
//! refused: after a rotation, and after a kill -9 at any step, the stored key works.

use crate::support::moto::{self, AuthMoto};
use crate::support::small_disk::SmallDisk;
use crate::support::{Sandbox, exported_keys};

const ROTATE_ACTIONS: &[&str] = &["iam:CreateAccessKey", "iam:DeleteAccessKey"];

/// A sandbox whose profile `rot` holds the keys of a fresh IAM user: (sandbox, user, key).
fn sandbox(
    auth: &AuthMoto,
    allowed: &[&str],
    denied: &[&str],
) -> (Sandbox, String, (String, String)) {
    let (user, id, secret) = auth.create_user("rot", allowed, denied);
    let t = Sandbox::new().with_endpoint(auth.moto.endpoint());
    t.write_config("[profile rot]\nregion = us-east-1\n[profile role]\nsource_profile = rot\nrole_arn = arn:aws:iam::123456789012:role/r\n");
    t.add("rot", &id, &secret);
    (t, user, (id, secret))
}

/// The keys the keystore holds for `rot`.
#[track_caller]
fn stored(t: &Sandbox) -> (String, String) {
    exported_keys(
        &t.vault(["export", "rot", "--no-session", "--format", "json"])
            .run(),
    )
}

fn as_pair(keys: &(String, String)) -> (&str, &str) {
    (keys.0.as_str(), keys.1.as_str())
}

#[test]
fn rotate_replaces_the_key_and_the_old_one_is_refused() {
    let auth = moto::authenticated();
    let (t, user, old) = sandbox(auth, ROTATE_ACTIONS, &[]);
    let masked_old = format!("****************{}", &old.0[old.0.len() - 4..]);
    // Through the role profile: the keys of its source profile are rotated.
    let done = t.vault(["rotate", "role"]).run();
    let new = stored(&t);
    let masked_new = format!("****************{}", &new.0[new.0.len() - 4..]);
    assert_eq!(
        done.stdout,
        format!(
            "Rotating credentials stored for profile 'rot' using master credentials (takes 10-20 seconds)\n\
             Creating a new access key\n\
             Created new access key {masked_new}\n\
             Deleting old access key {masked_old}\n\
             Deleted old access key {masked_old}\n\
             Finished rotating access key\n"
        )
    );
    assert_ne!(new.0, old.0);
    assert!(auth.accepts(as_pair(&new)), "the new key does not work");
    assert!(!auth.accepts(as_pair(&old)), "the old key still works");
    assert_eq!(auth.access_keys(&user), std::slice::from_ref(&new.0));
    // Neither key appears whole in what rotate printed.
    assert!(!done.stdout.contains(&old.0) && !done.stdout.contains(&new.0));
    assert!(!done.stdout.contains(&new.1) && !done.stderr.contains(&new.1));
}

/// Where rotate is killed (from outside: the binary has no switch for it), and whether the old
/// key is still the stored one afterwards.
enum Kill {
    /// The test proxy kills vault at the `nth` call of `action`, before or after it reaches IAM.
    OnCall(&'static str, usize, bool),
    /// strace kills vault as it renames the new key file into place.
    AtStore,
}

/// Runs rotate under strace, killed at its first, second… rename until the rename it is killed
/// at is the one that puts the new key file in place (earlier ones write cached sessions). A
/// fresh user each time: a killed rotation leaves a second key in IAM, its limit.
fn killed_at_the_rename_of_the_key_file(
    auth: &AuthMoto,
) -> (Sandbox, (String, String), std::process::Output) {
    for nth in 1..=6 {
        let (t, _user, old) = sandbox(auth, ROTATE_ACTIONS, &[]);
        let log = t.home().join("strace.log");
        let renames = "rename,renameat,renameat2";
        let output = t
            .command("strace")
            .args(["-f", "-qq", "-o"])
            .arg(&log)
            .args(["-e", &format!("trace={renames}"), "-e"])
            .arg(format!("inject={renames}:signal=KILL:when={nth}"))
            .arg(env!("CARGO_BIN_EXE_vault"))
            .args(["rotate", "rot"])
            .output()
            .expect("strace runs (apt-get install strace)");
        let traced = std::fs::read_to_string(&log).unwrap_or_default();
        let key_file = format!("\"{}\"", t.keys_dir().join("rot").display());
        let last = traced
            .lines()
            .rfind(|l| l.contains("rename"))
            .unwrap_or_default();
        if last.contains(&key_file) {
            return (t, old, output);
        }
    }
    panic!("rotate never renamed the key file into place under strace");
}

#[test]
fn a_kill_at_any_step_leaves_a_working_key_stored() {
    use crate::support::proxy::{Mode, Proxy};
    let auth = moto::authenticated();
    for (step, kill, old_kept) in [
        (
            "IAM created the new key",
            Kill::OnCall("CreateAccessKey", 1, true),
            true,
        ),
        (
            "STS checked the new key",
            Kill::OnCall("GetCallerIdentity", 2, true),
            true,
        ),
        ("storing the new key", Kill::AtStore, true),
        (
            "about to delete the old key",
            Kill::OnCall("DeleteAccessKey", 1, false),
            false,
        ),
        (
            "IAM deleted the old key",
            Kill::OnCall("DeleteAccessKey", 1, true),
            false,
        ),
    ] {
        let (t, old, done) = match kill {
            Kill::OnCall(action, nth, after_forwarding) => {
                let (t, _user, old) = sandbox(auth, ROTATE_ACTIONS, &[]);
                let proxy = Proxy::start(Mode::KillOn {
                    action,
                    nth,
                    after_forwarding,
                    port: auth.moto.port,
                });
                let child = t
                    .vault(["rotate", "rot"])
                    .env("AWS_ENDPOINT_URL", proxy.endpoint())
                    .spawn();
                proxy.kill_on_call(child.id());
                (t, old, child.wait_with_output().unwrap())
            }
            Kill::AtStore => killed_at_the_rename_of_the_key_file(auth),
        };
        // Killed: no exit code of its own (strace reports the signal as 128 + 9).
        assert!(
            matches!(done.status.code(), None | Some(137)),
            "{step}: vault was not killed: {done:?}"
        );
        // Killed, it said nothing on the way (strace, with -qq, says nothing either).
        assert_eq!(String::from_utf8_lossy(&done.stderr), "", "{step}: stderr");
        let kept = stored(&t);
        assert!(
            auth.accepts(as_pair(&kept)),
            "after a kill when {step}, the stored key {} does not work",
            kept.0
        );
        assert_eq!(kept.0 == old.0, old_kept, "{step}: which key is stored");
    }
}

#[test]
fn a_denied_delete_keeps_the_new_key_and_names_the_stale_one() {
    let auth = moto::authenticated();
    let (t, user, old) = sandbox(auth, &["iam:CreateAccessKey"], &["iam:DeleteAccessKey"]);
    let masked_old = format!("****************{}", &old.0[old.0.len() - 4..]);
    t.vault(["rotate", "rot"])
        .status(1)
        .stderr(&format!(
            "vault: error: the new key is stored and works, but the old access key {masked_old} \
             could not be deleted (the request was refused (HTTP 403)); delete it by hand, for \
             example in the IAM console or with `aws iam delete-access-key --user-name {user} \
             --access-key-id <the key ending in {}>`\n",
            &old.0[old.0.len() - 4..]
        ))
        .output_lacks(&old.1)
        .run();
    let new = stored(&t);
    assert_ne!(new.0, old.0);
    assert!(auth.accepts(as_pair(&new)));
    assert_eq!(
        auth.access_keys(&user).len(),
        2,
        "the stale key is still in IAM"
    );
}

#[test]
fn rotate_onto_a_full_keystore_deletes_the_new_key_and_keeps_the_old() {
    let auth = moto::authenticated();
    let (t, user, old) = sandbox(auth, ROTATE_ACTIONS, &[]);
    let disk = SmallDisk::full_over(&t.keys_dir());
    let done = t
        .vault(["rotate", "rot"])
        .status(1)
        .stderr_like(
            "vault: error: the new access key ****************[..] could not be stored ([..]); \
             it was deleted again, and the old key is still stored and works\n",
        )
        .run();
    assert!(
        done.stdout.starts_with("Rotating credentials"),
        "{}",
        done.stdout
    );
    drop(disk);
    assert_eq!(auth.access_keys(&user), std::slice::from_ref(&old.0));
    assert!(auth.accepts(as_pair(&old)), "the old key no longer works");
}
