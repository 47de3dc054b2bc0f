//! Tab completion in real shells: profile names from the config file only, regions, hostile
//! names, a broken config, and the committed completion files.

use std::path::Path;
use std::process::Command;

use crate::support::Sandbox;

const VAULT: &str = env!("CARGO_BIN_EXE_vault");

fn sandbox(config: &str) -> Sandbox {
    let t = Sandbox::new();
    t.write_config(config);
    t
}

const CONFIG: &str = "[default]\nregion = eu-west-1\n\
[profile prod]\nrole_arn = arn:aws:iam::111122223333:role/Admin\nsource_profile = default\n\
[profile prod-eu]\nregion = eu-central-1\n[profile dev]\n";

/// Candidates bash's registered completion function offers for `line` (the last word is the
/// one being completed), each read back the way bash reads what it inserts.
fn bash_candidates(t: &Sandbox, line: &str) -> Vec<String> {
    let script = format!(
        "eval \"$(\"$VAULT\" hook bash)\"\nCOMP_LINE='{line}'; read -r -a COMP_WORDS <<< \"$COMP_LINE\"\n\
         [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=('')\nCOMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9\n\
         __vault_complete_quoted vault \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"\n\
         for c in \"${{COMPREPLY[@]}}\"; do eval \"v=$c\"; printf '%s\\0' \"$v\"; done\n"
    );
    let output = t
        .command("bash")
        .args(["--noprofile", "--norc", "-c", &script])
        .env("VAULT", VAULT)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .split('\0')
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completes_profiles_and_regions_through_the_hook() {
    let t = sandbox(CONFIG);
    assert_eq!(bash_candidates(&t, "vault use pr"), ["prod", "prod-eu"]);
    assert_eq!(
        bash_candidates(&t, "vault exec --no-session d"),
        ["default", "dev"]
    );
    let regions = bash_candidates(&t, "vault exec --region eu-");
    assert!(
        regions.len() >= 6 && regions.iter().all(|r| r.starts_with("eu-")),
        "{regions:?}"
    );
    assert!(regions.contains(&"eu-west-1".to_owned()));
    assert_eq!(bash_candidates(&t, "vault ex"), ["exec", "export"]);
}

#[test]
fn fish_lists_profiles_with_their_descriptions() {
    let t = sandbox(CONFIG);
    let output = t
        .command("fish")
        .args([
            "--no-config",
            "-c",
            "$VAULT hook fish | source; complete -C 'vault use pr'",
        ])
        .env("VAULT", VAULT)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&output.stdout),
        "prod\trole 111122223333/Admin, eu-west-1\nprod-eu\teu-central-1\n"
    );
}

#[test]
fn the_powershell_protocol_answers_and_its_registration_parses() {
    let t = sandbox(CONFIG);
    let output = t
        .command(VAULT)
        .args(["--", "vault", "use", "pr"])
        .env("VAULT_COMPLETE", "powershell")
        .env("_CLAP_COMPLETE_INDEX", "2")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        text.contains("prod") && text.contains("prod-eu") && !text.contains("dev"),
        "{text}"
    );
    let registration = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("completions/vault.ps1"),
    )
    .unwrap();
    let mut parser = tree_sitter::Parser::new();
    parser
        .set_language(&tree_sitter_powershell::LANGUAGE.into())
        .unwrap();
    assert!(
        !parser
            .parse(&registration, None)
            .unwrap()
            .root_node()
            .has_error()
    );
}

#[test]
fn hostile_profile_names_are_offered_as_written_and_never_run() {
    let t = Sandbox::new();
    let canary = t.home().join("canary");
    let names = [
        "with space".to_owned(),
        "quote'd".to_owned(),
        "dq\"x".to_owned(),
        format!("$(touch {})", canary.display()),
        format!("`touch {}`", canary.display()),
        "日本語-prof".to_owned(),
        "*".to_owned(),
    ];
    let config = names
        .iter()
        .map(|n| format!("[profile {n}]"))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n";
    t.write_config(&config);
    // An empty word is offered the flags too; the rest must be the names, exactly.
    let mut offered: Vec<String> = bash_candidates(&t, "vault use ")
        .into_iter()
        .filter(|c| !c.starts_with("--"))
        .collect();
    offered.sort();
    let mut expected = names.to_vec();
    expected.sort();
    assert_eq!(offered, expected);
    let fish = t
        .command("fish")
        .args([
            "--no-config",
            "-c",
            "$VAULT hook fish | source; complete -C 'vault use '",
        ])
        .env("VAULT", VAULT)
        .output()
        .unwrap();
    let fish_names: Vec<&str> = std::str::from_utf8(&fish.stdout).unwrap().lines().collect();
    for name in &names {
        assert!(
            fish_names.contains(&name.as_str()),
            "fish lacks {name:?}: {fish_names:?}"
        );
    }
    assert!(!canary.exists(), "completing ran a profile name");
}

#[test]
fn a_broken_or_unreadable_config_offers_nothing_quietly() {
    for config in ["[profile a]\nregion = x\n[profile b\n", ""] {
        let t = sandbox(config);
        if config.is_empty() {
            // A directory where the file should be: unreadable.
            std::fs::remove_file(t.config_path()).unwrap();
            std::fs::create_dir(t.config_path()).unwrap();
        }
        let output = t
            .command(VAULT)
            .args(["--", "vault", "use", ""])
            .env("VAULT_COMPLETE", "bash")
            .env("_CLAP_COMPLETE_INDEX", "2")
            .env("_CLAP_IFS", "\n")
            .output()
            .unwrap();
        assert!(output.status.success());
        // The flags are still offered; no profile is.
        let offered = String::from_utf8_lossy(&output.stdout);
        assert!(offered.lines().all(|c| c.starts_with("--")), "{offered}");
        assert!(offered.contains("--region"), "{offered}");
        assert_eq!(String::from_utf8_lossy(&output.stderr), "");
    }
}

#[test]
fn the_committed_completion_files_are_what_the_binary_writes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("completions");
    for (shell, file) in [
        ("bash", "vault.bash"),
        ("zsh", "_vault"),
        ("fish", "vault.fish"),
        ("pwsh", "vault.ps1"),
    ] {
        let written = Command::new(VAULT)
            .args(["completion", shell])
            .output()
            .unwrap()
            .stdout;
        let committed = std::fs::read(dir.join(file)).unwrap();
        assert!(
            written == committed,
            "completions/{file} differs from `vault completion {shell}`: regenerate it"
        );
    }
}

#[test]
fn flags_and_their_values_complete_after_other_flags() {
    let t = sandbox(CONFIG);
    assert_eq!(
        bash_candidates(&t, "vault exec --no-session --reg"),
        ["--region"]
    );
    assert_eq!(bash_candidates(&t, "vault export --format j"), ["json"]);
    assert_eq!(bash_candidates(&t, "vault --backend fi"), ["file"]);
}

#[test]
fn zsh_completes_interactively_with_compinit() {
    use crate::support::tmux::Tmux;
    let t = sandbox(CONFIG);
    let tmux = Tmux::start(&t, "zsh-complete", "zsh -f -i");
    tmux.wait_for_any(&["#", "%", "$"]);
    tmux.send(
        "autoload -Uz compinit && compinit -u; eval \"$(\"$VAULT\" hook zsh)\"; PROMPT='ready> '",
    );
    tmux.wait_for("ready>");
    // "ex" is both exec and export; "exe" is only exec, and TAB writes it out.
    tmux.run(&["send-keys", "-t", "t", "-l", "vault exe"]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault exec");
    tmux.run(&["send-keys", "-t", "t", "C-u"]);
    tmux.run(&["send-keys", "-t", "t", "-l", "vault use "]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    let screen = tmux.wait_for("prod-eu");
    assert!(
        screen.contains("prod") && screen.contains("dev"),
        "{screen}"
    );
}

#[test]
fn bash_completes_interactively_with_its_own_word_splitting() {
    use crate::support::tmux::Tmux;
    let t = sandbox(&format!("{CONFIG}[profile with space]\n"));
    let tmux = Tmux::start(&t, "bash-complete", "bash --noprofile --norc -i");
    tmux.wait_for_any(&["#", "$"]);
    tmux.send("eval \"$(\"$VAULT\" hook bash)\"; PS1='ready> '");
    tmux.wait_for("ready>");
    // bash splits `--region=eu-west-` at the =; the completion still answers for the value.
    tmux.run(&["send-keys", "-t", "t", "-l", "vault exec --region=eu-west-"]);
    tmux.run(&["send-keys", "-t", "t", "Tab", "Tab"]);
    tmux.wait_for("eu-west-3");
    tmux.run(&["send-keys", "-t", "t", "C-u"]);
    // A name with a space is inserted as one word.
    tmux.run(&["send-keys", "-t", "t", "-l", "vault use wi"]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault use with\\ space");
    tmux.run(&["send-keys", "-t", "t", "C-u"]);
    // A partly typed escaped name, and one after an opening quote.
    tmux.run(&["send-keys", "-t", "t", "-l", "vault use with\\ s"]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault use with\\ space");
    tmux.run(&["send-keys", "-t", "t", "C-u"]);
    tmux.run(&["send-keys", "-t", "t", "-l", "vault use 'with s"]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault use 'with space'");
}

#[test]
fn after_double_dash_exec_hands_over_to_the_shells_own_completion() {
    let t = sandbox(CONFIG);
    let dir = t.home().parent().unwrap().to_owned();
    std::fs::write(dir.join("fixture-file.txt"), "").unwrap();
    // bash: commands for the word after `--`, files after that.
    let commands = bash_candidates(&t, "vault exec dev -- ech");
    assert!(commands.iter().any(|c| c == "echo"), "{commands:?}");
    assert!(!commands.iter().any(|c| c == "dev"), "{commands:?}");
    assert_eq!(
        bash_candidates(&t, "vault exec dev -- cat fixture-f"),
        ["fixture-file.txt"]
    );
    // fish: its own completion of the command line after `--`.
    let output = t
        .command("fish")
        .args([
            "--no-config",
            "-c",
            "$VAULT hook fish | source; complete -C 'vault exec dev -- ech'; complete -C 'vault exec dev -- cat fixture-f'",
        ])
        .env("VAULT", VAULT)
        .output()
        .unwrap();
    let offered = String::from_utf8_lossy(&output.stdout);
    assert!(offered.lines().any(|l| l.starts_with("echo")), "{offered}");
    assert!(
        offered.lines().any(|l| l == "fixture-file.txt"),
        "{offered}"
    );
    assert!(!offered.lines().any(|l| l.starts_with("dev")), "{offered}");
    assert_eq!(String::from_utf8_lossy(&output.stderr), "");
}

#[test]
fn zsh_hands_over_after_double_dash_interactively() {
    use crate::support::tmux::Tmux;
    let t = sandbox(CONFIG);
    let dir = t.home().parent().unwrap().to_owned();
    std::fs::write(dir.join("fixture-file.txt"), "").unwrap();
    let tmux = Tmux::start(&t, "zsh-dashes", "zsh -f -i");
    tmux.wait_for_any(&["#", "%", "$"]);
    tmux.send(&format!(
        "cd '{}'; autoload -Uz compinit && compinit -u; eval \"$(\"$VAULT\" hook zsh)\"; PROMPT='ready> '",
        dir.display()
    ));
    tmux.wait_for("ready>");
    tmux.run(&[
        "send-keys",
        "-t",
        "t",
        "-l",
        "vault exec dev -- cat fixture-f",
    ]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault exec dev -- cat fixture-file.txt");
    tmux.run(&["send-keys", "-t", "t", "C-u"]);
    tmux.run(&["send-keys", "-t", "t", "-l", "vault exec dev -- whoam"]);
    tmux.run(&["send-keys", "-t", "t", "Tab"]);
    tmux.wait_for("ready> vault exec dev -- whoami");
}
