//! Which keystore vault opens without `--backend`, and the errors for an explicit backend that
//! cannot open here.

use crate::support::secret_service::SessionBus;
use crate::support::{Run, Sandbox};

/// `vault add p` with no backend chosen, so vault picks one and says so in its debug log.
fn add_without_backend(t: &Sandbox, bus_address: Option<&str>) -> Run {
    let mut run = t
        .vault(["add", "p", "--env", "--no-add-config", "--debug"])
        .env_remove("AWS_VAULT_BACKEND")
        .env("AWS_ACCESS_KEY_ID", "AKIASELECTION0000001")
        .env("AWS_SECRET_ACCESS_KEY", "selection-secret")
        .stdout("Added credentials to profile \"p\" in vault\n")
        .stderr_debug_only();
    if let Some(address) = bus_address {
        run = run.env("DBUS_SESSION_BUS_ADDRESS", address);
    }
    run
}

#[test]
fn without_a_session_bus_the_file_keystore_is_used() {
    let t = Sandbox::new();
    add_without_backend(&t, None)
        .stderr_has("no D-Bus session bus, so no Secret Service")
        .run();
    assert!(t.keys_dir().join("p").is_file());
}

#[test]
fn a_bus_without_a_secret_service_falls_back_to_the_file_keystore() {
    let t = Sandbox::new();
    let bus = SessionBus::without_provider(&t);
    add_without_backend(&t, Some(bus.address()))
        .stderr_has("not using the Secret Service")
        .stderr_has("no Secret Service provider is running")
        .run();
    assert!(t.keys_dir().join("p").is_file());
}

#[test]
fn a_bus_with_a_secret_service_is_used_first() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    bus.create_collection("awsvault");
    // No DBUS_SESSION_BUS_ADDRESS: the socket in XDG_RUNTIME_DIR is found, as libdbus does.
    assert!(bus.runtime_dir().join("bus").exists());
    add_without_backend(&t, None)
        .stderr_has("opening the secret-service keystore")
        .run();
    assert!(!t.keys_dir().exists(), "the file keystore was used");
    let item = bus.secret_tool(&t, &["lookup", "profile", "p"], None);
    assert!(item.contains("\"Key\":\"p\""), "{item}");
}

#[test]
fn an_explicit_secret_service_without_a_bus_says_why_and_what_to_do() {
    let t = Sandbox::new();
    t.vault(["list", "--backend", "secret-service"])
        .status(1)
        .stderr(
            "vault: error: the secret-service keystore cannot be used: there is no D-Bus session \
             bus (DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist); \
             run vault inside a desktop session, or choose --backend file, keyctl or pass \
             (AWS_VAULT_BACKEND)\n",
        )
        .run();
}

#[test]
fn an_explicit_secret_service_on_a_bus_without_a_provider_says_so() {
    let t = Sandbox::new();
    let bus = SessionBus::without_provider(&t);
    t.vault(["list", "--backend", "secret-service"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .status(1)
        .stderr(
            "vault: error: the secret-service keystore cannot be used: no Secret Service \
             provider is running on the session bus (nothing owns org.freedesktop.secrets); \
             install and start one (GNOME Keyring: `gnome-keyring-daemon --start \
             --components=secrets`; or KeePassXC with Secret Service integration), or choose \
             --backend file, keyctl or pass\n",
        )
        .run();
}

#[test]
fn an_explicit_pass_without_pass_installed_says_so() {
    let t = Sandbox::new();
    let empty_path = t.home().join("empty-bin");
    std::fs::create_dir_all(&empty_path).unwrap();
    t.vault(["list", "--backend", "pass"])
        .env("PATH", &empty_path)
        .status(1)
        .stderr(
            "vault: error: the pass keystore cannot be used: the `pass` command is not installed \
             (not found on PATH); install pass (apt install pass, brew install pass), point \
             --pass-cmd (AWS_VAULT_PASS_CMD) at it, or choose another --backend\n",
        )
        .run();
}

#[test]
fn an_explicit_pass_without_a_gpg_key_says_so() {
    let t = Sandbox::new();
    let store = t.home().join("store");
    t.vault([
        "list",
        "--backend",
        "pass",
        "--pass-dir",
        store.to_str().unwrap(),
    ])
    .status(1)
    .stderr(&format!(
        "vault: error: the pass keystore cannot be used: the password store {} has no gpg key \
         (no .gpg-id file: it was never initialised); create a gpg key if you have none (gpg \
         --gen-key), then run `pass init <key id>`\n",
        store.display()
    ))
    .run();
}

#[test]
fn keys_left_in_the_file_keystore_are_pointed_out_when_the_secret_service_is_chosen() {
    let t = Sandbox::new();
    t.add("old-file-key", "AKIAOLDFILEKEY000001", "s"); // the harness pins the file backend
    let bus = SessionBus::with_gnome_keyring(&t);
    bus.create_collection("awsvault");
    t.vault(["list"])
        .env_remove("AWS_VAULT_BACKEND")
        .stderr(
            "vault: note: the file keystore also holds keys for old-file-key, which this list \
             (from the keystore vault chose) does not show; use them with --backend file, or \
             copy them with `vault migrate --from file --to secret-service`\n",
        )
        .run();
    // Chosen explicitly, or with everything moved, nothing is said.
    t.vault(["list", "--backend", "secret-service"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .stderr("")
        .run();
    t.vault(["migrate", "--from", "file", "--to", "secret-service"])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .run();
    t.vault(["list"])
        .env_remove("AWS_VAULT_BACKEND")
        .stderr("")
        .stdout_has("old-file-key")
        .run();
}
