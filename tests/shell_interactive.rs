//! The hook in interactive bash, zsh and fish, driven through tmux: the prompt shows the
//! profile and its countdown, credentials refresh themselves inside the refresh window, and the
//! prompt starts no process (counted with strace).

use std::path::Path;
use std::time::Duration;

use crate::support::Sandbox;
use crate::support::tmux::Tmux;

/// The prompt right after `vault use p`: two hours, or a second less. (capture-pane drops the
/// space after the prompt.)
fn wait_for_fresh_prompt(tmux: &Tmux) -> String {
    tmux.wait_for_any(&["[p 2h00m]>", "[p 1h59m]>"])
}

/// A profile whose credential_process hands out 2-hour credentials by the clock the binary
/// and the hook share (VAULT_CLOCK_OFFSET), so tests can jump into the refresh window.
fn sandbox() -> Sandbox {
    let t = Sandbox::new();
    let script = t.home().join("creds.sh");
    std::fs::write(
        &script,
        "now=$(( $(date +%s) + ${VAULT_CLOCK_OFFSET:-0} ))\n\
         exp=$(date -u -d \"@$((now + 7200))\" +%Y-%m-%dT%H:%M:%SZ)\n\
         printf '{\"Version\":1,\"AccessKeyId\":\"ASIA%s\",\"SecretAccessKey\":\"s\",\"SessionToken\":\"t\",\"Expiration\":\"%s\"}' \"$now\" \"$exp\"\n",
    )
    .unwrap();
    t.write_config(&format!(
        "[profile p]\nregion = eu-west-1\ncredential_process = sh {}\n",
        script.display()
    ));
    t
}

fn setup(shell: &str) -> (&'static str, &'static str) {
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

#[test]
fn the_prompt_counts_down_and_credentials_refresh_in_place() {
    for shell in ["bash", "zsh", "fish"] {
        let t = sandbox();
        let (command, hook) = setup(shell);
        let tmux = Tmux::start(&t, shell, command);
        tmux.wait_for_any(&["#", "$", ">"]);
        std::thread::sleep(Duration::from_millis(500));
        tmux.send(hook);
        tmux.wait_for("[]>");
        tmux.send("vault use p");
        let screen = wait_for_fresh_prompt(&tmux);
        assert!(!screen.contains("error"), "{shell}:\n{screen}");
        tmux.send("echo first=$AWS_ACCESS_KEY_ID");
        let first = key_on_screen(&tmux.wait_for("first=ASIA"), "first=");
        // Jump 1h56m ahead: 4 minutes are left, inside the 12-minute refresh window.
        let jump = if shell == "fish" {
            "set -gx VAULT_CLOCK_OFFSET 6960"
        } else {
            "export VAULT_CLOCK_OFFSET=6960"
        };
        tmux.send(jump);
        tmux.send("echo second=$AWS_ACCESS_KEY_ID");
        let screen = tmux.wait_for("second=ASIA");
        let second = key_on_screen(&screen, "second=");
        // bash refreshes at the prompt, after the command; zsh and fish before it.
        tmux.send("echo third=$AWS_ACCESS_KEY_ID");
        let third = key_on_screen(&tmux.wait_for("third=ASIA"), "third=");
        let refreshed = if shell == "bash" { &third } else { &second };
        assert!(
            refreshed.as_str() > first.as_str(),
            "{shell}: not refreshed: {first} then {refreshed}\n{screen}"
        );
        // 4 minutes were left; after the refresh, two hours again.
        let screen = tmux.screen();
        let last_prompt = screen
            .lines()
            .rev()
            .find(|l| l.starts_with('['))
            .unwrap_or_default();
        assert!(
            last_prompt.starts_with("[p 2h00m]>") || last_prompt.starts_with("[p 1h59m]>"),
            "{shell}: countdown did not move forward:\n{screen}"
        );
    }
}

fn key_on_screen(screen: &str, marker: &str) -> String {
    screen
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(marker))
        .unwrap_or_default()
        .trim()
        .to_owned()
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
        let log = t.home().join(format!("strace-{shell}"));
        let (command, hook) = readme_setup(shell);
        let traced = format!(
            "strace -f -e trace=fork,vfork,clone,clone3,execve -o {} {command}",
            log.display()
        );
        let tmux = Tmux::start(&t, &format!("strace-{shell}"), &traced);
        std::thread::sleep(Duration::from_millis(500));
        tmux.send(hook);
        tmux.send("vault use p");
        tmux.wait_for_any(&["[p 2h00m] #", "[p 1h59m] #", "[p 2h00m] $", "[p 1h59m] $"]);
        tmux.send("echo ready");
        tmux.wait_for("ready\n");
        std::thread::sleep(Duration::from_millis(300));
        let before = starts(&log);
        assert!(before > 0, "strace recorded nothing");
        for _ in 0..100 {
            tmux.send(":");
        }
        tmux.send("echo done-$((6*7))");
        tmux.wait_for("done-42");
        std::thread::sleep(Duration::from_millis(300));
        let after = starts(&log);
        assert_eq!(
            after,
            before,
            "{shell}: {} processes started over 100 prompts",
            after - before
        );
    }
}

#[test]
fn the_fish_hook_adds_no_process_per_prompt() {
    let mut counts = Vec::new();
    for with_hook in [false, true] {
        let t = sandbox();
        let log = t.home().join("strace-fish");
        let (command, hook) = setup("fish");
        let traced = format!(
            "strace -f -e trace=fork,vfork,clone,clone3,execve -o {} {command}",
            log.display()
        );
        let tmux = Tmux::start(&t, &format!("fish-{with_hook}"), &traced);
        std::thread::sleep(Duration::from_millis(500));
        if with_hook {
            tmux.send(hook);
            tmux.send("vault use p");
            wait_for_fresh_prompt(&tmux);
        } else {
            tmux.send("function fish_prompt; echo -n '[]> '; end");
        }
        tmux.send("echo ready");
        tmux.wait_for("ready\n");
        std::thread::sleep(Duration::from_millis(300));
        let before = starts(&log);
        for _ in 0..20 {
            tmux.send("true");
        }
        tmux.send("echo done-(math 6 \\* 7)");
        tmux.wait_for("done-42");
        std::thread::sleep(Duration::from_millis(300));
        counts.push(starts(&log) - before);
    }
    assert!(
        counts[1] <= counts[0],
        "fish with the hook started more processes over 20 prompts ({counts:?})"
    );
}
