//! Cached roles: every AssumeRole result is kept in the keystore under aws-vault's key scheme
//! (type `sts.AssumeRole`, the MFA field empty) and reused until `AWS_MIN_TTL`, keyed by all
//! that shapes it. Calls are counted at the test proxy in front of moto.

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};

const CONFIG: &str = "[default]\nregion = us-east-1\n\
[profile alice]\n\
[profile admin]\nsource_profile = alice\nrole_arn = arn:aws:iam::123456789012:role/admin\n\
[profile named]\nsource_profile = alice\nrole_arn = arn:aws:iam::123456789012:role/admin\nrole_session_name = first\n";

/// A sandbox whose `alice` holds a fresh moto user's keys, with STS behind a counting proxy.
fn sandbox() -> (Sandbox, Proxy) {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("rolecache");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(CONFIG);
    t.add("alice", &id, &secret);
    (t, proxy)
}

fn role_sessions(t: &Sandbox) -> Vec<String> {
    t.vault(["list", "--sessions"])
        .run()
        .stdout
        .lines()
        .filter(|l| l.starts_with("sts.AssumeRole:"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn two_execs_of_a_role_make_one_assume_role_and_the_same_credentials() {
    let (t, proxy) = sandbox();
    let first = t.vault(["export", "admin"]).run();
    let second = t.vault(["export", "admin"]).run();
    assert_eq!(proxy.count("AssumeRole"), 1, "the role was not cached");
    assert_eq!(first.stdout, second.stdout);
    assert!(
        first.stdout.contains("AWS_SESSION_TOKEN="),
        "{}",
        first.stdout
    );
    t.vault(["exec", "admin", "--", "true"]).run();
    assert_eq!(proxy.count("AssumeRole"), 1);
    assert_eq!(role_sessions(&t).len(), 1);
    // aws-vault's key scheme: the type, the profile, and an empty MFA field.
    let keys: Vec<String> = std::fs::read_dir(t.keys_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let prefix = "sts.AssumeRole,YWRtaW4,,";
    assert!(
        keys.iter().any(|k| k.starts_with(prefix)),
        "no {prefix}… key among {keys:?}"
    );
}

#[test]
fn a_new_duration_or_session_name_makes_a_new_assume_role() {
    let (t, proxy) = sandbox();
    t.vault(["export", "admin"]).run();
    t.vault(["export", "admin", "--duration", "30m"]).run();
    assert_eq!(
        proxy.count("AssumeRole"),
        2,
        "a new duration reused the old role"
    );
    t.vault(["export", "admin", "--duration", "30m"]).run();
    assert_eq!(proxy.count("AssumeRole"), 2);

    t.vault(["export", "named"]).run();
    t.vault(["export", "named"]).run();
    assert_eq!(proxy.count("AssumeRole"), 3);
    t.write_config(&CONFIG.replace("role_session_name = first", "role_session_name = second"));
    t.vault(["export", "named"]).run();
    assert_eq!(
        proxy.count("AssumeRole"),
        4,
        "a new session name reused the old role"
    );
    let bodies = proxy.bodies("AssumeRole");
    assert!(
        bodies[3].contains("RoleSessionName=second"),
        "{}",
        bodies[3]
    );
}

#[test]
fn no_cache_and_its_variable_assume_the_role_every_time_as_aws_vault_does() {
    let (t, proxy) = sandbox();
    t.vault(["exec", "--no-cache", "admin", "--", "true"]).run();
    t.vault(["exec", "--no-cache", "admin", "--", "true"]).run();
    assert_eq!(proxy.count("AssumeRole"), 2);
    t.vault(["export", "admin"])
        .env("AWS_VAULT_NO_ROLE_CACHE", "1")
        .run();
    assert_eq!(proxy.count("AssumeRole"), 3);
    assert!(
        role_sessions(&t).is_empty(),
        "--no-cache stored a role session"
    );
}

#[test]
fn clear_of_the_role_and_remove_of_its_source_empty_the_cache() {
    let (t, proxy) = sandbox();
    t.vault(["export", "admin"]).run();
    t.vault(["clear", "admin"])
        .stdout("Cleared 1 sessions.\n")
        .run();
    assert!(role_sessions(&t).is_empty());
    t.vault(["export", "admin"]).run();
    assert_eq!(proxy.count("AssumeRole"), 2, "clear left the role cached");

    t.vault(["remove", "--force", "alice"])
        .stdout("Deleted credentials.\n")
        .stderr("vault: also deleted 1 cached role sessions made with these keys\n")
        .run();
    assert!(role_sessions(&t).is_empty());
}

#[test]
fn rotate_of_the_source_deletes_the_roles_made_with_the_old_key() {
    let auth = moto::authenticated();
    let (_, id, secret) = auth.create_user(
        "rolerot",
        &[
            "iam:CreateAccessKey",
            "iam:DeleteAccessKey",
            "sts:AssumeRole",
        ],
        &[],
    );
    let t = Sandbox::new().with_endpoint(auth.moto.endpoint());
    t.write_config(CONFIG);
    t.add("alice", &id, &secret);
    t.vault(["export", "admin"]).run();
    assert_eq!(role_sessions(&t).len(), 1);
    t.vault(["rotate", "alice"])
        .stdout_has("Deleted 1 role sessions made with alice\n")
        .run();
    assert!(role_sessions(&t).is_empty());
}
