//! The secret-service backend against a real gnome-keyring-daemon on a private session bus:
//! vault's items are aws-vault's items, in both directions.

use crate::support::secret_service::SessionBus;
use crate::support::{Run, Sandbox, aws_vault_item_json, exported_keys, moto};

/// `vault ARGS` using the Secret Service on `bus`.
fn vault_ss<const N: usize>(t: &Sandbox, bus: &SessionBus, args: [&str; N]) -> Run {
    t.vault(args)
        .env("AWS_VAULT_BACKEND", "secret-service")
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
}

/// secret-tool's view of the items with attribute profile=KEY, in every collection.
fn search(t: &Sandbox, bus: &SessionBus, key: &str) -> String {
    let output = t
        .command("secret-tool")
        .args(["search", "--all", "--unlock", "profile", key])
        .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
        .output()
        .expect("secret-tool runs");
    // secret-tool prints the attributes on stderr and the rest on stdout.
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn add_list_exec_and_remove_in_the_awsvault_collection() {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[profile ss]\nregion = eu-west-1\n");
    let bus = SessionBus::with_gnome_keyring(&t);
    let collection = bus.create_collection("awsvault");
    assert_eq!(collection, "/org/freedesktop/secrets/collection/awsvault");

    vault_ss(&t, &bus, ["add", "ss", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIASECRETSERVICE001")
        .env("AWS_SECRET_ACCESS_KEY", "ss-long-term-secret")
        .stdout_has("Added credentials to profile \"ss\" in vault")
        .run();
    vault_ss(&t, &bus, ["list", "--credentials"])
        .stdout("ss\n")
        .run();
    vault_ss(
        &t,
        &bus,
        ["exec", "ss", "--", "aws", "sts", "get-caller-identity"],
    )
    .stdout_has("\"Account\"")
    .run();
    // The session exec cached lives in the same collection, under aws-vault's key name.
    vault_ss(&t, &bus, ["list", "--sessions"])
        .stdout_has("sts.GetSessionToken")
        .run();

    let found = search(&t, &bus, "ss");
    assert!(found.contains("label = ss"), "{found}");
    assert!(found.contains("attribute.profile = ss"), "{found}");
    assert!(found.contains("\"Key\":\"ss\""), "{found}");
    assert!(
        !t.keys_dir().exists(),
        "nothing may go to the file keystore"
    );

    vault_ss(&t, &bus, ["remove", "-f", "ss"]).run();
    vault_ss(&t, &bus, ["list", "--credentials"])
        .stdout("")
        .run();
    assert!(!search(&t, &bus, "ss").contains("label = ss"));
}

#[test]
fn items_secret_tool_stores_are_read_and_what_vault_writes_is_found_by_secret_tool() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    // As aws-vault (or a user by hand) stores it, in the login keyring.
    let legacy = aws_vault_item_json("legacy", "AKIALEGACYSTORED0001", "legacy-secret");
    bus.secret_tool(
        &t,
        &["store", "--label=legacy", "profile", "legacy"],
        Some(&legacy),
    );
    let login = |args: &[&str]| {
        let mut all = vec!["--secret-service-collection", "login"];
        all.extend_from_slice(args);
        t.vault(all)
            .env("AWS_VAULT_BACKEND", "secret-service")
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
    };
    let done = login(&["export", "legacy", "--no-session", "--format", "json"]).run();
    assert_eq!(
        exported_keys(&done),
        ("AKIALEGACYSTORED0001".into(), "legacy-secret".into())
    );

    login(&["add", "written", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAWRITTENBYVAULT01")
        .env("AWS_SECRET_ACCESS_KEY", "written-secret")
        .run();
    let lookup = bus.secret_tool(&t, &["lookup", "profile", "written"], None);
    let item: serde_json::Value = serde_json::from_str(&lookup).expect("Item JSON");
    assert_eq!(item["Key"], "written");
    let found = search(&t, &bus, "written");
    assert!(found.contains("label = written"), "{found}");
    // Other programs' items in a shared collection are not listed as profiles.
    bus.secret_tool(
        &t,
        &["store", "--label=browser", "site", "example.com"],
        Some("not ours"),
    );
    login(&["list", "--credentials"])
        .stdout("legacy\nwritten\n")
        .run();
}

#[test]
fn a_refused_collection_creation_is_a_clear_error_that_names_the_ways_out() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    vault_ss(&t, &bus, ["add", "p", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAREFUSED000000001")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(1)
        .stderr(
            "vault: error: the secret-service keystore cannot be used: the Secret Service refused \
             to create the collection \"awsvault\" (GNOME Keyring asks for a new collection's \
             password through a desktop prompt, and none could be shown); create it once from a \
             desktop session (store any key there with vault or aws-vault), or keep keys in the \
             login keyring with --secret-service-collection login \
             (AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME=login)\n",
        )
        .run();
    assert!(!search(&t, &bus, "p").contains("label = p"));
    // Reading a collection that does not exist is simply empty.
    vault_ss(&t, &bus, ["list", "--credentials"])
        .stdout("")
        .run();
}

#[test]
fn a_locked_collection_is_unlocked_through_the_service_or_reported() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    let collection = bus.create_collection("awsvault");
    vault_ss(&t, &bus, ["add", "p", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIALOCKED0000000001")
        .env("AWS_SECRET_ACCESS_KEY", "locked-secret")
        .run();
    bus.lock(&collection);
    // The service is asked to unlock; here its prompt cannot be shown, so it is dismissed.
    vault_ss(
        &t,
        &bus,
        ["export", "p", "--no-session", "--format", "json"],
    )
    .status(1)
    .stderr(
        "vault: error: the secret-service keystore cannot be used: the collection \"awsvault\" \
         is locked, and unlocking it was refused or no unlock prompt could be shown; unlock it \
         from your desktop session (for example in Seahorse), or unlock GNOME Keyring with \
         `gnome-keyring-daemon --unlock` and its password on stdin\n",
    )
    .run();
    // Once unlocked (as the desktop prompt would), the same command works.
    bus.unlock_with_password(&collection);
    let done = vault_ss(
        &t,
        &bus,
        ["export", "p", "--no-session", "--format", "json"],
    )
    .run();
    assert_eq!(exported_keys(&done).0, "AKIALOCKED0000000001");
}
