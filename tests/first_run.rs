//! The README's first command, as a new user types it: in a fresh HOME with no daemon, on a
//! terminal, answering each prompt (the region with Enter). The command line is read from the
//! README, so the README cannot drift from what works.

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::tmux::Tmux;

/// The README's one-line start, without its `cargo install` (the test runs the built binary).
fn readme_first_command() -> String {
    let readme = include_str!("../README.md");
    let line = readme
        .lines()
        .find(|line| line.starts_with("cargo install --locked --path . && "))
        .expect("the README starts with an install-and-run line");
    line.strip_prefix("cargo install --locked --path . && ")
        .unwrap()
        .to_owned()
}

#[test]
fn the_readmes_first_command_works_on_a_fresh_machine() {
    let command = readme_first_command();
    assert!(
        command.starts_with("vault add my-profile && ")
            && command.ends_with("vault exec my-profile -- aws sts get-caller-identity"),
        "the test answers the prompts of: {command}"
    );
    let moto = moto::shared();
    let (_, id, secret) = moto.create_user("first");
    let t = Sandbox::new().with_endpoint(moto.endpoint());
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_vault"))
        .parent()
        .unwrap()
        .display()
        .to_string();
    // Nothing of the sandbox's own set-up: the defaults a new user gets (~/.aws/config,
    // ~/.awsvault/keys, the backend vault picks without a session bus).
    let script = t.home().join("first-run.sh");
    std::fs::write(
        &script,
        format!(
            "unset AWS_CONFIG_FILE AWS_VAULT_BACKEND AWS_VAULT_FILE_DIR AWS_VAULT_FILE_PASSPHRASE \
             DBUS_SESSION_BUS_ADDRESS\nexport PATH='{bin}':\"$PATH\"\n{command}\necho \"exit $?\"\n\
             sleep 60\n"
        ),
    )
    .unwrap();
    let tmux = Tmux::start(&t, "first-run", &format!("sh {}", script.display()));
    tmux.wait_for("Enter Access Key ID:");
    tmux.send(&id);
    tmux.wait_for("Enter Secret Access Key:");
    tmux.send(&secret);
    tmux.wait_for("Default region for profile my-profile [us-east-1]:");
    tmux.send("");
    tmux.wait_for("Choose a passphrase for the new keystore");
    tmux.send("first passphrase");
    tmux.wait_for("Enter it again:");
    tmux.send("first passphrase");
    let screen = tmux.wait_for_any(&["exit 0", "exit 1", "exit 2", "exit 255"]);
    assert!(screen.contains("exit 0"), "{screen}");
    assert!(
        screen.contains("Added credentials to profile \"my-profile\" in vault"),
        "{screen}"
    );
    assert!(screen.contains("my-profile"), "{screen}");
    // moto answers GetCallerIdentity for session credentials with its default user.
    assert!(
        screen.contains("\"Arn\": \"arn:aws:sts::123456789012:user/"),
        "the aws CLI did not print an identity:\n{screen}"
    );
    assert!(!screen.contains(&secret), "the secret was shown:\n{screen}");
    let config = std::fs::read_to_string(t.home().join(".aws/config")).unwrap();
    assert_eq!(config, "[profile my-profile]\nregion = us-east-1\n");
}
