//! MFA codes from --mfa-token, from mfa_process, and from a prompt on the terminal (driven
//! through tmux), including while stdout is captured.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};

const SERIAL: &str = "arn:aws:iam::123456789012:mfa/user";

fn sandbox(proxy: &Proxy, extra: &str) -> Sandbox {
    let t = Sandbox::new().with_endpoint(proxy.endpoint());
    t.write_config(&format!(
        "[default]\nregion = us-east-1\n[profile user]\nmfa_serial = {SERIAL}\n{extra}"
    ));
    t.add("user", "AKIAMFATEST000000001", "mfa-secret");
    t
}

#[test]
fn the_code_comes_from_the_flag_or_from_mfa_process() {
    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "");
    t.vault(["export", "user", "--mfa-token", "123456"])
        .run()
        .success()
        .stdout_has("AWS_SESSION_TOKEN=");
    assert_eq!(proxy.count("GetSessionToken"), 1);

    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "mfa_process = echo 654321\n");
    t.vault(["export", "user"])
        .run()
        .success()
        .stdout_has("AWS_SESSION_TOKEN=");
    assert_eq!(proxy.count("GetSessionToken"), 1);
}

/// A tmux server of our own, killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.run(&["capture-pane", "-p", "-t", "t"]);
            if screen.contains(text) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "never saw {text:?} on the terminal:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}

#[test]
fn the_prompt_appears_on_the_terminal_while_stdout_is_captured() {
    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "");
    let result = t.home().join("captured");
    let vault = env!("CARGO_BIN_EXE_vault");
    // The variables the sandbox gives vault, written out for the shell tmux starts.
    let exports: String = t
        .vault(["--version"])
        .envs()
        .iter()
        .map(|(key, value)| format!("export {key}='{value}'; "))
        .collect::<Vec<_>>()
        .concat();
    let script = format!(
        "{exports} out=$('{vault}' export user --format json); echo \"$out\" > '{}'; echo finished",
        result.display()
    );
    let tmux = Tmux {
        socket: format!("vault-mfa-{}", std::process::id()),
    };
    tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "t",
        "-x",
        "200",
        "-y",
        "50",
        "sh",
        "-c",
        &format!("{script}; sleep 30"),
    ]);
    // capture-pane drops the trailing space of the prompt.
    tmux.wait_for(&format!("Enter MFA code for {SERIAL}:"));
    tmux.run(&["send-keys", "-t", "t", "123456", "Enter"]);
    tmux.wait_for("finished");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(json["Version"], 1);
    assert!(json["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(proxy.count("GetSessionToken"), 1);
    assert!(proxy.bodies("GetSessionToken")[0].contains("TokenCode=123456"));
}
