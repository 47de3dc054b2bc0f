//! The changes vault makes to `~/.aws/config`: appending profile sections (`add`, `sso
//! populate`).
//! Unlike aws-vault, which rewrites the whole file through its INI library, the existing text
//! (comments, spacing, key order) is kept byte for byte.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use super::Error;
use super::ini::{DEFAULT_PROFILE, Document};
use crate::fsutil;

#[cfg(test)]
fn append_section(path: &Path, name: &str) -> Result<(), Error> {
    append_sections(path, &[(name.to_owned(), Vec::new())]).map(drop)
}

/// Appends `[profile NAME]` with its `key = value` lines for each section whose profile the
/// file does not have yet, and returns the names it added.
pub(super) fn append_sections(
    path: &Path,
    sections: &[(String, Vec<(String, String)>)],
) -> Result<Vec<String>, Error> {
    // Write through a symbolic link (a config kept in a dotfiles repository) to its target.
    let resolved = fs::canonicalize(path).ok();
    let path = resolved.as_deref().unwrap_or(path);
    let fail = |source: io::Error| Error::Write {
        path: path.to_owned(),
        source,
    };
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fsutil::create_private_dir(dir).map_err(fail)?;
    // Concurrent `vault add`s each read, extend and replace the file: hold a lock on its
    // directory (not the file, which the rename replaces) so no addition is lost.
    let lock = fs::File::open(dir).map_err(fail)?;
    lock.lock().map_err(fail)?;
    let (mut text, mode) = match fs::read_to_string(path) {
        Ok(text) => {
            let mode = fs::metadata(path).map_err(fail)?.permissions().mode() & 0o7777;
            (text, mode)
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => (String::new(), 0o600),
        Err(source) => {
            return Err(Error::Read {
                path: path.to_owned(),
                source,
            });
        }
    };
    // Another vault may have added the same profile while we waited for the lock.
    let document = Document::parse(&text, path).ok();
    let mut added = Vec::new();
    for (name, lines) in sections {
        let exists = document
            .as_ref()
            .is_some_and(|doc| doc.profile(name).is_some());
        if exists || added.contains(name) {
            continue;
        }
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        if !text.is_empty() {
            text.push('\n');
        }
        if name == DEFAULT_PROFILE {
            text.push_str("[default]\n");
        } else {
            text.push_str("[profile ");
            text.push_str(name);
            text.push_str("]\n");
        }
        for (key, value) in lines {
            text.push_str(key);
            text.push_str(" = ");
            text.push_str(value);
            text.push('\n');
        }
        added.push(name.clone());
    }
    if !added.is_empty() {
        fsutil::write_atomic(path, text.as_bytes(), mode).map_err(fail)?;
    }
    Ok(added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn appends_after_the_existing_text_and_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config");
        fs::write(&path, "# mine\n[profile a]\nregion = x").unwrap();
        append_section(&path, "b").unwrap();
        append_section(&path, "default").unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# mine\n[profile a]\nregion = x\n\n[profile b]\n\n[default]\n"
        );
    }

    #[test]
    fn writes_through_a_symbolic_link_and_adds_a_section_only_once() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("dotfiles-config");
        fs::write(&target, "[default]\n").unwrap();
        let link = dir.path().join("config");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        append_section(&link, "a").unwrap();
        append_section(&link, "a").unwrap();
        assert!(
            fs::symlink_metadata(&link)
                .unwrap()
                .file_type()
                .is_symlink()
        );
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            "[default]\n\n[profile a]\n"
        );
    }

    #[test]
    fn creates_a_missing_file_in_a_private_directory() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".aws/config");
        append_section(&path, "new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "[profile new]\n");
        let mode = fs::metadata(dir.path().join(".aws"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
    }
}
