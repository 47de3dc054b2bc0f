//! The command line itself: help, version, exit codes, backend choice.

use crate::support::Sandbox;

const BROKEN_CONFIG: &str = "[profile a]\nregion = x\n[profile b\n";

#[test]
fn help_and_version_work_even_when_the_config_is_broken() {
    let t = Sandbox::new();
    t.write_config(BROKEN_CONFIG);
    t.vault(["--help"])
        .run()
        .success()
        .stdout_has("Usage: vault");
    t.vault(["add", "--help"])
        .run()
        .success()
        .stdout_has("--no-add-config");
    t.vault(["--version"])
        .run()
        .success()
        .stdout_is(&format!("vault {}\n", env!("CARGO_PKG_VERSION")));
    t.vault(["version"])
        .run()
        .success()
        .stdout_is(&format!("vault {}\n", env!("CARGO_PKG_VERSION")));
}

#[test]
fn usage_errors_exit_2_and_other_errors_exit_1() {
    let t = Sandbox::new();
    t.vault(["list", "--no-such-flag"])
        .run()
        .code(2)
        .stderr_has("--no-such-flag");
    t.vault(["list", "--profiles", "--credentials"])
        .run()
        .code(2);
    t.write_config(BROKEN_CONFIG);
    t.vault(["list"]).run().code(1).stderr_has("vault: error: ");
}

#[test]
fn a_malformed_config_is_reported_with_its_file_and_line() {
    let t = Sandbox::new();
    t.write_config(BROKEN_CONFIG);
    let path = t.config_path().display().to_string();
    t.vault(["list"]).run().code(1).stderr_is(&format!(
        "vault: error: {path}:3: a section header must end with ]; fix that line of the AWS config file\n"
    ));
    t.write_config("[profile a]\nthis line is junk\n");
    t.vault(["list", "--profiles"])
        .run()
        .code(1)
        .stderr_has(&format!("{path}:2: expected key = value"));
}

#[test]
fn a_missing_config_reads_as_empty_and_is_not_created() {
    let t = Sandbox::new();
    t.vault(["list", "--profiles"])
        .run()
        .success()
        .stdout_is("");
    assert!(!t.config_path().exists());
}

#[test]
fn global_flags_are_accepted_after_the_command() {
    let t = Sandbox::new();
    let other = t.home().join("other-keys");
    t.vault(["add", "dev", "--env", "--file-dir", other.to_str().unwrap()])
        .env("AWS_ACCESS_KEY_ID", "AKIAOTHERDIR")
        .env("AWS_SECRET_ACCESS_KEY", "s")
        .run()
        .success();
    assert!(other.join("dev").exists());
    assert!(!t.keys_dir().join("dev").exists());
}

#[test]
fn an_unknown_or_unbuilt_backend_is_a_clear_error() {
    let t = Sandbox::new();
    t.vault(["list", "--backend", "nope"])
        .run()
        .code(1)
        .stderr_has("unknown keystore backend \"nope\"; choose one of: file,");
    t.vault(["list", "--credentials"])
        .env("AWS_VAULT_BACKEND", "kwallet")
        .run()
        .code(1)
        .stderr_has(
            "the kwallet backend is not available in this build of vault; choose one of: secret-service, keyctl, pass, file",
        );
}
