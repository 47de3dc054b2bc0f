//! `vault use --agent`: shells get the container credential endpoint of one per-user agent
//! instead of credentials. Real shells under tmux, the aws CLI and boto3 as the SDKs, moto
//! behind the test proxy that counts STS calls, setpriv for another user.
//!
//! Where the hook is not the subject, a "shell" is a `sleep` process: a token is bound to the
//! process `__VAULT_SHELL_PID` names (the hook sets it), and dies with it.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::shell_interactive::{setup, starts_over_prompts, traced, value_on_screen};
use crate::support::Sandbox;
use crate::support::proxy::{Mode, Proxy};
use crate::support::tmux::Tmux;

const NOBODY: &str = "65534";

/// Role profiles of 15 minutes over stored keys, with STS behind a counting proxy; `extra`
/// goes into the `role` profile.
fn sandbox(extra: &str) -> (Sandbox, Proxy) {
    let proxy = Proxy::start(Mode::Forward(crate::support::moto::shared().port));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(&format!(
        "[profile user]\nregion = eu-west-1\n\
         [profile role]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/agent-role\nduration_seconds = 900\n{extra}\
         [profile other]\nregion = eu-west-1\nsource_profile = user\n\
         role_arn = arn:aws:iam::123456789012:role/other-role\nduration_seconds = 900\n"
    ));
    t.add("user", "AKIAAGENTTEST0000001", "agent-long-term-secret");
    (t, proxy)
}

/// Stops the sandbox's agent when the test ends, however it ends.
struct StopsAgent<'a>(&'a Sandbox);

impl Drop for StopsAgent<'_> {
    fn drop(&mut self) {
        let _ = self
            .0
            .command(env!("CARGO_BIN_EXE_vault"))
            .args(["agent", "stop"])
            .output();
    }
}

/// A stand-in for a shell: a process that lives until killed.
struct StandIn(Child);

impl StandIn {
    fn start() -> Self {
        Self(Command::new("sleep").arg("600").spawn().unwrap())
    }

    fn pid(&self) -> u32 {
        self.0.id()
    }

    fn exit(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.exit();
    }
}

/// The variables `vault use --agent --shell bash` set, from its code.
fn exported(code: &str) -> HashMap<String, String> {
    code.lines()
        .filter_map(|line| line.strip_prefix("export "))
        .filter_map(|rest| rest.split_once('='))
        .map(|(name, value)| (name.to_owned(), value.trim_matches('\'').to_owned()))
        .collect()
}

/// `vault use --agent PROFILE` for the stand-in shell `pid`: the variables it set.
fn use_agent(t: &Sandbox, profile: &str, pid: u32) -> HashMap<String, String> {
    let done = t
        .vault(["use", "--agent", profile, "--shell", "bash"])
        .env("__VAULT_SHELL_PID", pid.to_string())
        .env("AWS_MIN_TTL", "890s")
        .env("AWS_VAULT_AGENT_IDLE", "1m")
        .run();
    let vars = exported(&done.stdout);
    for secret in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN=",
    ] {
        assert!(
            !done.stdout.contains(&format!("export {secret}")),
            "{}",
            done.stdout
        );
    }
    vars
}

/// An SDK's request to the agent: the status and the JSON body.
fn ask(vars: &HashMap<String, String>, token: &str) -> (u16, serde_json::Value) {
    let url = &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"];
    let address = url
        .strip_prefix("http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .expect(url);
    let mut stream = TcpStream::connect(address).expect("the agent listens");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {address}\r\nAuthorization: {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect(&answer);
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
    (status, serde_json::from_str(body).expect(body))
}

fn token_of(vars: &HashMap<String, String>) -> String {
    std::fs::read_to_string(&vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).unwrap()
}

/// The access key id the agent serves to this shell.
fn served_key(vars: &HashMap<String, String>) -> String {
    let (status, body) = ask(vars, &token_of(vars));
    assert_eq!(status, 200, "{body}");
    body["AccessKeyId"].as_str().unwrap().to_owned()
}

/// Polls until `wanted` holds, for at most `within`.
#[track_caller]
fn wait_until(within: Duration, what: &str, mut wanted: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !wanted() {
        assert!(Instant::now() < deadline, "never: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A shell under tmux with the hook loaded; `env` is exported first.
fn hooked_shell(t: &Sandbox, shell: &str, name: &str, env: &str) -> Tmux {
    let (command, hook) = setup(shell);
    let tmux = Tmux::start(t, &format!("{name}-{shell}"), command);
    tmux.wait_for_any(&["#", "$", ">"]);
    std::thread::sleep(Duration::from_millis(300));
    if !env.is_empty() {
        tmux.send(&if shell == "fish" {
            env.split_whitespace()
                .map(|pair| format!("set -gx {}; ", pair.replacen('=', " ", 1)))
                .collect::<Vec<_>>()
                .concat()
        } else {
            format!("export {env}")
        });
    }
    tmux.send(&format!("clear; {hook}"));
    tmux.wait_for("[]>");
    tmux
}

/// The process id of the shell in the tmux pane (the launcher execs it).
fn pane_pid(tmux: &Tmux) -> u32 {
    tmux.run(&["display", "-p", "-t", "t", "#{pane_pid}"])
        .trim()
        .parse()
        .unwrap()
}

fn environ(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap()).replace('\0', "\n")
}

#[test]
fn in_bash_zsh_and_fish_sdks_get_the_role_and_no_environment_holds_a_secret() {
    for shell in ["bash", "zsh", "fish"] {
        let (t, proxy) = sandbox("");
        let _stop = StopsAgent(&t);
        let tmux = hooked_shell(&t, shell, "env", "AWS_VAULT_AGENT_IDLE=1m");
        tmux.send("vault use --agent role");
        tmux.wait_for("[role agent]>");
        let child_env = t.home().join("child.env");
        tmux.send(&format!(
            "sh -c 'cat /proc/$$/environ > {}; exec aws sts get-caller-identity --query Arn --output text'",
            child_env.display()
        ));
        tmux.send(
            "python3 -c 'import boto3; print(\"boto3:\", boto3.client(\"sts\").get_caller_identity()[\"Arn\"])'",
        );
        let screen = tmux.wait_for("boto3: arn:aws:sts::123456789012:assumed-role/agent-role/");
        assert!(
            screen.contains("\narn:aws:sts::123456789012:assumed-role/agent-role/"),
            "{shell}: the aws CLI did not get the role:\n{screen}"
        );
        assert_eq!(proxy.count("AssumeRole"), 1, "{shell}");
        // What the agent serves this shell, and its token.
        let vars_file = t.home().join("vars");
        tmux.send(&format!(
            "env | grep -E '^(AWS_|VAULT_AGENT)' > {}",
            vars_file.display()
        ));
        wait_until(
            Duration::from_secs(10),
            "the shell wrote its variables",
            || std::fs::read_to_string(&vars_file).is_ok_and(|v| v.contains("VAULT_AGENT_STAMP")),
        );
        let vars: HashMap<String, String> = std::fs::read_to_string(&vars_file)
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once('='))
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let token = token_of(&vars);
        let (status, served) = ask(&vars, &token);
        assert_eq!(status, 200, "{shell}: {served}");
        let secrets = [
            served["AccessKeyId"].as_str().unwrap(),
            served["SecretAccessKey"].as_str().unwrap(),
            served["Token"].as_str().unwrap(),
            token.as_str(),
        ];
        let shell_env = environ(&PathBuf::from(format!("/proc/{}/environ", pane_pid(&tmux))));
        let aws_env = environ(&child_env);
        assert!(
            aws_env.contains("AWS_CONTAINER_CREDENTIALS_FULL_URI=http://127.0.0.1:")
                && aws_env.contains("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE=")
                && aws_env.contains("AWS_VAULT=role"),
            "{shell}: {aws_env}"
        );
        for secret in secrets {
            assert!(!secret.is_empty());
            assert!(!shell_env.contains(secret), "{shell}: the shell's environ");
            assert!(
                !aws_env.contains(secret),
                "{shell}: the aws process's environ"
            );
        }
        for name in [
            "AWS_ACCESS_KEY_ID=",
            "AWS_SECRET_ACCESS_KEY=",
            "AWS_SESSION_TOKEN=",
        ] {
            assert!(!aws_env.contains(name), "{shell}: {aws_env}");
        }
        let file = &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"];
        assert!(
            file.starts_with(&t.runtime_dir().display().to_string()),
            "{file}"
        );
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(file).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600, "{shell}: {file}");
        // The control: after plain `use`, the same look finds the key in the child (and the
        // agent's token is revoked).
        std::fs::remove_file(&child_env).unwrap();
        tmux.send("vault use role");
        tmux.wait_for_any(&["[role 15m]>", "[role 14m]>"]);
        tmux.send(&format!(
            "sh -c 'cat /proc/$$/environ > {}.tmp; mv {0}.tmp {0}'",
            child_env.display()
        ));
        wait_until(
            Duration::from_secs(10),
            "the child wrote its environ",
            || child_env.exists(),
        );
        assert!(
            environ(&child_env).contains("AWS_ACCESS_KEY_ID=ASIA"),
            "{shell}: the check cannot see keys"
        );
        assert!(
            !Path::new(file).exists(),
            "{shell}: plain use left the token"
        );
    }
}

#[test]
fn shells_on_one_profile_share_one_assume_role_and_each_renewal_and_another_profile_is_apart() {
    let (t, proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    let (first, second, third) = (StandIn::start(), StandIn::start(), StandIn::start());
    let a = use_agent(&t, "role", first.pid());
    let b = use_agent(&t, "role", second.pid());
    assert_eq!(
        proxy.count("AssumeRole"),
        1,
        "the second shell made an STS call"
    );
    assert_eq!(a["VAULT_AGENT_PID"], b["VAULT_AGENT_PID"], "one agent");
    assert_ne!(token_of(&a), token_of(&b), "each shell has its own token");
    let before = served_key(&a);
    assert_eq!(served_key(&b), before);
    // 15-minute credentials with AWS_MIN_TTL=14m50s: renewed in the background about every
    // 10 s, once for both shells.
    wait_until(Duration::from_secs(30), "a renewal", || {
        served_key(&a) != before
    });
    let renewed = served_key(&a);
    assert_eq!(
        served_key(&b),
        renewed,
        "both shells get the renewed credentials"
    );
    assert_eq!(proxy.count("AssumeRole"), 2, "one renewal for both shells");
    let c = use_agent(&t, "other", third.pid());
    assert_ne!(served_key(&c), served_key(&a));
    let others = proxy
        .bodies("AssumeRole")
        .iter()
        .filter(|body| body.contains("role/other-role"))
        .count();
    assert_eq!(others, 1);
    let done = t.vault(["agent", "status"]).run();
    for pid in [first.pid(), second.pid(), third.pid()] {
        assert!(
            done.stdout.contains(&format!("  {pid} ")),
            "{}",
            done.stdout
        );
    }
    assert!(done.stdout.contains("3 live tokens"), "{}", done.stdout);
}

#[test]
fn a_token_is_useless_to_another_user_after_unuse_and_after_its_shell_exits() {
    let (t, _proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    // Every directory up to the agent's is open to others: only the agent's own mode keeps
    // them out.
    let run = t.runtime_dir();
    for dir in [
        run.parent().unwrap().to_owned(),
        run.clone(),
        run.join("vault"),
    ] {
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o755))
            .unwrap();
    }
    let mut shell = StandIn::start();
    let done = t
        .vault(["use", "--agent", "role", "--shell", "bash"])
        .env("__VAULT_SHELL_PID", shell.pid().to_string())
        .env("AWS_PROFILE", "mine")
        .run();
    let vars = exported(&done.stdout);
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(run.join("vault/agent"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o700);
    let token = token_of(&vars);
    assert_eq!(ask(&vars, &token).0, 200);
    // Another user can neither read the token file nor use the token it was given.
    let file = &vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"];
    let as_nobody = |program: &str, args: &[&str]| {
        Command::new("setpriv")
            .args([
                &format!("--reuid={NOBODY}"),
                &format!("--regid={NOBODY}"),
                "--clear-groups",
                program,
            ])
            .args(args)
            .stderr(Stdio::null())
            .output()
            .expect("setpriv runs")
    };
    let read = as_nobody("cat", &[file]);
    assert!(!read.status.success(), "another user read the token file");
    let replay = as_nobody(
        "curl",
        &[
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "-H",
            &format!("Authorization: {token}"),
            &vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"],
        ],
    );
    assert_eq!(String::from_utf8_lossy(&replay.stdout), "403");
    // A wrong token.
    let (status, body) = ask(&vars, &format!("{token}x"));
    assert_eq!(status, 403, "{body}");
    // unuse revokes it, and puts back exactly what was there.
    let mut unuse = t
        .vault(["unuse", "--shell", "bash"])
        .env("__VAULT_SHELL_PID", shell.pid().to_string());
    for name in [
        "__VAULT_STATE",
        "VAULT_AGENT_PID",
        "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
        "AWS_VAULT",
    ] {
        unuse = unuse.env(name, &vars[name]);
    }
    let done = unuse.run();
    assert!(
        done.stdout.contains("export AWS_PROFILE='mine'"),
        "{}",
        done.stdout
    );
    assert!(
        done.stdout
            .contains("unset AWS_CONTAINER_CREDENTIALS_FULL_URI")
    );
    assert!(done.stdout.contains("unset VAULT_AGENT_PID"));
    let (status, body) = ask(&vars, &token);
    assert_eq!(
        (status, body["Message"].as_str()),
        (403, Some("invalid or revoked Authorization token"))
    );
    assert!(!Path::new(file).exists(), "unuse left the token file");
    // A shell that exits takes its token with it, within a few seconds.
    let vars = use_agent(&t, "role", shell.pid());
    let token = token_of(&vars);
    assert_eq!(ask(&vars, &token).0, 200);
    shell.exit();
    let gone = Instant::now();
    let (status, _) = ask(&vars, &token);
    assert_eq!(status, 403);
    assert!(gone.elapsed() < Duration::from_secs(3));
    wait_until(Duration::from_secs(3), "the token file goes", || {
        !Path::new(&vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).exists()
    });
}

#[test]
fn one_mfa_prompt_serves_two_shells_and_a_renewal_that_needs_a_code_marks_both_until_refresh() {
    let (t, proxy) = sandbox("mfa_serial = arn:aws:iam::123456789012:mfa/agent-user\n");
    let _stop = StopsAgent(&t);
    let env = "AWS_MIN_TTL=890s AWS_VAULT_AGENT_IDLE=1m";
    let one = hooked_shell(&t, "bash", "mfa-one", env);
    let two = hooked_shell(&t, "zsh", "mfa-two", env);
    one.send("vault use --agent role");
    one.wait_for("Enter MFA code for arn:aws:iam::123456789012:mfa/agent-user:");
    one.send("123456");
    one.wait_for("[role agent]>");
    two.send("vault use --agent role");
    two.wait_for("[role agent]>");
    assert!(!two.screen().contains("MFA code"), "{}", two.screen());
    assert_eq!(with_code(&proxy), 1, "one MFA code for two shells");
    assert_eq!(proxy.total(), 1);
    // AWS_MIN_TTL=14m50s: the background renewal comes in about 10 s, and AssumeRole with
    // MFA needs a new code.
    for tmux in [&one, &two] {
        prompt_until(tmux, "[role agent!]>", Duration::from_secs(40));
    }
    let screen = one.screen();
    assert!(
        screen.contains(
            "vault: the agent cannot renew the credentials of role: an MFA code for arn:aws:iam::123456789012:mfa/agent-user is needed; run: vault refresh"
        ),
        "{screen}"
    );
    t.vault(["agent", "status"])
        .stdout_has("needs you: run vault refresh")
        .run();
    // One `vault refresh` (one code) fixes both shells.
    one.send("vault refresh");
    one.wait_for("Enter MFA code for arn:aws:iam::123456789012:mfa/agent-user:");
    one.send("654321");
    prompt_until(&one, "[role agent]>", Duration::from_secs(10));
    prompt_until(&two, "[role agent]>", Duration::from_secs(10));
    assert_eq!(with_code(&proxy), 2);
}

/// STS calls that carried an MFA code.
fn with_code(proxy: &Proxy) -> usize {
    ["AssumeRole", "GetSessionToken"]
        .iter()
        .flat_map(|action| proxy.bodies(action))
        .filter(|body| body.contains("TokenCode="))
        .count()
}

/// Presses Enter (one prompt, one look at the stamp) until the last line shows `text`.
fn prompt_until(tmux: &Tmux, text: &str, within: Duration) {
    let deadline = Instant::now() + within;
    loop {
        let screen = tmux.screen();
        let last = screen.lines().rev().find(|l| l.starts_with('['));
        if last.is_some_and(|l| l.starts_with(text)) {
            return;
        }
        assert!(Instant::now() < deadline, "never saw {text:?}:\n{screen}");
        tmux.run(&["send-keys", "-t", "t", "Enter"]);
        std::thread::sleep(Duration::from_millis(500));
    }
}

#[test]
fn a_killed_agent_is_said_and_replaced_at_the_next_command_and_nothing_hangs() {
    for shell in ["bash", "zsh", "fish"] {
        let (t, _proxy) = sandbox("");
        let _stop = StopsAgent(&t);
        let tmux = hooked_shell(&t, shell, "kill", "AWS_VAULT_AGENT_IDLE=1m");
        tmux.send("vault use --agent role");
        tmux.wait_for("[role agent]>");
        let status = t.vault(["agent", "status"]).run();
        let pid = status
            .stdout
            .strip_prefix("vault agent ")
            .and_then(|rest| rest.split(':').next())
            .expect(&status.stdout)
            .to_owned();
        Command::new("kill").args(["-9", &pid]).status().unwrap();
        wait_until(Duration::from_secs(5), "the agent is gone", || {
            !Path::new(&format!("/proc/{pid}")).exists()
        });
        let started = Instant::now();
        tmux.send("aws sts get-caller-identity --query Arn --output text");
        let said = "vault: the agent serving role had stopped (killed?); vault started it again";
        let screen = tmux.wait_for(said);
        if shell == "bash" {
            // bash has no hook before a command: the first one fails at once (connection
            // refused), and the prompt after it replaces the agent.
            tmux.send("aws sts get-caller-identity --query Arn --output text");
        }
        let screen = {
            let _ = screen;
            tmux.wait_for("\narn:aws:sts::123456789012:assumed-role/agent-role/")
        };
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{shell}: took {:?}",
            started.elapsed()
        );
        assert_eq!(screen.matches(said).count(), 1, "{shell}:\n{screen}");
        assert!(screen.contains("[role agent]>"), "{shell}:\n{screen}");
    }
}

#[test]
fn agent_stop_revokes_every_token_and_leaves_nothing_behind() {
    let (t, _proxy) = sandbox("");
    let (first, second) = (StandIn::start(), StandIn::start());
    let a = use_agent(&t, "role", first.pid());
    let b = use_agent(&t, "other", second.pid());
    let status = t.vault(["agent", "status"]).run();
    let lines: Vec<&str> = status.stdout.lines().collect();
    assert_eq!(lines.len(), 4, "{}", status.stdout);
    assert!(lines[0].ends_with(": 2 live tokens"), "{}", status.stdout);
    assert_eq!(lines[1], "PROFILE  SHELL PID  AGE");
    assert!(
        lines[2..]
            .iter()
            .any(|l| l.starts_with(&format!("role     {:<9}  ", first.pid()))),
        "{}",
        status.stdout
    );
    assert!(
        lines[2..]
            .iter()
            .any(|l| l.starts_with(&format!("other    {:<9}  ", second.pid()))),
        "{}",
        status.stdout
    );
    for vars in [&a, &b] {
        assert!(!status.stdout.contains(&token_of(vars)));
        assert!(!status.stdout.contains(&served_key(vars)));
    }
    let agent_pid = a["VAULT_AGENT_PID"].clone();
    t.vault(["agent", "stop"])
        .env_remove("AWS_VAULT_QUIET")
        .stderr("vault: the agent stopped; 2 tokens revoked\n")
        .run();
    // Its parent is gone, and whoever adopted it reaps it in a moment.
    wait_until(Duration::from_secs(3), "the agent process is gone", || {
        !Path::new(&format!("/proc/{agent_pid}")).exists()
    });
    let dir = t.runtime_dir().join("vault").join("agent");
    assert!(
        !dir.exists(),
        "left behind: {:?}",
        std::fs::read_dir(&dir).map(Iterator::count)
    );
    for vars in [&a, &b] {
        assert!(!Path::new(&vars["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"]).exists());
        let address = vars["AWS_CONTAINER_CREDENTIALS_FULL_URI"]
            .trim_start_matches("http://")
            .trim_end_matches('/')
            .to_owned();
        assert!(
            TcpStream::connect(address).is_err(),
            "the endpoint still answers"
        );
    }
    t.vault(["agent", "status"])
        .stdout("no vault agent is running\n")
        .run();
    t.vault(["agent", "stop"])
        .env_remove("AWS_VAULT_QUIET")
        .stderr("vault: no agent is running\n")
        .run();
}

#[test]
fn aws_vault_use_agent_makes_the_agent_the_default_and_no_agent_turns_it_off() {
    let (t, _proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    let shell = StandIn::start();
    let done = t
        .vault(["use", "role", "--shell", "bash"])
        .env("AWS_VAULT_USE_AGENT", "1")
        .env("__VAULT_SHELL_PID", shell.pid().to_string())
        .env_remove("AWS_VAULT_QUIET")
        .stderr_like("vault: using role (eu-west-1) through the agent, [..]m left; it renews them, and no credentials are in this shell\n")
        .run();
    let vars = exported(&done.stdout);
    assert!(vars.contains_key("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"));
    assert!(done.stdout.contains("@agent"));
    // The prompt command shows that the agent serves the profile.
    let mut prompt = t.vault(["prompt"]);
    for (name, value) in &vars {
        prompt = prompt.env(name, value);
    }
    prompt.stdout("role agent\n").run();
    // --no-agent: keys, and the agent's variables unset.
    let done = t
        .vault(["use", "role", "--no-agent", "--shell", "bash"])
        .env("AWS_VAULT_USE_AGENT", "1")
        .run();
    assert!(done.stdout.contains("export AWS_ACCESS_KEY_ID="));
    assert!(
        done.stdout
            .contains("unset AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    );
    // Long-term keys are never handed to the agent.
    t.vault(["use", "--agent", "user", "--no-session", "--shell", "bash"])
        .env("__VAULT_SHELL_PID", shell.pid().to_string())
        .status(1)
        .stderr("vault: error: user gives long-term keys that do not expire (no session), and the agent serves only temporary credentials; drop --no-session, or use plain `vault use user`\n")
        .run();
}

#[test]
fn the_agent_cannot_be_dumped_or_traced_by_its_own_user() {
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(
        home.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let run = home.path().join("run");
    let mut agent = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            env!("CARGO_BIN_EXE_vault"),
            "agent",
            "serve",
        ])
        .env_clear()
        .env("HOME", home.path())
        .env("XDG_RUNTIME_DIR", &run)
        .env("AWS_VAULT_AGENT_IDLE", "30s")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // setpriv execs vault: the same process.
    let pid = agent.id();
    let socket = run.join("vault/agent/agent.sock");
    // The run directory is made by nobody here (a fresh XDG_RUNTIME_DIR).
    wait_until(
        Duration::from_secs(10),
        "the agent opens its socket",
        || socket.exists(),
    );
    let owner = std::os::unix::fs::MetadataExt::uid(
        &std::fs::metadata(format!("/proc/{pid}/status")).unwrap(),
    );
    let socket_owner = std::os::unix::fs::MetadataExt::uid(&std::fs::metadata(&socket).unwrap());
    let _ = agent.kill();
    let done = agent.wait_with_output().unwrap();
    assert_eq!(socket_owner.to_string(), NOBODY);
    assert_eq!(owner, 0, "the agent is dumpable: /proc shows its own uid");
    assert_eq!(String::from_utf8_lossy(&done.stderr), "");
}

#[test]
fn with_no_live_token_the_agent_leaves_by_itself_after_its_idle_time() {
    let (t, _proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    let mut shell = StandIn::start();
    let done = t
        .vault(["use", "--agent", "role", "--shell", "bash"])
        .env("__VAULT_SHELL_PID", shell.pid().to_string())
        .env("AWS_VAULT_AGENT_IDLE", "2s")
        .run();
    let vars = exported(&done.stdout);
    let agent = format!("/proc/{}", vars["VAULT_AGENT_PID"]);
    // A live token keeps it, idle or not.
    std::thread::sleep(Duration::from_secs(4));
    assert!(Path::new(&agent).exists(), "the agent left a live shell");
    shell.exit();
    let dir = t.runtime_dir().join("vault").join("agent");
    wait_until(Duration::from_secs(10), "the agent leaves", || {
        !dir.exists() && !Path::new(&agent).exists()
    });
}

#[test]
fn a_nested_shell_gets_its_own_token_and_its_unuse_leaves_the_parents_then_stop_is_said() {
    let (t, _proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    let tmux = hooked_shell(&t, "bash", "nested", "AWS_VAULT_AGENT_IDLE=1m");
    tmux.send("vault use --agent role");
    tmux.wait_for("[role agent]>");
    tmux.send("echo \"OUTER=$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"");
    let outer = value_on_screen(&tmux.wait_for("OUTER=/"), "OUTER=");
    let (_, hook) = setup("bash");
    tmux.send("clear; bash --noprofile --norc -i");
    std::thread::sleep(Duration::from_millis(300));
    tmux.send(&format!("{hook}; PS1='(inner)[${{VAULT_SEGMENT}}]> '"));
    tmux.wait_for("(inner)[role agent]>");
    tmux.send("echo \"INNER=$$:$AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE\"");
    let inner = value_on_screen(&tmux.wait_for("/tokens/"), "INNER=");
    let (pid, file) = inner.split_once(':').expect(&inner);
    assert_ne!(file, outer, "the nested shell kept its parent's token");
    let name = Path::new(file).file_name().unwrap().to_str().unwrap();
    assert!(name.starts_with(&format!("{pid}-")), "{inner}");
    tmux.send("vault unuse");
    tmux.wait_for("(inner)[]>");
    tmux.send("exit");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        Path::new(&outer).exists(),
        "the nested unuse revoked the parent's token"
    );
    tmux.send("aws sts get-caller-identity --query Arn --output text");
    tmux.wait_for("\narn:aws:sts::123456789012:assumed-role/agent-role/");
    // Stopped on purpose: the shell says so, and starts nothing.
    t.vault(["agent", "stop"]).run();
    tmux.send("true");
    let screen = tmux.wait_for("[role agent gone]>");
    assert!(
        screen.contains("vault: the agent serving role was stopped, so commands here get no credentials; run: vault use --agent role, or vault unuse"),
        "{screen}"
    );
    assert!(!t.runtime_dir().join("vault/agent").exists());
}

#[test]
fn credentials_in_the_default_profile_that_sdks_would_take_first_are_warned_about() {
    let (t, _proxy) = sandbox("");
    let _stop = StopsAgent(&t);
    let config = format!("{}[default]\ncredential_process = false\n", t.read_config());
    t.write_config(&config);
    let shell = StandIn::start();
    t.vault(["use", "--agent", "role", "--shell", "bash"])
        .env("__VAULT_SHELL_PID", shell.pid().to_string())
        .stderr(&format!(
            "vault: warning: SDKs in this shell will use the [default] profile's credentials (credential_process in {}), not the agent's: every SDK looks there first. Move them into a named profile (`vault import` takes keys into the keystore)\n",
            t.config_path().display()
        ))
        .run();
}

#[test]
fn a_hundred_prompts_of_an_agent_shell_start_no_process() {
    for shell in ["bash", "zsh", "fish"] {
        let (t, _proxy) = sandbox("");
        let _stop = StopsAgent(&t);
        let (command, hook) = setup(shell);
        let (tmux, log) = traced(&t, &format!("agent-strace-{shell}"), command);
        tmux.send(&format!("clear; {hook}"));
        tmux.wait_for("[]>");
        tmux.send("vault use --agent role");
        tmux.wait_for("[role agent]>");
        // A builtin each time: the prompt hook and the segment alone run.
        let (before, added) = starts_over_prompts(&tmux, &log, shell, 100);
        assert!(before > 0, "strace recorded nothing");
        assert_eq!(added, 0, "{shell}: {added} processes over 100 prompts");
    }
}
