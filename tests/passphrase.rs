//! The passphrase prompt on the terminal and its cache in the kernel keyring.

use crate::support::{Run, Sandbox};

const TYPED: &str = "typed passphrase";

fn add_on_terminal(t: &Sandbox, profile: &str, ttl: &str, dialogue: &[(&str, &str)]) -> Run {
    t.vault(["add", profile, "--env", "--no-add-config"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .env("AWS_VAULT_FILE_PASSPHRASE_TTL", ttl)
        .env("AWS_ACCESS_KEY_ID", "AKIATERMINAL")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .on_terminal(dialogue)
}

/// What the terminal shows once `vault add` has stored `profile`.
fn added(profile: &str) -> String {
    format!("Added credentials to profile \"{profile}\" in vault\r\n")
}

/// The two prompts for a new keystore's passphrase, answered (the answers are not echoed).
fn chosen(dir: &str) -> String {
    format!("Choose a passphrase for the new keystore \"{dir}\": \r\nEnter it again: \r\n")
}

/// A sandbox whose keystore holds one key under `TYPED`, and the prompt that unlocks it.
fn keystore_with_one_key() -> (Sandbox, String) {
    let t = Sandbox::new();
    t.vault(["add", "first", "--env", "--no-add-config"])
        .env("AWS_VAULT_FILE_PASSPHRASE", TYPED)
        .env("AWS_ACCESS_KEY_ID", "AKIA1")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .run();
    let unlock = format!(
        "Enter passphrase to unlock \"{}\": ",
        t.keys_dir().display()
    );
    (t, unlock)
}

#[test]
fn a_new_keystore_asks_twice_and_then_the_passphrase_is_kept_for_a_while() {
    let t = Sandbox::new();
    let dir = t.keys_dir().display().to_string();
    add_on_terminal(
        &t,
        "one",
        "2m",
        &[
            (
                &format!("Choose a passphrase for the new keystore \"{dir}\": "),
                &format!("{TYPED}\n"),
            ),
            ("Enter it again: ", &format!("{TYPED}\n")),
        ],
    )
    .stdout(&(chosen(&dir) + &added("one")))
    .run();
    // The second command finds the passphrase in the kernel keyring: no prompt at all.
    add_on_terminal(&t, "two", "2m", &[])
        .stdout(&added("two"))
        .run();
    assert_eq!(
        t.jose_decrypt(&t.keys_dir().join("two"), TYPED).map(|_| ()),
        Ok(())
    );
}

#[test]
fn with_a_ttl_of_zero_the_passphrase_is_asked_every_time() {
    let (t, unlock) = keystore_with_one_key();
    for profile in ["a", "b"] {
        add_on_terminal(&t, profile, "0", &[(&unlock, &format!("{TYPED}\n"))])
            .stdout(&format!("{unlock}\r\n{}", added(profile)))
            .run();
    }
}

#[test]
fn a_mistyped_passphrase_is_asked_three_times_then_refused_and_not_kept() {
    let (t, unlock) = keystore_with_one_key();
    let dir = t.keys_dir().display().to_string();
    let sorry = |left: u32| {
        format!("That passphrase does not unlock \"{dir}\"; try again ({left} left).\r\n")
    };
    let typo = (unlock.as_str(), "typo\n");
    add_on_terminal(&t, "x", "2m", &[typo, typo, typo])
        .status(1)
        .stdout(&format!(
            "{unlock}\r\n{}{unlock}\r\n{}{unlock}\r\nvault: error: the passphrase you typed does \
             not unlock the file keystore {dir}: it cannot decrypt {dir}/first; type the \
             passphrase the keys were stored with, or point --file-dir at another directory\r\n",
            sorry(2),
            sorry(1),
        ))
        .run();
    // A typo, then the right one.
    add_on_terminal(&t, "y", "0", &[typo, (&unlock, &format!("{TYPED}\n"))])
        .stdout(&format!(
            "{unlock}\r\n{}{unlock}\r\n{}",
            sorry(2),
            added("y")
        ))
        .run();
    assert!(!t.keys_dir().join("x").exists());
    // The typo was not cached: the next command asks again, and the right one works.
    add_on_terminal(&t, "x", "2m", &[(&unlock, &format!("{TYPED}\n"))])
        .stdout(&format!("{unlock}\r\n{}", added("x")))
        .run();
}

#[test]
fn a_new_passphrase_mistyped_in_its_confirmation_is_chosen_again() {
    let t = Sandbox::new();
    let dir = t.keys_dir().display().to_string();
    let choose = format!("Choose a passphrase for the new keystore \"{dir}\": ");
    add_on_terminal(
        &t,
        "one",
        "0",
        &[
            (&choose, "first\n"),
            ("Enter it again: ", "frist\n"),
            (&choose, &format!("{TYPED}\n")),
            ("Enter it again: ", &format!("{TYPED}\n")),
        ],
    )
    .stdout(&format!(
        "{}The two did not match; choose it again.\r\n{}{}",
        chosen(&dir),
        chosen(&dir),
        added("one")
    ))
    .run();
    assert_eq!(
        t.jose_decrypt(&t.keys_dir().join("one"), TYPED).map(|_| ()),
        Ok(())
    );
}

#[test]
fn new_passphrases_that_differ_three_times_store_nothing() {
    let t = Sandbox::new();
    let twice = [("Choose a passphrase", "a\n"), ("Enter it again: ", "b\n")];
    let dialogue: Vec<(&str, &str)> = twice.iter().copied().cycle().take(6).collect();
    let chosen = chosen(&t.keys_dir().display().to_string());
    let again = "The two did not match; choose it again.\r\n";
    add_on_terminal(&t, "one", "2m", &dialogue)
        .status(1)
        .stdout(&format!(
            "{chosen}{again}{chosen}{again}{chosen}vault: error: the passphrases did not match; \
             nothing was stored\r\n"
        ))
        .run();
    assert!(!t.keys_dir().join("one").exists());
}

#[test]
fn without_a_terminal_the_error_names_the_environment_variable() {
    let t = Sandbox::new();
    t.vault(["add", "dev", "--env"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(1)
        .stderr_like(&format!(
            "vault: error: cannot get the passphrase for the file keystore {dir}: cannot ask for \
             Choose a passphrase for the new keystore \"{dir}\": there is no terminal to ask on \
             ([..]); set AWS_VAULT_FILE_PASSPHRASE for non-interactive use\n",
            dir = t.keys_dir().display()
        ))
        .run();
}

#[test]
fn inside_a_real_session_keyring_the_passphrase_is_kept_there() {
    let t = Sandbox::new();
    let dir = t.keys_dir().display().to_string();
    let script = format!(
        "set -e\n\"$VAULT\" add one --env --no-add-config\n\"$VAULT\" add two --env --no-add-config\n\
         keyctl search @s user 'vault:file-passphrase:{dir}' >/dev/null && echo cached-in-session"
    );
    let dialogue = serde_json::to_string(&[
        (
            format!("Choose a passphrase for the new keystore \"{dir}\": "),
            format!("{TYPED}\n"),
        ),
        ("Enter it again: ".to_owned(), format!("{TYPED}\n")),
    ])
    .unwrap();
    let pty = crate::support::support_file("pty_run.py");
    // `keyctl session -` gives the whole run a real session keyring, as a login would. The
    // passphrase is asked for once, and found in the session keyring afterwards.
    t.program(&which("keyctl"))
        .args(["session", "-", "python3"])
        .arg(&pty)
        .args([dialogue.as_str(), "--", "sh", "-c", script.as_str()])
        .env("VAULT", env!("CARGO_BIN_EXE_vault"))
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .stdout(&format!(
            "{}{}{}cached-in-session\r\n",
            chosen(&dir),
            added("one"),
            added("two")
        ))
        .stderr_like("Joined session keyring: [..]\n")
        .run();
    assert!(t.keys_dir().join("two").exists());
}

fn which(tool: &str) -> String {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    found.unwrap_or_else(|| panic!("{tool} is required for this test (apt-get install keyutils)"))
}

#[test]
fn a_malformed_ttl_is_an_error_that_names_the_variable() {
    let t = Sandbox::new();
    t.vault(["list"])
        .env("AWS_VAULT_FILE_PASSPHRASE_TTL", "15")
        .run();
    t.vault(["add", "dev", "--env"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .env("AWS_VAULT_FILE_PASSPHRASE_TTL", "15")
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .status(1)
        .stderr(
            "vault: error: AWS_VAULT_FILE_PASSPHRASE_TTL: invalid duration \"15\": a number has \
             no unit (write it like 1h, 30m, 90s or 1h30m)\n",
        )
        .run();
}

#[test]
fn a_keyring_planted_by_another_user_never_receives_the_passphrase() {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    // The victim is a fresh uid, so no keyring of its own exists yet; the attacker is nobody.
    let victim = (30_000 + std::process::id() % 20_000).to_string();
    let t = Sandbox::new();
    let root = t.home().parent().unwrap().to_owned();
    let vault = root.join("vault");
    std::fs::copy(env!("CARGO_BIN_EXE_vault"), &vault).unwrap();
    let pty = root.join("pty_run.py");
    std::fs::copy(crate::support::support_file("pty_run.py"), &pty).unwrap();
    let chown = Command::new("chown")
        .args(["-R", &format!("{victim}:{victim}")])
        .arg(&root)
        .status()
        .unwrap();
    assert!(chown.success());

    // nobody makes a session keyring with the victim's shared name, open to everyone, and
    // lists what it holds once the victim is done.
    let script = "keyctl setperm @s 0x3f3f3f3f >/dev/null; echo ready; read _; keyctl show @s";
    let name = format!("vault-session-{victim}");
    let mut attacker = Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            &which("keyctl"),
            "session",
            &name,
            "sh",
            "-c",
            script,
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("setpriv runs (util-linux)");
    let mut lines = BufReader::new(attacker.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");

    let dir = t.keys_dir().display().to_string();
    let dialogue = serde_json::to_string(&[
        (
            format!("Choose a passphrase for the new keystore \"{dir}\": "),
            format!("{TYPED}\n"),
        ),
        ("Enter it again: ".to_owned(), format!("{TYPED}\n")),
    ])
    .unwrap();
    t.program("setpriv")
        .args([
            &format!("--reuid={victim}"),
            &format!("--regid={victim}"),
            "--clear-groups",
            "/usr/bin/python3",
        ])
        .arg(&pty)
        .args([dialogue.as_str(), "--"])
        .arg(&vault)
        .args(["add", "one", "--env", "--no-add-config"])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .env("AWS_ACCESS_KEY_ID", "AKIA")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .stdout(&(chosen(&dir) + &added("one")))
        .run();

    writeln!(attacker.stdin.take().unwrap()).unwrap();
    let seen: Vec<String> = lines.map_while(Result::ok).collect();
    attacker.wait().unwrap();
    assert!(
        !seen.is_empty(),
        "the attacker's keyring listing is missing"
    );
    assert!(
        !seen.iter().any(|l| l.contains("vault:file-passphrase")),
        "the passphrase went into another user's keyring:\n{}",
        seen.join("\n")
    );
}

/// The kernel keys kept for `dir` that never expire (`perm` in /proc/keys' timeout column).
fn keys_without_timeout(dir: &str) -> Vec<String> {
    std::fs::read_to_string("/proc/keys")
        .unwrap()
        .lines()
        .filter(|line| line.contains(dir))
        .filter(|line| line.split_whitespace().nth(3) == Some("perm"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_kill_at_any_keyring_call_never_leaves_a_passphrase_without_a_timeout() {
    let vault = env!("CARGO_BIN_EXE_vault");
    let mut survived = false;
    for nth in 1..=40 {
        let (t, unlock) = keystore_with_one_key();
        let dir = t.keys_dir().display().to_string();
        let inject = format!("inject=keyctl:signal=KILL:when={nth}");
        let done = t
            .program("strace")
            .args(["-f", "-qq", "-o", "/dev/null", "-e", &inject, vault])
            .args(["add", "p", "--env", "--no-add-config"])
            .env_remove("AWS_VAULT_FILE_PASSPHRASE")
            .env("AWS_VAULT_FILE_PASSPHRASE_TTL", "2m")
            .env("AWS_ACCESS_KEY_ID", "AKIAKILLED")
            .env("AWS_SECRET_ACCESS_KEY", "s")
            .on_terminal(&[(&unlock, &format!("{TYPED}\n"))])
            .status_any("killed at some keyctl call, or at none once nth is past the last")
            .stderr_any("strace reports the kill")
            .run();
        // A key that only the killed process held goes with it, after the kernel's clean-up.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
        while !keys_without_timeout(&dir).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(
            keys_without_timeout(&dir),
            Vec::<String>::new(),
            "killed at keyctl call {nth}"
        );
        if done.stdout.contains(&added("p")) {
            survived = true;
            break;
        }
    }
    assert!(survived, "vault never got past its keyctl calls");
}
