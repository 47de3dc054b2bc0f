//! The profile picker, on a real terminal (tmux): `vault use` with no profile lists the
//! profiles; typing filters, Enter uses the one chosen, Esc cancels with exit 130 and changes
//! nothing. Off a terminal, no profile stays a usage error.

use std::time::Duration;

use crate::support::Sandbox;
use crate::support::tmux::Tmux;

/// Profiles whose credential_process hands out a key with 2 hours left, so no STS is needed.
fn sandbox() -> Sandbox {
    let t = Sandbox::new();
    let process = crate::support::two_hour_process(&t);
    t.write_config(&format!(
        "[profile dev]\nregion = eu-west-1\n{process}\
         [profile role]\nregion = eu-west-2\n{process}\
         [profile prod]\nregion = eu-west-3\n{process}"
    ));
    t
}

#[test]
fn use_without_a_profile_picks_one_on_a_terminal_and_esc_changes_nothing() {
    let t = sandbox();
    let tmux = Tmux::start(&t, "picker", "bash --noprofile --norc -i");
    tmux.wait_for_any(&["#", "$"]);
    std::thread::sleep(Duration::from_millis(500));
    tmux.send("eval \"$(\"$VAULT\" hook bash)\"; PS1='[${VAULT_SEGMENT}]> '");
    tmux.wait_for("[]>");
    tmux.send("vault use");
    let screen = tmux.wait_for("vault use: choose a profile");
    for shown in ["dev", "role", "prod", "eu-west-2"] {
        assert!(screen.contains(shown), "{shown} is not listed:\n{screen}");
    }
    tmux.send("rol");
    tmux.wait_for("[role ");
    tmux.send("echo \"in use: $AWS_VAULT\"");
    tmux.wait_for("in use: role");
    // Esc: exit 130, and the shell keeps the profile it had. (The screen is cleared first, so
    // the wait below sees the new picker, not the old one's line.)
    tmux.send("clear");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while tmux.screen().contains("choose a profile") {
        assert!(
            std::time::Instant::now() < deadline,
            "the screen was not cleared"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    tmux.send("vault use");
    tmux.wait_for("vault use: choose a profile");
    tmux.run(&["send-keys", "-t", "t", "Escape"]);
    tmux.send("echo \"status $? still $AWS_VAULT\"");
    tmux.wait_for("status 130 still role");
}

#[test]
fn off_a_terminal_no_profile_stays_a_usage_error() {
    let t = sandbox();
    t.vault(["exec", "--", "true"])
        .status(2)
        .stderr(
            "vault: error: name a profile: `vault exec PROFILE` or `vault exec --profile \
             PROFILE` (set AWS_VAULT_USE_AWS_PROFILE=1 to take AWS_PROFILE)\n",
        )
        .run();
}
