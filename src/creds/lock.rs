//! A lock per cached session, held across "read the cache, call STS, write the cache", so that
//! parallel callers (Terraform running 20 credential_process calls) make one STS call and show
//! one MFA prompt, and all get the same credentials.
//!
//! The locks are `flock`s on files in the directory `cmd` chooses: `$XDG_RUNTIME_DIR/vault/locks`
//! (private to the user and cleared at logout), else `~/.cache/vault/locks`.

use std::fs::{File, OpenOptions, TryLockError};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::thread::sleep;
use std::time::{Duration, Instant};

use crate::fsutil;

/// A wait shorter than this goes unreported: after one caller fetched a session, the others
/// (Terraform's 20 credential_process calls) take the lock in turn only to read it from the
/// cache, for milliseconds each, and a line about each such wait would only be noise.
const QUIET_WAIT: Duration = Duration::from_millis(500);
const POLL: Duration = Duration::from_millis(10);

pub(crate) struct Locks {
    dir: Option<PathBuf>,
}

/// Held until dropped.
pub(crate) struct Guard {
    _file: File,
    /// Whether another process held the lock when it was asked for.
    pub(crate) waited: bool,
}

impl Locks {
    pub(crate) fn new(dir: Option<PathBuf>) -> Self {
        Self { dir }
    }

    /// Waits for the lock called `name`, calling `on_wait` when someone else has held it for
    /// longer than a moment.
    ///
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
        let quiet_until = Instant::now() + QUIET_WAIT;
        let mut waited = false;
        loop {
            match file.try_lock() {
                Ok(()) => {
                    return Ok(Guard {
                        _file: file,
                        waited,
                    });
                }
                Err(TryLockError::WouldBlock) if Instant::now() < quiet_until => {
                    waited = true;
                    sleep(POLL);
                }
                Err(TryLockError::WouldBlock) => break,
                Err(TryLockError::Error(err)) => return Err(err),
            }
        }
        // Someone may be at an MFA prompt: the caller says why nothing happens.
        on_wait();
        file.lock()?;
        Ok(Guard {
            _file: file,
            waited: true,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    #[test]
    fn a_moment_of_contention_goes_unreported_and_a_long_wait_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let locks = Locks::new(Some(dir.path().to_owned()));
        let reported = Cell::new(0);
        let report = || reported.set(reported.get() + 1);
        for (held_for, expected_reports) in [(Duration::from_millis(100), 0), (QUIET_WAIT * 2, 1)] {
            let holder = locks.acquire("session", &|| {}).expect("the first lock");
            let release = std::thread::spawn(move || {
                sleep(held_for);
                drop(holder);
            });
            reported.set(0);
            let guard = locks.acquire("session", &report);
            assert!(guard.is_some());
            assert_eq!(reported.get(), expected_reports, "held for {held_for:?}");
            release.join().unwrap();
        }
    }
}
