//! `vault add`: keys in, config section appended, sessions cleared, refusals.

use std::os::unix::fs::PermissionsExt;

use crate::support::{PASSPHRASE, Sandbox};

#[test]
fn add_from_the_environment_stores_the_keys_and_adds_a_profile_section() {
    let t = Sandbox::new();
    t.write_config("# my settings\n[profile other]\nregion = eu-west-1\n");
    t.vault(["add", "dev", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7DEV0001")
        .env("AWS_SECRET_ACCESS_KEY", "dev-secret")
        .stdout("Added credentials to profile \"dev\" in vault\n")
        .run();
    assert_eq!(
        t.read_config(),
        "# my settings\n[profile other]\nregion = eu-west-1\n\n[profile dev]\nregion = us-east-1\n"
    );
    t.vault(["list", "--credentials"]).stdout("dev\n").run();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&t.keys_dir()), 0o700);
    assert_eq!(mode(&t.keys_dir().join("dev")), 0o600);
}

#[test]
fn no_add_config_leaves_the_config_alone_and_an_existing_section_is_not_repeated() {
    let t = Sandbox::new();
    t.write_config("[default]\nregion = us-east-2\n");
    t.add("dev", "AKIADEV", "s");
    assert_eq!(t.read_config(), "[default]\nregion = us-east-2\n");
    t.vault(["add", "default", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIADEFAULT")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .run();
    assert_eq!(t.read_config(), "[default]\nregion = us-east-2\n");
}

#[test]
fn add_env_without_keys_names_the_missing_variable() {
    let t = Sandbox::new();
    t.vault(["add", "dev", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .status(1)
        .stderr("vault: error: Missing value for AWS_SECRET_ACCESS_KEY\n")
        .run();
    assert!(!t.keys_dir().join("dev").exists());
}

#[test]
fn add_refuses_a_profile_with_a_source_profile() {
    let t = Sandbox::new();
    t.write_config("[profile base]\n[profile role]\nsource_profile = base\nrole_arn = arn:aws:iam::1:role/r\n[profile self]\nsource_profile = self\n");
    t.vault(["add", "role", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(1)
        .stderr(
            "vault: error: Your profile has a source_profile of base, adding credentials to role \
             won't have any effect\n",
        )
        .run();
    // A source_profile naming the profile itself means "none", so keys may be added.
    t.add("self", "AKIASELF", "s");
}

#[test]
fn names_that_the_keystore_reserves_are_refused() {
    let t = Sandbox::new();
    let reserved = "the keystore uses names of that form for sessions and SSO tokens";
    for (name, shown, why) in [
        ("oidc:https://x/start", "oidc:https://x/start", reserved),
        (
            "sts.GetSessionToken,ZGV2,,1700000000",
            "sts.GetSessionToken,ZGV2,,1700000000",
            reserved,
        ),
        (
            "bad\nname",
            "bad\\nname",
            "it is empty or holds control characters",
        ),
        (
            ".",
            ".",
            "it names a directory, not a file, in the file keystore",
        ),
        (
            "..",
            "..",
            "it names a directory, not a file, in the file keystore",
        ),
    ] {
        t.vault(["add", name, "--env"])
            .env("AWS_ACCESS_KEY_ID", "AKIA")
            .env("AWS_SECRET_ACCESS_KEY", "s")
            .status(2)
            .stderr(&format!(
                "vault: error: \"{shown}\" cannot be a profile name: {why}\n"
            ))
            .run();
    }
}

#[test]
fn add_prompts_on_the_terminal_and_hides_the_secret() {
    let t = Sandbox::new();
    let done = t
        .vault(["add", "dev"])
        .on_terminal(&[
            ("Enter Access Key ID: ", "AKIAPROMPTED00000001\n"),
            ("Enter Secret Access Key: ", "typed-secret-value\n"),
            ("Default region for profile dev [us-east-1]: ", "\n"),
        ])
        // The terminal shows both streams; the typed secret is not echoed.
        .stdout(
            "Enter Access Key ID: AKIAPROMPTED00000001\r\n\
             Enter Secret Access Key: \r\n\
             Default region for profile dev [us-east-1]: \r\n\
             Added credentials to profile \"dev\" in vault\r\n",
        )
        .run();
    assert_eq!(t.read_config(), "[profile dev]\nregion = us-east-1\n");
    assert!(
        !done.stdout.contains("typed-secret-value"),
        "the secret was echoed:\n{}",
        done.stdout
    );
    let item = t
        .jose_decrypt(&t.keys_dir().join("dev"), PASSPHRASE)
        .expect("decrypts");
    assert!(item.contains("\"Key\":\"dev\""), "{item}");
}

#[test]
fn add_without_a_terminal_says_how_to_do_it_non_interactively() {
    let t = Sandbox::new();
    t.vault(["add", "dev"])
        .status(1)
        .stderr_like(
            "vault: error: cannot ask for the Access Key ID: there is no terminal to ask on \
             ([..])\n",
        )
        .run();
}

#[test]
fn add_deletes_the_profiles_cached_sessions() {
    let t = Sandbox::new();
    t.add("dev", "AKIADEV", "s");
    let session_for = |profile: &str| format!("sts.GetSessionToken,{},,4102444800", b64(profile));
    for key in [session_for("dev"), session_for("prod")] {
        t.jose_encrypt(&t.keys_dir().join(&key), PASSPHRASE, "{}");
    }
    t.vault(["add", "dev", "--env", "--no-add-config"])
        .env("AWS_ACCESS_KEY_ID", "AKIADEV2")
        .env("AWS_SECRET_ACCESS_KEY", "s2")
        .stdout("Added credentials to profile \"dev\" in vault\nDeleted 1 existing sessions.\n")
        .run();
    assert!(!t.keys_dir().join(session_for("dev")).exists());
    assert!(t.keys_dir().join(session_for("prod")).exists());
}

pub fn b64(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[test]
fn a_new_section_gets_the_region_asked_for_given_or_from_the_environment() {
    let t = Sandbox::new();
    t.vault(["add", "typed"])
        .on_terminal(&[
            ("Enter Access Key ID: ", "AKIATYPED\n"),
            ("Enter Secret Access Key: ", "s\n"),
            (
                "Default region for profile typed [eu-central-1]: ",
                "ap-south-1\n",
            ),
        ])
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .stdout_has("Added credentials to profile \"typed\" in vault\r\n")
        .run();
    t.vault(["add", "given", "--env", "--region", "sa-east-1"])
        .env("AWS_ACCESS_KEY_ID", "AKIAGIVEN")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .stdout("Added credentials to profile \"given\" in vault\n")
        .run();
    // --env with no terminal: AWS_REGION, over AWS_DEFAULT_REGION.
    t.vault(["add", "scripted", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIASCRIPTED")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .env("AWS_REGION", "eu-west-3")
        .env("AWS_DEFAULT_REGION", "eu-central-1")
        .stdout("Added credentials to profile \"scripted\" in vault\n")
        .run();
    assert_eq!(
        t.read_config(),
        "[profile typed]\nregion = ap-south-1\n\n[profile given]\nregion = sa-east-1\n\n\
         [profile scripted]\nregion = eu-west-3\n"
    );
    t.vault(["add", "bad", "--env", "--region", "Not A Region"])
        .env("AWS_ACCESS_KEY_ID", "AKIABAD")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(2)
        .stderr("vault: error: 'Not A Region' is not a region name (like eu-west-1); nothing was stored\n")
        .run();
    t.vault(["list", "--credentials"])
        .stdout("given\nscripted\ntyped\n")
        .run();
}
