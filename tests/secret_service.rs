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
        .run()
        .success()
        .stdout_has("Added credentials to profile \"ss\" in vault");
    vault_ss(&t, &bus, ["list", "--credentials"])
        .run()
        .success()
        .stdout_is("ss\n");
    vault_ss(
        &t,
        &bus,
        ["exec", "ss", "--", "aws", "sts", "get-caller-identity"],
    )
    .run()
    .success()
    .stdout_has("\"Account\"");
    // The session exec cached lives in the same collection, under aws-vault's key name.
    vault_ss(&t, &bus, ["list", "--sessions"])
        .run()
        .success()
        .stdout_has("sts.GetSessionToken");

    let found = search(&t, &bus, "ss");
    assert!(found.contains("label = ss"), "{found}");
    assert!(found.contains("attribute.profile = ss"), "{found}");
    assert!(found.contains("\"Key\":\"ss\""), "{found}");
    assert!(
        !t.keys_dir().exists(),
        "nothing may go to the file keystore"
    );

    vault_ss(&t, &bus, ["remove", "-f", "ss"]).run().success();
    vault_ss(&t, &bus, ["list", "--credentials"])
        .run()
        .success()
        .stdout_is("");
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
    let done = login(&["export", "legacy", "--no-session", "--format", "json"])
        .run()
        .success();
    assert_eq!(
        exported_keys(&done),
        ("AKIALEGACYSTORED0001".into(), "legacy-secret".into())
    );

    login(&["add", "written", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAWRITTENBYVAULT01")
        .env("AWS_SECRET_ACCESS_KEY", "written-secret")
        .run()
        .success();
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
        .run()
        .success()
        .stdout_is("legacy\nwritten\n");
}

#[test]
fn a_refused_collection_creation_is_a_clear_error_that_names_the_ways_out() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    vault_ss(&t, &bus, ["add", "p", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIAREFUSED000000001")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .run()
        .code(1)
        .stderr_has("refused to create the collection \"awsvault\"")
        .stderr_has("from a desktop session")
        .stderr_has("--secret-service-collection login");
    assert!(!search(&t, &bus, "p").contains("label = p"));
    // Reading a collection that does not exist is simply empty.
    vault_ss(&t, &bus, ["list", "--credentials"])
        .run()
        .success()
        .stdout_is("");
}

#[test]
fn a_locked_collection_is_unlocked_through_the_service_or_reported() {
    let t = Sandbox::new();
    let bus = SessionBus::with_gnome_keyring(&t);
    let collection = bus.create_collection("awsvault");
    vault_ss(&t, &bus, ["add", "p", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIALOCKED0000000001")
        .env("AWS_SECRET_ACCESS_KEY", "locked-secret")
        .run()
        .success();
    bus.lock(&collection);
    // The service is asked to unlock; here its prompt cannot be shown, so it is dismissed.
    vault_ss(
        &t,
        &bus,
        ["export", "p", "--no-session", "--format", "json"],
    )
    .run()
    .code(1)
    .stderr_has("the collection \"awsvault\" is locked")
    .stderr_has("unlock it from your desktop session");
    // Once unlocked (as the desktop prompt would), the same command works.
    bus.unlock_with_password(&collection);
    let done = vault_ss(
        &t,
        &bus,
        ["export", "p", "--no-session", "--format", "json"],
    )
    .run()
    .success();
    assert_eq!(exported_keys(&done).0, "AKIALOCKED0000000001");
}
