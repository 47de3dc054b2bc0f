//! aws-vault's command-line forms, end to end (docs/aws-vault.md §1 and §8): the MFA prompt
//! drivers of `--prompt` / `AWS_VAULT_PROMPT` through recording stand-ins, `--keychain`, the
//! `--no-FLAG` negations scripts use, `--help-long`, `--help-man`, several `list` selectors at
//! once, and `--stdout` on a profile that does not sign in through IAM Identity Center. Each
//! table row is a command line, its exit code and its effect. `src/kingpin.rs` unit-tests the
//! parsing of every flag's negation; these rows show the forms do what aws-vault does.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;

use crate::support::federation::{Answer, Federation};
use crate::support::proxy::{Mode, Proxy};
use crate::support::sso::{World, fake_browser_command};
use crate::support::{Sandbox, moto};

const SERIAL: &str = "arn:aws:iam::123456789012:mfa/user";
const KEY_ID: &str = "AKIAFLAGSTEST0000001";
const SECRET: &str = "flags-long-term-secret";

/// A row's command-line words, and the variables it runs with.
type Words = &'static [&'static str];
type Vars = &'static [(&'static str, &'static str)];

/// A sandbox on moto (through a recording proxy) with an MFA profile `user`, and an empty
/// directory for stand-in programs.
struct Mfa {
    t: Sandbox,
    proxy: Proxy,
    bin: PathBuf,
}

impl Mfa {
    fn new() -> Self {
        let proxy = Proxy::start(Mode::Forward(moto::shared().port));
        let t = Sandbox::new().with_endpoint(proxy.endpoint());
        t.write_config(&format!(
            "[default]\nregion = us-east-1\n[profile user]\nmfa_serial = {SERIAL}\n"
        ));
        t.add("user", KEY_ID, SECRET);
        let bin = t.home().join("bin");
        fs::create_dir_all(&bin).unwrap();
        Self { t, proxy, bin }
    }

    /// Writes an executable `name` into the stand-in directory that appends its name and
    /// arguments (`name [arg] [arg]…`) to `name.log`, then runs `then`.
    fn stand_in(&self, name: &str, then: &str) {
        let path = self.bin.join(name);
        let log = self.log_path(name);
        fs::write(
            &path,
            format!(
                "#!/bin/sh\n{{ printf %s {name}; for a in \"$@\"; do printf ' [%s]' \"$a\"; done; echo; }} >>'{}'\n{then}\n",
                log.display()
            ),
        )
        .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    }

    fn log_path(&self, name: &str) -> PathBuf {
        self.t.home().join(format!("{name}.log"))
    }

    /// Each call of stand-in `name`, one line each.
    fn calls(&self, name: &str) -> Vec<String> {
        fs::read_to_string(self.log_path(name))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// PATH with the stand-ins first.
    fn path(&self) -> String {
        let real = std::env::var("PATH").unwrap_or_default();
        format!("{}:{real}", self.bin.display())
    }
}

#[test]
fn each_prompt_driver_runs_its_program_with_aws_vaults_arguments_and_the_code_is_used() {
    let prompt = format!("Enter MFA code for {SERIAL}: ");
    // (vault's arguments, extra variables, the stand-in, the call it must have seen).
    let rows: &[(Words, Vars, &str, String)] = &[
        (
            &["--prompt", "zenity", "export", "user"],
            &[],
            "zenity",
            format!("zenity [--entry] [--title] [aws-vault] [--text] [{prompt}]"),
        ),
        (
            &["export", "user", "--prompt=zenity"],
            &[],
            "zenity",
            format!("zenity [--entry] [--title] [aws-vault] [--text] [{prompt}]"),
        ),
        (
            &["export", "user"],
            &[("AWS_VAULT_PROMPT", "zenity")],
            "zenity",
            format!("zenity [--entry] [--title] [aws-vault] [--text] [{prompt}]"),
        ),
        (
            &["--prompt", "kdialog", "export", "user"],
            &[],
            "kdialog",
            format!("kdialog [--inputbox] [{prompt}] [--title] [aws-vault]"),
        ),
        (
            &["--prompt", "ykman", "export", "user"],
            &[],
            "ykman",
            format!("ykman [oath] [accounts] [code] [--single] [{SERIAL}]"),
        ),
        (
            &["--prompt", "ykman", "export", "user"],
            &[("YKMAN_OATH_DEVICE_SERIAL", "12345678")],
            "ykman",
            format!("ykman [--device] [12345678] [oath] [accounts] [code] [--single] [{SERIAL}]"),
        ),
        (
            &["--prompt", "ykman", "export", "user"],
            &[("AWS_VAULT_YKMAN_VERSION", "3")],
            "ykman",
            format!("ykman [oath] [code] [--single] [{SERIAL}]"),
        ),
        (
            &["export", "user"],
            &[
                ("AWS_VAULT_PROMPT", "ykman"),
                ("YKMAN_OATH_CREDENTIAL_NAME", "aws:user"),
            ],
            "ykman",
            "ykman [oath] [accounts] [code] [--single] [aws:user]".to_owned(),
        ),
    ];
    for (args, env, program, call) in rows {
        let m = Mfa::new();
        m.stand_in(program, "echo 123456");
        let mut run = m.t.vault(*args).env("PATH", m.path());
        for (key, value) in *env {
            run = run.env(key, value);
        }
        let done = run
            .stdout_like(
                "AWS_ACCESS_KEY_ID=[..]\nAWS_SECRET_ACCESS_KEY=[..]\nAWS_SESSION_TOKEN=[..]\n\
                 AWS_CREDENTIAL_EXPIRATION=[..]\nAWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\n",
            )
            .output_lacks(SECRET)
            .run();
        assert_eq!(m.calls(program), [call.as_str()], "{args:?} {env:?}");
        // The code the program printed went to STS with the serial, once.
        let bodies = m.proxy.bodies("GetSessionToken");
        assert_eq!(bodies.len(), 1, "{args:?} {env:?}");
        assert!(
            bodies[0].contains("TokenCode=123456") && bodies[0].contains(SERIAL),
            "{args:?}: {}",
            bodies[0]
        );
        assert!(!done.stdout.contains(KEY_ID), "{args:?}");
    }
}

#[test]
fn exec_gets_the_session_from_the_dialogs_code() {
    let m = Mfa::new();
    m.stand_in("zenity", "echo 123456");
    m.t.vault([
        "exec",
        "--prompt",
        "zenity",
        "user",
        "--",
        "sh",
        "-c",
        "echo \"$AWS_ACCESS_KEY_ID\"",
    ])
    .env("PATH", m.path())
    .stdout_like("[..]\n")
    .output_lacks(KEY_ID)
    .run();
    assert_eq!(m.calls("zenity").len(), 1);
    assert_eq!(m.proxy.count("GetSessionToken"), 1);
}

#[test]
fn a_cancelled_or_failing_driver_is_an_error_and_nothing_reaches_sts() {
    // (driver, how its program ends, the error).
    let rows = [
        (
            "zenity",
            "exit 1",
            "the zenity prompt gave no code: the dialog was cancelled",
        ),
        (
            "kdialog",
            "exit 1",
            "the kdialog prompt gave no code: the dialog was cancelled",
        ),
        (
            "ykman",
            "exit 1",
            "the ykman prompt gave no code: it exited with status 1",
        ),
        (
            "ykman",
            "kill -KILL $$",
            "the ykman prompt gave no code: it was killed by a signal",
        ),
    ];
    for (driver, end, error) in rows {
        let m = Mfa::new();
        m.stand_in(driver, end);
        m.t.vault(["export", "user", "--prompt", driver])
            .env("PATH", m.path())
            .status(1)
            .stdout("")
            .stderr(&format!(
                "vault: error: MFA for {SERIAL}: {error}; pass --mfa-token or set mfa_process \
                 in the profile\n"
            ))
            .run();
        assert_eq!(m.calls(driver).len(), 1, "{driver} {end}");
        assert_eq!(m.proxy.total(), 0, "{driver} {end}");
    }
}

#[test]
fn a_driver_that_is_not_installed_is_an_error_only_when_a_code_is_needed() {
    let m = Mfa::new();
    // An empty directory for PATH: none of the programs exists.
    m.t.vault(["--prompt", "kdialog", "list", "--profiles"])
        .env("PATH", &m.bin)
        .stdout_has("user\n")
        .run();
    for (args, env, driver) in [
        (
            &["--prompt", "zenity", "export", "user"][..],
            None,
            "zenity",
        ),
        (
            &["export", "user"][..],
            Some(("AWS_VAULT_PROMPT", "ykman")),
            "ykman",
        ),
    ] {
        let mut run = m.t.vault(args).env("PATH", &m.bin);
        if let Some((key, value)) = env {
            run = run.env(key, value);
        }
        run.status(1)
            .stdout("")
            .stderr_like(&format!(
                "vault: error: MFA for [..]: the {driver} prompt gave no code: the prompt driver \
                 '{driver}' needs the program '{driver}', which is not on PATH; pass \
                 --mfa-token or set mfa_process in the profile\n"
            ))
            .run();
    }
    assert_eq!(m.proxy.total(), 0);
}

#[test]
fn a_driver_vault_cannot_use_is_a_usage_error_before_anything_is_touched() {
    // (arguments, variables, the error after `vault: error: `).
    let rows: &[(Words, Vars, String)] = &[
        (
            &["--prompt", "pass", "export", "user"],
            &[],
            "the 'pass' prompt driver was removed in aws-vault 7; set `mfa_process = pass otp \
             <entry>` in the profile instead"
                .into(),
        ),
        (
            &["export", "user"],
            &[("AWS_VAULT_PROMPT", "pass")],
            "the 'pass' prompt driver was removed in aws-vault 7; set `mfa_process = pass otp \
             <entry>` in the profile instead"
                .into(),
        ),
        (
            &["--prompt", "bogus", "list"],
            &[],
            "unknown prompt driver 'bogus'; choose one of: kdialog, osascript, terminal, \
             wincredui, ykman, zenity"
                .into(),
        ),
        (
            &["--prompt", "wincredui", "list"],
            &[],
            "the prompt driver 'wincredui' works only on Windows; use terminal, zenity, kdialog \
             or ykman"
                .into(),
        ),
    ];
    let m = Mfa::new();
    let before = m.t.files();
    for (args, env, error) in rows {
        // An empty directory for PATH: none of the programs exists.
        let mut run = m.t.vault(*args).env("PATH", &m.bin);
        for (key, value) in *env {
            run = run.env(key, value);
        }
        run.status(2)
            .stdout("")
            .stderr(&format!("vault: error: {error}\n"))
            .run();
    }
    assert_eq!(m.proxy.total(), 0);
    assert!(m.t.files() == before, "a refused driver changed files");
}

#[test]
fn keychain_is_accepted_by_every_command_and_changes_nothing_here() {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[profile p]\nregion = eu-west-1\n");
    t.add("p", KEY_ID, SECRET);
    let before = t.files();
    let echo = "echo \"$AWS_VAULT $AWS_ACCESS_KEY_ID\"";
    let expected_exec = format!("p {KEY_ID}\n");
    // (arguments, AWS_VAULT_KEYCHAIN_NAME, stdout).
    let rows: &[(&[&str], Option<&str>, &str)] = &[
        (&["--keychain", "foo", "list", "--credentials"], None, "p\n"),
        (&["list", "--keychain=foo", "--credentials"], None, "p\n"),
        (&["list", "--credentials"], Some("foo"), "p\n"),
        (
            &[
                "--keychain",
                "foo",
                "exec",
                "--no-session",
                "p",
                "--",
                "sh",
                "-c",
                echo,
            ],
            None,
            &expected_exec,
        ),
        (
            &["exec", "--no-session", "p", "--", "sh", "-c", echo],
            Some("foo"),
            &expected_exec,
        ),
    ];
    for (args, keychain, stdout) in rows {
        let mut run = t.vault(*args);
        if let Some(name) = keychain {
            run = run.env("AWS_VAULT_KEYCHAIN_NAME", name);
        }
        run.stdout(stdout).run();
    }
    assert!(t.files() == before, "--keychain changed files");
}

#[test]
fn no_debug_turns_debug_off_and_the_later_of_the_two_wins() {
    let t = Sandbox::new();
    t.write_config("[profile p]\n");
    t.add("p", KEY_ID, SECRET);
    t.vault(["--no-debug", "list", "--credentials"])
        .stdout("p\n")
        .run();
    t.vault(["--debug", "list", "--credentials", "--no-debug"])
        .stdout("p\n")
        .run();
    t.vault(["--no-debug", "list", "--credentials", "--debug"])
        .stdout("p\n")
        .stderr_debug_only()
        .run();
}

#[test]
fn no_no_session_gets_a_session_and_no_session_the_stored_keys() {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[profile p]\nregion = eu-west-1\n");
    t.add("p", KEY_ID, SECRET);
    let show = "printf '%s %s\\n' \"$AWS_ACCESS_KEY_ID\" \"${AWS_SESSION_TOKEN:-none}\"";
    // (exec's flags, whether the command gets a session rather than the stored keys).
    let rows: &[(&[&str], bool)] = &[
        (&[], true),
        (&["--no-session"], false),
        (&["-n"], false),
        (&["--no-no-session"], true),
        (&["--no-session", "--no-no-session"], true),
        (&["--no-no-session", "-n"], false),
    ];
    for (flags, session) in rows {
        let mut args = vec!["exec"];
        args.extend_from_slice(flags);
        args.extend(["p", "--", "sh", "-c", show]);
        let done = t.vault(args).stdout_like("[..] [..]\n").run();
        let (key, token) = done.stdout.trim_end().split_once(' ').unwrap();
        if *session {
            // moto's GetSessionToken keys: another key, with a token.
            assert!(
                key != KEY_ID && token != "none",
                "{flags:?}: {}",
                done.stdout
            );
        } else {
            assert_eq!(done.stdout, format!("{KEY_ID} none\n"), "{flags:?}");
        }
    }
}

#[test]
fn add_config_and_its_negation_decide_whether_the_config_gets_a_section() {
    let t = Sandbox::new();
    t.write_config("[profile p]\n");
    // (flags after `add NAME --env`, the config afterwards).
    let rows: &[(&str, &[&str], &str)] = &[
        ("a", &["--no-add-config"], "[profile p]\n"),
        ("b", &["--add-config", "--no-add-config"], "[profile p]\n"),
        ("c", &[], "[profile p]\n\n[profile c]\nregion = us-east-1\n"),
        (
            "d",
            &["--no-add-config", "--add-config"],
            "[profile p]\n\n[profile c]\nregion = us-east-1\n\n[profile d]\nregion = us-east-1\n",
        ),
    ];
    for (name, flags, config) in rows {
        let mut args = vec!["add", name, "--env"];
        args.extend_from_slice(flags);
        t.vault(args)
            .env("AWS_ACCESS_KEY_ID", KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", SECRET)
            .stdout(&format!(
                "Added credentials to profile \"{name}\" in vault\n"
            ))
            .run();
        assert_eq!(t.read_config(), *config, "add {name} {flags:?}");
    }
    t.vault(["list", "--credentials"])
        .stdout("a\nb\nc\nd\n")
        .run();
}

#[test]
fn remove_with_no_force_after_force_still_asks() {
    let t = Sandbox::new();
    t.add("dev", KEY_ID, SECRET);
    let question = "Delete credentials for profile \"dev\"? (y|N) ";
    t.vault(["remove", "dev", "--force", "--no-force"])
        .on_terminal(&[(question, "n\n")])
        .stdout(&format!(
            "{question}n\r\nvault: warning: nothing was deleted\r\n"
        ))
        .run();
    assert!(t.keys_dir().join("dev").exists());
    t.vault(["rm", "--no-force", "dev"])
        .status(1)
        .stderr_like(
            "vault: error: cannot ask for Delete credentials for profile \"dev\"?: there is no \
             terminal to ask on ([..]); pass --force to remove without asking\n",
        )
        .run();
    assert!(t.keys_dir().join("dev").exists());
    t.vault(["rm", "--no-force", "-f", "dev"])
        .stdout("Deleted credentials.\n")
        .run();
    assert!(!t.keys_dir().join("dev").exists());
}

/// What vault prints while it opens the browser for an IAM Identity Center sign-in.
const OPENING: &str = "vault: opening the IAM Identity Center sign-in page in your browser \
                       (Ctrl-C cancels):\n[..]/authorize?[..]\n";

#[test]
fn no_stdout_beats_stdout_and_aws_vault_stdout_so_the_browser_opens() {
    let config = "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n\
                  sso_region = eu-west-1\n\
                  [profile dev]\nsso_session = corp\nsso_account_id = 111111111111\n\
                  sso_role_name = Developer\nregion = us-east-1\n";
    // (arguments, AWS_VAULT_STDOUT).
    let rows: &[(&[&str], Option<&str>)] = &[
        (
            &["exec", "dev", "--stdout", "--no-stdout", "--", "true"],
            None,
        ),
        (&["exec", "--no-stdout", "dev", "--", "true"], Some("true")),
        (
            &["export", "dev", "--format", "json", "--no-stdout"],
            Some("true"),
        ),
    ];
    for (args, variable) in rows {
        // A new world each time: a sign-in is kept for the next command.
        let w = World::new(config);
        let mut run =
            w.t.vault(*args)
                .env("AWS_ENDPOINT_URL_SSO_OIDC", &w.sso.endpoint)
                .env("AWS_ENDPOINT_URL_SSO", &w.sso.endpoint)
                .env("BROWSER", fake_browser_command(&w.browser_log));
        if let Some(value) = variable {
            run = run.env("AWS_VAULT_STDOUT", value);
        }
        run.stderr_like(OPENING).run();
        assert_eq!(w.launches(), 1, "{args:?} {variable:?}: the browser opened");
    }
}

#[test]
fn stdout_is_accepted_on_a_profile_without_sso() {
    let federation = Federation::start(Answer::Token("TOKEN"));
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[profile p]\nregion = eu-west-1\n");
    t.add("p", KEY_ID, SECRET);
    let url = format!("{}?Action=login&[..]\n", federation.endpoint());
    // (arguments, AWS_VAULT_STDOUT, stdout pattern).
    let rows: &[(&[&str], Option<&str>, &str)] = &[
        (
            &[
                "exec",
                "--stdout",
                "p",
                "--",
                "sh",
                "-c",
                "echo \"$AWS_VAULT\"",
            ],
            None,
            "p\n",
        ),
        (
            &["exec", "p", "--", "sh", "-c", "echo \"$AWS_VAULT\""],
            Some("true"),
            "p\n",
        ),
        (
            &["export", "--stdout", "--no-session", "p"],
            None,
            "AWS_ACCESS_KEY_ID=AKIAFLAGSTEST0000001\nAWS_SECRET_ACCESS_KEY=flags-long-term-secret\n\
             AWS_REGION=eu-west-1\nAWS_DEFAULT_REGION=eu-west-1\n",
        ),
        (&["login", "--stdout", "p"], None, &url),
        (&["login", "-s", "p"], None, &url),
        (&["login", "p"], Some("true"), &url),
    ];
    for (args, variable, stdout) in rows {
        let mut run = t
            .vault(*args)
            .env("VAULT_FEDERATION_ENDPOINT", federation.endpoint());
        if let Some(value) = variable {
            run = run.env("AWS_VAULT_STDOUT", value);
        }
        run.stdout_like(stdout).run();
    }
}

#[test]
fn several_list_selectors_print_what_the_first_of_credentials_profiles_sessions_prints() {
    let t = Sandbox::new().with_endpoint(moto::shared().endpoint());
    t.write_config("[profile b]\nregion = eu-west-1\n[profile a]\nregion = eu-west-1\n");
    t.add("a", KEY_ID, SECRET).add("orphan", KEY_ID, SECRET);
    // A cached session for `a`, from moto.
    t.vault(["export", "a"])
        .stdout_has("AWS_SESSION_TOKEN=")
        .run();
    let credentials = "a\norphan\n";
    let profiles = "b\na\n";
    let sessions = "sts.GetSessionToken:[..]\n";
    let rows: &[(&[&str], &str)] = &[
        (&["--credentials"], credentials),
        (&["--profiles"], profiles),
        (&["--sessions"], sessions),
        (&["--profiles", "--sessions", "--credentials"], credentials),
        (&["--sessions", "--credentials"], credentials),
        (&["--profiles", "--sessions"], profiles),
        (&["--sessions", "--profiles"], profiles),
    ];
    for (flags, stdout) in rows {
        let mut args = vec!["list"];
        args.extend_from_slice(flags);
        t.vault(args).stdout_like(stdout).run();
    }
}

#[test]
fn help_long_prints_the_help() {
    let t = Sandbox::new();
    let help = t.vault(["--help"]).run().stdout;
    t.vault(["--help-long"]).stdout(&help).run();
    let exec = t.vault(["exec", "--help"]).run().stdout;
    assert!(exec.contains("Usage: vault exec"), "{exec}");
    t.vault(["exec", "--help-long"]).stdout(&exec).run();
}

/// `tool` must run: .ci/run installs it, and a missing one fails the test.
fn require(tool: &str, package: &str) {
    if let Err(e) = std::process::Command::new(tool).arg("--version").output() {
        panic!("{tool} does not run ({e}); install it: apt-get install {package}");
    }
}

#[test]
fn help_man_is_a_manual_page_groff_accepts_and_man_renders() {
    let t = Sandbox::new();
    let page = t.vault(["--help-man"]).run().stdout;
    assert!(
        page.contains(".TH vault 1"),
        "{}",
        &page[..page.len().min(300)]
    );
    let file = t.home().join("vault.1");
    fs::write(&file, &page).unwrap();
    // Every warning on: a roff mistake shows on stderr.
    require("groff", "groff-base");
    t.program("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(&file)
        .run();
    require("man", "man-db");
    let done = t
        .program("man")
        .args(["-P", "cat", "-l"])
        .arg(&file)
        .env("MANWIDTH", "80")
        .env("LANG", "C.UTF-8")
        .run();
    let headings: Vec<&str> = done
        .stdout
        .lines()
        .filter(|l| l.starts_with(|c: char| c.is_ascii_uppercase()))
        .collect();
    for heading in ["NAME", "SYNOPSIS", "OPTIONS", "VAULT EXEC", "VAULT LIST"] {
        assert!(headings.contains(&heading), "{heading} in {headings:?}");
    }
    let words = done.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("NAME vault - Keeps AWS access keys encrypted"),
        "{}",
        done.stdout
    );
    // The same page wherever --help-man stands.
    t.vault(["exec", "--help-man"]).stdout(&page).run();
}
