//! `exec` and `export` against moto, with the aws CLI as the consumer of the credentials.

use serde_json::Value;

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};

/// A sandbox on the shared moto with a fresh IAM user `name` stored under profile `name`.
fn user_sandbox(name: &str, config: &str) -> Sandbox {
    let moto = moto::shared();
    let (_, id, secret) = moto.create_user(name);
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config(config);
    t.add(name, &id, &secret);
    t
}

fn caller_arn(done: &crate::support::Done) -> String {
    let identity: Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}\n{}", done.stdout, done.stderr));
    identity["Arn"].as_str().unwrap().to_owned()
}

const CONFIG: &str = "[default]\nregion = us-east-1\n\
[profile alice]\n\
[profile admin]\nsource_profile = alice\nrole_arn = arn:aws:iam::123456789012:role/admin\n\
[profile auditor]\nsource_profile = admin\nrole_arn = arn:aws:iam::123456789012:role/auditor\n";

#[test]
fn exec_gives_the_aws_cli_working_credentials_for_a_user_and_its_roles() {
    let moto = moto::shared();
    let (user, id, secret) = moto.create_user("alice");
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config(CONFIG);
    t.add("alice", &id, &secret);
    let done = t
        .vault([
            "exec",
            "alice",
            "--no-session",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .run();
    assert!(
        caller_arn(&done).ends_with(&format!(":user/{user}")),
        "{}",
        done.stdout
    );
    // With a session (moto answers GetSessionToken with its fixed example keys).
    t.vault(["exec", "alice", "--", "aws", "sts", "get-caller-identity"])
        .run();
    let done = t
        .vault(["exec", "admin", "--", "aws", "sts", "get-caller-identity"])
        .run();
    assert!(
        caller_arn(&done).contains(":assumed-role/admin/"),
        "{}",
        done.stdout
    );
    let done = t
        .vault(["exec", "auditor", "--", "aws", "sts", "get-caller-identity"])
        .run();
    assert!(
        caller_arn(&done).contains(":assumed-role/auditor/"),
        "{}",
        done.stdout
    );
}

#[test]
fn exec_sets_and_removes_the_documented_variables() {
    let t = user_sandbox("alice", CONFIG);
    let done = t
        .vault(["exec", "admin", "--", "sh", "-c", "env | sort"])
        .env("AWS_PROFILE", "stray")
        .env("AWS_SECURITY_TOKEN", "old")
        .env("AWS_SDK_LOAD_CONFIG", "1")
        .run();
    let vars: std::collections::BTreeMap<&str, &str> = done
        .stdout
        .lines()
        .filter_map(|l| l.split_once('='))
        .collect();
    assert_eq!(vars.get("AWS_VAULT"), Some(&"admin"));
    assert_eq!(vars.get("AWS_REGION"), Some(&"us-east-1"));
    assert_eq!(vars.get("AWS_DEFAULT_REGION"), Some(&"us-east-1"));
    assert!(vars["AWS_ACCESS_KEY_ID"].starts_with("ASIA"));
    assert!(!vars["AWS_SESSION_TOKEN"].is_empty());
    let expiration = vars["AWS_CREDENTIAL_EXPIRATION"];
    assert!(
        expiration.len() == 20 && expiration.ends_with('Z'),
        "{expiration}"
    );
    for gone in ["AWS_PROFILE", "AWS_SECURITY_TOKEN", "AWS_SDK_LOAD_CONFIG"] {
        assert!(!vars.contains_key(gone), "{gone} was passed on");
    }
}

#[test]
fn exec_inside_an_exec_warns_and_goes_on() {
    let t = user_sandbox("alice", CONFIG);
    t.vault(["exec", "alice", "--no-session", "--", "true"])
        .env("AWS_VAULT", "other")
        .stderr(
            "vault: warning: AWS_VAULT is already set (profile other); the credentials of alice \
             replace it for this command\n",
        )
        .run();
}

#[test]
fn export_formats_are_aws_vaults() {
    let t = user_sandbox("alice", CONFIG);
    let env = t.vault(["export", "alice", "--no-session"]).run().stdout;
    let names: Vec<&str> = env.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        names,
        [
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "AWS_DEFAULT_REGION"
        ]
    );
    let export_env = t
        .vault(["export", "admin", "--format", "export-env"])
        .run()
        .stdout;
    let names: Vec<&str> = export_env
        .lines()
        .map(|l| l.split('=').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "export AWS_ACCESS_KEY_ID",
            "export AWS_SECRET_ACCESS_KEY",
            "export AWS_SESSION_TOKEN",
            "export AWS_CREDENTIAL_EXPIRATION",
            "export AWS_REGION",
            "export AWS_DEFAULT_REGION"
        ]
    );
    let json = t.vault(["export", "admin", "--format=json"]).run().stdout;
    assert!(
        json.starts_with("{\n  \"Version\": 1,\n  \"AccessKeyId\": \"ASIA"),
        "{json}"
    );
    assert!(json.ends_with("\"\n}\n"));
    // The fields in aws-vault's order, read from the text (a parsed map would sort them).
    let positions: Vec<usize> = [
        "\"Version\"",
        "\"AccessKeyId\"",
        "\"SecretAccessKey\"",
        "\"SessionToken\"",
        "\"Expiration\"",
        "\"AccountId\"",
    ]
    .iter()
    .map(|field| {
        json.find(field)
            .unwrap_or_else(|| panic!("{field} missing: {json}"))
    })
    .collect();
    assert!(positions.is_sorted(), "fields out of order: {json}");
    let doc: Value = serde_json::from_str(&json).unwrap();
    // aws-vault's five, then the role's account, which the SDKs read.
    assert_eq!(doc.as_object().unwrap().len(), 6, "{json}");
    assert_eq!(doc["AccountId"], "123456789012");
    let ini = t.vault(["export", "admin", "--format", "ini"]).run().stdout;
    let keys: Vec<&str> = ini.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        keys,
        [
            "[admin]",
            "aws_access_key_id",
            "aws_secret_access_key",
            "aws_session_token",
            "aws_credential_expiration",
            "region"
        ]
    );
    let long_term = t
        .vault(["exec", "alice", "--no-session", "--json"])
        .run()
        .stdout;
    let doc: Value = serde_json::from_str(&long_term).unwrap();
    assert!(
        doc.get("SessionToken").is_none() && doc.get("Expiration").is_none(),
        "{long_term}"
    );
}

#[test]
fn export_json_works_as_the_aws_clis_credential_process() {
    let t = user_sandbox("alice", "");
    let vault = env!("CARGO_BIN_EXE_vault");
    t.write_config(&format!(
        "{CONFIG}[profile via-process]\ncredential_process = {vault} export --format json admin\n"
    ));
    let done = t
        .command("aws")
        .args([
            "--profile",
            "via-process",
            "sts",
            "get-caller-identity",
            "--output",
            "json",
        ])
        .env("AWS_ENDPOINT_URL", moto::shared().endpoint())
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .output()
        .unwrap();
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains(":assumed-role/admin/"));
}

#[test]
fn a_cached_session_is_reused_without_calling_sts() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("cache");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(CONFIG);
    t.add("alice", &id, &secret);
    t.vault(["exec", "alice", "--", "true"]).run();
    assert_eq!(proxy.count("GetSessionToken"), 1);
    t.vault(["export", "alice"]).run();
    t.vault(["exec", "admin", "--", "true"]).run();
    assert_eq!(
        proxy.count("GetSessionToken"),
        1,
        "the cached session was not used"
    );
    assert_eq!(proxy.count("AssumeRole"), 1);
    t.vault(["list", "--sessions"])
        .stdout_has("sts.GetSessionToken:")
        .run();
    // Within AWS_MIN_TTL of expiry the session is fetched anew.
    t.vault(["exec", "alice", "--", "true"])
        .env("AWS_MIN_TTL", "2h")
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 2);
}

#[test]
fn twenty_parallel_exports_of_a_cold_profile_make_one_sts_call() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("parallel");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config("[default]\nregion = us-east-1\n[profile alice]\nmfa_serial = arn:aws:iam::123456789012:mfa/alice\n");
    t.add("alice", &id, &secret);
    let children: Vec<_> = (0..20)
        .map(|_| {
            t.vault([
                "export",
                "alice",
                "--format",
                "json",
                "--mfa-token",
                "123456",
            ])
            .stderr_any("a caller that finds the lock taken says so; which callers do is timing")
            .start()
        })
        .collect();
    let waiting = "vault: waiting for another vault process that is getting the same credentials\n";
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let done = child.finish();
            // Timing decides whether a caller waited, not what it may say.
            assert!(
                done.stderr.is_empty() || done.stderr == waiting,
                "{}",
                done.stderr
            );
            done.stdout
        })
        .collect();
    assert_eq!(proxy.count("GetSessionToken"), 1, "{} calls", proxy.total());
    assert!(
        outputs.iter().all(|o| *o == outputs[0]),
        "the 20 callers got different credentials"
    );
}

#[test]
fn clear_deletes_sessions_and_keeps_keys() {
    let t = user_sandbox("alice", CONFIG);
    t.vault(["exec", "alice", "--", "true"]).run();
    t.vault(["clear", "admin"])
        .stdout("Cleared 0 sessions.\n")
        .run();
    t.vault(["clear", "alice"])
        .stdout("Cleared 1 sessions.\n")
        .run();
    t.vault(["exec", "alice", "--", "true"]).run();
    t.vault(["clear"]).stdout("Cleared 1 sessions.\n").run();
    t.vault(["list", "--sessions"]).stdout("").run();
    t.vault(["list", "--credentials"]).stdout("alice\n").run();
}

#[test]
fn an_unknown_profile_gets_close_names_suggested() {
    let t = user_sandbox("alice", CONFIG);
    t.vault(["exec", "admn", "--", "true"])
        .status(1)
        .stderr(&format!(
            "vault: error: profile 'admn' is not in {} and has no stored credentials; did you \
             mean 'admin'?\n",
            t.config_path().display()
        ))
        .run();
}

#[test]
fn a_source_profile_loop_is_reported_as_a_loop() {
    let t = Sandbox::new();
    t.write_config("[profile a]\nsource_profile = b\nrole_arn = arn:aws:iam::1:role/a\n[profile b]\nsource_profile = a\nrole_arn = arn:aws:iam::1:role/b\n");
    t.vault(["exec", "a", "--", "true"])
        .status(1)
        .stderr(
            "vault: error: source_profile loop in the AWS config file: a -> b -> a; make one of \
             these profiles get its credentials another way\n",
        )
        .run();
}

#[test]
fn assume_role_sends_the_profiles_role_settings() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("tags");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(
        "[default]\nregion = us-east-1\n[profile alice]\n\
         [profile tagged]\nsource_profile = alice\nrole_arn = arn:aws:iam::123456789012:role/tagged\n\
         external_id = ext-123\nrole_session_name = my-session\nduration_seconds = 1800\n\
         session_tags = team=blue, env=dev\ntransitive_session_tags = team\nsource_identity = me@example.com\n",
    );
    t.add("alice", &id, &secret);
    t.vault(["exec", "tagged", "--no-session", "--", "true"])
        .run();
    let body = &proxy.bodies("AssumeRole")[0];
    for field in [
        "RoleArn=arn:aws:iam::123456789012:role/tagged",
        "ExternalId=ext-123",
        "RoleSessionName=my-session",
        "DurationSeconds=1800",
        "SourceIdentity=me@example.com",
        "TransitiveTagKeys.member.1=team",
    ] {
        assert!(body.contains(field), "{field} missing from {body}");
    }
    assert!(
        body.contains("Tags.member.1.Key=env") && body.contains("Tags.member.2.Value=blue"),
        "{body}"
    );
}

#[test]
fn web_identity_and_credential_process_sources_work_and_are_cached() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    let token = t.home().join("token");
    std::fs::write(&token, "header.payload.signature\n").unwrap();
    let process_json = r#"{"Version":1,"AccessKeyId":"ASIAPROCESS","SecretAccessKey":"s","SessionToken":"t","Expiration":"2099-01-01T00:00:00Z"}"#;
    t.write_config(&format!(
        "[default]\nregion = us-east-1\n\
         [profile web]\nrole_arn = arn:aws:iam::123456789012:role/web\nweb_identity_token_file = {}\n\
         [profile web-process]\nrole_arn = arn:aws:iam::123456789012:role/web2\nweb_identity_token_process = printf 'from.a.process'\n\
         [profile process]\ncredential_process = echo '{process_json}'\n\
         [profile role-from-process]\nsource_profile = process\nrole_arn = arn:aws:iam::123456789012:role/p\n",
        token.display()
    ));
    let done = t
        .vault(["exec", "web", "--", "aws", "sts", "get-caller-identity"])
        .run();
    assert!(
        caller_arn(&done).contains(":assumed-role/web/"),
        "{}",
        done.stdout
    );
    t.vault(["exec", "web", "--", "true"]).run();
    assert_eq!(
        proxy.count("AssumeRoleWithWebIdentity"),
        1,
        "the web identity session was not cached"
    );
    assert!(
        proxy.bodies("AssumeRoleWithWebIdentity")[0]
            .contains("WebIdentityToken=header.payload.signature&"),
        "the token was not trimmed"
    );
    t.vault(["exec", "web-process", "--", "true"]).run();
    assert!(
        proxy.bodies("AssumeRoleWithWebIdentity")[1].contains("WebIdentityToken=from.a.process")
    );
    t.vault(["export", "process"])
        .stdout_has("AWS_ACCESS_KEY_ID=ASIAPROCESS\n")
        .run();
    t.vault(["exec", "role-from-process", "--", "true"]).run();
    assert_eq!(proxy.count("AssumeRole"), 1);
}

#[test]
fn a_decrypted_session_is_kept_in_the_kernel_keyring_for_the_next_command() {
    let t = user_sandbox("alice", CONFIG);
    let kept = "using the decrypted session kept in the kernel keyring";
    // Typed at the prompt: the passphrase and the session it fetched are kept.
    let dir = t.keys_dir().display().to_string();
    t.vault(["export", "alice"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .on_terminal(&[(
            &format!("Enter passphrase to unlock \"{dir}\": "),
            &format!("{}\n", crate::support::PASSPHRASE),
        )])
        .stdout_like(&format!(
            "Enter passphrase to unlock \"{dir}\": \r\n\
             AWS_ACCESS_KEY_ID=[..]\r\n\
             AWS_SECRET_ACCESS_KEY=[..]\r\n\
             AWS_SESSION_TOKEN=[..]\r\n\
             AWS_CREDENTIAL_EXPIRATION=[..]\r\n\
             AWS_REGION=us-east-1\r\n\
             AWS_DEFAULT_REGION=us-east-1\r\n"
        ))
        .run();
    t.vault(["--debug", "export", "alice"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .stderr_debug_only()
        .stderr_has(kept)
        .run();
    // A script that gives the passphrase in the environment gets nothing from the kernel.
    let done = t
        .vault(["--debug", "export", "alice"])
        .stderr_debug_only()
        .run();
    assert!(!done.stderr.contains(kept), "{}", done.stderr);
    // A replaced file is decrypted anew, never answered from the copy of the old one.
    let session = std::fs::read_dir(t.keys_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("sts.GetSessionToken,")
        })
        .unwrap();
    let plain = t
        .jose_decrypt(&session, crate::support::PASSPHRASE)
        .unwrap();
    t.jose_encrypt(&session, crate::support::PASSPHRASE, &plain);
    let done = t
        .vault(["--debug", "export", "alice"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .stderr_debug_only()
        .run();
    assert!(!done.stderr.contains(kept), "{}", done.stderr);
}

#[test]
fn a_zero_duration_means_the_defaults() {
    let moto = moto::shared();
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let (_, id, secret) = moto.create_user("zero");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(CONFIG);
    t.add("alice", &id, &secret);
    t.vault(["export", "alice", "-d", "0"]).run();
    t.vault(["export", "alice"])
        .env("AWS_VAULT_DURATION", "0")
        .run();
    assert!(
        proxy.bodies("GetSessionToken")[0].contains("DurationSeconds=3600"),
        "{:?}",
        proxy.bodies("GetSessionToken")
    );
    assert_eq!(
        proxy.count("GetSessionToken"),
        1,
        "the first session was not reused"
    );
}

#[test]
fn a_nested_exec_uses_the_inner_profiles_region() {
    let t = user_sandbox(
        "alice",
        &format!(
            "{CONFIG}[profile west]\nsource_profile = alice\nrole_arn = arn:aws:iam::123456789012:role/west\nregion = us-west-2\n"
        ),
    );
    let vault = env!("CARGO_BIN_EXE_vault");
    // exec hands its command nothing that unlocks the keystore: the inner vault is given the
    // passphrase as a script would give it.
    let passphrase = crate::support::PASSPHRASE;
    t.vault([
        "exec",
        "alice",
        "--",
        "sh",
        "-c",
        &format!(
            "AWS_VAULT_FILE_PASSPHRASE='{passphrase}' '{vault}' exec west -- sh -c 'echo $AWS_REGION $AWS_VAULT'"
        ),
    ])
    .stdout("us-west-2 west\n")
    // The inner exec switches profile, which is worth the warning.
    .stderr(
        "vault: warning: AWS_VAULT is already set (profile alice); \
             the credentials of west replace it for this command\n",
    )
    .run();
}

#[test]
fn a_credential_process_that_calls_vault_for_its_own_profile_is_refused() {
    let t = Sandbox::new();
    let vault = env!("CARGO_BIN_EXE_vault");
    t.write_config(&format!(
        "[profile loop]\ncredential_process = {vault} export --format json loop\n"
    ));
    // The inner vault's refusal comes through on the credential_process's stderr.
    t.vault(["export", "loop"])
        .status(1)
        .stderr(&format!(
            "vault: error: profile loop: its credential_process runs vault for loop again, which \
             would never end; give loop stored keys (`vault add loop`) or point \
             credential_process at another profile\n\
             vault: error: profile loop: credential_process `{vault} export --format json loop` \
             failed (exit status: 1)\n"
        ))
        .run();
}

#[test]
fn exec_does_not_pass_on_a_shells_use_state_and_gives_its_own_expiry() {
    let t = user_sandbox("alice", CONFIG);
    let done = t
        .vault(["exec", "alice", "--", "sh", "-c", "env | grep -E '^(VAULT_EXPIRES_AT|VAULT_REFRESH_AT|__VAULT_STATE|AWS_SESSION_EXPIRATION|AWS_CREDENTIAL_EXPIRATION)=' | sort"])
        .env("VAULT_EXPIRES_AT", "1")
        .env("VAULT_REFRESH_AT", "1")
        .env("VAULT_CLOCK_BOOT", "1")
        .env("AWS_SESSION_EXPIRATION", "2001-01-01T00:00:00Z")
        .env("__VAULT_STATE", "AWS_PROFILE")
        .run();
    let lines: Vec<&str> = done.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", done.stdout);
    let expiration = lines[0].strip_prefix("AWS_CREDENTIAL_EXPIRATION=").unwrap();
    assert_eq!(lines[1], format!("AWS_SESSION_EXPIRATION={expiration}"));
    let at =
        time::OffsetDateTime::parse(expiration, &time::format_description::well_known::Rfc3339)
            .unwrap()
            .unix_timestamp();
    assert_eq!(lines[2], format!("VAULT_EXPIRES_AT={at}"));
}
