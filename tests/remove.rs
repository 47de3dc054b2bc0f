//! `vault remove` / `rm`: confirmation, suggestions, sessions-only.

use crate::add::b64;
use crate::support::{PASSPHRASE, Sandbox};

#[test]
fn remove_with_force_deletes_only_the_keys() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    let session = format!("sts.GetSessionToken,{},,4102444800", b64("dev"));
    t.jose_encrypt(&t.keys_dir().join(&session), PASSPHRASE, "{}");
    t.vault(["rm", "dev", "-f"])
        .stdout("Deleted credentials.\n")
        .run();
    assert!(!t.keys_dir().join("dev").exists());
    assert!(
        t.keys_dir().join(&session).exists(),
        "sessions are kept, as aws-vault keeps them"
    );
}

#[test]
fn remove_asks_on_the_terminal_and_only_yes_deletes() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    for answer in ["n", "", "nope"] {
        t.vault(["remove", "dev"])
            .on_terminal(&[(
                "Delete credentials for profile \"dev\"? (y|N) ",
                &format!("{answer}\n"),
            )])
            .stdout(&format!(
                "Delete credentials for profile \"dev\"? (y|N) {answer}\r\n\
                 vault: warning: nothing was deleted\r\n"
            ))
            .run();
        assert!(t.keys_dir().join("dev").exists());
    }
    t.vault(["remove", "dev"])
        .on_terminal(&[("Delete credentials for profile \"dev\"? (y|N) ", "YES\n")])
        .stdout("Delete credentials for profile \"dev\"? (y|N) YES\r\nDeleted credentials.\r\n")
        .run();
    assert!(!t.keys_dir().join("dev").exists());
}

#[test]
fn remove_without_a_terminal_or_force_refuses_and_keeps_the_keys() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    t.vault(["remove", "dev"])
        .status(1)
        .stderr_like(
            "vault: error: cannot ask for Delete credentials for profile \"dev\"?: there is no \
             terminal to ask on ([..]); pass --force to remove without asking\n",
        )
        .run();
    assert!(t.keys_dir().join("dev").exists());
}

#[test]
fn an_unknown_profile_gets_close_names_suggested() {
    let t = Sandbox::new();
    t.add("prod", "AKIAPROD", "s").add("dev", "AKIADEV", "s");
    t.vault(["remove", "prd", "-f"])
        .status(1)
        .stderr("vault: error: no credentials are stored for profile 'prd'; did you mean 'prod'?\n")
        .run();
    t.vault(["remove", "zzz", "-f"])
        .status(1)
        .stderr(
            "vault: error: no credentials are stored for profile 'zzz'; run `vault list \
             --credentials` to see what is stored\n",
        )
        .run();
}

#[test]
fn sessions_only_deletes_that_profiles_sessions() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    for profile in ["dev", "dev", "prod"] {
        let key = format!(
            "sts.AssumeRole,{},,{}",
            b64(profile),
            4_102_444_800 + t.files().len()
        );
        t.jose_encrypt(&t.keys_dir().join(key), PASSPHRASE, "{}");
    }
    t.vault(["remove", "dev", "--sessions-only"])
        .stdout("Deleted 2 sessions.\n")
        .run();
    // What is left is prod's session, which has no profile row.
    let listing = t.vault(["list", "--json"]).run().stdout;
    let rows: serde_json::Value = serde_json::from_str(&listing).unwrap();
    assert_eq!(rows[1]["sessions"][0]["profile"], "prod", "{listing}");
    assert_eq!(rows.as_array().unwrap().len(), 2);
    assert!(t.keys_dir().join("dev").exists());
}

#[test]
fn a_damaged_key_file_can_be_removed() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    std::fs::write(t.keys_dir().join("dev"), "garbage").unwrap();
    t.vault(["rm", "-f", "dev"]).run();
    assert!(!t.keys_dir().join("dev").exists());
}
