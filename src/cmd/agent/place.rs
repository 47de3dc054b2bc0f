//! Where the agent lives: one private directory per user, `$XDG_RUNTIME_DIR/vault/agent` (else
//! `~/.cache/vault/agent`), holding its control socket, the lock that keeps it one per user,
//! the shells' token files and the needs-you stamps the hook reads.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::ctx::Env;
use crate::error::Error;
use crate::fsutil;

pub(crate) struct Place {
    dir: PathBuf,
}

impl Place {
    pub(crate) fn of(env: &Env) -> Result<Self, Error> {
        let dir = env.runtime_dir().ok_or_else(|| {
            Error::Message(
                "the agent needs a private directory, and neither XDG_RUNTIME_DIR nor HOME is set"
                    .to_owned(),
            )
        })?;
        Ok(Self {
            dir: dir.join("agent"),
        })
    }

    /// Creates the directory (mode 0700) and refuses one that is not ours alone: whoever can
    /// enter it can read the tokens, or put their own socket in the agent's place.
    pub(crate) fn prepare(&self) -> Result<(), Error> {
        let cannot = |e| Error::io(format!("cannot create {}", self.dir.display()), e);
        fsutil::create_private_dir(&self.dir).map_err(cannot)?;
        self.check()?;
        fsutil::create_private_dir(&self.tokens()).map_err(cannot)?;
        fsutil::create_private_dir(&self.stamps()).map_err(cannot)
    }

    /// Whether the directory is ours alone.
    pub(crate) fn check(&self) -> Result<(), Error> {
        let meta = std::fs::metadata(&self.dir)
            .map_err(|e| Error::io(format!("cannot read {}", self.dir.display()), e))?;
        let ours = nix::unistd::geteuid().as_raw();
        let mode = meta.mode() & 0o777;
        if meta.uid() != ours || mode & 0o077 != 0 {
            return Err(Error::Message(format!(
                "the agent's directory {} must belong to you alone (it belongs to uid {} with mode \
                 {mode:o}); remove it, or run: chmod 700 {}",
                self.dir.display(),
                meta.uid(),
                self.dir.display()
            )));
        }
        Ok(())
    }

    pub(crate) fn exists(&self) -> bool {
        self.dir.exists()
    }

    pub(crate) fn socket(&self) -> PathBuf {
        self.dir.join("agent.sock")
    }

    pub(crate) fn lock(&self) -> PathBuf {
        self.dir.join("agent.lock")
    }

    /// One file per shell, holding its token (0600).
    pub(crate) fn tokens(&self) -> PathBuf {
        self.dir.join("tokens")
    }

    /// One file per profile the agent serves, there while a renewal needs the user.
    pub(crate) fn stamps(&self) -> PathBuf {
        self.dir.join("needs")
    }

    /// Empties the token and stamp folders and removes the socket: what a killed agent left.
    pub(crate) fn clear(&self) {
        for folder in [self.tokens(), self.stamps()] {
            if let Ok(entries) = std::fs::read_dir(&folder) {
                for entry in entries.flatten() {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
        let _ = remove(&self.socket());
    }

    /// Leaves nothing behind: the agent's last act. The socket goes first, so a shell that
    /// asks from now on starts a new agent rather than talking to this one.
    pub(crate) fn remove_all(&self) {
        let _ = remove(&self.socket());
        self.clear();
        let _ = std::fs::remove_dir(self.tokens());
        let _ = std::fs::remove_dir(self.stamps());
        let _ = remove(&self.lock());
        let _ = std::fs::remove_dir(&self.dir);
    }
}

fn remove(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}
