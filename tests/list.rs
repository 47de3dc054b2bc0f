//! `vault list` / `ls`: the table, the single-column forms, JSON, and damaged entries.

use crate::add::b64;
use crate::support::{PASSPHRASE, Sandbox};

#[test]
fn the_table_shows_profiles_credentials_and_sessions() {
    let t = Sandbox::new();
    t.write_config(
        "[default]\nregion = us-east-1\n[profile dev]\n[profile role]\nsource_profile = dev\n",
    );
    t.add("dev", "AKIADEV", "s")
        .add("orphan", "AKIAORPHAN", "s");
    // A session far in the future, so the time left is long and stable in its hours.
    let session = format!("sts.GetSessionToken,{},,4102444800", b64("dev"));
    t.jose_encrypt(&t.keys_dir().join(&session), PASSPHRASE, "{}");
    let done = t.vault(["ls"]).run();
    let lines: Vec<&str> = done.stdout.lines().collect();
    assert_eq!(lines.len(), 6, "{}", done.stdout);
    // Go's tabwriter pads every cell, the last column too, to its widest cell plus two.
    let sessions_width = lines[3].len() - 50;
    assert!(
        lines[3].starts_with(&format!("{:25}{:25}sts.GetSessionToken:", "dev", "dev")),
        "{}",
        lines[3]
    );
    assert!(lines[3].ends_with("s  "), "{:?}", lines[3]);
    let row =
        |cells: [&str; 3]| format!("{:25}{:25}{:sessions_width$}", cells[0], cells[1], cells[2]);
    assert_eq!(lines[0], row(["Profile", "Credentials", "Sessions"]));
    assert_eq!(lines[1], row(["=======", "===========", "========"]));
    assert_eq!(lines[2], row(["default", "-", "-"]));
    assert_eq!(lines[4], row(["role", "-", "-"]));
    assert_eq!(lines[5], row(["-", "orphan", "-"]));
}

#[test]
fn single_column_forms_print_one_name_per_line() {
    let t = Sandbox::new();
    t.write_config("[profile b]\n[profile a]\n");
    t.add("a", "AKIAA", "s");
    let session = format!("sts.AssumeRole,{},,4102444800", b64("b"));
    t.jose_encrypt(&t.keys_dir().join(&session), PASSPHRASE, "{}");
    t.vault(["list", "--profiles"]).stdout("b\na\n").run();
    t.vault(["list", "--credentials"]).stdout("a\n").run();
    let labels = t.vault(["list", "--sessions"]).run().stdout;
    assert!(
        labels.starts_with("sts.AssumeRole:") && labels.lines().count() == 1,
        "{labels}"
    );
}

#[test]
fn json_output_mirrors_the_table() {
    let t = Sandbox::new();
    t.write_config("[profile dev]\n");
    t.add("dev", "AKIADEV", "s").add("orphan", "AKIAO", "s");
    let done = t.vault(["list", "--json"]).run();
    let rows: serde_json::Value = serde_json::from_str(&done.stdout).expect("JSON");
    assert_eq!(
        rows,
        serde_json::json!([
            {"profile": "dev", "credentials": "dev", "sessions": []},
            {"profile": null, "credentials": "orphan", "sessions": []}
        ])
    );
    let names: serde_json::Value =
        serde_json::from_str(&t.vault(["list", "--credentials", "--json"]).run().stdout).unwrap();
    assert_eq!(names, serde_json::json!(["dev", "orphan"]));
}

#[test]
fn a_damaged_key_file_is_named_and_the_other_items_still_list() {
    let t = Sandbox::new();
    t.add("good", "AKIAGOOD", "s").add("cut", "AKIACUT", "s");
    let cut = t.keys_dir().join("cut");
    let text = std::fs::read_to_string(&cut).unwrap();
    std::fs::write(&cut, &text[..text.len() / 2]).unwrap();
    std::fs::write(t.keys_dir().join("garbage"), b"\x00\xffnot a jwe").unwrap();
    let garbage = t.keys_dir().join("garbage");
    t.vault(["list", "--credentials"])
        .stdout("cut\ngarbage\ngood\n")
        .stderr_like(&format!(
            "vault: warning: {cut} cannot be read ([..]); `vault remove cut` deletes it\n\
             vault: warning: {garbage} cannot be read ({garbage} is damaged (it is not text); \
             remove it with `vault remove` and add the key again, or restore it from a backup); \
             `vault remove garbage` deletes it\n",
            cut = cut.display(),
            garbage = garbage.display(),
        ))
        .run();
    // The damaged files do not stop a write that checks the passphrase against the others.
    t.add("new", "AKIANEW", "s");
}

#[test]
fn listing_needs_no_passphrase() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    t.vault(["list"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .stdout_has("dev")
        .run();
}

#[test]
fn sso_tokens_are_labelled_by_session_name_or_host_and_clear_removes_a_profiles_token() {
    let t = Sandbox::new();
    t.write_config(
        "[profile sso]\nsso_session = corp\nsso_account_id = 1\nsso_role_name = r\n\
         [profile inline]\nsso_start_url = https://inline.example.com/start\n\
         [sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n",
    );
    for url in [
        "https://corp.awsapps.com/start",
        "https://inline.example.com/start",
    ] {
        std::fs::create_dir_all(t.keys_dir()).unwrap();
        let name = format!("oidc:{}", url.replace('/', "%2F"));
        t.jose_encrypt(&t.keys_dir().join(name), PASSPHRASE, "{}");
    }
    t.vault(["list", "--sessions"])
        .stdout("oidc:corp\noidc:inline.example.com\n")
        .run();
    let table = t.vault(["list"]).run().stdout;
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("sso ") && l.contains("oidc:corp")),
        "{table}"
    );
    // aws-vault's `clear PROFILE` never found the token; vault resolves it through sso-session.
    t.vault(["clear", "sso"])
        .stdout("Cleared 1 sessions.\n")
        .run();
    t.vault(["list", "--sessions"])
        .stdout("oidc:inline.example.com\n")
        .run();
    t.vault(["clear"]).stdout("Cleared 1 sessions.\n").run();
}
