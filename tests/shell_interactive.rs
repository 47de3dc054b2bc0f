//! The hook in interactive bash, zsh and fish, driven through tmux: the prompt shows the
//! profile and its countdown, credentials refresh themselves inside the refresh window without
//! any command waiting on STS (hung, down, or needing an MFA code), and the prompt starts no
//! process (counted with strace).
//!
//! Time is never moved inside vault: the tests open the refresh window through the hook's own
//! variable (`VAULT_REFRESH_AT`), as the window opening would, and STS faults come from the
//! test proxy in front of moto.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::proxy::{Mode, Proxy};
use crate::support::tmux::Tmux;

const SHELLS: [&str; 3] = ["bash", "zsh", "fish"];

/// The prompt right after `vault use p`: two hours, or a second less. (capture-pane drops the
/// space after the prompt.)
fn wait_for_fresh_prompt(tmux: &Tmux) -> String {
    tmux.wait_for_any(&["[p 2h00m]>", "[p 1h59m]>"])
}

/// A profile whose credential_process hands out a new key with 2 hours left at every run.
fn sandbox() -> Sandbox {
    let t = Sandbox::new();
    t.write_config(&format!(
        "[profile p]\nregion = eu-west-1\n{}",
        crate::support::two_hour_process(&t)
    ));
    t
}

/// A profile with stored keys, whose GetSessionToken goes through a proxy in front of moto.
fn sts_sandbox(mfa: bool) -> (Sandbox, Proxy) {
    let proxy = Proxy::start(Mode::Forward(crate::support::moto::shared().port));
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    let mfa = if mfa {
        "mfa_serial = arn:aws:iam::123456789012:mfa/u\n"
    } else {
        ""
    };
    t.write_config(&format!("[profile p]\nregion = eu-west-1\n{mfa}"));
    t.add("p", "AKIAINTERACTIVE00001", "s");
    (t, proxy)
}

/// The command that starts `shell` interactively, and the line that loads the hook with a
/// prompt of `[SEGMENT]> `.
pub fn setup(shell: &str) -> (&'static str, &'static str) {
    match shell {
        "bash" => (
            "bash --noprofile --norc -i",
            "eval \"$(\"$VAULT\" hook bash)\"; PS1='[${VAULT_SEGMENT}]> '",
        ),
        "zsh" => (
            "zsh -f -i",
            "eval \"$(\"$VAULT\" hook zsh)\"; setopt PROMPT_SUBST; PROMPT='[${VAULT_SEGMENT}]> '",
        ),
        _ => (
            "fish --no-config -i",
            "$VAULT hook fish | source; function fish_prompt; echo -n '['; __vault_prompt; echo -n ']> '; end",
        ),
    }
}

/// A shell under tmux with the hook loaded and `vault use p` done.
fn shell_with_profile(t: &Sandbox, shell: &str, name: &str, use_args: &str) -> Tmux {
    let (command, hook) = setup(shell);
    let tmux = Tmux::start(t, &format!("{name}-{shell}"), command);
    tmux.wait_for_any(&["#", "$", ">"]);
    std::thread::sleep(Duration::from_millis(500));
    tmux.send(hook);
    tmux.wait_for("[]>");
    tmux.send(&format!("vault use p {use_args}"));
    tmux.wait_for("[p ");
    tmux
}

/// Opens the refresh window the way time would: the hook's own variable says it is due.
fn open_refresh_window(tmux: &Tmux, shell: &str) {
    tmux.send(if shell == "fish" {
        "set -gx VAULT_REFRESH_AT 1"
    } else {
        "export VAULT_REFRESH_AT=1"
    });
}

/// Presses Enter (one prompt, one chance for the hook) until the screen shows `text`.
fn prompt_until(tmux: &Tmux, text: &str, within: Duration) -> String {
    let deadline = Instant::now() + within;
    loop {
        let screen = tmux.screen();
        if screen.contains(text) {
            return screen;
        }
        assert!(Instant::now() < deadline, "never saw {text:?}:\n{screen}");
        tmux.run(&["send-keys", "-t", "t", "Enter"]);
        std::thread::sleep(Duration::from_millis(400));
    }
}

fn last_prompt(screen: &str) -> &str {
    screen
        .lines()
        .rev()
        .find(|l| l.starts_with('['))
        .unwrap_or_default()
}

/// The last value printed after `marker` on the screen.
pub fn value_on_screen(screen: &str, marker: &str) -> String {
    screen
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(marker))
        .unwrap_or_default()
        .trim()
        .to_owned()
}

#[test]
fn the_prompt_counts_down_and_credentials_refresh_in_place() {
    for shell in SHELLS {
        let t = sandbox();
        let tmux = shell_with_profile(&t, shell, "refresh", "");
        let screen = wait_for_fresh_prompt(&tmux);
        assert!(!screen.contains("error"), "{shell}:\n{screen}");
        tmux.send("echo first=$AWS_ACCESS_KEY_ID");
        let first = value_on_screen(&tmux.wait_for("first=ASIA"), "first=");
        open_refresh_window(&tmux, shell);
        // The background fetch is applied at a later prompt or command.
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut round = 0;
        let refreshed = loop {
            round += 1;
            tmux.send(&format!("echo key{round}=$AWS_ACCESS_KEY_ID"));
            let key = value_on_screen(
                &tmux.wait_for(&format!("key{round}=ASIA")),
                &format!("key{round}="),
            );
            if key != first {
                break key;
            }
            assert!(
                Instant::now() < deadline,
                "{shell}: never refreshed from {first}"
            );
            std::thread::sleep(Duration::from_millis(300));
        };
        assert!(
            refreshed.as_str() > first.as_str(),
            "{shell}: {first} then {refreshed}"
        );
        // Two hours again, and no mark.
        tmux.send("");
        std::thread::sleep(Duration::from_millis(300));
        let screen = tmux.screen();
        let prompt = last_prompt(&screen);
        assert!(
            prompt.starts_with("[p 2h00m]>") || prompt.starts_with("[p 1h59m]>"),
            "{shell}: countdown did not move forward:\n{screen}"
        );
        // The background fetch is no job of the user's: no "[1] 1234", no "Done".
        assert!(
            !screen.contains("--background") && !screen.contains("[1]"),
            "{shell}: the background fetch showed as a job:\n{screen}"
        );
    }
}

/// Milliseconds since the epoch, by the test's clock and by `date` in the shell alike.
fn now_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis()
}

#[test]
fn a_command_typed_in_the_refresh_window_starts_at_once_when_sts_hangs() {
    for shell in SHELLS {
        let (t, proxy) = sts_sandbox(false);
        let tmux = shell_with_profile(&t, shell, "hung", "");
        proxy.set_mode(Mode::Hang);
        open_refresh_window(&tmux, shell);
        let date = if shell == "fish" {
            "(date +%s%3N)"
        } else {
            "$(date +%s%3N)"
        };
        // The first command starts the background fetch (zsh, fish: before it runs; bash: at
        // the prompt before it); the next ones find it still waiting on STS.
        for round in 0..3 {
            let typed = now_ms();
            tmux.send(&format!("echo started{round}-{date}"));
            let screen = tmux.wait_for(&format!("started{round}-1"));
            let started: u128 = value_on_screen(&screen, &format!("started{round}-"))
                .parse()
                .unwrap_or_else(|_| panic!("{shell}: no time on screen:\n{screen}"));
            let waited = started.saturating_sub(typed);
            assert!(
                waited < 2000,
                "{shell}: a command waited {waited} ms on a hung STS:\n{screen}"
            );
            eprintln!("{shell}: command {round} started {waited} ms after it was typed");
            std::thread::sleep(Duration::from_millis(700));
        }
        assert!(
            proxy.count("GetSessionToken") >= 2,
            "{shell}: no background fetch reached STS"
        );
    }
}

#[test]
fn sts_down_then_up_retries_by_itself_and_the_segment_heals() {
    // One thread per shell: each waits out the 30 s back-off.
    let runs: Vec<_> = SHELLS
        .iter()
        .map(|shell| std::thread::spawn(move || sts_down_then_up(shell)))
        .collect();
    for run in runs {
        run.join().expect("a shell's run failed");
    }
}

fn sts_down_then_up(shell: &'static str) {
    let (t, proxy) = sts_sandbox(false);
    let tmux = shell_with_profile(&t, shell, "down", "");
    tmux.send("echo first=$VAULT_EXPIRES_AT");
    let first: i64 = value_on_screen(&tmux.wait_for("first=1"), "first=")
        .parse()
        .unwrap();
    proxy.set_mode(Mode::Closed);
    open_refresh_window(&tmux, shell);
    let screen = prompt_until(&tmux, "m~]>", Duration::from_secs(20));
    let warning = format!(
        "vault: the credentials of p could not be refreshed: STS is unreachable at {}",
        proxy.endpoint()
    );
    assert!(screen.contains(&warning), "{shell}: {screen}");
    assert!(
        screen.contains("vault tries again in the background"),
        "{shell}: {screen}"
    );
    proxy.set_mode(Mode::Forward(crate::support::moto::shared().port));
    // The first retry comes 30 s later, with nothing asked of the user but prompts.
    let started = Instant::now();
    std::thread::sleep(Duration::from_secs(25));
    let deadline = Instant::now() + Duration::from_secs(30);
    let screen = loop {
        tmux.send("echo now=$VAULT_EXPIRES_AT");
        std::thread::sleep(Duration::from_millis(500));
        let screen = tmux.screen();
        let prompt = last_prompt(&screen).to_owned();
        let now: i64 = value_on_screen(&screen, "now=").parse().unwrap_or(0);
        if now > first && !prompt.contains('~') && !prompt.contains('!') {
            break screen;
        }
        assert!(
            Instant::now() < deadline,
            "{shell}: the segment never healed:\n{screen}"
        );
    };
    assert!(started.elapsed() >= Duration::from_secs(25), "{shell}");
    assert!(
        last_prompt(&screen).starts_with("[p "),
        "{shell}:\n{screen}"
    );
}

#[test]
fn a_refresh_that_needs_an_mfa_code_marks_the_segment_and_says_so() {
    for shell in SHELLS {
        let (t, _proxy) = sts_sandbox(true);
        let tmux = shell_with_profile(&t, shell, "mfa", "--mfa-token 123456");
        tmux.wait_for("[p ");
        open_refresh_window(&tmux, shell);
        let screen = prompt_until(&tmux, "m!]>", Duration::from_secs(20));
        assert!(
            screen.contains(
                "vault: the credentials of p could not be refreshed: an MFA code for arn:aws:iam::123456789012:mfa/u is needed; run: vault refresh"
            ),
            "{shell}:\n{screen}"
        );
        assert_eq!(
            screen.matches("could not be refreshed").count(),
            1,
            "{shell}:\n{screen}"
        );
    }
}

/// Process starts (fork, clone, execve) in an strace log; a new thread is not a process.
fn starts(log: &Path) -> usize {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .filter(|l| {
            ["fork(", "clone(", "clone3(", "execve("]
                .iter()
                .any(|c| l.contains(c))
        })
        .filter(|l| !l.contains("resumed") && !l.contains("CLONE_THREAD"))
        .count()
}

/// The hook and prompt exactly as the README tells users to write them.
fn readme_setup(shell: &str) -> (&'static str, &'static str) {
    match shell {
        "bash" => (
            "bash --noprofile --norc -i",
            "eval \"$(\"$VAULT\" hook bash)\"; PS1='${VAULT_SEGMENT:+[$VAULT_SEGMENT] }\\$ '",
        ),
        _ => (
            "zsh -f -i",
            "eval \"$(\"$VAULT\" hook zsh)\"; setopt PROMPT_SUBST; PROMPT='${VAULT_SEGMENT:+[$VAULT_SEGMENT] }%# '",
        ),
    }
}

#[test]
fn a_hundred_prompts_start_no_process_in_bash_and_zsh() {
    for shell in ["bash", "zsh"] {
        let t = sandbox();
        let (command, hook) = readme_setup(shell);
        let (tmux, log) = traced(&t, &format!("strace-{shell}"), command);
        tmux.send(hook);
        tmux.send("vault use p");
        tmux.wait_for_any(&["[p 2h00m] #", "[p 1h59m] #", "[p 2h00m] $", "[p 1h59m] $"]);
        let (before, added) = starts_over_prompts(&tmux, &log, shell, 100);
        assert!(before > 0, "strace recorded nothing");
        assert_eq!(
            added, 0,
            "{shell}: {added} processes started over 100 prompts"
        );
    }
}

#[test]
fn the_fish_hook_adds_no_process_per_prompt() {
    let mut counts = Vec::new();
    for with_hook in [false, true] {
        let t = sandbox();
        let (command, hook) = setup("fish");
        let (tmux, log) = traced(&t, &format!("fish-{with_hook}"), command);
        if with_hook {
            tmux.send(hook);
            tmux.send("vault use p");
            wait_for_fresh_prompt(&tmux);
        } else {
            tmux.send("function fish_prompt; echo -n '[]> '; end");
        }
        counts.push(starts_over_prompts(&tmux, &log, "fish", 20).1);
    }
    assert!(
        counts[1] <= counts[0],
        "fish with the hook started more processes over 20 prompts ({counts:?})"
    );
}

/// `command` (a shell) under strace in a terminal, and the log of the processes it starts.
pub fn traced(t: &Sandbox, name: &str, command: &str) -> (Tmux, PathBuf) {
    let log = t.home().join(format!("strace-{name}"));
    let traced = format!(
        "strace -f -e trace=fork,vfork,clone,clone3,execve -o {} {command}",
        log.display()
    );
    let tmux = Tmux::start(t, name, &traced);
    std::thread::sleep(Duration::from_millis(500));
    (tmux, log)
}

/// The processes started so far, once the shell has settled, and how many more `prompts`
/// prompts (a builtin typed at each) start.
pub fn starts_over_prompts(tmux: &Tmux, log: &Path, shell: &str, prompts: usize) -> (usize, usize) {
    tmux.send("echo ready");
    tmux.wait_for("ready\n");
    std::thread::sleep(Duration::from_millis(300));
    let before = starts(log);
    for _ in 0..prompts {
        tmux.send("true");
    }
    tmux.send(if shell == "fish" {
        "echo done-(math 6 \\* 7)"
    } else {
        "echo done-$((6*7))"
    });
    tmux.wait_for("done-42");
    std::thread::sleep(Duration::from_millis(300));
    (before, starts(log) - before)
}
