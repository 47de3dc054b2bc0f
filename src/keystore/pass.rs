//! The `pass` backend: one gpg-encrypted entry per key in a password store, driven through the
//! `pass` command exactly as aws-vault drives it (docs/aws-vault.md §5.2): `pass insert -m -f
//! PREFIX/KEY` with the Item JSON on stdin, `pass show`, `pass rm -f`, with
//! `PASSWORD_STORE_DIR` pointing at the store. Existence and listing look at the `.gpg` files,
//! so neither needs gpg.
//!
//! Secrets travel only through pipes, never through arguments.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Output, Stdio};

use super::{Error, Item, Keystore};
use crate::ctx::Env;
use crate::process;

const BACKEND: &str = "pass";

/// The settings `--pass-dir`, `--pass-cmd` and `--pass-prefix` carry.
#[derive(Debug, Clone, Default)]
pub(crate) struct PassOptions {
    pub(crate) dir: Option<PathBuf>,
    pub(crate) command: Option<String>,
    pub(crate) prefix: Option<String>,
}

pub(super) struct PassKeystore {
    program: PathBuf,
    store_dir: PathBuf,
    prefix: String,
}

impl PassKeystore {
    /// Finds the `pass` program and an initialised store, or says which is missing and how to
    /// fix it.
    pub(super) fn open(options: &PassOptions, env: &Env) -> Result<Self, Error> {
        let command = options
            .command
            .as_deref()
            .filter(|c| !c.is_empty())
            .unwrap_or("pass");
        let program = which::which_in(command, env.get("PATH"), env.get("PWD").unwrap_or("/"))
            .map_err(|_| Error::Unavailable {
                backend: BACKEND,
                reason: format!("the `{command}` command is not installed (not found on PATH)"),
                fix: "install pass (apt install pass, brew install pass), point --pass-cmd (AWS_VAULT_PASS_CMD) at it, or choose another --backend".to_owned(),
            })?;
        let store_dir = store_dir(options, env)?;
        let prefix = options.prefix.clone().unwrap_or_default();
        if !has_gpg_id(&store_dir, &prefix) {
            return Err(Error::Unavailable {
                backend: BACKEND,
                reason: format!(
                    "the password store {} has no gpg key (no .gpg-id file: it was never initialised)",
                    store_dir.display()
                ),
                fix: "create a gpg key if you have none (gpg --gen-key), then run `pass init <key id>`".to_owned(),
            });
        }
        Ok(Self {
            program,
            store_dir,
            prefix,
        })
    }

    /// The name pass knows the entry by: `PREFIX/KEY`, or `KEY` without a prefix.
    fn entry_name(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_owned()
        } else {
            format!("{}/{key}", self.prefix.trim_end_matches('/'))
        }
    }

    fn entry_file(&self, key: &str) -> PathBuf {
        self.store_dir.join(format!("{}.gpg", self.entry_name(key)))
    }

    fn run(&self, args: &[&str], stdin: Option<&[u8]>) -> Result<Output, String> {
        let mut command = process::program(&self.program);
        command
            .args(args)
            .env("PASSWORD_STORE_DIR", &self.store_dir)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        if let (Some(bytes), Some(mut pipe)) = (stdin, child.stdin.take()) {
            pipe.write_all(bytes)
                .map_err(|e| format!("cannot write to {}: {e}", self.program.display()))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| format!("{} did not finish: {e}", self.program.display()))?;
        if output.status.success() {
            Ok(output)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(format!(
                "`{} {}` failed ({}): {}",
                self.program.display(),
                args.join(" "),
                output.status,
                stderr.trim()
            ))
        }
    }
}

impl Keystore for PassKeystore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        if !self.entry_file(key).is_file() {
            return Err(not_found(key));
        }
        let name = self.entry_name(key);
        let output = self
            .run(&["show", "--", &name], None)
            .map_err(|reason| failed(format!("reading {name:?}"), reason))?;
        Item::from_json(&output.stdout).map_err(|reason| Error::Damaged {
            location: self.entry_file(key).display().to_string(),
            reason,
        })
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        let name = self.entry_name(&item.key);
        let json = item.to_json();
        self.run(
            &["insert", "-m", "-f", "--", &name],
            Some(json.expose().as_bytes()),
        )
        .map_err(|reason| failed(format!("storing {name:?}"), reason))?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        if !self.entry_file(key).is_file() {
            return Err(not_found(key));
        }
        let name = self.entry_name(key);
        self.run(&["rm", "-f", "--", &name], None)
            .map_err(|reason| failed(format!("removing {name:?}"), reason))?;
        Ok(())
    }

    /// Every `.gpg` file under the prefix, as aws-vault lists them.
    fn list(&self) -> Result<Vec<String>, Error> {
        let root = self.store_dir.join(&self.prefix);
        let mut keys = Vec::new();
        collect_entries(&root, &root, &mut keys)
            .map_err(|e| Error::io(format!("cannot list {}", root.display()), e))?;
        keys.sort();
        Ok(keys)
    }
}

/// `--pass-dir`, else `$PASSWORD_STORE_DIR`, else `~/.password-store`, as pass itself decides.
fn store_dir(options: &PassOptions, env: &Env) -> Result<PathBuf, Error> {
    if let Some(dir) = &options.dir {
        return Ok(dir.clone());
    }
    if let Some(dir) = env.non_empty("PASSWORD_STORE_DIR") {
        return Ok(PathBuf::from(dir));
    }
    env.home()
        .map(|home| home.join(".password-store"))
        .ok_or_else(|| Error::Unavailable {
            backend: BACKEND,
            reason: "HOME is not set, so the password store cannot be found".to_owned(),
            fix: "set HOME, or give the store with --pass-dir (AWS_VAULT_PASS_PASSWORD_STORE_DIR)"
                .to_owned(),
        })
}

/// pass takes the recipients from the nearest `.gpg-id` at or above the entry's folder.
fn has_gpg_id(store_dir: &Path, prefix: &str) -> bool {
    let mut dir = store_dir.join(prefix);
    loop {
        if dir.join(".gpg-id").is_file() {
            return true;
        }
        if dir == store_dir || !dir.pop() {
            return false;
        }
    }
}

fn collect_entries(root: &Path, dir: &Path, keys: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let path = entry?.path();
        let hidden = path
            .file_name()
            .is_some_and(|name| name.to_string_lossy().starts_with('.'));
        if hidden {
            // .git and .gpg-id belong to pass, not to us.
            continue;
        }
        if path.is_dir() {
            collect_entries(root, &path, keys)?;
        } else if let Some(name) = path
            .strip_prefix(root)
            .ok()
            .and_then(Path::to_str)
            .and_then(|relative| relative.strip_suffix(".gpg"))
        {
            keys.push(name.to_owned());
        }
    }
    Ok(())
}

fn failed(action: String, reason: String) -> Error {
    Error::backend(BACKEND, action, reason)
}

fn not_found(key: &str) -> Error {
    Error::not_found(key, BACKEND)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(prefix: &str) -> PassKeystore {
        PassKeystore {
            program: PathBuf::from("pass"),
            store_dir: PathBuf::from("/store"),
            prefix: prefix.to_owned(),
        }
    }

    #[test]
    fn entries_are_named_as_aws_vault_names_them() {
        assert_eq!(store("").entry_name("dev"), "dev");
        assert_eq!(store("aws-vault").entry_name("dev"), "aws-vault/dev");
        assert_eq!(store("aws-vault/").entry_name("dev"), "aws-vault/dev");
        // An SSO token's key nests, and the `//` collapses in the file's path, as with aws-vault.
        assert_eq!(
            store("aws").entry_file("oidc:https://example.awsapps.com/start"),
            PathBuf::from("/store/aws/oidc:https:/example.awsapps.com/start.gpg")
        );
    }

    #[test]
    fn the_nearest_gpg_id_at_or_above_the_prefix_counts() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!has_gpg_id(dir.path(), "aws-vault"));
        std::fs::create_dir_all(dir.path().join("aws-vault")).unwrap();
        std::fs::write(dir.path().join("aws-vault/.gpg-id"), "KEY\n").unwrap();
        assert!(has_gpg_id(dir.path(), "aws-vault"));
        assert!(!has_gpg_id(dir.path(), ""));
        std::fs::write(dir.path().join(".gpg-id"), "KEY\n").unwrap();
        assert!(has_gpg_id(dir.path(), "other"));
    }
}
