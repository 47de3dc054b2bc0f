//! A terminal for tests: a tmux server of our own running one command in a sandbox's
//! environment, read with capture-pane and typed into with send-keys. Killed when dropped.

use std::process::Command;
use std::time::{Duration, Instant};

use super::Sandbox;

pub struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` (a shell command line) in a 200x50 terminal, with the environment the
    /// sandbox gives vault, plus `VAULT` (the binary) and `TERM`.
    pub fn start(t: &Sandbox, name: &str, command: &str) -> Self {
        let tmux = Self {
            socket: format!("vault-{name}-{}", std::process::id()),
        };
        let launcher = t.home().join(format!("launch-{name}.sh"));
        let exports = t
            .vault(["--version"])
            .envs()
            .iter()
            .map(|(k, v)| format!("export {k}='{}'", v.replace('\'', "'\\''")))
            .collect::<Vec<_>>()
            .join("\n");
        let vault = env!("CARGO_BIN_EXE_vault");
        std::fs::write(
            &launcher,
            format!("{exports}\nexport VAULT='{vault}' TERM=xterm\nexec {command}\n"),
        )
        .unwrap();
        let launcher = launcher.display().to_string();
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
            &launcher,
        ]);
        tmux
    }

    pub fn run(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// Types `keys` literally, then Enter.
    pub fn send(&self, keys: &str) {
        self.run(&["send-keys", "-t", "t", "-l", keys]);
        self.run(&["send-keys", "-t", "t", "Enter"]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "t"])
    }

    /// Waits up to 20 s for `text` on the screen (capture-pane drops trailing spaces).
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_any(&[text])
    }

    pub fn wait_for_any(&self, texts: &[&str]) -> String {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let screen = self.screen();
            if texts.iter().any(|text| screen.contains(text)) {
                return screen;
            }
            assert!(Instant::now() < deadline, "never saw {texts:?}:\n{screen}");
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
