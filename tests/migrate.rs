//! `vault migrate` between the file keystore and a real Secret Service.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::support::secret_service::SessionBus;
use crate::support::{Run, Sandbox, exported_keys};

/// A sandbox whose commands reach a gnome-keyring with the `awsvault` collection.
struct Stores {
    t: Sandbox,
    bus: SessionBus,
}

impl Stores {
    fn new() -> Self {
        let t = Sandbox::new();
        let bus = SessionBus::with_gnome_keyring(&t);
        bus.create_collection("awsvault");
        Self { t, bus }
    }

    fn vault(&self, args: &[&str]) -> Run {
        self.t
            .vault(args)
            .env("DBUS_SESSION_BUS_ADDRESS", self.bus.address())
    }

    /// `vault migrate --from FROM --to TO EXTRA…`
    fn migrate(&self, from: &str, to: &str, extra: &[&str]) -> Run {
        let mut args = vec!["migrate", "--from", from, "--to", to];
        args.extend_from_slice(extra);
        self.vault(&args)
    }

    #[track_caller]
    fn add(&self, backend: &str, profile: &str, key_id: &str) {
        self.vault(&[
            "--backend",
            backend,
            "add",
            profile,
            "--env",
            "--no-add-config",
        ])
        .env("AWS_ACCESS_KEY_ID", key_id)
        .env("AWS_SECRET_ACCESS_KEY", format!("secret-of-{profile}"))
        .stdout(&format!(
            "Added credentials to profile \"{profile}\" in vault\n"
        ))
        .run();
    }

    #[track_caller]
    fn stored(&self, backend: &str) -> Vec<String> {
        let done = self
            .vault(&["--backend", backend, "list", "--credentials"])
            .run();
        done.stdout.lines().map(str::to_owned).collect()
    }

    #[track_caller]
    fn key_id(&self, backend: &str, profile: &str) -> String {
        let done = self
            .vault(&[
                "--backend",
                backend,
                "export",
                profile,
                "--no-session",
                "--format",
                "json",
            ])
            .run();
        exported_keys(&done).0
    }

    /// Every stored key of both stores: profile → (backend, key id) for each copy.
    fn snapshot(&self) -> BTreeMap<String, Vec<(String, String)>> {
        let mut all: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for backend in ["file", "secret-service"] {
            for profile in self.stored(backend) {
                let id = self.key_id(backend, &profile);
                all.entry(profile)
                    .or_default()
                    .push((backend.to_owned(), id));
            }
        }
        all
    }
}

#[test]
fn migrate_moves_keys_to_the_secret_service_and_back_and_a_dry_run_changes_nothing() {
    let s = Stores::new();
    s.add("file", "alpha", "AKIAMIGRATEALPHA0001");
    s.add("file", "beta", "AKIAMIGRATEBETA00001");
    let files_before = s.t.files();

    s.migrate("file", "secret-service", &["--dry-run", "--delete-source"])
        .stdout(
            "alpha: would be copied to secret-service and would be removed from file (dry run)\n\
             beta: would be copied to secret-service and would be removed from file (dry run)\n",
        )
        .run();
    assert_eq!(
        s.t.files(),
        files_before,
        "a dry run wrote to the file keystore"
    );
    assert!(s.stored("secret-service").is_empty());

    s.migrate("file", "secret-service", &["--delete-source"])
        .stdout(
            "alpha: copied to secret-service and removed from file\n\
             beta: copied to secret-service and removed from file\n",
        )
        .run();
    assert!(s.stored("file").is_empty());
    assert_eq!(s.stored("secret-service"), ["alpha", "beta"]);
    assert_eq!(s.key_id("secret-service", "beta"), "AKIAMIGRATEBETA00001");

    // Back, one profile at a time, keeping the source.
    s.migrate("secret-service", "file", &["--profile", "alpha"])
        .stdout("alpha: copied to file\n")
        .run();
    assert_eq!(s.stored("file"), ["alpha"]);
    assert_eq!(s.key_id("file", "alpha"), "AKIAMIGRATEALPHA0001");
    assert_eq!(s.stored("secret-service"), ["alpha", "beta"]);
}

#[test]
fn migrate_never_replaces_different_keys_unless_told_to() {
    let s = Stores::new();
    s.add("file", "gamma", "AKIAGAMMAINFILE00001");
    s.add("secret-service", "gamma", "AKIAGAMMAINSS0000001");
    s.migrate("file", "secret-service", &["--delete-source"])
        .status(1)
        .stderr(
            "vault: error: the secret-service keystore already holds different keys for gamma; \
             nothing was changed for them (rerun with --overwrite to replace them)\n",
        )
        .run();
    assert_eq!(s.key_id("secret-service", "gamma"), "AKIAGAMMAINSS0000001");
    assert_eq!(s.key_id("file", "gamma"), "AKIAGAMMAINFILE00001");

    s.migrate("file", "secret-service", &["--overwrite"]).run();
    assert_eq!(s.key_id("secret-service", "gamma"), "AKIAGAMMAINFILE00001");
    s.migrate("file", "file", &[])
        .status(2)
        .stderr("vault: error: --from and --to are both \"file\"; name two different backends\n")
        .run();
}

/// kill -9 at different moments of `migrate --delete-source`, in both directions: every key is
/// always somewhere, whole, and a rerun finishes the job.
#[test]
fn an_interrupted_migrate_never_loses_a_key() {
    let s = Stores::new();
    let profiles: Vec<String> = (0..6).map(|i| format!("p{i}")).collect();
    let mut expected = BTreeMap::new();
    for (i, profile) in profiles.iter().enumerate() {
        let key_id = format!("AKIAINTERRUPTED0000{i}");
        s.add("file", profile, &key_id);
        expected.insert(profile.clone(), key_id);
    }
    let mut interrupted_midway = 0;
    for (round, delay_ms) in [3u64, 8, 15, 25, 40, 60, 90, 130].into_iter().enumerate() {
        let (from, to) = if round % 2 == 0 {
            ("file", "secret-service")
        } else {
            ("secret-service", "file")
        };
        let mut child = s
            .migrate(from, to, &["--delete-source"])
            .status_any("the kill races the migrate's own end")
            .start();
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill();
        child.finish();

        let snapshot = s.snapshot();
        for (profile, key_id) in &expected {
            let copies = snapshot
                .get(profile)
                .unwrap_or_else(|| panic!("round {round}: {profile} was lost: {snapshot:?}"));
            assert!(
                copies.iter().all(|(_, id)| id == key_id),
                "round {round}: {profile} changed: {copies:?}"
            );
        }
        let moved = snapshot
            .values()
            .filter(|c| c.iter().any(|(b, _)| b == to))
            .count();
        if moved > 0 && moved < profiles.len() {
            interrupted_midway += 1;
        }
        // Finish the move, so the next round starts with everything in its source.
        let left = snapshot
            .values()
            .filter(|c| c.iter().any(|(b, _)| b == from))
            .count();
        let note = if left == 0 {
            format!("No stored keys in the {from} keystore.\n")
        } else {
            String::new()
        };
        s.migrate(from, to, &["--delete-source"])
            .stderr(&note)
            .run();
        assert_eq!(
            s.stored(to),
            profiles,
            "round {round}: the rerun did not finish"
        );
        assert!(s.stored(from).is_empty());
    }
    eprintln!("kills that landed mid-migrate: {interrupted_midway} of 8");
    assert!(
        interrupted_midway > 0,
        "no kill landed in the middle of a migrate; the delays need adjusting"
    );
}

#[test]
fn a_damaged_item_is_reported_and_the_rest_are_copied() {
    let s = Stores::new();
    s.add("file", "alpha", "AKIAALPHAINFILE00001");
    s.add("file", "omega", "AKIAOMEGAINFILE00001");
    let broken = s.t.keys_dir().join("middle");
    std::fs::write(&broken, "not an encrypted item").unwrap();
    let done = s
        .migrate("file", "secret-service", &[])
        .status(1)
        .stderr_like(&format!(
            "vault: warning: {} is damaged ([..]); remove it with `vault remove` and add the key \
             again, or restore it from a backup; it was not copied\n\
             vault: error: middle could not be read in the file keystore and was not copied; the \
             rest were\n",
            broken.display()
        ))
        .run();
    assert!(
        done.stdout.contains("alpha") && done.stdout.contains("omega"),
        "{}",
        done.stdout
    );
    assert_eq!(s.key_id("secret-service", "alpha"), "AKIAALPHAINFILE00001");
    assert_eq!(s.key_id("secret-service", "omega"), "AKIAOMEGAINFILE00001");
}

#[test]
fn many_keys_are_counted_before_they_are_copied() {
    let s = Stores::new();
    for i in 0..11 {
        s.add("file", &format!("p{i:02}"), &format!("AKIAMANYKEYS{i:08}"));
    }
    let done = s
        .migrate("file", "secret-service", &[])
        .stderr(
            "vault: copying 11 keys from the file keystore to the secret-service keystore; each \
             is reported as it is done\n",
        )
        .run();
    assert_eq!(done.stdout.lines().count(), 11, "{}", done.stdout);
    assert_eq!(s.stored("secret-service").len(), 11);
}
