//! Messages a person can act on: a typo in a config link names the close name instead of
//! advising to store keys for the typo.

use crate::support::Sandbox;

const CONFIG: &str = "[profile user]\n\
[profile role]\nsource_profile = usr\nrole_arn = arn:aws:iam::123456789012:role/r\n\
[profile inc]\ninclude_profile = usre\n\
[profile s]\nsso_session = corpp\nsso_account_id = 123456789012\nsso_role_name = r\n\
[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = us-east-1\n";

#[test]
fn a_typo_in_source_profile_include_profile_or_sso_session_suggests_the_close_name() {
    let t = Sandbox::new();
    t.write_config(CONFIG);
    t.add("user", "AKIAUSER", "s");
    let config = t.config_path().display().to_string();
    for (profile, says) in [
        (
            "role",
            format!(
                "profile role has source_profile = usr, but there is no profile usr in {config} \
                 and no keys are stored for it; did you mean 'user'?"
            ),
        ),
        (
            "inc",
            format!(
                "profile 'inc' has include_profile = usre, but {config} has no such profile; did \
                 you mean 'user'?"
            ),
        ),
        (
            "s",
            format!(
                "profile 's' uses sso_session 'corpp', but {config} has no [sso-session corpp] \
                 section; did you mean 'corp'?"
            ),
        ),
    ] {
        t.vault(["export", profile])
            .status(1)
            .stderr(&format!("vault: error: {says}\n"))
            .run();
    }
}

#[test]
fn sts_out_of_reach_is_named_in_plain_words_by_every_command() {
    // A port nothing listens on, and a name no DNS knows.
    for endpoint in ["http://127.0.0.1:9", "http://sts.vault-test.invalid"] {
        let t = Sandbox::new().with_endpoint(endpoint.to_owned());
        t.write_config("[default]\nregion = us-east-1\n[profile user]\n");
        t.add("user", "AKIAUSER", "s");
        for command in [
            &["exec", "user", "--", "true"][..],
            &["export", "user"],
            &["login", "user", "--stdout"],
            &["rotate", "user"],
            &["use", "user", "--shell", "bash"],
        ] {
            let done = t
                .vault(command)
                .status(1)
                .stderr_any("checked below: a retried failure may also say vault is waiting")
                .run();
            let error = format!(
                "vault: error: profile user: [..] failed: cannot reach STS at {endpoint} after 3 \
                 attempts: [..]; check AWS_ENDPOINT_URL, any proxy (HTTPS_PROXY, NO_PROXY) and \
                 the network"
            );
            let waiting = format!("vault: waiting for STS at {endpoint}");
            let lines: Vec<&str> = done.stderr.lines().collect();
            assert!(
                matches!(lines.as_slice(), [last] | [_, last] if crate::support::like(last, &error))
                    && lines.iter().rev().skip(1).all(|line| *line == waiting),
                "{command:?}: {}",
                done.stderr
            );
            assert!(!done.stderr.contains('{'), "{command:?}: {}", done.stderr);
        }
    }
}

#[test]
fn use_and_unuse_say_what_they_did_in_one_line_unless_quiet() {
    let t = Sandbox::new();
    t.write_config(&format!(
        "[profile role]\nregion = eu-west-1\n{}",
        crate::support::two_hour_process(&t)
    ));
    let done = t
        .vault(["use", "role", "--shell", "bash"])
        .env_remove("AWS_VAULT_QUIET")
        .stderr_like("vault: using role (eu-west-1), [..] left; refreshes itself\n")
        .run();
    assert!(
        done.stdout.contains("export AWS_VAULT='role'"),
        "{}",
        done.stdout
    );
    t.vault(["use", "role", "--shell", "bash"])
        .env("AWS_VAULT_QUIET", "1")
        .stderr("")
        .run();
    let state = t
        .program("bash")
        .args([
            "-c",
            &format!(
                "eval \"$('{vault}' use role --shell bash 2>/dev/null)\"; '{vault}' unuse --shell bash",
                vault = env!("CARGO_BIN_EXE_vault")
            ),
        ])
        .env_remove("AWS_VAULT_QUIET")
        .stderr("vault: stopped using role; the variables are as they were before\n")
        .run();
    assert!(state.stdout.contains("unset AWS_VAULT"), "{}", state.stdout);
}

#[test]
fn a_call_that_takes_more_than_a_second_says_vault_is_waiting() {
    use crate::support::proxy::{Mode, Proxy};
    let moto = crate::support::moto::shared();
    let proxy = Proxy::start(Mode::Slow(
        moto.port,
        std::time::Duration::from_millis(1500),
    ));
    let (_, id, secret) = moto.create_user("slow");
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config("[default]\nregion = us-east-1\n[profile user]\n");
    t.add("user", &id, &secret);
    t.vault(["export", "user"])
        .env_remove("AWS_VAULT_QUIET")
        .stdout_has("AWS_SESSION_TOKEN=")
        .stderr(&format!("vault: waiting for STS at {}\n", proxy.endpoint()))
        .run();
    // A quick call says nothing.
    proxy.set_mode(Mode::Forward(moto.port));
    t.vault(["clear"]).run();
    t.vault(["export", "user"])
        .env_remove("AWS_VAULT_QUIET")
        .stdout_has("AWS_SESSION_TOKEN=")
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 2);
}
