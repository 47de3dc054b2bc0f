//! Choosing and opening a backend from `--backend` / `AWS_VAULT_BACKEND`.

use std::path::PathBuf;

use super::file::FileKeystore;
#[cfg(target_os = "linux")]
use super::keyctl;
#[cfg(any(target_os = "macos", windows))]
use super::native;
use super::pass::{self, PassOptions};
use super::passphrase::StandardSource;
#[cfg(target_os = "linux")]
use super::secret_service;
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
#[cfg(target_os = "linux")]
pub(crate) const AVAILABLE_BACKENDS: &[&str] = &["secret-service", "keyctl", "pass", "file"];
#[cfg(target_os = "macos")]
pub(crate) const AVAILABLE_BACKENDS: &[&str] = &["keychain", "pass", "file"];
#[cfg(windows)]
pub(crate) const AVAILABLE_BACKENDS: &[&str] = &["wincred", "file"];
#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
pub(crate) const AVAILABLE_BACKENDS: &[&str] = &["pass", "file"];

/// What vault opens without `--backend` when it can (the desktop's store).
#[cfg(target_os = "macos")]
pub(crate) const DEFAULT_BACKEND: &str = "keychain";
#[cfg(windows)]
pub(crate) const DEFAULT_BACKEND: &str = "wincred";
#[cfg(not(any(target_os = "macos", windows)))]
pub(crate) const DEFAULT_BACKEND: &str = "secret-service";

/// The keystore settings from global flags and their environment variables.
#[derive(Debug, Clone, Default)]
pub(crate) struct BackendOptions {
    pub(crate) backend: Option<String>,
    pub(crate) file_dir: Option<PathBuf>,
    /// `--secret-service-collection`; aws-vault's `awsvault` when unset.
    pub(crate) secret_service_collection: Option<String>,
    /// `--keyctl-scope`; `user` when unset.
    pub(crate) keyctl_scope: Option<String>,
    pub(crate) pass: PassOptions,
    /// Whether a passphrase may be asked for (not from the prompt hook).
    pub(crate) interactive: bool,
}

impl BackendOptions {
    /// `--file-dir`, else `~/.awsvault/keys` (aws-vault's default).
    fn file_dir(&self, ctx: &Ctx) -> Result<PathBuf, Error> {
        if let Some(dir) = &self.file_dir {
            let dir = ctx.env.expand_home(dir);
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

/// Opens the chosen backend, or without a choice the first that works here: the Secret
/// Service where a session bus has one (where aws-vault keeps keys on a desktop), else the
/// file keystore, which needs nothing. Opening does not unlock anything: the file backend asks
/// for its passphrase on the first read or write.
pub(crate) fn open(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    match options.backend.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => open_named(name, options, ctx),
        None => open_default(options, ctx),
    }
}

/// The same settings with another backend: `migrate` opens two.
impl BackendOptions {
    pub(crate) fn with_backend(&self, name: &str) -> Self {
        Self {
            backend: Some(name.to_owned()),
            ..self.clone()
        }
    }
}

#[cfg(target_os = "linux")]
fn open_default(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    if secret_service::session_bus_exists(&ctx.env) {
        match open_named(DEFAULT_BACKEND, options, ctx) {
            Ok(store) => return Ok(store),
            Err(reason) => log::debug!("not using the Secret Service: {reason}"),
        }
    } else {
        log::debug!("no D-Bus session bus, so no Secret Service");
    }
    open_named("file", options, ctx)
}

#[cfg(target_os = "macos")]
fn open_default(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    open_named(DEFAULT_BACKEND, options, ctx)
}

#[cfg(windows)]
fn open_default(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    open_named(DEFAULT_BACKEND, options, ctx)
}

#[cfg(not(any(target_os = "linux", target_os = "macos", windows)))]
fn open_default(options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    open_named("file", options, ctx)
}

fn open_named(name: &str, options: &BackendOptions, ctx: &Ctx) -> Result<Box<dyn Keystore>, Error> {
    log::debug!("opening the {name} keystore");
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
        #[cfg(target_os = "linux")]
        "secret-service" => {
            let collection = options
                .secret_service_collection
                .as_deref()
                .filter(|c| !c.is_empty())
                .unwrap_or(secret_service::DEFAULT_COLLECTION);
            Ok(Box::new(secret_service::SecretServiceKeystore::connect(
                collection,
                &ctx.env,
                options.interactive,
            )?))
        }
        #[cfg(target_os = "linux")]
        "keyctl" => Ok(Box::new(keyctl::KeyctlKeystore::open(
            options.keyctl_scope.as_deref().unwrap_or("user"),
        )?)),
        #[cfg(unix)]
        "pass" => Ok(Box::new(pass::PassKeystore::open(&options.pass, &ctx.env)?)),
        #[cfg(any(target_os = "macos", windows))]
        "keychain" | "wincred" if AVAILABLE_BACKENDS.contains(&name) => {
            Ok(Box::new(native::NativeKeystore::open(name)?))
        }
        known if KNOWN_BACKENDS.contains(&known) => Err(Error::BackendNotAvailable {
            name: known.to_owned(),
        }),
        unknown => Err(Error::UnknownBackend {
            name: unknown.to_owned(),
        }),
    }
}
