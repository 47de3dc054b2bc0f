//! Secrets stay secret: not in argv, not in --debug output, not in any plain file.

use crate::support::Sandbox;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzSECRETKEY";

#[test]
fn the_secret_key_is_never_in_debug_output_or_a_plain_file() {
    let t = Sandbox::new();
    t.write_config("[profile dev]\nregion = eu-west-1\n");
    t.vault(["--debug", "add", "dev", "--env"])
        .env("AWS_ACCESS_KEY_ID", "AKIADEBUG")
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .stdout("Added credentials to profile \"dev\" in vault\n")
        .stderr_debug_only()
        .output_lacks(SECRET)
        .output_lacks(crate::support::PASSPHRASE)
        .run();
    t.vault(["--debug", "list"])
        .stderr_debug_only()
        .output_lacks(SECRET)
        .run();
    for (path, bytes) in t.files() {
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(SECRET),
            "{} holds the secret in plain text",
            path.display()
        );
        assert!(
            !text.contains("AKIADEBUG"),
            "{} holds the key id in plain text",
            path.display()
        );
    }
}

#[test]
fn the_secret_typed_at_the_prompt_is_not_in_vaults_argv_or_environment() {
    let t = Sandbox::new();
    // Once the secret is typed, vault asks for the keystore passphrase: while it waits there,
    // read its /proc entries; then answer.
    let script = r#"
import json, os, pty, subprocess, sys, time
vault = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(vault, [vault, "add", "dev", "--no-add-config"])
def wait_for(text):
    seen = b""
    while text not in seen:
        seen += os.read(fd, 1024)
wait_for(b"Access Key ID: ")
os.write(fd, b"AKIAPROC\n")
wait_for(b"Secret Access Key: ")
os.write(fd, b"proc-secret-typed\n")
wait_for(b"Choose a passphrase")
leaks = []
for name in ("cmdline", "environ"):
    try:
        with open(f"/proc/{pid}/{name}", "rb") as f:
            if b"proc-secret-typed" in f.read():
                leaks.append(name)
    except FileNotFoundError:
        pass
os.write(fd, b"pw\n")
wait_for(b"Enter it again: ")
os.write(fd, b"pw\n")
try:
    while os.read(fd, 1024):
        pass
except OSError:
    pass
_, status = os.waitpid(pid, 0)
print(json.dumps({"leaks": leaks, "code": os.waitstatus_to_exitcode(status)}))
"#;
    let output = t
        .command("python3")
        .args(["-c", script, env!("CARGO_BIN_EXE_vault")])
        .env_remove("AWS_VAULT_FILE_PASSPHRASE")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|_| panic!("{}", String::from_utf8_lossy(&output.stderr)));
    assert_eq!(report["code"], 0, "{report}");
    assert_eq!(report["leaks"], serde_json::json!([]));
}
