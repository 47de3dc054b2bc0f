//! Whether the file keystore's directory is ours alone. Another user who can write there could
//! swap a key file for one of their own (vault would hand out their keys) or read the listing;
//! a directory another user owns is theirs to change at any time.

use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use super::super::Error;
use super::BACKEND;

/// Refuses a directory owned by another user, or that others may write; one that does not exist
/// yet is fine (vault creates it private).
pub(super) fn check_dir(dir: &Path) -> Result<(), Error> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(Error::io(format!("cannot read {}", dir.display()), err)),
    };
    let ours = nix::unistd::geteuid().as_raw();
    if meta.uid() != ours {
        return Err(Error::Unavailable {
            backend: BACKEND,
            reason: format!(
                "its directory {} belongs to uid {}, not to you (uid {ours})",
                dir.display(),
                meta.uid()
            ),
            fix: "use a directory of your own (--file-dir or AWS_VAULT_FILE_DIR)".to_owned(),
        });
    }
    let mode = meta.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(Error::Unavailable {
            backend: BACKEND,
            reason: format!(
                "its directory {} can be written by other users (mode {mode:o})",
                dir.display()
            ),
            fix: format!("run: chmod 700 {}", dir.display()),
        });
    }
    Ok(())
}
