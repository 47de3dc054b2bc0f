//! A lock per cached session, held across "read the cache, call STS, write the cache", so that
//! parallel callers (Terraform running 20 credential_process calls) make one STS call and show
//! one MFA prompt, and all get the same credentials.
//!
//! The locks are `flock`s on files in the directory `cmd` chooses: `$XDG_RUNTIME_DIR/vault/locks`
//! (private to the user and cleared at logout), else `~/.cache/vault/locks`.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use crate::fsutil;

pub(crate) struct Locks {
    dir: Option<PathBuf>,
}

/// Held until dropped.
pub(crate) struct Guard {
    _file: File,
}

impl Locks {
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// Waits for the lock called `name`, calling `on_wait` first when someone else holds it.
    /// Where no lock file can be made, there is no lock, which costs duplicate STS calls,
    /// never correctness.
    pub(crate) fn acquire(&self, name: &str, on_wait: &dyn Fn()) -> Option<Guard> {
        let dir = self.dir.as_ref()?;
        match Self::lock(dir, name, on_wait) {
            Ok(guard) => Some(guard),
            Err(err) => {
                log::debug!("no lock for {name} in {}: {err}", dir.display());
                None
            }
        }
    }

    fn lock(dir: &Path, name: &str, on_wait: &dyn Fn()) -> io::Result<Guard> {
        fsutil::create_private_dir(dir)?;
        let file_name: String = name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(dir.join(format!("{file_name}.lock")))?;
        if file.try_lock().is_err() {
            // Someone may be at an MFA prompt: the caller says why nothing happens.
            on_wait();
            file.lock()?;
        }
        Ok(Guard { _file: file })
    }
}
