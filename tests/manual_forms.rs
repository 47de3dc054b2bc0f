//! Every form the aws-vault manual page documents, against moto: `--profile=`, `--session-ttl=`,
//! `--duration=`, `--no-session`, `ls`, `rm`, and aws-vault's hidden `remove --sessions-only`.

use time::OffsetDateTime;

use crate::support::federation::{Answer, Federation};
use crate::support::moto::{self, Moto};
use crate::support::proxy::{Mode, Proxy};
use crate::support::{Run, Sandbox};

const CONFIG: &str = "[profile dev]\nregion = eu-west-1\n\
[profile mfa]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/dev\n\
[profile role]\nregion = eu-west-1\nsource_profile = dev\nrole_arn = arn:aws:iam::123456789012:role/forms\n\
[profile chained]\nregion = eu-west-1\nsource_profile = mfa\nmfa_serial = arn:aws:iam::123456789012:mfa/dev\n\
role_arn = arn:aws:iam::123456789012:role/forms\n\
[profile rolerole]\nregion = eu-west-1\nsource_profile = role\nrole_arn = arn:aws:iam::123456789012:role/forms2\n";

/// A sandbox whose AWS calls go through a counting proxy in front of moto.
fn sandbox(moto: &Moto) -> (Sandbox, Proxy) {
    let proxy = Proxy::start(Mode::Forward(moto.port));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(CONFIG);
    t.add("dev", "AKIAMANUALFORMS00001", "forms-secret");
    t.add("mfa", "AKIAMANUALFORMSMFA01", "forms-mfa-secret");
    (t, proxy)
}

fn args(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

fn vault(t: &Sandbox, line: &str) -> Run {
    t.vault(args(line))
}

#[test]
fn profile_is_a_global_option_for_every_command_that_takes_one() {
    let (t, _proxy) = sandbox(moto::shared());
    vault(&t, "--profile=dev exec -- aws sts get-caller-identity")
        .stdout_has("\"Arn\"")
        .run();
    vault(&t, "exec --profile dev -- env")
        .stdout_has("AWS_VAULT=dev\n")
        .run();
    vault(&t, "export --profile=dev --format env")
        .stdout_has("AWS_ACCESS_KEY_ID=")
        .run();
    vault(&t, "--profile dev use")
        .env("__VAULT_SHELL", "bash")
        .stdout_has("export AWS_VAULT='dev'")
        .run();
    // The same name twice is no conflict.
    vault(&t, "--profile=dev exec dev -- true").run();

    let federation = Federation::start(Answer::Token("TOKEN"));
    vault(&t, "login --profile=dev --stdout")
        .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
        .stdout_has("SigninToken=TOKEN")
        .run();

    vault(&t, "add --profile=extra --env --no-add-config")
        .env("AWS_ACCESS_KEY_ID", "AKIAMANUALFORMSEXTRA")
        .env("AWS_SECRET_ACCESS_KEY", "extra")
        .stdout_has("Added credentials to profile \"extra\"")
        .run();
    vault(&t, "remove --profile=extra -f")
        .stdout("Deleted credentials.\n")
        .run();
    vault(&t, "--profile=dev clear").stdout_has("Cleared").run();
}

#[test]
fn rotate_takes_the_global_profile_too() {
    let auth = moto::authenticated();
    let (_, id, secret) = auth.create_user(
        "forms",
        &["iam:CreateAccessKey", "iam:DeleteAccessKey"],
        &[],
    );
    let t = Sandbox::new().with_endpoint(auth.moto.endpoint());
    t.write_config("[profile dev]\nregion = us-east-1\n");
    t.add("dev", &id, &secret);
    vault(&t, "rotate --profile=dev --no-session")
        .stdout_has("Finished rotating access key")
        .run();
    assert!(!auth.accepts((&id, &secret)));
}

#[test]
fn two_different_profiles_are_a_usage_error_that_names_both_and_calls_nothing() {
    let (t, proxy) = sandbox(moto::shared());
    for (line, argument, flag) in [
        ("--profile=dev exec role -- true", "role", "dev"),
        ("export role --profile dev", "role", "dev"),
        ("--profile=role remove dev -f", "dev", "role"),
    ] {
        vault(&t, line)
            .status(2)
            .stderr(&format!(
                "vault: error: two profiles given: '{argument}' as the argument and '{flag}' \
                 with --profile; give one\n"
            ))
            .run();
    }
    assert_eq!(proxy.total(), 0, "a usage error reached AWS");
}

#[test]
fn aws_profile_is_used_only_when_asked_for() {
    let (t, proxy) = sandbox(moto::shared());
    vault(&t, "exec -- true")
        .env("AWS_PROFILE", "dev")
        .status(2)
        .stderr(
            "vault: error: name a profile: `vault exec PROFILE` or `vault exec --profile \
             PROFILE` (set AWS_VAULT_USE_AWS_PROFILE=1 to take AWS_PROFILE)\n",
        )
        .run();
    assert_eq!(proxy.total(), 0);
    vault(&t, "exec -- true")
        .env("AWS_PROFILE", "dev")
        .env("AWS_VAULT_USE_AWS_PROFILE", "1")
        .run();
    vault(&t, "export --format env")
        .env("AWS_PROFILE", "dev")
        .env("AWS_VAULT_USE_AWS_PROFILE", "true")
        .stdout_has("AWS_ACCESS_KEY_ID=")
        .run();
}

/// Seconds from now until each cached session of `profile` expires, by session type.
#[track_caller]
fn session_lifetimes(t: &Sandbox) -> Vec<(String, i64)> {
    let listed: serde_json::Value =
        serde_json::from_str(&vault(t, "list --json").run().stdout).unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    listed
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|row| row["sessions"].as_array().cloned().unwrap_or_default())
        .map(|s| {
            (
                s["type"].as_str().unwrap().to_owned(),
                s["expires"].as_i64().unwrap() - now,
            )
        })
        .collect()
}

fn near(actual: i64, expected: i64) -> bool {
    (actual - expected).abs() <= 120
}

#[test]
fn session_ttl_sets_the_cached_sessions_lifetime() {
    let (t, proxy) = sandbox(moto::shared());
    vault(&t, "exec dev --session-ttl=2h -- true").run();
    let sessions = session_lifetimes(&t);
    assert_eq!(sessions.len(), 1, "{sessions:?}");
    assert_eq!(sessions[0].0, "sts.GetSessionToken");
    assert!(near(sessions[0].1, 7200), "{sessions:?}");
    assert_eq!(proxy.count("GetSessionToken"), 1);
    // The same flag on export and use.
    vault(&t, "clear").run();
    vault(&t, "export dev --session-ttl=3h").run();
    assert!(near(session_lifetimes(&t)[0].1, 3 * 3600));
    vault(&t, "clear").run();
    vault(&t, "use dev --session-ttl=90m")
        .env("__VAULT_SHELL", "bash")
        .run();
    assert!(near(session_lifetimes(&t)[0].1, 90 * 60));
}

#[test]
fn session_ttl_and_duration_each_apply_to_their_own_step() {
    let (t, proxy) = sandbox(moto::shared());
    // chained: long-term keys → GetSessionToken (MFA, cached) → AssumeRole (MFA, cached).
    vault(
        &t,
        "exec chained --session-ttl=5h --duration=30m --mfa-token=123456 -- true",
    )
    .run();
    // The session that feeds the role is cached for 5h; the role itself lasts 30m.
    let mut sessions = session_lifetimes(&t);
    sessions.sort();
    assert_eq!(sessions.len(), 2, "{sessions:?}");
    assert_eq!(sessions[0].0, "sts.AssumeRole");
    assert!(near(sessions[0].1, 30 * 60), "{sessions:?}");
    assert_eq!(sessions[1].0, "sts.GetSessionToken");
    assert!(near(sessions[1].1, 5 * 3600), "{sessions:?}");
    let session_calls = proxy.bodies("GetSessionToken");
    let role_calls = proxy.bodies("AssumeRole");
    assert_eq!((session_calls.len(), role_calls.len()), (1, 1));
    assert!(
        session_calls[0].contains("DurationSeconds=18000"),
        "{session_calls:?}"
    );
    assert!(
        role_calls[0].contains("DurationSeconds=1800"),
        "{role_calls:?}"
    );
    // `--duration` alone keeps its v7 meaning: the GetSessionToken duration too.
    vault(&t, "clear").run();
    vault(&t, "exec dev --duration=1h30m -- true").run();
    assert!(near(session_lifetimes(&t)[0].1, 90 * 60));
}

#[test]
fn out_of_range_durations_are_usage_errors_before_any_call() {
    let (t, proxy) = sandbox(moto::shared());
    let aws_accepts = "is out of range: AWS accepts 15m to 36h for GetSessionToken and 15m to \
                       12h for AssumeRole (1h for a role assumed with temporary credentials)";
    for (line, says) in [
        (
            "exec dev --duration=10m -- true",
            format!("--duration 10m0s {aws_accepts}"),
        ),
        (
            "exec dev --duration=37h -- true",
            format!("--duration 37h0m0s {aws_accepts}"),
        ),
        (
            "export dev --session-ttl=90s",
            format!("--session-ttl 1m30s {aws_accepts}"),
        ),
        (
            "use dev --session-ttl=40h",
            format!("--session-ttl 40h0m0s {aws_accepts}"),
        ),
        (
            "exec role --duration=13h -- true",
            "--duration 13h0m0s is out of range for profile role: AssumeRole accepts 15m to 12h"
                .to_owned(),
        ),
        (
            "exec rolerole --duration=2h -- true",
            "--duration 2h0m0s is out of range for profile rolerole: a role assumed with \
             temporary credentials lasts 1h at most"
                .to_owned(),
        ),
    ] {
        vault(&t, line)
            .env("__VAULT_SHELL", "bash")
            .status(2)
            .stderr(&format!("vault: error: {says}\n"))
            .run();
    }
    assert_eq!(proxy.total(), 0, "an out-of-range duration reached AWS");
    // Within the limits, the same forms work: 36h for a session, 12h for a role from keys.
    vault(&t, "exec dev --duration=36h -- true").run();
    vault(&t, "exec role --duration=12h -- true").run();
}

#[test]
fn aliases_no_session_and_sessions_only_work() {
    let (t, proxy) = sandbox(moto::shared());
    vault(&t, "ls --credentials").stdout("dev\nmfa\n").run();
    for line in [
        "exec dev --no-session -- true",
        "export dev --no-session",
        "use dev --no-session",
    ] {
        vault(&t, line).env("__VAULT_SHELL", "bash").run();
    }
    assert_eq!(
        proxy.count("GetSessionToken"),
        0,
        "--no-session made a session"
    );
    let federation = Federation::start(Answer::Token("TOKEN"));
    vault(&t, "login role --no-session --stdout")
        .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint())
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 0);

    // login cached the role it assumed with dev's keys.
    assert_eq!(session_lifetimes(&t).len(), 1);
    vault(&t, "exec dev -- true").run();
    assert_eq!(session_lifetimes(&t).len(), 2);
    vault(&t, "rm dev --sessions-only")
        .stdout("Deleted 1 sessions.\n")
        .run();
    assert_eq!(session_lifetimes(&t).len(), 1);
    vault(&t, "rm dev -f")
        .stdout("Deleted credentials.\n")
        .stderr("vault: also deleted 1 cached role sessions made with these keys\n")
        .run();
    assert!(session_lifetimes(&t).is_empty());
    vault(&t, "ls --credentials").stdout("mfa\n").run();
}
