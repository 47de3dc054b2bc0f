//! MFA codes from --mfa-token, from mfa_process, and from a prompt on the terminal (driven
//! through tmux), including while stdout is captured.

use crate::support::Sandbox;
use crate::support::moto;
use crate::support::proxy::{Mode, Proxy};
use crate::support::tmux::Tmux;

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
        .stdout_has("AWS_SESSION_TOKEN=")
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 1);

    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "mfa_process = echo 654321\n");
    t.vault(["export", "user"])
        .stdout_has("AWS_SESSION_TOKEN=")
        .run();
    assert_eq!(proxy.count("GetSessionToken"), 1);
}

#[test]
fn the_prompt_appears_on_the_terminal_while_stdout_is_captured() {
    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "");
    let result = t.home().join("captured");
    // The variables the sandbox gives vault, written out for the shell tmux starts.
    let script = format!(
        "out=$(\"$VAULT\" export user --format json); echo \"$out\" > '{}'; echo finished; sleep 30",
        result.display()
    );
    let tmux = Tmux::start(
        &t,
        "mfa",
        &format!("sh -c '{}'", script.replace('\'', "'\\''")),
    );
    // capture-pane drops the trailing space of the prompt.
    tmux.wait_for(&format!("Enter MFA code for {SERIAL}:"));
    tmux.send("123456");
    tmux.wait_for("finished");
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&result).unwrap()).unwrap();
    assert_eq!(json["Version"], 1);
    assert!(json["SessionToken"].as_str().is_some_and(|t| !t.is_empty()));
    assert_eq!(proxy.count("GetSessionToken"), 1);
    assert!(proxy.bodies("GetSessionToken")[0].contains("TokenCode=123456"));
}

#[test]
fn a_malformed_code_is_asked_again_up_to_three_times() {
    let proxy = Proxy::start(Mode::Forward(moto::shared().port));
    let t = sandbox(&proxy, "");
    let script = "\"$VAULT\" export user >/dev/null; echo \"exit $?\"; \
                  \"$VAULT\" export user >/dev/null; echo \"exit $?\"; sleep 30";
    let tmux = Tmux::start(
        &t,
        "mfa-tries",
        &format!("sh -c '{}'", script.replace('\'', "'\\''")),
    );
    let prompt = format!("Enter MFA code for {SERIAL}:");
    let again = format!("MFA for {SERIAL}: the MFA code is not 6 digits; try again (2 left).");
    // A typo, then the code: one call, with the code.
    tmux.wait_for(&prompt);
    tmux.send("12345");
    tmux.wait_for(&again);
    tmux.send("123456");
    tmux.wait_for("exit 0");
    assert_eq!(proxy.count("GetSessionToken"), 1);
    assert!(proxy.bodies("GetSessionToken")[0].contains("TokenCode=123456"));
    // Three typos: no call, a clear error. (The session above is cached for `user`, so the
    // second command asks only once a fresh session is needed: clear it first.)
    drop(tmux);
    t.vault(["clear"]).run();
    let tmux = Tmux::start(
        &t,
        "mfa-tries-2",
        &format!("sh -c '{}'", script.replace('\'', "'\\''")),
    );
    for typo in ["1", "abcdef", ""] {
        tmux.wait_for(&prompt);
        tmux.send(typo);
    }
    let screen = tmux.wait_for("exit 1");
    assert!(
        screen.contains(&format!(
            "vault: error: MFA for {SERIAL}: the MFA code is empty"
        )),
        "{screen}"
    );
    assert_eq!(
        proxy.count("GetSessionToken"),
        1,
        "a malformed code reached STS"
    );
}
