//! What no input may do to a shell (issue 12): values an environment cannot hold (a NUL from
//! any of four channels, a 200 KB value) are refused before anything is printed; the dialect is
//! named, never guessed from `$SHELL`; the hooks work under hostile user options; `exec` shells
//! get their own countdown and no other profile's expiry; control characters never reach the
//! terminal raw; and the binary carries no test clock.

use std::process::Output;

use crate::support::Sandbox;
use crate::support::proxy::{Mode, Proxy};

const VAULT: &str = env!("CARGO_BIN_EXE_vault");
const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

fn run_shell(t: &Sandbox, shell: &str, script: &str) -> Output {
    let mut command = t.command(shell);
    match shell {
        "fish" => command.args(["--no-config", "-c", script]),
        "zsh" => command.args(["--no-rcs", "-c", script]),
        _ => command.args(["--noprofile", "--norc", "-c", script]),
    };
    command
        .env("VAULT", VAULT)
        .output()
        .expect("the shell runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A script that loads the hook, records the AWS and vault variables, runs `attempt`, and
/// prints whether anything changed and the attempt's status.
fn attempt_script(shell: &str, attempt: &str) -> String {
    if shell == "fish" {
        format!(
            "$VAULT hook fish | source\nset before (env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)\n{attempt}\nset code $status\n\
             set after (env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)\n\
             test \"$before\" = \"$after\"; and echo unchanged\necho status=$code\n"
        )
    } else {
        format!(
            "eval \"$(\"$VAULT\" hook {shell})\"\nbefore=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)\ncode=0\n{attempt} || code=$?\n\
             after=$(env | grep -E '^(AWS_|VAULT_|__VAULT)' | sort)\n\
             [ \"$before\" = \"$after\" ] && echo unchanged\necho status=$code\n"
        )
    }
}

/// Runs `attempt` in every shell with the hook: the canary never appears, nothing changes,
/// the status is 1, and stderr is `reason` and nothing else.
#[track_caller]
fn refused_everywhere(t: &Sandbox, attempt: &str, reason: &str) {
    let canary = t.home().join("canary");
    for shell in SHELLS {
        let output = run_shell(t, shell, &attempt_script(shell, attempt));
        let stderr = text(&output.stderr);
        assert_eq!(
            text(&output.stdout),
            "unchanged\nstatus=1\n",
            "{shell}: {stderr}"
        );
        assert_eq!(stderr, format!("{reason}\n"), "{shell}");
        assert!(!canary.exists(), "{shell} ran the code after the NUL");
    }
}

fn canary_payload(t: &Sandbox) -> String {
    format!("'; touch {}; echo '", t.home().join("canary").display())
}

#[test]
fn a_nul_from_a_credential_process_is_refused_in_every_shell() {
    let t = Sandbox::new();
    let script = t.home().join("nul.sh");
    let token = format!("t\\u0000{}", canary_payload(&t));
    std::fs::write(
        &script,
        format!(
            "cat <<'EOF'\n{{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"{}\",\"Expiration\":\"2099-01-01T00:00:00Z\"}}\nEOF\n",
            token.replace('"', "\\\"")
        ),
    )
    .unwrap();
    t.write_config(&format!(
        "[profile nul]\ncredential_process = sh {}\n",
        script.display()
    ));
    refused_everywhere(
        &t,
        "vault use nul",
        &format!(
            "vault: error: AWS_SESSION_TOKEN holds a NUL byte, which no environment variable can hold; it came from the credential_process of profile nul (sh {}), and nothing was changed",
            script.display()
        ),
    );
}

#[test]
fn a_nul_in_the_config_file_is_refused_with_its_file_and_line() {
    let t = Sandbox::new();
    t.write_config(&format!(
        "[profile nul]\ncredential_process = printf x\nregion = eu\0west{}\n",
        canary_payload(&t)
    ));
    refused_everywhere(
        &t,
        "vault use nul",
        &format!(
            "vault: error: {}:3: holds a NUL byte, which no environment variable can hold; remove \
             it; fix that line of the AWS config file",
            t.config_path().display()
        ),
    );
}

#[test]
fn a_nul_in_an_sts_answer_is_refused() {
    let moto = crate::support::moto::shared();
    let t = Sandbox::new();
    let payload = canary_payload(&t).replace('<', "&lt;");
    let to: &'static str = Box::leak(format!("<SessionToken>&#0;{payload}").into_boxed_str());
    let proxy = Proxy::start(Mode::Rewrite(moto.port, "<SessionToken>", to));
    let t = t.with_endpoint(proxy.endpoint());
    t.write_config("[profile sts]\nregion = eu-west-1\n");
    t.add("sts", "AKIANULSTS0000000001", "s");
    refused_everywhere(
        &t,
        "vault use sts",
        "vault: error: profile sts: GetSessionToken failed: STS answered with a NUL byte in SessionToken, which no environment variable can hold",
    );
    // Nothing was cached: every attempt asked STS again.
    assert_eq!(proxy.count("GetSessionToken"), 3);
    // exec and export refuse the same answer before anything runs or prints.
    let canary = t.home().join("exec-ran");
    t.vault(["exec", "sts", "--", "touch", canary.to_str().unwrap()])
        .status(1)
        .stdout("")
        .stderr(
            "vault: error: profile sts: GetSessionToken failed: STS answered with a NUL byte in \
             SessionToken, which no environment variable can hold\n",
        )
        .run();
    assert!(!canary.exists());
    t.vault(["export", "sts"])
        .status(1)
        .stdout("")
        .stderr(
            "vault: error: profile sts: GetSessionToken failed: STS answered with a NUL byte in \
             SessionToken, which no environment variable can hold\n",
        )
        .run();
}

#[test]
fn a_tampered_state_with_a_nul_is_refused_by_unuse() {
    use base64::Engine;
    let t = Sandbox::new();
    let value = format!("x\0{}", canary_payload(&t));
    let state = format!(
        "AWS_REGION={}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(value)
    );
    let (bash_set, fish_set) = (
        format!("export AWS_VAULT=p __VAULT_STATE='{state}'\nvault unuse"),
        format!("set -gx AWS_VAULT p; set -gx __VAULT_STATE '{state}'\nvault unuse"),
    );
    let canary = t.home().join("canary");
    for shell in SHELLS {
        let attempt = if shell == "fish" {
            &fish_set
        } else {
            &bash_set
        };
        let output = run_shell(&t, shell, &attempt_script(shell, attempt));
        let stderr = text(&output.stderr);
        assert!(
            text(&output.stdout).ends_with("status=1\n"),
            "{shell}: {stderr}"
        );
        assert_eq!(
            stderr,
            "vault: error: AWS_REGION holds a NUL byte, which no environment variable can hold; \
             it came from __VAULT_STATE, the state `vault use` keeps in this shell, and nothing \
             was changed\n",
            "{shell}"
        );
        assert!(!canary.exists(), "{shell} ran the code after the NUL");
    }
}

#[test]
fn a_200_kb_value_is_refused_and_the_shell_still_runs_programs() {
    let t = Sandbox::new();
    let script = t.home().join("big.sh");
    std::fs::write(
        &script,
        "printf '{\"Version\":1,\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"%s\",\"Expiration\":\"2099-01-01T00:00:00Z\"}' \"$(head -c 200000 /dev/zero | tr '\\0' a)\"\n",
    )
    .unwrap();
    t.write_config(&format!(
        "[profile big]\ncredential_process = sh {}\n",
        script.display()
    ));
    for shell in SHELLS {
        let after = if shell == "fish" {
            "true; and vault unuse; and echo alive"
        } else {
            "true && vault unuse && echo alive"
        };
        let output = run_shell(
            &t,
            shell,
            &attempt_script(shell, "vault use big")
                .replace("echo status=", &format!("{after}\necho status=")),
        );
        let stderr = text(&output.stderr);
        assert_eq!(
            text(&output.stdout),
            "unchanged\nalive\nstatus=1\n",
            "{shell}: {stderr}"
        );
        assert_eq!(
            stderr,
            format!(
                "vault: error: AWS_SESSION_TOKEN is 200000 bytes long; an environment variable \
                 over 65536 bytes would make every program the shell starts fail; it came from \
                 the credential_process of profile big (sh {}), and nothing was changed\n",
                script.display()
            ),
            "{shell}"
        );
    }
}

fn process_sandbox() -> Sandbox {
    let t = Sandbox::new();
    let script = t.home().join("creds.sh");
    std::fs::write(
        &script,
        "exp=$(date -u -d \"@$(( $(date +%s) + 7200 ))\" +%Y-%m-%dT%H:%M:%SZ)\n\
         printf '{\"Version\":1,\"AccessKeyId\":\"ASIA%s\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"%s\"}' \"$(date +%s%N)\" \"$exp\"\n",
    )
    .unwrap();
    t.write_config(&format!(
        "[profile p]\nregion = eu-west-1\ncredential_process = sh {}\n[profile q]\nregion = eu-north-1\n",
        script.display()
    ));
    t
}

#[test]
fn without_the_hook_the_output_shell_must_be_named() {
    let t = process_sandbox();
    // A bash script run by a fish user: $SHELL is fish, and fish quoting would run code.
    for (command, form) in [
        (&["use", "p"][..], "use PROFILE"),
        (&["unuse"], "unuse"),
        (&["refresh"], "refresh"),
    ] {
        t.vault(command)
            .env("SHELL", "/usr/bin/fish")
            .status(2)
            .stdout("")
            .stderr(&format!(
                "vault: error: `vault {}` prints code for the shell that reads it, and without the \
                 shell hook that shell must be named:\n    \
                 eval \"$(vault {form} --shell bash)\"\n    \
                 eval \"$(vault {form} --shell zsh)\"\n    \
                 vault {form} --shell fish | source\n    \
                 vault {form} --shell pwsh | Out-String | Invoke-Expression\n",
                command[0]
            ))
            .run();
    }
    let output = run_shell(
        &t,
        "bash",
        "export SHELL=/usr/bin/fish\neval \"$(\"$VAULT\" use p)\"\necho \"${AWS_VAULT-unset}\"\neval \"$(\"$VAULT\" use p --shell bash)\"\necho \"$AWS_VAULT $AWS_REGION\"\n",
    );
    assert_eq!(text(&output.stdout), "unset\np eu-west-1\n");
    assert_eq!(
        text(&output.stderr),
        "vault: error: `vault use` prints code for the shell that reads it, and without the shell hook that shell must be named:\n    \
         eval \"$(vault use PROFILE --shell bash)\"\n    \
         eval \"$(vault use PROFILE --shell zsh)\"\n    \
         vault use PROFILE --shell fish | source\n    \
         vault use PROFILE --shell pwsh | Out-String | Invoke-Expression\n"
    );
}

#[test]
fn on_a_terminal_without_the_hook_use_prints_the_exact_line_to_add() {
    let t = process_sandbox();
    let out = t
        .command("script")
        .args(["-qec", &format!("{VAULT} use p"), "/dev/null"])
        .env("SHELL", "/usr/bin/zsh")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        text(&out.stdout).replace("\r\n", "\n"),
        "vault: error: `vault use` changes this shell through the shell hook, which is not loaded here. \
         Add this line to your shell's startup file and start a new shell:\n    \
         eval \"$(vault hook zsh)\"   # in ~/.zshrc\n"
    );
}

/// `use`, the countdown, a background refresh and `unuse` under the options `before` and
/// `after` the hook loads (bash and zsh syntax alike, no multi-line quotes).
fn lifecycle(shell: &str, before: &str, after: &str) -> String {
    format!(
        "{before}\neval \"$(\"$VAULT\" hook {shell})\"\n{after}\n\
         vault use p\nfirst=$AWS_ACCESS_KEY_ID\n__vault_precmd\necho \"seg=${{VAULT_SEGMENT%%[0-9]*}}\"\n\
         export VAULT_REFRESH_AT=1\n__vault_precmd\n\
         i=0; while [ $i -lt 400 ]; do seen=; if [ -r \"$__VAULT_STATUS_DIR/$$\" ]; then read -r seen rest <\"$__VAULT_STATUS_DIR/$$\"; fi; [ \"$seen\" = \"$__vault_attempt\" ] && break; sleep 0.05; i=$((i + 1)); done\n\
         __vault_precmd\n[ \"$AWS_ACCESS_KEY_ID\" != \"$first\" ] && echo refreshed\n\
         vault unuse\necho \"after=${{AWS_VAULT-unset}}\"\n"
    )
}

#[test]
fn the_zsh_hook_works_under_hostile_options() {
    let t = process_sandbox();
    for (before, after) in [
        ("setopt SH_GLOB", ""),
        ("", "setopt SH_GLOB"),
        ("setopt KSH_ARRAYS", ""),
        ("setopt CSH_JUNKIE_QUOTES", ""),
        ("setopt NO_UNSET", ""),
        ("emulate sh", ""),
        ("emulate ksh", ""),
    ] {
        let output = run_shell(&t, "zsh", &lifecycle("zsh", before, after));
        assert_eq!(
            text(&output.stdout),
            "seg=p \nrefreshed\nafter=unset\n",
            "zsh with {before:?}/{after:?}: {}",
            text(&output.stderr)
        );
        assert_eq!(text(&output.stderr), "", "{before:?}/{after:?}");
    }
}

#[test]
fn the_bash_hook_works_under_hostile_options() {
    let t = process_sandbox();
    for before in [
        "set -euo pipefail",
        "shopt -s failglob nullglob extglob",
        "POSIXLY_CORRECT=1; set -o posix",
        "IFS=:/h",
        "set -euo pipefail; shopt -s failglob nullglob extglob; IFS=x",
    ] {
        let output = run_shell(&t, "bash", &lifecycle("bash", before, ""));
        assert_eq!(
            text(&output.stdout),
            "seg=p \nrefreshed\nafter=unset\n",
            "bash with {before:?}: {}",
            text(&output.stderr)
        );
        assert_eq!(text(&output.stderr), "", "{before:?}");
    }
}

#[test]
fn a_failed_eval_makes_the_vault_function_fail_and_say_so() {
    let t = process_sandbox();
    // A shell whose `export` is broken cannot apply what vault prints.
    let output = run_shell(
        &t,
        "bash",
        "eval \"$(\"$VAULT\" hook bash)\"\nexport() { return 3; }\ncode=0; vault use p || code=$?\necho \"status=$code\"\n",
    );
    assert_eq!(text(&output.stdout), "status=1\n");
    assert_eq!(
        text(&output.stderr),
        "vault: this shell could not apply what `vault use` printed; check the AWS_ variables with: env\n"
    );
}

#[test]
fn a_hooked_shell_inside_exec_shows_the_countdown_and_unuse_says_exit() {
    let t = process_sandbox();
    for shell in SHELLS {
        let inner = match shell {
            "fish" => {
                "$VAULT hook fish | source; __vault_update; echo seg=$VAULT_SEGMENT; $VAULT prompt; vault unuse; echo unuse=$status"
            }
            "zsh" => {
                "eval \"$($VAULT hook zsh)\"; __vault_precmd; echo seg=$VAULT_SEGMENT; $VAULT prompt; vault unuse; echo unuse=$?"
            }
            _ => {
                "eval \"$($VAULT hook bash)\"; __vault_precmd; echo seg=$VAULT_SEGMENT; $VAULT prompt; vault unuse; echo unuse=$?"
            }
        };
        let done = t
            .vault(["exec", "p", "--", shell, "-c", inner])
            .env("VAULT", VAULT)
            .stderr(
                "vault: error: the credentials of p in this shell come from `vault exec`, which \
                 `vault unuse` cannot undo; type `exit` to leave that shell\n",
            )
            .run();
        let lines: Vec<&str> = done.stdout.lines().collect();
        assert_eq!(lines.len(), 3, "{shell}: {}\n{}", done.stdout, done.stderr);
        assert!(
            lines[0] == "seg=p 2h00m" || lines[0] == "seg=p 1h59m",
            "{shell}: {}",
            done.stdout
        );
        assert!(
            lines[1] == "p 2h00m" || lines[1] == "p 1h59m",
            "{shell}: vault prompt: {}",
            done.stdout
        );
        assert_eq!(lines[2], "unuse=1", "{shell}");
    }
}

#[test]
fn exec_from_a_use_shell_passes_on_no_expiry_of_the_outer_profile() {
    let t = process_sandbox();
    t.write_config(&(t.read_config() + "[profile r]\ncredential_process = printf '{\"Version\":1,\"AccessKeyId\":\"ASIAR\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"2098-01-01T00:00:00Z\"}'\n"));
    t.add("q", "AKIALONGTERMQ0000001", "s");
    let show = "env | grep -E '^(AWS_CREDENTIAL_EXPIRATION|AWS_SESSION_EXPIRATION|VAULT_EXPIRES_AT|VAULT_REFRESH_AT|__VAULT_STATE)=' | sort | tr '\\n' ' '; echo";
    let script = format!(
        "eval \"$(\"$VAULT\" hook bash)\"\nvault use p\nouter=$VAULT_EXPIRES_AT\n\
         vault exec q --no-session -- sh -c \"{show}\"\n\
         vault exec --server p -- sh -c \"{show}\"\n\
         vault exec r -- sh -c 'echo $VAULT_EXPIRES_AT $AWS_SESSION_EXPIRATION'\n"
    );
    let output = run_shell(&t, "bash", &script);
    // Long-term keys have no expiry; the server renews, so it gives none.
    assert_eq!(
        text(&output.stdout),
        "\n\n4039372800 2098-01-01T00:00:00Z\n",
        "{}",
        text(&output.stderr)
    );
    // Switching from a `vault use` shell is no surprise worth a warning.
    assert_eq!(text(&output.stderr), "");
}

#[test]
fn the_nested_profile_warning_comes_only_when_it_means_something() {
    let t = process_sandbox();
    let warning = "AWS_VAULT is already set";
    t.vault(["exec", "p", "--", "true"])
        .env("AWS_VAULT", "p")
        .output_lacks(warning)
        .run();
    t.vault(["exec", "p", "--", "true"])
        .env("AWS_VAULT", "q")
        .env("__VAULT_STATE", "AWS_PROFILE")
        .output_lacks(warning)
        .run();
    t.vault(["exec", "p", "--", "true"])
        .env("AWS_VAULT", "q")
        .stderr(
            "vault: warning: AWS_VAULT is already set (profile q); the credentials of p replace \
             it for this command\n",
        )
        .run();
}

const EVIL: &str = "evil\u{1b}[2J\u{7}\u{9b}31m";
const EVIL_SHOWN: &str = "evil\\x1b[2J\\x07\\x9b31m";

#[test]
fn control_characters_in_profile_names_reach_no_terminal_raw() {
    let t = Sandbox::new();
    t.write_config(&format!(
        "[profile {EVIL}]\ncredential_process = printf x\n[profile other]\n"
    ));
    let raw = |s: &str| s.contains('\u{1b}') || s.contains('\u{7}') || s.contains('\u{9b}');
    let listed = t.vault(["list", "--profiles"]).run();
    assert_eq!(listed.stdout, format!("{EVIL_SHOWN}\nother\n"));
    let table = t.vault(["list"]).run();
    assert!(
        table.stdout.contains(&format!("{EVIL_SHOWN}   ")),
        "{}",
        table.stdout
    );
    assert!(!raw(&table.stdout) && !raw(&table.stderr));
    t.vault(["export", "evil\u{1b}[2J\u{7}"])
        .status(1)
        .stderr(&format!(
            "vault: error: profile 'evil\\x1b[2J\\x07' is not in {} and has no stored \
             credentials; did you mean '{EVIL_SHOWN}'?\n",
            t.config_path().display()
        ))
        .run();
    let offered = t
        .vault(["--", "vault", "use", "ev"])
        .env("VAULT_COMPLETE", "fish")
        .run();
    assert!(
        offered.stdout.starts_with(EVIL_SHOWN),
        "{:?}",
        offered.stdout
    );
    assert!(!raw(&offered.stdout), "{:?}", offered.stdout);
}

#[test]
fn no_test_switch_is_left_in_the_sources_or_the_binary() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(&path, out);
            } else {
                out.push(path);
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    walk(&root.join("src"), &mut files);
    walk(&root.join("shell"), &mut files);
    files.push(VAULT.into());
    // The binary users get: .ci/test builds it before the tests.
    let release = root.join("target/release/vault");
    assert!(
        release.exists(),
        "no release build to check: run cargo build --release (.ci/test does) first"
    );
    files.push(release);
    // Test switches: the clock offset, and rotate's kill switch (tests kill from outside).
    for needle in [
        ["VAULT_CLOCK", "_OFFSET"].concat(),
        ["VAULT_ROTATE", "_CRASH"].concat(),
    ] {
        for file in &files {
            let bytes = std::fs::read(file).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} mentions {needle}",
                file.display()
            );
        }
    }
}
