//! Choosing and opening a backend from `--backend` / `AWS_VAULT_BACKEND`.

use std::path::PathBuf;

use super::file::FileKeystore;
use super::passphrase::StandardSource;
use super::{Error, Keystore};
use crate::ctx::Ctx;

/// Every backend name aws-vault (upstream or fork) accepts, so a user's setting is recognised
/// even where vault cannot open that backend.
pub(crate) const KNOWN_BACKENDS: &[&str] = &[
    "file",
    "keychain",
    "keyctl",
    "kwallet",
    "op",
    "op-connect",
    "op-desktop",
    "pass",
    "passage",
    "proton-pass",
    "secret-service",
    "wincred",
    "winhello",
];

/// The backends this build can open: what `--backend` completes to.
pub(crate) const AVAILABLE_BACKENDS: &[&str] = &["file"];

/// The keystore settings from global flags and their environment variables.
#[derive(Debug, Clone, Default)]
pub(crate) struct BackendOptions {
    pub(crate) backend: Option<String>,
    pub(crate) file_dir: Option<PathBuf>,
    /// Whether a passphrase may be asked for (not from the prompt hook).
    pub(crate) interactive: bool,
}

impl BackendOptions {
    /// `--file-dir`, else `~/.awsvault/keys` (aws-vault's default).
    fn file_dir(&self, ctx: &Ctx) -> Result<PathBuf, Error> {
        if let Some(dir) = &self.file_dir {
            let text = dir.to_string_lossy();
            let dir = match (text.strip_prefix("~/"), ctx.env.home()) {
                (Some(rest), Some(home)) => home.join(rest),
                _ => dir.clone(),
            };
            // Absolute, so what is kept in the kernel keyring for one directory is never
            // taken for another's.
            return Ok(std::path::absolute(&dir).unwrap_or(dir));
        }
        ctx.env
            .home()
            .map(|home| home.join(".awsvault").join("keys"))
            .ok_or_else(|| Error::NoPassphrase {
                dir: PathBuf::from("~/.awsvault/keys"),
                reason: "HOME is not set; set HOME or AWS_VAULT_FILE_DIR".to_owned(),
            })
    }
}

/// Opens the chosen backend. Opening does not unlock anything: the file backend asks for its
/// passphrase on the first read or write.
pub(crate) fn open(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    let name = options
        .backend
        .as_deref()
        .filter(|n| !n.is_empty())
        .unwrap_or("file");
    match name {
        "file" => {
            let dir = options.file_dir(ctx)?;
            log::debug!("using the file keystore in {}", dir.display());
            let source = StandardSource::from_env(&ctx.env, options.interactive);
            Ok(Box::new(FileKeystore::new(
                dir,
                Box::new(source),
                ctx.clock,
            )))
        }
        known if KNOWN_BACKENDS.contains(&known) => Err(Error::BackendNotAvailable {
            name: known.to_owned(),
        }),
        unknown => Err(Error::UnknownBackend {
            name: unknown.to_owned(),
        }),
    }
}
