//! The pass backend with a real `pass`, gpg and a batch-generated key, in aws-vault's layout.

use std::path::PathBuf;
use std::process::Command;

use crate::support::{Run, Sandbox, aws_vault_item_json, exported_keys, output_of};

/// A password store with its own gpg home and key, removed with the sandbox.
struct PassStore<'a> {
    t: &'a Sandbox,
    gnupg: PathBuf,
    store: PathBuf,
}

impl<'a> PassStore<'a> {
    fn new(t: &'a Sandbox) -> Self {
        use std::os::unix::fs::DirBuilderExt;
        let gnupg = t.home().join(".gnupg");
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&gnupg)
            .unwrap();
        let store = t.home().join("password-store");
        let this = Self { t, gnupg, store };
        let params = "%no-protection\nKey-Type: EDDSA\nKey-Curve: ed25519\nSubkey-Type: ECDH\n\
                      Subkey-Curve: cv25519\nName-Real: Vault Test\n\
                      Name-Email: vault-test@example.invalid\nExpire-Date: 0\n%commit\n";
        this.run("gpg", &["--batch", "--gen-key"], Some(params));
        let keys = this.run("gpg", &["--list-secret-keys", "--with-colons"], None);
        let fingerprint = keys
            .lines()
            .find_map(|l| l.strip_prefix("fpr:"))
            .and_then(|rest| rest.split(':').find(|f| !f.is_empty()))
            .expect("the new key's fingerprint")
            .to_owned();
        this.run("pass", &["init", &fingerprint], None);
        this
    }

    fn command(&self, program: &str) -> Command {
        let mut command = self.t.command(program);
        command
            .env("GNUPGHOME", &self.gnupg)
            .env("PASSWORD_STORE_DIR", &self.store);
        command
    }

    fn run(&self, program: &str, args: &[&str], stdin: Option<&str>) -> String {
        let mut command = self.command(program);
        command.args(args);
        output_of(command, stdin.unwrap_or(""))
    }

    /// `vault ARGS` on this store, with aws-vault's usual prefix.
    fn vault(&self, args: &[&str]) -> Run {
        self.t
            .vault(args)
            .env("AWS_VAULT_BACKEND", "pass")
            .env("AWS_VAULT_PASS_PREFIX", "aws-vault")
            .env("AWS_VAULT_PASS_PASSWORD_STORE_DIR", &self.store)
            .env("GNUPGHOME", &self.gnupg)
    }
}

impl Drop for PassStore<'_> {
    fn drop(&mut self) {
        let _ = self
            .command("gpgconf")
            .args(["--kill", "gpg-agent"])
            .status();
    }
}

#[test]
fn entries_pass_holds_are_read_and_vault_writes_aws_vaults_layout() {
    let t = Sandbox::new();
    let store = PassStore::new(&t);
    // As aws-vault stores an entry.
    let legacy = aws_vault_item_json("legacy", "AKIAPASSLEGACY000001", "pass-legacy-secret");
    store.run("pass", &["insert", "-m", "aws-vault/legacy"], Some(&legacy));
    let done = store
        .vault(&["export", "legacy", "--no-session", "--format", "json"])
        .run();
    assert_eq!(
        exported_keys(&done),
        ("AKIAPASSLEGACY000001".into(), "pass-legacy-secret".into())
    );

    store
        .vault(&["add", "written", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAPASSWRITTEN00001")
        .env("AWS_SECRET_ACCESS_KEY", "pass-written-secret")
        .run();
    let shown = store.run("pass", &["show", "aws-vault/written"], None);
    let item: serde_json::Value = serde_json::from_str(&shown).expect("Item JSON");
    assert_eq!(item["Key"], "written");
    store
        .vault(&["list", "--credentials"])
        .stdout("legacy\nwritten\n")
        .run();

    store.vault(&["remove", "-f", "written"]).run();
    assert!(!store.store.join("aws-vault/written.gpg").exists());
    store
        .vault(&["list", "--credentials"])
        .stdout("legacy\n")
        .run();
}

#[test]
fn secrets_reach_pass_through_pipes_never_arguments() {
    use std::os::unix::fs::PermissionsExt;
    let t = Sandbox::new();
    let store = PassStore::new(&t);
    let log = t.home().join("pass-argv.log");
    let wrapper = t.home().join("recording-pass");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nexec pass \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    let canary = "pass-argv-canary-secret-value";
    store
        .vault(&["add", "secretive", "--env", "--no-add-config"])
        .env("AWS_VAULT_PASS_CMD", &wrapper)
        .env("AWS_ACCESS_KEY_ID", "AKIAPASSARGV00000001")
        .env("AWS_SECRET_ACCESS_KEY", canary)
        .run();
    let done = store
        .vault(&["export", "secretive", "--no-session", "--format", "json"])
        .env("AWS_VAULT_PASS_CMD", &wrapper)
        .run();
    assert_eq!(exported_keys(&done).1, canary);
    let argv = std::fs::read_to_string(&log).unwrap();
    assert!(
        argv.contains("insert -m -f -- aws-vault/secretive")
            && argv.contains("show -- aws-vault/secretive"),
        "the wrapper was not used: {argv}"
    );
    assert!(
        !argv.contains(canary),
        "a secret was passed as an argument: {argv}"
    );
}
