//! The file keystore against an independent JOSE implementation, wrong passphrases, crashes
//! and concurrent writers.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;

use crate::support::{PASSPHRASE, Sandbox};

/// What aws-vault's file backend stores for long-term keys: the keyring Item JSON with the Go
/// `aws.Credentials` JSON base64-encoded in `Data`.
fn aws_vault_item(profile: &str, access_key_id: &str, secret: &str) -> String {
    let data = format!(
        r#"{{"AccessKeyID":"{access_key_id}","SecretAccessKey":"{secret}","SessionToken":"","Source":"","CanExpire":false,"Expires":"0001-01-01T00:00:00Z"}}"#
    );
    let data = base64::engine::general_purpose::STANDARD.encode(data);
    format!(
        r#"{{"Key":"{profile}","Data":"{data}","Label":"aws-vault ({profile})","Description":"","KeychainNotTrustApplication":true,"KeychainNotSynchronizable":false}}"#
    )
}

#[test]
fn a_key_file_written_by_jwcrypto_is_listed_used_and_removed() {
    let t = Sandbox::new();
    std::fs::create_dir_all(t.keys_dir()).unwrap();
    t.jose_encrypt(
        &t.keys_dir().join("legacy"),
        PASSPHRASE,
        &aws_vault_item("legacy", "AKIALEGACY", "legacy-secret"),
    );
    t.vault(["list", "--credentials"]).stdout("legacy\n").run();
    // vault reads the item jwcrypto wrote: the keys reach a command.
    t.vault([
        "exec",
        "legacy",
        "--no-session",
        "--",
        "sh",
        "-c",
        "echo $AWS_ACCESS_KEY_ID $AWS_SECRET_ACCESS_KEY",
    ])
    .stdout("AKIALEGACY legacy-secret\n")
    .run();
    // Writing checks the passphrase by decrypting an existing item: here, jwcrypto's.
    t.add("next", "AKIANEXT", "s");
    t.vault(["add", "third", "--env"])
        .env("AWS_VAULT_FILE_PASSPHRASE", "not the passphrase")
        .env("AWS_ACCESS_KEY_ID", "AKIA3")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(1)
        .stderr(&format!(
            "vault: error: the passphrase in AWS_VAULT_FILE_PASSPHRASE does not unlock the file \
             keystore {dir}: it cannot decrypt {dir}/legacy; set AWS_VAULT_FILE_PASSPHRASE to the \
             passphrase the keys were stored with\n",
            dir = t.keys_dir().display()
        ))
        .run();
    t.vault(["remove", "legacy", "-f"])
        .stdout("Deleted credentials.\n")
        .run();
    t.vault(["list", "--credentials"]).stdout("next\n").run();
}

#[test]
fn a_key_file_vault_writes_is_decrypted_by_jwcrypto_and_holds_aws_vaults_item() {
    let t = Sandbox::new();
    t.add(
        "dev",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    );
    let item: Value = serde_json::from_str(
        &t.jose_decrypt(&t.keys_dir().join("dev"), PASSPHRASE)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(item["Key"], "dev");
    assert_eq!(item["Label"], "aws-vault (dev)");
    assert_eq!(item["Description"], "");
    assert_eq!(item["KeychainNotTrustApplication"], true);
    let data = base64::engine::general_purpose::STANDARD
        .decode(item["Data"].as_str().unwrap())
        .unwrap();
    let data: Value = serde_json::from_slice(&data).unwrap();
    assert_eq!(data["AccessKeyID"], "AKIAIOSFODNN7EXAMPLE");
    assert_eq!(
        data["SecretAccessKey"],
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    assert_eq!(data["CanExpire"], false);
    // And the header carries aws-vault's parameters.
    let text = std::fs::read_to_string(t.keys_dir().join("dev")).unwrap();
    let header = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(text.split('.').next().unwrap())
        .unwrap();
    let header: Value = serde_json::from_slice(&header).unwrap();
    assert_eq!(
        (
            header["alg"].as_str(),
            header["enc"].as_str(),
            header["p2c"].as_u64()
        ),
        (Some("PBES2-HS256+A128KW"), Some("A256GCM"), Some(8192))
    );
    let salt = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header["p2s"].as_str().unwrap())
        .unwrap();
    assert_eq!(salt.len(), 12);
}

#[test]
fn key_file_names_are_percent_encoded_as_aws_vault_does() {
    let t = Sandbox::new();
    t.add("team/prod%1", "AKIA", "s");
    assert!(t.keys_dir().join("team%2Fprod%251").exists());
    t.vault(["list", "--credentials"])
        .stdout("team/prod%1\n")
        .run();
}

#[test]
fn a_wrong_passphrase_is_a_clear_error_and_nothing_is_written() {
    let t = Sandbox::new();
    t.write_config("[profile dev]\n");
    t.add("dev", "AKIADEV", "s");
    let before = t.files();
    let refused = format!(
        "vault: error: the passphrase in AWS_VAULT_FILE_PASSPHRASE does not unlock the file \
         keystore {}: it cannot decrypt {}; set AWS_VAULT_FILE_PASSPHRASE to the passphrase the \
         keys were stored with\n",
        t.keys_dir().display(),
        t.keys_dir().join("dev").display()
    );
    for profile in ["dev", "other"] {
        t.vault(["add", profile, "--env"])
            .env("AWS_VAULT_FILE_PASSPHRASE", "wrong")
            .env("AWS_ACCESS_KEY_ID", "AKIANEW")
            .env("AWS_SECRET_ACCESS_KEY", "new")
            .status(1)
            .stderr(&refused)
            .run();
    }
    assert_eq!(t.files(), before, "a failed add changed files under HOME");
}

#[test]
fn eight_concurrent_adds_to_different_profiles_all_land() {
    let t = Sandbox::new();
    t.write_config("[default]\nregion = us-east-1\n");
    let children: Vec<_> = (0..8)
        .map(|i| {
            t.vault(["add", &format!("p{i}"), "--env"])
                .env("AWS_ACCESS_KEY_ID", format!("AKIACONCURRENT{i:06}"))
                .env("AWS_SECRET_ACCESS_KEY", format!("secret-{i}"))
                .stdout(&format!("Added credentials to profile \"p{i}\" in vault\n"))
                .start()
        })
        .collect();
    for child in children {
        child.finish();
    }
    let expected = (0..8)
        .map(|i| format!("p{i}"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    t.vault(["list", "--credentials"]).stdout(&expected).run();
    for i in 0..8 {
        let item = t
            .jose_decrypt(&t.keys_dir().join(format!("p{i}")), PASSPHRASE)
            .unwrap();
        assert!(item.contains(&format!("\"Key\":\"p{i}\"")));
    }
    // Every profile got its section, none lost to a concurrent rewrite of the config.
    let config = t.read_config();
    for i in 0..8 {
        assert!(
            config.contains(&format!("[profile p{i}]")),
            "p{i} missing from:\n{config}"
        );
    }
}

#[test]
fn kill_9_during_add_leaves_the_old_or_the_new_value_never_a_broken_file() {
    let t = Sandbox::new();
    t.add("dev", "AKIAOLD", "old-secret");
    let path = t.keys_dir().join("dev");
    let mut outcomes = std::collections::BTreeSet::new();
    for round in 0..24u64 {
        let child = t
            .vault(["add", "dev", "--env", "--no-add-config"])
            .env("AWS_ACCESS_KEY_ID", format!("AKIANEW{round}"))
            .env("AWS_SECRET_ACCESS_KEY", "new-secret")
            .status_any("the kill races the add's own end")
            .start();
        // Spread the kills from before the write starts to after it ends (a run takes a few
        // milliseconds), so both kinds of outcome occur.
        std::thread::sleep(Duration::from_micros(round * 2000));
        let pid = child.id().to_string();
        let _ = std::process::Command::new("kill")
            .args(["-9", &pid])
            .status();
        child.finish();
        let item = t
            .jose_decrypt(&path, PASSPHRASE)
            .unwrap_or_else(|e| panic!("round {round}: broken file: {e}"));
        let data: Value = serde_json::from_str(&item).unwrap();
        let creds = base64::engine::general_purpose::STANDARD
            .decode(data["Data"].as_str().unwrap())
            .unwrap();
        let creds: Value = serde_json::from_slice(&creds).unwrap();
        let id = creds["AccessKeyID"].as_str().unwrap().to_owned();
        assert!(
            id == "AKIAOLD" || id.starts_with("AKIANEW"),
            "round {round}: {id}"
        );
        outcomes.insert(id == "AKIAOLD");
    }
    t.vault(["list", "--credentials"]).stdout("dev\n").run();
    assert!(
        outcomes.contains(&false) && outcomes.contains(&true),
        "every add finished, or none did: the kills did not land across the write ({outcomes:?})"
    );
}

#[test]
fn a_keystore_directory_others_can_write_or_own_is_refused_with_the_fix() {
    use std::os::unix::fs::PermissionsExt;
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    let dir = t.keys_dir();
    let shown = dir.display();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    t.vault(["list", "--credentials"])
        .status(1)
        .stderr(&format!(
            "vault: error: the file keystore cannot be used: its directory {shown} can be \
             written by other users (mode 777); run: chmod 700 {shown}\n"
        ))
        .run();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
    t.vault(["list", "--credentials"]).stdout("dev\n").run();
    std::os::unix::fs::chown(&dir, Some(65534), None).unwrap();
    t.vault(["export", "dev", "--no-session"])
        .status(1)
        .stderr(&format!(
            "vault: error: the file keystore cannot be used: its directory {shown} belongs to \
             uid 65534, not to you (uid 0); use a directory of your own (--file-dir or \
             AWS_VAULT_FILE_DIR)\n"
        ))
        .run();
    std::os::unix::fs::chown(&dir, Some(0), None).unwrap();
}
