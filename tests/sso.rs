//! IAM Identity Center profiles end to end: vault against the SSO stand-in (which checks every
//! request against botocore's models and gets role credentials from moto), a fake `$BROWSER`
//! that follows the sign-in redirects as a browser does, and the aws CLI as the consumer.

use serde_json::{Value, json};

use crate::support::sso::World;
use crate::support::{Done, REFRESH_IN_BASH};

const START_URL: &str = "https://corp.awsapps.com/start";

/// Two roles in one account, and a role assumed from the SSO role.
fn config() -> String {
    format!(
        "[sso-session corp]\nsso_start_url = {START_URL}\nsso_region = eu-west-1\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\nregion = us-east-1\n\
         [profile ro]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = us-east-1\n\
         [profile admin]\nsource_profile = dev\nrole_arn = arn:aws:iam::111111111111:role/Admin\nregion = us-east-1\n"
    )
}

fn world() -> World {
    World::new(&config())
}

fn caller_arn(done: &Done) -> String {
    let identity: Value = serde_json::from_str(&done.stdout)
        .unwrap_or_else(|_| panic!("not JSON: {}\n{}", done.stdout, done.stderr));
    identity["Arn"].as_str().unwrap_or_default().to_owned()
}

/// What vault says while it opens the browser for a sign-in.
const OPENING: &str = "vault: opening the IAM Identity Center sign-in page in your browser (Ctrl-C cancels):\n[..]/authorize?response_type=code&client_id=[..]&redirect_uri=http%3A%2F%2F127%2E0%2E0%2E1%3A[..]%2Foauth%2Fcallback&state=[..]&code_challenge_method=S256&code_challenge=[..]&scopes=sso%3Aaccount%3Aaccess\n";

#[test]
fn a_browser_sign_in_gives_the_aws_cli_the_sso_role_and_is_kept_for_the_next_command() {
    let w = world();
    let done = w
        .vault(["exec", "dev", "--", "aws", "sts", "get-caller-identity"])
        .stderr_like(OPENING)
        .run();
    assert!(
        caller_arn(&done).ends_with(":assumed-role/Developer/sso-user"),
        "{}",
        done.stdout
    );
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("operations", "RegisterClient"), 1);
    assert_eq!(w.count("create_token", "authorization_code"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/Developer"), 1);
    let client = &w.sso.stats()["clients"][0];
    assert_eq!(
        client["grantTypes"],
        json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(client["scopes"], json!(["sso:account:access"]));
    assert_eq!(client["issuerUrl"], START_URL);

    // The next command uses the cached role credentials: no sign-in, no call at all.
    w.vault(["export", "dev", "--format", "json"])
        .stdout_has("\"AccessKeyId\"")
        .run();
    // Another role under the same start URL reuses the sign-in: one GetRoleCredentials.
    let done = w
        .vault(["exec", "ro", "--", "aws", "sts", "get-caller-identity"])
        .run();
    assert!(caller_arn(&done).ends_with(":assumed-role/ReadOnly/sso-user"));
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("operations", "RegisterClient"), 1);
    assert_eq!(w.count("create_token", "authorization_code"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/Developer"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/ReadOnly"), 1);
}

#[test]
fn a_role_chain_from_an_sso_profile_assumes_the_role_with_the_sso_credentials() {
    let w = world();
    let done = w
        .vault(["exec", "admin", "--", "aws", "sts", "get-caller-identity"])
        .stderr_like(OPENING)
        .run();
    assert!(
        caller_arn(&done).contains(":assumed-role/Admin/"),
        "{}",
        done.stdout
    );
}

#[test]
fn stdout_prints_the_url_and_launches_no_browser() {
    let w = world();
    let mut child = w
        .vault(["export", "dev", "--format", "json", "--stdout"])
        .spawn();
    let url = read_until_url(&mut child, "/authorize?");
    assert!(url.contains("/authorize?response_type=code"), "{url}");
    // The person opens it: here the fake browser, started by the test, not by vault.
    let opened =
        w.t.command(&crate::support::sso::python().to_string_lossy())
            .arg(crate::support::support_file("fake_browser.py"))
            .arg(&url)
            .status()
            .unwrap();
    assert!(opened.success());
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"AccessKeyId\""));
    assert_eq!(w.launches(), 0);
}

#[test]
fn the_device_code_flow_waits_for_approval_part_way_through_polling() {
    let w = world();
    let mut child = w
        .vault(["export", "dev", "--format", "json", "--use-device-code"])
        .spawn();
    let url = read_until_url(&mut child, "/device?");
    assert!(url.contains("/device?user_code="), "{url}");
    // Let vault ask a few times before the person approves.
    std::thread::sleep(std::time::Duration::from_millis(2500));
    let code = url.rsplit('=').next().unwrap().to_owned();
    w.sso.configure(&json!({"approve_device": code}));
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"AccessKeyId\""));
    let stats = w.sso.stats();
    assert!(
        stats["errors"]["AuthorizationPendingException"]
            .as_u64()
            .unwrap_or(0)
            >= 1,
        "{stats}"
    );
    assert_eq!(w.launches(), 0, "--use-device-code opens no browser");
    assert_eq!(w.count("operations", "StartDeviceAuthorization"), 1);
}

#[test]
fn twenty_parallel_cold_exports_make_one_sign_in_and_one_role_call_per_role() {
    let w = world();
    let children: Vec<_> = (0..20)
        .map(|i| {
            let profile = if i % 2 == 0 { "dev" } else { "ro" };
            w.vault(["export", profile, "--format", "json"]).spawn()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(output.status.success(), "{output:?}");
        let json: Value = serde_json::from_slice(&output.stdout).unwrap();
        assert!(json["AccessKeyId"].as_str().is_some_and(|k| !k.is_empty()));
        // Each says nothing, or that it opened the browser, or that it waited for the sign-in.
        let stderr = String::from_utf8_lossy(&output.stderr);
        for line in stderr.lines() {
            assert!(
                line.starts_with("vault: opening the IAM Identity Center sign-in page")
                    || line.contains("/authorize?")
                    || line.starts_with("vault: waiting for "),
                "{stderr}"
            );
        }
    }
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("operations", "RegisterClient"), 1);
    assert_eq!(w.count("operations", "CreateToken"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/Developer"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/ReadOnly"), 1);
}

#[test]
fn an_expired_access_token_is_renewed_with_the_refresh_token_and_a_refused_one_signs_in_once() {
    let w = world();
    // Role credentials shorter than AWS_MIN_TTL, so every command needs the token again.
    w.sso.configure(&json!({"role_credentials_ttl": 60}));
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    w.sso.configure(&json!({"expire_access_tokens": true}));
    w.vault(["export", "dev", "--format", "json"]).run();
    assert_eq!(w.launches(), 1, "a refresh opens no browser");
    assert_eq!(w.count("create_token", "refresh_token"), 1);
    // The service rotates refresh tokens (the old one stops working): a second renewal works
    // only if vault kept the new one.
    w.sso.configure(&json!({"expire_access_tokens": true}));
    w.vault(["export", "dev", "--format", "json"]).run();
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("create_token", "refresh_token"), 2);
    assert_eq!(
        w.sso.stats()["errors"]["InvalidGrantException"],
        Value::Null
    );
    // A refused refresh token: one sign-in, then success.
    w.sso
        .configure(&json!({"expire_access_tokens": true, "revoke_refresh_tokens": true}));
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    assert_eq!(w.launches(), 2);
    assert_eq!(w.count("create_token", "authorization_code"), 2);
    assert_eq!(
        w.count("operations", "RegisterClient"),
        1,
        "the client is kept"
    );
}

#[test]
fn logout_ends_the_sign_in_and_the_next_command_signs_in_again() {
    let w = world();
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    w.vault(["sso", "logout", "dev"])
        .stderr(&format!(
            "Signed out of {START_URL}; removed its token and 1 cached role session(s)\n"
        ))
        .run();
    assert_eq!(w.count("operations", "Logout"), 1);
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    assert_eq!(w.launches(), 2);
}

#[test]
fn sso_login_signs_in_ahead_of_time() {
    let w = world();
    w.vault(["sso", "login", "dev"])
        .stderr_like(&format!("{OPENING}Signed in to {START_URL} until [..]\n"))
        .run();
    w.vault(["export", "ro", "--format", "json"]).run();
    assert_eq!(w.launches(), 1);
}

#[test]
fn a_role_the_user_may_not_use_and_a_declined_sign_in_say_so_and_store_nothing() {
    let w = world();
    w.sso.configure(&json!({"deny_authorization": true}));
    w.vault(["export", "dev", "--format", "json"])
        .status(1)
        .stderr_like(&format!(
            "{OPENING}vault: error: IAM Identity Center sign-in for {START_URL}: the sign-in was declined or not completed (access_denied); run the command again to retry\n"
        ))
        .run();
    w.sso
        .configure(&json!({"deny_authorization": false, "assignments": [{
            "accountId": "111111111111", "accountName": "dev", "emailAddress": "d@example.com",
            "roles": ["ReadOnly"]
        }]}));
    w.vault(["export", "dev", "--format", "json"])
        .status(1)
        .stderr_like(&format!(
            "{OPENING}vault: error: profile dev: the signed-in user may not use role Developer in account 111111111111 (No access); check sso_account_id and sso_role_name, or ask your administrator for the assignment\n"
        ))
        .run();
}

/// Reads the child's stderr until a line that is a URL containing `needle`, and returns it.
fn read_until_url(child: &mut std::process::Child, needle: &str) -> String {
    use std::io::BufRead;
    let stderr = child.stderr.take().expect("piped stderr");
    let mut lines = std::io::BufReader::new(stderr).lines();
    let url = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|line| line.starts_with("http://") && line.contains(needle))
        .expect("a URL on stderr");
    // Keep draining so vault never blocks on a full pipe.
    std::thread::spawn(move || lines.for_each(drop));
    url
}

#[test]
fn with_share_cli_cache_boto3s_own_sso_provider_uses_vaults_sign_in() {
    let w = world();
    w.vault(["--share-cli-cache", "export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    let cache = w.t.home().join(".aws/sso/cache");
    let files: Vec<_> = std::fs::read_dir(&cache).unwrap().flatten().collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mode = std::os::unix::fs::PermissionsExt::mode(&files[0].metadata().unwrap().permissions());
    assert_eq!(mode & 0o777, 0o600);
    // boto3 with the same config and no vault at all: its SSO provider reads the cache file.
    let script = "import boto3\nprint(boto3.Session(profile_name='dev').client('sts').get_caller_identity()['Arn'])\n";
    let output =
        w.t.command(&crate::support::sso::python().to_string_lossy())
            .args(["-c", script])
            .env("AWS_ENDPOINT_URL_SSO", &w.sso.endpoint)
            .env("AWS_ENDPOINT_URL_SSO_OIDC", &w.sso.endpoint)
            .output()
            .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    assert!(
        String::from_utf8_lossy(&output.stdout)
            .trim_end()
            .ends_with(":assumed-role/Developer/sso-user"),
        "{output:?}"
    );
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("role_credentials", "111111111111/Developer"), 2);
    // Logging out removes vault's copy there too.
    w.vault(["sso", "logout", "dev"])
        .stderr(&format!(
            "Signed out of {START_URL}; removed its token and 1 cached role session(s)\n"
        ))
        .run();
    assert_eq!(std::fs::read_dir(&cache).unwrap().count(), 0);
}

#[test]
fn without_share_cli_cache_nothing_is_written_in_plaintext() {
    let w = world();
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    assert!(!w.t.home().join(".aws/sso").exists());
}

#[test]
fn an_abandoned_sign_in_gives_up_after_the_timeout_and_stores_nothing() {
    let w = world();
    w.vault(["export", "dev", "--format", "json"])
        .env("VAULT_SSO_SIGNIN_TIMEOUT", "2s")
        .env("FAKE_BROWSER_FETCH", "0")
        .status(1)
        .stderr_like(&format!(
            "{OPENING}vault: error: IAM Identity Center sign-in for {START_URL}: no sign-in arrived within 2s; run the command again to retry (or set VAULT_SSO_SIGNIN_TIMEOUT to wait longer)\n"
        ))
        .run();
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("operations", "CreateToken"), 0);
    // Nothing was kept: the next command signs in again (and this time the browser does).
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    assert_eq!(w.launches(), 2);
}

#[test]
fn an_unreachable_service_says_where_it_tried() {
    let w = world();
    w.t.vault(["export", "dev", "--format", "json"])
        .env("AWS_ENDPOINT_URL_SSO_OIDC", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_SSO", "http://127.0.0.1:9")
        .status(1)
        .stderr_like(&format!(
            "vault: error: IAM Identity Center sign-in for {START_URL}: cannot reach the IAM Identity Center OIDC service after 3 attempts: [..]; check sso_region (eu-west-1), the endpoint variables and the network\n"
        ))
        .run();
}

#[test]
fn sso_login_takes_an_sso_session_by_name_and_config_mistakes_name_the_key() {
    let w = world();
    w.vault(["sso", "login", "--sso-session", "corp"])
        .stderr_like(&format!("{OPENING}Signed in to {START_URL} until [..]\n"))
        .run();
    w.vault(["export", "dev", "--format", "json"]).run();
    assert_eq!(w.launches(), 1);
    w.vault(["sso", "login", "--sso-session", "nope"])
        .status(1)
        .stderr(&format!(
            "vault: error: {} has no [sso-session nope] section\n",
            w.t.config_path().display()
        ))
        .run();
    w.t.write_config(&format!(
        "{}[profile broken]\nsso_session = corp\nsso_role_name = Developer\n",
        config()
    ));
    w.vault(["export", "broken"])
        .status(1)
        .stderr(&format!(
            "vault: error: profile broken: an IAM Identity Center profile needs sso_account_id ({} line 18)\n",
            w.t.config_path().display()
        ))
        .run();
    // A role chain from an SSO profile signs in through it; with a live refresh token,
    // `sso login` renews without a browser.
    w.vault(["sso", "login", "admin"])
        .stderr_like(&format!("Signed in to {START_URL} until [..]\n"))
        .run();
    assert_eq!(w.launches(), 1);
    assert_eq!(w.count("create_token", "refresh_token"), 1);
    w.t.write_config("[profile plain]\nregion = us-east-1\n");
    w.vault(["sso", "logout", "plain"])
        .status(1)
        .stderr("vault: error: profile plain: credentials missing; store keys with `vault add plain`, or give the profile a source_profile, credential_process or web identity\n")
        .run();
}

#[test]
fn populate_adds_a_profile_per_account_and_role_and_keeps_what_is_there() {
    let w = world();
    w.sso.configure(&json!({"page_size": 1, "assignments": [
        {"accountId": "111111111111", "accountName": "dev", "emailAddress": "d@example.com",
         "roles": ["Developer", "ReadOnly"]},
        {"accountId": "222222222222", "accountName": "Prod EU", "emailAddress": "p@example.com",
         "roles": ["ReadOnly"]},
        {"accountId": "333333333333", "accountName": "audit", "emailAddress": "a@example.com",
         "roles": ["Auditor"]}
    ]}));
    let before = w.t.read_config();
    w.vault(["sso", "populate", "--dry-run"])
        .stdout(
            "[profile dev/Developer]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\nregion = eu-west-1\n\n\
             [profile dev/ReadOnly]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = ReadOnly\nregion = eu-west-1\n\n\
             [profile Prod-EU/ReadOnly]\nsso_session = corp\nsso_account_id = 222222222222\nsso_role_name = ReadOnly\nregion = eu-west-1\n\n\
             [profile audit/Auditor]\nsso_session = corp\nsso_account_id = 333333333333\nsso_role_name = Auditor\nregion = eu-west-1\n\n",
        )
        .stderr_like(OPENING)
        .run();
    assert_eq!(w.t.read_config(), before, "--dry-run writes nothing");
    w.t.write_config(&format!(
        "{before}[profile dev/ReadOnly]\nregion = eu-west-1\n"
    ));
    w.vault(["sso", "populate"])
        .stdout("dev/Developer\nProd-EU/ReadOnly\naudit/Auditor\n")
        .stderr(&format!(
            "Added 3 profile(s) for [sso-session corp] to {}; 1 existed already\n",
            w.t.config_path().display()
        ))
        .run();
    let after = w.t.read_config();
    assert!(
        after.starts_with(&before),
        "the old text is kept byte for byte"
    );
    assert!(after.contains("[profile dev/ReadOnly]\nregion = eu-west-1\n"));
    // A populated profile works straight away, with the sign-in already kept.
    let done = w
        .vault([
            "exec",
            "audit/Auditor",
            "--",
            "aws",
            "sts",
            "get-caller-identity",
        ])
        .run();
    assert!(caller_arn(&done).ends_with(":assumed-role/Auditor/sso-user"));
    assert_eq!(w.launches(), 1);
    let stats = w.sso.stats();
    assert!(
        stats["operations"]["ListAccounts"].as_u64().unwrap() >= 3,
        "paged: {stats}"
    );
    // Run again: nothing new.
    w.vault(["sso", "populate"])
        .stderr(&format!(
            "Added 0 profile(s) for [sso-session corp] to {}; 4 existed already\n",
            w.t.config_path().display()
        ))
        .run();
}

#[test]
fn list_shows_each_sign_in_with_its_time_left_or_that_it_can_be_renewed() {
    let w = world();
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    let done = w.vault(["list"]).run();
    let lines: Vec<&str> = done.stdout.lines().map(str::trim_end).collect();
    assert!(
        crate::support::like(
            &lines.join("\n"),
            "Profile                  Credentials              Sessions\n\
             =======                  ===========              ========\n\
             dev                      -                        oidc:corp:[..]m[..]s, sso.GetRoleCredentials:[..]m[..]s\n\
             ro                       -                        oidc:corp:[..]m[..]s\n\
             admin                    -                        -"
        ),
        "{}",
        done.stdout
    );
    // aws-vault's session list keeps its own labels.
    w.vault(["list", "--sessions"])
        .stdout_like("oidc:corp\nsso.GetRoleCredentials:[..]m[..]s\n")
        .run();
    w.sso.configure(&json!({"expire_access_tokens": true}));
    let done = w.vault(["list", "--json"]).run();
    let rows: Value = serde_json::from_str(&done.stdout).unwrap();
    assert_eq!(rows[0]["sessions"][0]["renewable"], true, "{rows}");
    assert_eq!(rows[0]["sessions"][0]["type"], "oidc");
}

#[test]
fn the_hook_never_opens_a_browser_and_marks_a_needed_sign_in() {
    let w = world();
    w.vault(["sso", "login", "dev"])
        .stderr_like(&format!("{OPENING}Signed in to {START_URL} until [..]\n"))
        .run();
    // Signed out behind the shell's back: only a new sign-in can renew the credentials.
    let script = [
        r#"eval "$("$VAULT" hook bash)"
vault use dev
"$VAULT" sso logout dev 2>/dev/null
"#,
        REFRESH_IN_BASH,
        "echo \"segment=$VAULT_SEGMENT\"\n",
    ]
    .concat();
    let output = w.bash(&script);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.trim_end().ends_with('!'),
        "the needs-you mark: {stdout}"
    );
    assert!(
        crate::support::like(
            stderr.trim_end(),
            &format!(
                "vault: the credentials of dev could not be refreshed: an SSO sign-in is needed (an IAM Identity Center sign-in is needed for {START_URL}; run: vault sso login, or the command again in a terminal)[..]"
            )
        ),
        "{stderr}"
    );
    assert_eq!(w.launches(), 1, "the hook opened no browser");
    assert_eq!(w.sso.stats()["authorize"], 1);
}

#[test]
fn a_stored_token_the_portal_refuses_is_renewed_once_without_a_browser() {
    let w = world();
    w.vault(["export", "dev", "--format", "json"])
        .stderr_like(OPENING)
        .run();
    // The service ends the access token early; vault still thinks it has an hour.
    w.sso.configure(&json!({"expire_access_tokens": true}));
    w.vault(["export", "ro", "--format", "json"]).run();
    let stats = w.sso.stats();
    assert_eq!(stats["errors"]["UnauthorizedException"], 1, "{stats}");
    assert_eq!(w.count("create_token", "refresh_token"), 1);
    assert_eq!(w.count("role_credentials", "111111111111/ReadOnly"), 2);
    assert_eq!(w.launches(), 1);
}

#[test]
fn callers_that_waited_for_a_sign_in_that_failed_do_not_each_open_a_tab() {
    let w = world();
    // The sign-in page is left unanswered for a while, then declined.
    w.sso.configure(&json!({"deny_authorization": true}));
    let children: Vec<_> = (0..5)
        .map(|_| {
            w.vault(["export", "dev", "--format", "json"])
                .env("FAKE_BROWSER_DELAY", "1")
                .spawn()
        })
        .collect();
    let mut declined = 0;
    let mut did_not_complete = 0;
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert_eq!(output.status.code(), Some(1), "{output:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        if stderr.contains("the sign-in was declined or not completed") {
            declined += 1;
        }
        if stderr.contains("the sign-in another vault process started did not complete") {
            did_not_complete += 1;
        }
    }
    assert_eq!(w.launches(), 1, "one browser tab");
    assert_eq!(declined + did_not_complete, 5);
    assert_eq!(declined, 1);
}

#[test]
fn populate_keeps_accounts_apart_and_refuses_values_the_config_cannot_hold() {
    let w = world();
    w.sso.configure(&json!({"assignments": [
        {"accountId": "111111111111", "accountName": "本番", "emailAddress": "a@example.com",
         "roles": ["Admin"]},
        {"accountId": "222222222222", "accountName": "本番", "emailAddress": "b@example.com",
         "roles": ["Admin"]}
    ]}));
    w.vault(["sso", "populate"])
        .stdout("111111111111/Admin\n222222222222/Admin\n")
        .stderr_like(&format!(
            "{OPENING}Added 2 profile(s) for [sso-session corp] to {}; 0 existed already\n",
            w.t.config_path().display()
        ))
        .run();
    let before = w.t.read_config();
    w.vault(["sso", "populate", "--region", "eu-west-1\ncredential_process = evil"])
        .status(1)
        .stderr("vault: error: --region 'eu-west-1\\x0acredential_process = evil' cannot go into the AWS config; nothing was written\n")
        .run();
    assert_eq!(w.t.read_config(), before);
}

#[test]
fn a_wrong_sso_region_says_which_region_to_check_and_stores_nothing() {
    let w = world();
    w.t.write_config(
        "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = xx-nowhere-1\n\
         [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\nsso_role_name = Developer\n",
    );
    // The region's own endpoint, oidc.xx-nowhere-1.amazonaws.com, which does not exist.
    w.t.vault(["export", "dev", "--format", "json"])
        .env_remove("AWS_ENDPOINT_URL")
        .status(1)
        .stderr_like(&format!(
            "vault: error: IAM Identity Center sign-in for {START_URL}: cannot reach the IAM Identity Center OIDC service after 3 attempts: [..]; check sso_region (xx-nowhere-1), the endpoint variables and the network\n"
        ))
        .run();
    assert!(!w.t.keys_dir().exists() || std::fs::read_dir(w.t.keys_dir()).unwrap().count() == 0);
}

#[test]
fn use_in_zsh_keeps_sso_credentials_fresh_past_their_first_expiry_with_no_browser() {
    let w = world();
    // Role credentials of 8 s, a cache that keeps such short ones, and the refresh window
    // opened through the hook's own variable, as the shell tests do.
    w.sso.configure(&json!({"role_credentials_ttl": 8}));
    w.vault(["sso", "login", "dev"])
        .stderr_like(&format!("{OPENING}Signed in to {START_URL} until [..]\n"))
        .run();
    let script = r#"
zmodload zsh/datetime
eval "$("$VAULT" hook zsh)"
vault use dev
first=$VAULT_EXPIRES_AT
print -r -- "use|$AWS_ACCESS_KEY_ID|$VAULT_EXPIRES_AT"
sleep 2
VAULT_REFRESH_AT=1
__vault_precmd
for i in {1..400}; do
  seen=
  if [[ -r $__VAULT_STATUS_DIR/$$ ]]; then read -r seen _ <"$__VAULT_STATUS_DIR/$$"; fi
  [[ $seen == "$__vault_attempt" ]] && break
  sleep 0.05
done
__vault_precmd
print -r -- "renewed|$AWS_ACCESS_KEY_ID|$VAULT_EXPIRES_AT"
# Past the first credentials' expiry: the shell's are still valid.
while (( EPOCHSECONDS <= first )); do sleep 0.2; done
print -r -- "later|$(( VAULT_EXPIRES_AT > EPOCHSECONDS ))|${VAULT_SEGMENT%% *}"
aws sts get-caller-identity --query Arn --output text
"#;
    let output = w
        .command("zsh")
        .args(["-f", "-c", script])
        .env("AWS_MIN_TTL", "1s")
        .output()
        .expect("zsh runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stdout}\n{stderr}");
    assert_eq!(stderr, "", "{stdout}");
    let lines: Vec<Vec<&str>> = stdout.lines().map(|l| l.split('|').collect()).collect();
    assert_eq!(lines.len(), 4, "{stdout}");
    assert_ne!(lines[1][1], lines[0][1], "new credentials: {stdout}");
    let expiry = |i: usize| lines[i][2].parse::<i64>().unwrap();
    assert!(expiry(1) > expiry(0), "{stdout}");
    assert_eq!(
        lines[2][1..],
        ["1", "dev"],
        "still valid past the first expiry: {stdout}"
    );
    assert!(
        lines[3][0].ends_with(":assumed-role/Developer/sso-user"),
        "{stdout}"
    );
    assert_eq!(w.launches(), 1, "only the sign-in before the shell");
    assert_eq!(w.count("create_token", "authorization_code"), 1);
}

#[test]
fn without_a_browser_the_sign_in_falls_back_to_a_device_code() {
    let w = world();
    let mut child = w
        .vault(["export", "dev", "--format", "json"])
        .env("BROWSER", "no-such-browser-anywhere")
        .spawn();
    let url = read_until_url(&mut child, "/device?");
    assert!(url.contains("/device?user_code="), "{url}");
    let code = url.rsplit('=').next().unwrap().to_owned();
    w.sso.configure(&json!({"approve_device": code}));
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("\"AccessKeyId\""));
    assert_eq!(w.count("operations", "StartDeviceAuthorization"), 1);
    assert_eq!(w.count("create_token", "authorization_code"), 0);
}
