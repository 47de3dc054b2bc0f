//! The command line itself: help, version, exit codes, backend choice.

use crate::support::Sandbox;

const BROKEN_CONFIG: &str = "[profile a]\nregion = x\n[profile b\n";

#[test]
fn help_and_version_work_even_when_the_config_is_broken() {
    let t = Sandbox::new();
    t.write_config(BROKEN_CONFIG);
    t.vault(["--help"]).stdout_has("Usage: vault").run();
    t.vault(["add", "--help"])
        .stdout_has("--no-add-config")
        .run();
    t.vault(["--version"])
        .stdout(&format!("vault {}\n", env!("CARGO_PKG_VERSION")))
        .run();
    t.vault(["version"])
        .stdout(&format!("vault {}\n", env!("CARGO_PKG_VERSION")))
        .run();
}

#[test]
fn usage_errors_exit_2_and_other_errors_exit_1() {
    let t = Sandbox::new();
    t.vault(["list", "--no-such-flag"])
        .status(2)
        .stderr(
            "vault: error: unexpected argument '--no-such-flag' found\n\n\
             Usage: vault list [OPTIONS]\n\n\
             For more information, try '--help'.\n",
        )
        .run();
    t.vault(["list", "--profiles=yes"])
        .status(2)
        .stderr_like(
            "vault: error: unexpected value 'yes' for '--profiles' found; no more were expected\n\n\
             Usage: vault list [..]\n\n\
             For more information, try '--help'.\n",
        )
        .run();
    t.write_config(BROKEN_CONFIG);
    t.vault(["list"])
        .status(1)
        .stderr_like("vault: error: [..]\n")
        .run();
}

#[test]
fn a_malformed_config_is_reported_with_its_file_and_line() {
    let t = Sandbox::new();
    t.write_config(BROKEN_CONFIG);
    let path = t.config_path().display().to_string();
    t.vault(["list"])
        .status(1)
        .stderr(&format!(
            "vault: error: {path}:3: a section header must end with ]; fix that line of the AWS \
             config file\n"
        ))
        .run();
    t.write_config("[profile a]\nthis line is junk\n");
    t.vault(["list", "--profiles"])
        .status(1)
        .stderr(&format!(
            "vault: error: {path}:2: expected key = value, a [section] or a comment; fix that \
             line of the AWS config file\n"
        ))
        .run();
}

#[test]
fn a_missing_config_reads_as_empty_and_is_not_created() {
    let t = Sandbox::new();
    t.vault(["list", "--profiles"]).stdout("").run();
    assert!(!t.config_path().exists());
}

#[test]
fn global_flags_are_accepted_after_the_command() {
    let t = Sandbox::new();
    let other = t.home().join("other-keys");
    t.vault(["add", "dev", "--env", "--file-dir", other.to_str().unwrap()])
        .env("AWS_ACCESS_KEY_ID", "AKIAOTHERDIR")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .run();
    assert!(other.join("dev").exists());
    assert!(!t.keys_dir().join("dev").exists());
}

#[test]
fn an_unknown_or_unbuilt_backend_is_a_clear_error() {
    let t = Sandbox::new();
    t.vault(["list", "--backend", "nope"])
        .status(1)
        .stderr(
            "vault: error: unknown keystore backend \"nope\"; choose one of: file, keychain, \
             keyctl, kwallet, op, op-connect, op-desktop, pass, passage, proton-pass, \
             secret-service, wincred, winhello\n",
        )
        .run();
    t.vault(["list", "--credentials"])
        .env("AWS_VAULT_BACKEND", "kwallet")
        .status(1)
        .stderr(
            "vault: error: the kwallet backend is not available in this build of vault; choose \
             one of: secret-service, keyctl, pass, file\n",
        )
        .run();
}

/// The contributor scripts answer `--help` and refuse an unknown argument before doing
/// anything: stand-ins for what they would run record any call.
#[test]
fn the_ci_scripts_print_their_usage_and_run_nothing_when_asked() {
    let t = Sandbox::new();
    let bin = t.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let calls = t.home().join("calls");
    for tool in ["apt-get", "cargo", "python3"] {
        let stand_in = bin.join(tool);
        std::fs::write(
            &stand_in,
            format!("#!/bin/sh\necho {tool} >> '{}'\n", calls.display()),
        )
        .unwrap();
        let mut permissions = std::fs::metadata(&stand_in).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
        std::fs::set_permissions(&stand_in, permissions).unwrap();
    }
    let root = env!("CARGO_MANIFEST_DIR");
    let path = format!("{}:/usr/bin:/bin", bin.display());
    for (script, arg, status) in [
        (".ci/test", "--help", 0),
        (".ci/test", "--bogus", 2),
        (".ci/run", "--help", 0),
        (".ci/run", "--bogus", 2),
    ] {
        let run = t
            .program("bash")
            .args([&format!("{root}/{script}"), arg])
            .env("PATH", &path)
            .status(status);
        let usage = format!("usage: {script} ");
        if status == 0 {
            run.stdout_has(&usage).run();
        } else {
            run.stderr_like(&format!("{usage}[..]\n")).run();
        }
    }
    assert!(
        !calls.exists(),
        "a script ran {:?}",
        std::fs::read_to_string(&calls)
    );
}

#[test]
fn help_shows_the_rc_lines_and_keeps_keystore_flags_under_their_own_heading() {
    let t = Sandbox::new();
    t.vault(["hook", "--help"])
        .stdout_has("  zsh   ~/.zshrc                     eval \"$(vault hook zsh)\"\n")
        .stdout_has("  fish  ~/.config/fish/config.fish   vault hook fish | source\n")
        .run();
    let help = t.vault(["exec", "--help"]).run().stdout;
    let heading = help
        .find("\nKeystore options:\n")
        .expect("a keystore heading");
    for own in ["--ec2-server", "--lazy", "--server"] {
        assert!(
            help.find(own).is_some_and(|at| at < heading),
            "{own}: {help}"
        );
    }
    for keystore in ["--backend", "--file-dir", "--pass-dir", "--keyctl-scope"] {
        assert!(
            help.find(keystore).is_some_and(|at| at > heading),
            "{keystore}: {help}"
        );
    }
}

#[test]
fn colour_only_on_a_terminal_and_never_with_no_color() {
    let t = Sandbox::new();
    // Piped: plain text.
    let piped = t.vault(["--help"]).run();
    assert!(!piped.stdout.contains('\x1b'), "{}", piped.stdout);
    // On a terminal, NO_COLOR turns colour off.
    let on_terminal = t
        .vault(["--help"])
        .env("NO_COLOR", "1")
        .on_terminal(&[])
        .run();
    assert!(
        on_terminal.stdout.contains("Usage:"),
        "{}",
        on_terminal.stdout
    );
    assert!(
        !on_terminal.stdout.contains('\x1b'),
        "{}",
        on_terminal.stdout
    );
}
