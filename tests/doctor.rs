//! `vault doctor` (issue 17): a healthy set-up exits 0; the hook missing, `AWS_ACCESS_KEY_ID`
//! set, plaintext keys, an unresolvable `source_profile` and STS unreachable each exit 1 and
//! name the fix; `--json` gives the same verdicts.
//!
//! The hook is loaded the way a user loads it: a real bash evals `vault hook bash`, and
//! `vault doctor` runs through its `vault` function. STS is moto, named by `endpoint_url` in
//! the config file (an endpoint in the environment is itself one of the problems doctor
//! reports).

use crate::support::{Done, Run, Sandbox, moto};

const VAULT: &str = env!("CARGO_BIN_EXE_vault");
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// A sandbox whose default profile sends STS calls to `endpoint`.
fn sandbox(endpoint: &str) -> Sandbox {
    let t = Sandbox::new();
    t.write_config(&format!(
        "[default]\nregion = eu-west-1\nendpoint_url = {endpoint}\n"
    ));
    t
}

/// `vault doctor ARGS` through the hook's function in a real bash.
fn doctor_in_bash(t: &Sandbox, args: &str) -> Run {
    t.program("bash")
        .args([
            "--noprofile",
            "--norc",
            "-c",
            &format!("eval \"$(\"$VAULT\" hook bash)\"\nvault doctor {args}"),
        ])
        .env("VAULT", VAULT)
}

/// What a healthy sandbox prints, line by line, after the hook's two lines.
fn healthy_rest(t: &Sandbox, endpoint: &str) -> String {
    let home = t.home().display().to_string();
    format!(
        "\
ok       keystore: vault uses the file backend (chosen by AWS_VAULT_BACKEND); it holds keys for 0 profile(s)
note     passphrase: the file keystore's passphrase comes from AWS_VAULT_FILE_PASSPHRASE, so it is never asked or cached
ok       config: {home}/.aws/config parses, and every source_profile, include_profile and sso_session of its 1 profile(s) resolves
ok       credentials: no plaintext keys: {home}/.aws/credentials does not exist
ok       env: no AWS_ACCESS_KEY_ID, AWS_PROFILE or AWS_ENDPOINT_URL overrides vault here
note     sts: profile 'default' sends its STS calls to {endpoint}, as endpoint_url of profile 'default' in the AWS config file says
ok       sts: STS for profile 'default' answers at {endpoint}
ok       clock: this machine's clock is within [..] of STS's
"
    )
}

const HOOK_LINES: &str = "\
ok       hook: the bash hook of vault VERSION is loaded in this shell
ok       completion: tab completion of vault is registered in this shell
";

fn hook_lines() -> String {
    HOOK_LINES.replace("VERSION", VERSION)
}

#[test]
fn a_healthy_set_up_passes_every_check_and_exits_0() {
    let endpoint = moto::shared().endpoint();
    let t = sandbox(&endpoint);
    doctor_in_bash(&t, "")
        .stdout_like(&(hook_lines() + &healthy_rest(&t, &endpoint)))
        .run();
}

#[test]
fn without_the_hook_doctor_names_the_line_to_add() {
    let endpoint = moto::shared().endpoint();
    let t = sandbox(&endpoint);
    let hook = "problem  hook: the vault hook is not loaded in this shell, so `vault use` cannot work here; \
                fix: add `eval \"$(vault hook zsh)\"` to ~/.zshrc and open a new shell\n";
    t.vault(["doctor"])
        .env("SHELL", "/bin/zsh")
        .status(1)
        .stdout_like(&(hook.to_owned() + &healthy_rest(&t, &endpoint)))
        .run();
}

#[test]
fn access_keys_in_the_environment_are_a_problem_unless_vault_put_them_there() {
    let t = sandbox(&moto::shared().endpoint());
    let line = "problem  env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are set in the environment, \
                so the aws CLI and SDKs use those keys instead of vault's; fix: \
                `unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN`, and remove the line \
                that sets them from your shell's startup files\n";
    let done = doctor_in_bash(&t, "")
        .env("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEEXAMPLE01")
        .env("AWS_SECRET_ACCESS_KEY", "never-shown-secret")
        .status(1)
        .stdout_has(line)
        .output_lacks("never-shown-secret")
        .run();
    assert_eq!(problems(&done), ["env"]);

    // The same variables put there by `vault use` (AWS_VAULT names the profile) are vault's own.
    doctor_in_bash(&t, "")
        .env("AWS_ACCESS_KEY_ID", "ASIAEXAMPLEEXAMPLE01")
        .env("AWS_SECRET_ACCESS_KEY", "never-shown-secret")
        .env("AWS_VAULT", "default")
        .stdout_has("ok       env: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY hold the credentials of profile 'default', from vault\n")
        .output_lacks("never-shown-secret")
        .run();
}

#[test]
fn an_endpoint_in_the_environment_is_a_problem_and_one_in_the_config_a_note() {
    let endpoint = moto::shared().endpoint();
    let t = Sandbox::new().with_endpoint(endpoint.clone());
    let done = doctor_in_bash(&t, "")
        .status(1)
        .stdout_has(&format!(
            "problem  env: AWS_ENDPOINT_URL={endpoint} sends vault's AWS calls, and every other AWS tool's, \
             to that address; fix: `unset AWS_ENDPOINT_URL`; to send one profile's calls there on purpose, \
             write `endpoint_url = {endpoint}` in its section of the AWS config file\n"
        ))
        .stdout_has(&format!("ok       sts: STS for profile 'default' answers at {endpoint}\n"))
        .run();
    assert_eq!(problems(&done), ["env"]);
}

#[test]
fn plaintext_keys_in_the_credentials_file_are_named_by_profile_only() {
    let t = sandbox(&moto::shared().endpoint());
    let credentials = t.home().join(".aws/credentials");
    std::fs::write(
        &credentials,
        "[default]\naws_access_key_id = AKIAEXAMPLEEXAMPLE02\naws_secret_access_key = plain-secret\n\
         [work]\naws_access_key_id = AKIAEXAMPLEEXAMPLE03\naws_secret_access_key = plain-secret-2\n",
    )
    .unwrap();
    let done = doctor_in_bash(&t, "")
        .status(1)
        .stdout_has(&format!(
            "problem  credentials: {} holds plaintext access keys for 'default' and 'work'; \
             fix: `vault import default work` moves them into the keystore and out of the file\n",
            credentials.display()
        ))
        .output_lacks("plain-secret")
        .output_lacks("AKIAEXAMPLEEXAMPLE02")
        .run();
    assert_eq!(problems(&done), ["credentials"]);
}

#[test]
fn a_source_profile_that_resolves_nowhere_is_named_with_the_close_name() {
    let endpoint = moto::shared().endpoint();
    let t = Sandbox::new();
    t.write_config(&format!(
        "[default]\nendpoint_url = {endpoint}\n\
         [profile user]\nregion = eu-west-1\n\
         [profile role]\nsource_profile = usr\nrole_arn = arn:aws:iam::123456789012:role/r\n"
    ));
    let done = doctor_in_bash(&t, "")
        .status(1)
        .stdout_has(&format!(
            "problem  config: profile 'role' has source_profile = usr, but {} has no such profile and \
             no keys are stored for it; did you mean 'user'?; fix: correct source_profile in profile \
             'role', or store keys for 'usr' with `vault add usr`\n",
            t.config_path().display()
        ))
        .run();
    assert_eq!(problems(&done), ["config"]);
}

#[test]
fn sts_on_a_closed_port_is_unreachable_and_says_what_to_check() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    let t = sandbox(&endpoint);
    let done = doctor_in_bash(&t, "")
        .status(1)
        .stdout_has(&format!(
            "problem  sts: cannot reach STS for profile 'default' at {endpoint}: the connection was \
             refused; fix: check endpoint_url of profile 'default' in the AWS config file, the network \
             and HTTPS_PROXY if this network needs a proxy\n"
        ))
        .run();
    assert_eq!(problems(&done), ["sts"]);
}

#[test]
fn json_gives_the_same_verdicts_as_the_text() {
    let endpoint = moto::shared().endpoint();
    let t = sandbox(&endpoint);
    std::fs::write(
        t.home().join(".aws/credentials"),
        "[old]\naws_secret_access_key = plain-secret\n",
    )
    .unwrap();
    let text = doctor_in_bash(&t, "").status(1).run();
    let json = doctor_in_bash(&t, "--json")
        .status(1)
        .output_lacks("plain-secret")
        .run();
    let parsed: serde_json::Value = serde_json::from_str(&json.stdout).expect("doctor --json");
    let from_json: Vec<(String, bool)> = parsed
        .as_array()
        .expect("an array")
        .iter()
        .map(|finding| {
            assert!(finding["detail"].is_string(), "{finding}");
            assert_eq!(
                finding["fix"].is_string(),
                finding["ok"] == false,
                "a fix exactly for each problem: {finding}"
            );
            (
                finding["check"].as_str().expect("check").to_owned(),
                finding["ok"].as_bool().expect("ok"),
            )
        })
        .collect();
    let from_text: Vec<(String, bool)> = text
        .stdout
        .lines()
        .map(|line| {
            let (label, rest) = line.split_once(' ').expect("a label");
            let check = rest.trim_start().split_once(':').expect("a check").0;
            (check.to_owned(), label != "problem")
        })
        .collect();
    assert_eq!(from_json, from_text);
    assert!(from_json.contains(&("credentials".to_owned(), false)));
}

/// The checks a text run reported as problems.
fn problems(done: &Done) -> Vec<String> {
    done.stdout
        .lines()
        .filter_map(|line| line.strip_prefix("problem  "))
        .map(|rest| rest.split_once(':').expect("a check").0.to_owned())
        .collect()
}
