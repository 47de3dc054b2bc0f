//! The hook in real bash, zsh and fish: `use` / `unuse` round trips, hostile values, failures
//! that must leave the shell as it was, and the prompt segment rules. shell_lint.rs lints it.

use std::process::Output;

use crate::support::REFRESH_IN_BASH;
use crate::support::Sandbox;

const VAULT: &str = env!("CARGO_BIN_EXE_vault");

/// A profile whose credentials come from a credential_process printing these values.
fn process_profile(name: &str, region: Option<&str>, token: &str) -> String {
    let json = serde_json::json!({
        "Version": 1, "AccessKeyId": format!("ASIA{}", name.len()), "SecretAccessKey": "secret",
        "SessionToken": token, "Expiration": "2099-01-01T00:00:00Z",
    })
    .to_string();
    let region = region
        .map(|r| format!("region = {r}\n"))
        .unwrap_or_default();
    // printf's format is the JSON with % doubled; single quotes with '\'' for a quote.
    let printf = json.replace('%', "%%").replace('\'', "'\\''");
    format!("[profile {name}]\n{region}credential_process = printf '{printf}'\n")
}

fn run(t: &Sandbox, shell: &str, script: &str) -> Output {
    let mut command = t.command(shell);
    match shell {
        "bash" => command
            .args(crate::support::STRICT_BASH)
            .args(["-c", script]),
        "zsh" => command.args(["--no-rcs", "-e", "-u", "-c", script]),
        _ => command.args(["--no-config", "-c", script]),
    };
    command
        .env("VAULT", VAULT)
        .output()
        .expect("the shell runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

const ROUND_TRIP_CONFIG_TOKENS: (&str, &str) = ("token-of-p", "token-of-q");

fn round_trip_sandbox() -> Sandbox {
    let t = Sandbox::new();
    let config = process_profile("p", Some("eu-west-1"), ROUND_TRIP_CONFIG_TOKENS.0)
        + &process_profile("q", Some("eu-north-1"), ROUND_TRIP_CONFIG_TOKENS.1);
    t.write_config(&config);
    t
}

const EXPECTED_ROUND_TRIP: &str = "\
p|orig-region|unset|token-of-p|p
q|ap-south-1|unset|token-of-q|q
after|unset|orig-region|orig-profile|unset|unset|unset
again|unset|orig-region|orig-profile
";

#[test]
fn use_and_unuse_round_trip_in_bash_and_zsh() {
    let t = round_trip_sandbox();
    let script = r#"
eval "$("$VAULT" hook SHELL)"
export AWS_REGION=orig-region AWS_PROFILE=orig-profile
unset AWS_DEFAULT_REGION AWS_VAULT
vault use p
printf '%s|%s|%s|%s|%s\n' "$AWS_VAULT" "$AWS_REGION" "${AWS_PROFILE-unset}" "$AWS_SESSION_TOKEN" "${VAULT_SEGMENT%% *}"
vault use q --region ap-south-1
printf '%s|%s|%s|%s|%s\n' "$AWS_VAULT" "$AWS_REGION" "${AWS_PROFILE-unset}" "$AWS_SESSION_TOKEN" "${VAULT_SEGMENT%% *}"
vault unuse
printf 'after|%s|%s|%s|%s|%s|%s\n' "${AWS_VAULT-unset}" "$AWS_REGION" "$AWS_PROFILE" "${AWS_SESSION_TOKEN-unset}" "${__VAULT_STATE-unset}" "${VAULT_EXPIRES_AT-unset}"
vault unuse
printf 'again|%s|%s|%s\n' "${AWS_VAULT-unset}" "$AWS_REGION" "$AWS_PROFILE"
"#;
    for shell in ["bash", "zsh"] {
        let out = stdout(&run(
            &t,
            shell,
            &script.replace("SHELL)", &format!("{shell})")),
        ));
        assert_eq!(out, EXPECTED_ROUND_TRIP, "{shell}");
    }
}

#[test]
fn use_and_unuse_round_trip_in_fish() {
    let t = round_trip_sandbox();
    let script = r"
$VAULT hook fish | source
set -gx AWS_REGION orig-region; set -gx AWS_PROFILE orig-profile
set -e AWS_DEFAULT_REGION; set -e AWS_VAULT
function show; set -q $argv[1]; and echo -n $$argv[1]; or echo -n unset; end
vault use p
printf '%s|%s|%s|%s|%s\n' $AWS_VAULT $AWS_REGION (show AWS_PROFILE) $AWS_SESSION_TOKEN (string split ' ' $VAULT_SEGMENT)[1]
vault use q --region ap-south-1
printf '%s|%s|%s|%s|%s\n' $AWS_VAULT $AWS_REGION (show AWS_PROFILE) $AWS_SESSION_TOKEN (string split ' ' $VAULT_SEGMENT)[1]
vault unuse
printf 'after|%s|%s|%s|%s|%s|%s\n' (show AWS_VAULT) $AWS_REGION $AWS_PROFILE (show AWS_SESSION_TOKEN) (show __VAULT_STATE) (show VAULT_EXPIRES_AT)
vault unuse
printf 'again|%s|%s|%s\n' (show AWS_VAULT) $AWS_REGION $AWS_PROFILE
";
    assert_eq!(stdout(&run(&t, "fish", script)), EXPECTED_ROUND_TRIP);
}

#[test]
fn a_failed_use_changes_nothing() {
    let t = round_trip_sandbox();
    t.write_config(
        &(t.read_config()
            + "[profile broken]\ncredential_process = sh -c 'exit 3'\n\
           [profile mfa]\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n"),
    );
    t.add("mfa", "AKIAMFAUSER000000001", "s");
    let script = r#"
eval "$("$VAULT" hook bash)"
vault use p
before=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)
status=0; vault use nosuchprofile 2>/dev/null || status=$?
echo "unknown: $status"
status=0; vault use broken 2>/dev/null || status=$?
echo "broken: $status"
status=0; vault use mfa --mfa-token 12 2>/dev/null || status=$?
echo "bad mfa: $status"
status=0; AWS_ENDPOINT_URL=http://127.0.0.1:1 vault use mfa --mfa-token 123456 2>/dev/null || status=$?
echo "sts down: $status"
after=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)
[ "$before" = "$after" ] && echo unchanged
"#;
    assert_eq!(
        stdout(&run(&t, "bash", script)),
        "unknown: 1\nbroken: 1\nbad mfa: 1\nsts down: 1\nunchanged\n"
    );
}

#[test]
fn an_mfa_code_sts_rejects_changes_nothing() {
    use crate::support::proxy::{Mode, Proxy};
    const REJECTED: &str = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code>\
<Message>MultiFactorAuthentication failed with invalid MFA one time pass code.</Message></Error>\
<RequestId>4</RequestId></ErrorResponse>";
    let proxy = Proxy::start(Mode::FaultOn(
        "GetSessionToken",
        403,
        REJECTED,
        crate::support::moto::shared().port,
    ));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(
        "[profile mfa]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n",
    );
    t.add("mfa", "AKIAWRONGMFA00000001", "s");
    let script = r#"
eval "$("$VAULT" hook bash)"
export AWS_PROFILE=mine
before=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)
status=0; vault use mfa --mfa-token 000000 2>/dev/null || status=$?
after=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)
echo "status $status"
[ "$before" = "$after" ] && echo unchanged
"#;
    assert_eq!(stdout(&run(&t, "bash", script)), "status 1\nunchanged\n");
    assert_eq!(proxy.count("GetSessionToken"), 1);
}

#[test]
fn the_prompt_segment_follows_the_shared_table_in_every_shell() {
    #[derive(serde::Deserialize)]
    struct Case {
        profile: Option<String>,
        left: Option<i64>,
        format: Option<String>,
        segment: String,
    }
    let cases: Vec<Case> = serde_json::from_str(include_str!("data/prompt_cases.json")).unwrap();
    let t = Sandbox::new();
    for shell in ["bash", "zsh", "fish"] {
        for case in &cases {
            // The expiry is set by the shell's own clock: `left` seconds from now.
            let set = |name: &str, value: &Option<String>| match (shell, value) {
                ("fish", Some(v)) => format!("set -gx {name} '{}'\n", v.replace('\'', "\\'")),
                ("fish", None) => format!("set -e {name}\n"),
                (_, Some(v)) => format!("export {name}='{}'\n", v.replace('\'', "'\\''")),
                (_, None) => format!("unset {name}\n"),
            };
            let mut script = match shell {
                "fish" => "$VAULT hook fish | source\n".to_owned(),
                _ => format!("eval \"$(\"$VAULT\" hook {shell})\"\n"),
            };
            script += &set("AWS_VAULT", &case.profile);
            script += &set("AWS_VAULT_PROMPT_FORMAT", &case.format);
            let expiry = match (shell, case.left) {
                (_, None) => set("VAULT_EXPIRES_AT", &None),
                // fish's clock: the boot time plus /proc/uptime; with a boot time of 0 it is the
                // uptime itself.
                ("fish", Some(left)) => format!(
                    "set -gx VAULT_CLOCK_BOOT 0; read -l up rest </proc/uptime; set -gx VAULT_EXPIRES_AT (math (string split -m1 . -- $up)[1] + {left})\n"
                ),
                (_, Some(left)) => format!("export VAULT_EXPIRES_AT=$((EPOCHSECONDS + {left}))\n"),
            };
            script += &expiry;
            script += "__vault_prompt\n";
            // A second boundary between setting the expiry and reading the clock (a loaded
            // machine) loses one second: such a run is repeated; a wrong segment is wrong every
            // time. A UTF-8 locale, so the shells see a C1 control as one character.
            let run_case = || {
                let mut command = t.command(shell);
                match shell {
                    "fish" => command.args(["--no-config", "-c", &script]),
                    "zsh" => command.args(["--no-rcs", "-e", "-u", "-c", &script]),
                    _ => command.args(["--noprofile", "--norc", "-e", "-u", "-c", &script]),
                };
                let output = command
                    .env("VAULT", VAULT)
                    .env("LC_ALL", "C.UTF-8")
                    .output()
                    .expect("the shell runs");
                stdout(&output)
            };
            let mut out = run_case();
            for _ in 0..2 {
                if out == case.segment {
                    break;
                }
                out = run_case();
            }
            assert_eq!(
                out, case.segment,
                "{shell}: {:?} {:?} {:?}",
                case.profile, case.left, case.format
            );
        }
    }
}

#[test]
fn loading_the_hook_twice_is_harmless() {
    let t = round_trip_sandbox();
    let script = r#"
eval "$("$VAULT" hook bash)"
eval "$("$VAULT" hook bash)"
printf '%s\n' "$PROMPT_COMMAND"
vault use p
vault unuse
printf '%s\n' "${AWS_VAULT-unset}"
"#;
    assert_eq!(stdout(&run(&t, "bash", script)), "__vault_precmd\nunset\n");
    let script = r#"
eval "$("$VAULT" hook zsh)"
eval "$("$VAULT" hook zsh)"
print -r -- "${precmd_functions[*]} / ${preexec_functions[*]}"
"#;
    assert_eq!(
        stdout(&run(&t, "zsh", script)),
        "__vault_precmd __vault_register_completion / __vault_preexec\n"
    );
}

#[test]
fn a_refresh_that_needs_an_mfa_code_marks_the_segment_and_says_so_once() {
    let moto = crate::support::moto::shared();
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config(
        "[profile mfa]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n",
    );
    t.add("mfa", "AKIAREFRESH000000001", "s");
    // The cached MFA session lasts no longer than the shell's credentials (it is them), so a
    // refresh needs a new code, which the hook never asks for.
    let script = format!(
        "eval \"$(\"$VAULT\" hook bash)\"\nvault use mfa --mfa-token 123456\n{REFRESH_IN_BASH}__vault_precmd\n__vault_precmd\nprintf '%s|%s\\n' \"$VAULT_SEGMENT\" \"$__vault_refresh_state\"\n"
    );
    let output = run(&t, "bash", &script);
    let shown = stdout(&output);
    assert!(
        shown == "mfa 59m!|needs\n" || shown == "mfa 1h00m!|needs\n",
        "{shown}"
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        stderr,
        "vault: the credentials of mfa could not be refreshed: an MFA code for arn:aws:iam::123456789012:mfa/u is needed; run: vault refresh\n"
    );
}

#[test]
fn a_role_refreshes_in_the_background_from_the_cached_mfa_session() {
    let moto = crate::support::moto::shared();
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config(
        "[default]\nregion = eu-west-1\nmfa_serial = arn:aws:iam::123456789012:mfa/u\n\
         [profile user]\n[profile role]\nsource_profile = user\nrole_arn = arn:aws:iam::123456789012:role/r\n",
    );
    t.add("user", "AKIAROLEREFRESH00001", "s");
    // The role lasts 1h on an 8h MFA session: the hook assumes it again from the cached
    // session, with no code asked for, and applies it from the cache.
    let script = format!(
        "eval \"$(\"$VAULT\" hook bash)\"\nvault use role --mfa-token 123456\nfirst=$AWS_ACCESS_KEY_ID\n{REFRESH_IN_BASH}\
         [ \"$AWS_ACCESS_KEY_ID\" != \"$first\" ] && echo refreshed\nprintf '%s|%s\\n' \"${{VAULT_SEGMENT%% *}}\" \"$__vault_refresh_state\"\n"
    );
    let output = run(&t, "bash", &script);
    assert_eq!(
        stdout(&output),
        "refreshed\nrole|\n",
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn credentials_never_reach_an_xtrace() {
    let t = round_trip_sandbox();
    for (shell, trace_on) in [("bash", "set -x"), ("zsh", "setopt xtrace")] {
        let script = format!(
            "eval \"$(\"$VAULT\" hook {shell})\"\n{trace_on}\nvault use p\nvault unuse\necho ok\n"
        );
        let output = run(&t, shell, &script);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            stderr.contains('+'),
            "{shell}: the trace was not on:\n{stderr}"
        );
        assert!(
            !stderr.contains("token-of-p") && !stderr.contains("secret"),
            "{shell} traced credentials:\n{stderr}"
        );
        assert_eq!(stdout(&output), "ok\n");
    }
}

#[test]
fn the_prompt_hook_never_sets_off_err_exit_after_a_failed_command() {
    let t = round_trip_sandbox();
    for (shell, strict) in [("bash", "set -e"), ("zsh", "setopt err_exit")] {
        let script = format!(
            "eval \"$(\"$VAULT\" hook {shell})\"\n{strict}\n[ -f /no/such/file ] && echo never\n__vault_precmd\necho alive\n"
        );
        assert_eq!(stdout(&run(&t, shell, &script)), "alive\n", "{shell}");
    }
}

#[test]
fn numbers_from_the_environment_are_checked_before_arithmetic() {
    let t = round_trip_sandbox();
    let canary = t.home().join("canary");
    for shell in ["bash", "zsh"] {
        let script = format!(
            "export AWS_VAULT=p VAULT_EXPIRES_AT='a[$(touch {c})]' VAULT_REFRESH_AT='b[$(touch {c})]' VAULT_CLOCK_BOOT='c[$(touch {c})]'\n\
             eval \"$(\"$VAULT\" hook {shell})\"\n__vault_precmd\nprintf '%s\\n' \"$VAULT_SEGMENT\"\n",
            c = canary.display()
        );
        assert_eq!(stdout(&run(&t, shell, &script)), "p\n", "{shell}");
        assert!(
            !canary.exists(),
            "{shell} ran code from an environment value"
        );
    }
}

#[test]
fn fish_never_traces_credentials() {
    let t = round_trip_sandbox();
    let script = r"
$VAULT hook fish | source
set fish_trace 1
vault use p
set -e fish_trace
echo $AWS_VAULT
";
    let output = run(&t, "fish", script);
    assert_eq!(stdout(&output), "p\n");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("token-of-p") && !stderr.contains("secret"),
        "fish traced credentials:\n{stderr}"
    );
}
