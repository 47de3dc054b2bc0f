//! `vault import`: long-term keys move from `~/.aws/credentials` into the keystore, the rest of
//! that file stays byte for byte, and a kill -9 at any point loses no key (issue 17).

use std::fs;
use std::path::PathBuf;

use crate::support::{Sandbox, exported_keys};

/// Three profiles with keys (`temp`'s are temporary) among comments and a section without keys.
const CREDENTIALS: &str = "\
# Keys the AWS CLI used before vault
[work]
region = eu-west-1
aws_access_key_id = AKIAIMPORTWORK0001
aws_secret_access_key = workSecret/aaaa+1111

; a session from a colleague's script
[temp]
aws_access_key_id = ASIAIMPORTTEMP0001
aws_secret_access_key = tempSecret/bbbb+2222
aws_session_token = tempToken/cccc

[tools]
output = json

[ops]
aws_access_key_id=AKIAIMPORTOPS00001
aws_secret_access_key=opsSecret/dddd+3333
";

/// `CREDENTIALS` once `work` and `ops` are imported: `[ops]` had nothing else and goes.
const AFTER: &str = "\
# Keys the AWS CLI used before vault
[work]
region = eu-west-1

; a session from a colleague's script
[temp]
aws_access_key_id = ASIAIMPORTTEMP0001
aws_secret_access_key = tempSecret/bbbb+2222
aws_session_token = tempToken/cccc

[tools]
output = json

";

const WORK: (&str, &str) = ("AKIAIMPORTWORK0001", "workSecret/aaaa+1111");
const OPS: (&str, &str) = ("AKIAIMPORTOPS00001", "opsSecret/dddd+3333");

const TEMP_REFUSED: &str = "vault: warning: profile temp was not imported: it has an aws_session_token, so its keys are temporary credentials, not long-term keys; they stay in the file\n";

fn credentials_path(t: &Sandbox) -> PathBuf {
    t.home().join(".aws/credentials")
}

fn read_credentials(t: &Sandbox) -> String {
    fs::read_to_string(credentials_path(t)).expect("credentials file")
}

/// A sandbox with `CREDENTIALS` and a config that has `work` but not `ops`.
fn sandbox_with(credentials: &str) -> Sandbox {
    let t = Sandbox::new();
    t.write_config("[profile work]\nregion = eu-west-1\n");
    fs::write(credentials_path(&t), credentials).expect("write credentials");
    t
}

/// The keys the keystore holds for `profile`, if any.
#[track_caller]
fn stored(t: &Sandbox, profile: &str) -> Option<(String, String)> {
    let names = t.vault(["list", "--credentials"]).run().stdout;
    names.lines().any(|name| name == profile).then(|| {
        exported_keys(
            &t.vault(["export", profile, "--no-session", "--format", "json"])
                .run(),
        )
    })
}

/// `keys` as `stored` gives them when it finds them.
fn owned((id, secret): (&str, &str)) -> (String, String) {
    (id.to_owned(), secret.to_owned())
}

#[test]
fn import_moves_long_term_keys_keeps_the_rest_of_the_file_and_refuses_a_session() {
    let t = sandbox_with(CREDENTIALS);
    let path = credentials_path(&t).display().to_string();
    t.vault(["import"])
        .status(1)
        .stdout(&format!(
            "Imported credentials of profile \"work\" into vault; removed them from {path}\n\
             Imported credentials of profile \"ops\" into vault; removed them from {path}\n"
        ))
        .stderr(&format!(
            "{TEMP_REFUSED}vault: error: profile temp was not imported (see the warning above)\n"
        ))
        .output_lacks(WORK.1)
        .output_lacks(OPS.1)
        .run();
    assert_eq!(read_credentials(&t), AFTER);
    assert_eq!(stored(&t, "work"), Some(owned(WORK)));
    assert_eq!(stored(&t, "ops"), Some(owned(OPS)));
    assert_eq!(stored(&t, "temp"), None);
    assert_eq!(
        t.read_config(),
        "[profile work]\nregion = eu-west-1\n\n[profile ops]\n"
    );
}

#[test]
fn dry_run_changes_nothing_and_says_what_would_happen() {
    let t = sandbox_with(CREDENTIALS);
    let before = t.files();
    let path = credentials_path(&t).display().to_string();
    let config = t.config_path().display().to_string();
    t.vault(["import", "--dry-run", "work", "ops"])
        .stdout(&format!(
            "Would import credentials of profile \"work\" into vault; would remove them from {path} (dry run)\n\
             Would import credentials of profile \"ops\" into vault; would add [profile ops] to {config}; would remove them from {path} (dry run)\n"
        ))
        .run();
    assert_eq!(t.files(), before);
}

#[test]
fn keep_leaves_the_file_byte_identical_and_a_later_import_takes_the_keys_out() {
    let t = sandbox_with(CREDENTIALS);
    let path = credentials_path(&t).display().to_string();
    t.vault(["import", "--keep", "ops"])
        .stdout(&format!(
            "Imported credentials of profile \"ops\" into vault; left them in {path} (--keep)\n"
        ))
        .run();
    assert_eq!(read_credentials(&t), CREDENTIALS);
    assert_eq!(stored(&t, "ops"), Some(owned(OPS)));
    t.vault(["import", "ops"])
        .stdout(&format!(
            "Credentials of profile \"ops\" are already in vault; removed them from {path}\n"
        ))
        .run();
    assert!(!read_credentials(&t).contains(OPS.1));
    assert!(read_credentials(&t).contains(WORK.1), "only ops was named");
}

#[test]
fn different_keys_already_stored_are_not_overwritten() {
    let t = sandbox_with(CREDENTIALS);
    t.add("work", "AKIAOTHERKEY000001", "otherSecret");
    let path = credentials_path(&t).display().to_string();
    t.vault(["import", "work"])
        .status(1)
        .stderr(&format!(
            "vault: warning: profile work was not imported: vault already holds different keys for it, and import replaces none (`vault add work` does); its keys stay in {path}\n\
             vault: error: profile work was not imported (see the warning above)\n"
        ))
        .run();
    assert_eq!(
        stored(&t, "work"),
        Some(owned(("AKIAOTHERKEY000001", "otherSecret")))
    );
    assert_eq!(read_credentials(&t), CREDENTIALS);
}

#[test]
fn a_name_the_file_does_not_have_stops_before_anything_changes() {
    let t = sandbox_with(CREDENTIALS);
    let before = t.files();
    t.vault(["import", "ops", "wrok"])
        .status(1)
        .stderr(&format!(
            "vault: error: {} has no [wrok] section; nothing was imported (it has: work, temp, tools, ops)\n",
            credentials_path(&t).display()
        ))
        .run();
    assert_eq!(t.files(), before);
}

#[test]
fn a_profile_only_in_the_credentials_file_gets_the_import_command_in_the_error() {
    let t = Sandbox::new();
    fs::write(
        credentials_path(&t),
        "[solo]\naws_access_key_id = AKIASOLO\naws_secret_access_key = soloSecret\n",
    )
    .unwrap();
    let expected = format!(
        "vault: error: profile solo: its keys are not in vault but in plain text in {}; move them into the keystore with `vault import solo`\n",
        credentials_path(&t).display()
    );
    // Not in the config at all, then in it with no keys stored (a region alone).
    t.vault(["exec", "solo", "--", "true"])
        .status(1)
        .stderr(&expected)
        .run();
    t.write_config("[profile solo]\nregion = us-east-1\n");
    t.vault(["exec", "solo", "--", "true"])
        .status(1)
        .stderr(&expected)
        .run();
    t.vault(["rotate", "solo"])
        .status(1)
        .stderr(&expected)
        .run();
    // Once imported, the hint is gone with the keys.
    t.vault(["import"]).stdout_has("\"solo\"").run();
    assert_eq!(stored(&t, "solo"), Some(owned(("AKIASOLO", "soloSecret"))));
}

/// Where strace kills vault: at the nth call of one of these system calls, for every nth
/// (every `step`th) until a run gets through.
const KILL_POINTS: &[(&str, usize)] = &[
    // The commit points: each key file, the config, the credentials file.
    ("rename,renameat,renameat2", 1),
    // Every write: temp files, key files, stdout.
    ("write,pwrite64,writev", 1),
    // Every third file opened (the first are the loader's).
    ("openat", 3),
];

/// For the kill test, `temp` has long-term keys too: three keys to lose.
const KILL_BEFORE: &str = "\
# keys
[work]
region = eu-west-1
aws_access_key_id = AKIAIMPORTWORK0001
aws_secret_access_key = workSecret/aaaa+1111

[temp]
aws_access_key_id = ASIAIMPORTTEMP0001
aws_secret_access_key = tempSecret/bbbb+2222

[ops]
aws_access_key_id=AKIAIMPORTOPS00001
aws_secret_access_key=opsSecret/dddd+3333
";

const KILL_AFTER: &str = "\
# keys
[work]
region = eu-west-1


";

#[test]
fn a_kill_at_any_point_loses_no_key_and_a_rerun_finishes_the_job() {
    let profiles = [
        ("work", WORK),
        ("temp", ("ASIAIMPORTTEMP0001", "tempSecret/bbbb+2222")),
        ("ops", OPS),
    ];
    let vault = env!("CARGO_BIN_EXE_vault");
    for (syscalls, step) in KILL_POINTS {
        let mut finished = false;
        for nth in (1..=400).step_by(*step) {
            let t = sandbox_with(KILL_BEFORE);
            let inject = format!("inject={syscalls}:signal=KILL:when={nth}");
            let done = t
                .program("strace")
                .args([
                    "-f",
                    "-qq",
                    "-o",
                    "/dev/null",
                    "-e",
                    &inject,
                    vault,
                    "import",
                ])
                .status_any("killed at some call, or at none once nth is past the last")
                .run();
            let at = format!("killed at {syscalls} call {nth}");
            // The file is rewritten in one rename: it is whole, before or after.
            let text = read_credentials(&t);
            assert!(
                text == KILL_BEFORE || text == KILL_AFTER,
                "{at}: the credentials file is neither the old nor the new one:\n{text}"
            );
            for (name, keys) in profiles {
                assert!(
                    text.contains(keys.1) || stored(&t, name) == Some(owned(keys)),
                    "{at}: the keys of {name} are in neither the file nor the keystore"
                );
            }
            if done.code == Some(0) {
                assert!(nth > 1, "strace never killed vault at {syscalls}");
                finished = true;
                break;
            }
            let rerun = t.vault(["import"]);
            let rerun = if text == KILL_AFTER {
                rerun.stderr(&format!(
                    "{} holds no long-term keys; there is nothing to import.\n",
                    credentials_path(&t).display()
                ))
            } else {
                rerun
            };
            rerun.run();
            assert_eq!(read_credentials(&t), KILL_AFTER, "{at}: after a rerun");
            for (name, keys) in profiles {
                assert_eq!(stored(&t, name), Some(owned(keys)), "{at}: after a rerun");
            }
            assert_eq!(
                t.read_config(),
                "[profile work]\nregion = eu-west-1\n\n[profile temp]\n\n[profile ops]\n",
                "{at}: after a rerun"
            );
        }
        assert!(finished, "vault never got past its {syscalls} calls");
    }
}
