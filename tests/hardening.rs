//! What vault does to keep its own memory and its secrets from other processes: no core dump and
//! no ptrace of vault itself, while the command it starts is an ordinary process.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The uid whose processes are checked: for root, /proc shows no difference between dumpable
/// and not, so vault runs as `nobody` here.
const NOBODY: &str = "65534";

/// The owner of `/proc/PID/status`: the process's uid while it is dumpable, root when not.
fn proc_owner(pid: u32) -> u32 {
    std::fs::metadata(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("process {pid}: {e}"))
        .uid()
}

/// The first child of `pid`, once it has one.
fn first_child(pid: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let children =
            std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children")).unwrap_or_default();
        if let Some(child) = children.split_whitespace().next() {
            return child.parse().unwrap();
        }
        assert!(Instant::now() < deadline, "vault started no command");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn vault_cannot_be_dumped_or_traced_and_the_command_it_starts_can() {
    let home = tempfile::tempdir().unwrap();
    std::fs::set_permissions(home.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let config = home.path().join("config");
    std::fs::write(&config, "[profile p]\nregion = us-east-1\n").unwrap();
    // `--server --lazy`: vault stays alive as the command's parent, and fetches nothing.
    let vault = Command::new("setpriv")
        .args([
            &format!("--reuid={NOBODY}"),
            &format!("--regid={NOBODY}"),
            "--clear-groups",
            env!("CARGO_BIN_EXE_vault"),
            "exec",
            "--server",
            "--lazy",
            "p",
            "--",
            "sleep",
            "30",
        ])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("HOME", home.path())
        .env("AWS_CONFIG_FILE", &config)
        .env("AWS_VAULT_BACKEND", "file")
        .env("AWS_VAULT_FILE_DIR", home.path().join("keys"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("setpriv runs");
    let command = first_child(vault.id());
    let (vault_owner, command_owner) = (proc_owner(vault.id()), proc_owner(command));
    let _ = Command::new("kill").arg(command.to_string()).status();
    let done = vault.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&done.stderr);
    assert_eq!(vault_owner, 0, "vault is dumpable: /proc shows its own uid");
    assert_eq!(
        command_owner.to_string(),
        NOBODY,
        "the command is not dumpable"
    );
    assert_eq!(stderr, "", "vault said something");
    assert_eq!(
        done.status.code(),
        Some(143),
        "the command's SIGTERM is not vault's exit"
    );
}

#[test]
fn the_command_exec_starts_never_gets_what_unlocks_the_keystore() {
    let moto = crate::support::moto::shared();
    let (_, id, secret) = moto.create_user("unlock");
    let t = crate::support::Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config("[default]\nregion = us-east-1\n[profile user]\n");
    t.add("user", &id, &secret);
    for server in [None, Some("--server")] {
        let mut args = vec!["exec"];
        args.extend(server);
        args.extend(["user", "--", "env"]);
        let done = t
            .vault(args)
            .env("AWS_VAULT_OP_SERVICE_ACCOUNT_TOKEN", "op-token")
            .run();
        assert!(done.stdout.contains("AWS_VAULT=user\n"), "{}", done.stdout);
        for unlocks in [
            "AWS_VAULT_FILE_PASSPHRASE=",
            "AWS_VAULT_OP_SERVICE_ACCOUNT_TOKEN=",
        ] {
            assert!(
                !done.stdout.contains(unlocks),
                "{server:?}: the command got {unlocks}"
            );
        }
        assert!(!done.stdout.contains(crate::support::PASSPHRASE));
    }
}

#[test]
fn exec_with_a_full_keystore_runs_the_command_with_a_warning() {
    let moto = crate::support::moto::shared();
    let (_, id, secret) = moto.create_user("full");
    let t = crate::support::Sandbox::new().with_endpoint(moto.endpoint());
    t.write_config("[default]\nregion = us-east-1\n[profile user]\n");
    t.add("user", &id, &secret);
    let _disk = crate::support::small_disk::SmallDisk::full_over(&t.keys_dir());
    let has_token = "test -n \"$AWS_SESSION_TOKEN\" && echo has-token";
    t.vault(["exec", "user", "--", "sh", "-c", has_token])
        .stdout("has-token\n")
        .stderr_like(
            "vault: warning: the sts.GetSessionToken session of user could not be kept ([..]); \
             the next command may ask again\n",
        )
        .run();
}
