//! The `file` backend: one encrypted file per key in `AWS_VAULT_FILE_DIR` (default
//! `~/.awsvault/keys`), readable by aws-vault and by any JOSE library. It needs no daemon,
//! which makes it the backend for headless machines.
//!
//! Listing reads file names (and checks each file's shape) but decrypts nothing. The
//! passphrase is obtained once per process, on the first read or write, and checked against
//! an existing item before anything is written, so a mistyped passphrase can never leave the
//! directory with items under two different passphrases.

mod jwe;
mod names;
mod trust;

use std::cell::RefCell;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::keys::{KeyKind, classify};
use super::passphrase::{Origin, PassphraseSource};
use super::{Damaged, Error, Item, Keystore};
use crate::ctx::Clock;
use crate::fsutil;
use crate::secret::Secret;

const BACKEND: &str = "file";
/// How many existing items a passphrase is tried against before it is called wrong; more
/// than one, so a single damaged file does not look like a wrong passphrase.
const PROBES: usize = 3;
/// Temp files older than this were left by a killed writer.
const STALE_TEMP_AGE: Duration = Duration::from_mins(10);

pub(crate) struct FileKeystore {
    dir: PathBuf,
    source: Box<dyn PassphraseSource>,
    clock: Clock,
    unlocked: RefCell<Option<Secret>>,
    /// Whether the directory was found to be ours alone (checked once, before first use).
    trusted: std::cell::Cell<bool>,
    /// The directory's entries, read once per process and kept up to date by our own writes
    /// (a cached `exec` lists the keys several times; with 1,000 items that adds up).
    listing: RefCell<Option<Vec<(String, PathBuf)>>>,
}

impl FileKeystore {
    pub(crate) fn new(dir: PathBuf, source: Box<dyn PassphraseSource>, clock: Clock) -> Self {
        Self {
            dir,
            source,
            clock,
            unlocked: RefCell::new(None),
            trusted: std::cell::Cell::new(false),
            listing: RefCell::new(None),
        }
    }

    /// Refuses a directory another user owns or may write (see `trust.rs`).
    fn check_trusted(&self) -> Result<(), Error> {
        if !self.trusted.get() {
            trust::check_dir(&self.dir)?;
            self.trusted.set(true);
        }
        Ok(())
    }

    fn path_for(&self, key: &str) -> PathBuf {
        self.dir.join(names::encode(key))
    }

    /// The file's text, or `None` when it does not exist.
    fn read(path: &Path) -> Result<Option<String>, Error> {
        match fs::read(path) {
            Ok(bytes) => String::from_utf8(bytes)
                .map(Some)
                .map_err(|_| Error::Damaged {
                    location: path.display().to_string(),
                    reason: "it is not text".to_owned(),
                }),
            Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(err) => Err(Error::io(format!("cannot read {}", path.display()), err)),
        }
    }

    /// (key, path) of every item file, sorted by key.
    fn entries(&self) -> Result<Vec<(String, PathBuf)>, Error> {
        if let Some(listing) = self.listing.borrow().as_ref() {
            return Ok(listing.clone());
        }
        let entries = self.read_entries()?;
        *self.listing.borrow_mut() = Some(entries.clone());
        Ok(entries)
    }

    /// Brings the remembered listing up to date after we wrote (`Some`) or removed a key.
    fn note_change(&self, key: &str, path: Option<PathBuf>) {
        if let Some(listing) = self.listing.borrow_mut().as_mut() {
            listing.retain(|(k, _)| k != key);
            if let Some(path) = path {
                let at = listing.partition_point(|(k, _)| k.as_str() < key);
                listing.insert(at, (key.to_owned(), path));
            }
        }
    }

    fn read_entries(&self) -> Result<Vec<(String, PathBuf)>, Error> {
        self.check_trusted()?;
        let reading = match fs::read_dir(&self.dir) {
            Ok(reading) => reading,
            Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(err) => {
                return Err(Error::io(
                    format!("cannot list {}", self.dir.display()),
                    err,
                ));
            }
        };
        let mut entries = Vec::new();
        for entry in reading {
            let entry =
                entry.map_err(|e| Error::io(format!("cannot list {}", self.dir.display()), e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if fsutil::is_temp_file(&name) || !entry.file_type().is_ok_and(|t| t.is_file()) {
                continue;
            }
            entries.push((names::decode(&name), entry.path()));
        }
        entries.sort();
        Ok(entries)
    }

    /// Existing items that can tell whether a passphrase is right: `preferred` first.
    fn probes(&self, preferred: Option<&str>) -> Result<Vec<(PathBuf, String)>, Error> {
        let mut paths: Vec<PathBuf> = preferred.map(|k| self.path_for(k)).into_iter().collect();
        paths.extend(self.entries()?.into_iter().map(|(_, path)| path));
        let mut probes: Vec<(PathBuf, String)> = Vec::new();
        for path in paths {
            if probes.len() == PROBES {
                break;
            }
            if probes.iter().any(|(seen, _)| *seen == path) {
                continue;
            }
            if let Ok(Some(text)) = Self::read(&path)
                && jwe::check_shape(&text).is_ok()
            {
                probes.push((path, text));
            }
        }
        Ok(probes)
    }

    /// The passphrase, obtained and checked once per process, and the plaintext of the
    /// `preferred` item when checking decrypted it (so `get` decrypts it only once: each
    /// decryption costs 8192 rounds of PBKDF2).
    fn unlock(&self, preferred: Option<&str>) -> Result<(Secret, Option<Vec<u8>>), Error> {
        if let Some(secret) = self.unlocked.borrow().as_ref() {
            return Ok((secret.clone(), None));
        }
        let preferred_path = preferred.map(|key| self.path_for(key));
        let probes = self.probes(preferred)?;
        let mut typed = 0;
        loop {
            let passphrase = self.source.obtain(&self.dir, probes.is_empty())?;
            if passphrase.secret.expose().is_empty() {
                // aws-vault allows it, but the JOSE library refuses an empty PBES2 password.
                return Err(Error::NoPassphrase {
                    dir: self.dir.clone(),
                    reason: format!(
                        "the passphrase {} is empty, and vault cannot use an empty passphrase",
                        passphrase.origin.describe()
                    ),
                });
            }
            let opened = probes.iter().find_map(|(path, text)| {
                let plaintext = jwe::decrypt(&passphrase.secret, text).ok()?;
                Some((Some(path) == preferred_path.as_ref()).then_some(plaintext))
            });
            if probes.is_empty() || opened.is_some() {
                self.source.confirmed(&self.dir, &passphrase);
                *self.unlocked.borrow_mut() = Some(passphrase.secret.clone());
                return Ok((passphrase.secret, opened.flatten()));
            }
            if passphrase.origin == Origin::Cache {
                log::debug!(
                    "the cached passphrase no longer opens {}; asking again",
                    self.dir.display()
                );
                self.source.rejected(&self.dir);
                continue;
            }
            if passphrase.origin == Origin::Prompt {
                typed += 1;
                if typed < crate::tty::TRIES {
                    self.source.mistyped(&self.dir, crate::tty::TRIES - typed);
                    continue;
                }
            }
            return Err(Error::WrongPassphrase {
                dir: self.dir.clone(),
                file: probes[0].0.clone(),
                origin: passphrase.origin.describe(),
                hint: passphrase.origin.hint(),
            });
        }
    }

    /// Keeps a cached session's decrypted item in the kernel keyring until it expires, so the
    /// next command need not decrypt it again (decrypting costs 8192 rounds of PBKDF2).
    fn keep_session(&self, item: &Item, encrypted: &str) {
        if let KeyKind::Session(session) = classify(&item.key) {
            let left = session.expiry - self.clock.now().unix_timestamp();
            if let Ok(left) = u64::try_from(left) {
                let ttl = Duration::from_secs(left);
                let kept = Secret::new(format!(
                    "{}\n{}",
                    jwe::tag(encrypted),
                    item.to_json().expose()
                ));
                self.source.keep(&self.dir, &item.key, Some((&kept, ttl)));
            }
        }
    }

    fn remove_stale_temp_files(&self) {
        let Ok(reading) = fs::read_dir(&self.dir) else {
            return;
        };
        let now = SystemTime::from(self.clock.now());
        for entry in reading.flatten() {
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|modified| {
                    now.duration_since(modified).unwrap_or_default() > STALE_TEMP_AGE
                });
            if stale && fsutil::is_temp_file(&entry.file_name().to_string_lossy()) {
                let _ = fs::remove_file(entry.path());
            }
        }
    }
}

impl Keystore for FileKeystore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        self.check_trusted()?;
        let path = self.path_for(key);
        let text = Self::read(&path)?.ok_or_else(|| Error::not_found(key, BACKEND))?;
        // A session decrypted by an earlier command, if the file is still the one it came
        // from: its GCM tag, an authenticator of that very encryption, is kept beside it.
        if matches!(classify(key), KeyKind::Session(_))
            && let Some(kept) = self.source.recall(&self.dir, key)
            && let Some((tag, json)) = kept.expose().split_once('\n')
            && tag == jwe::tag(&text)
            && let Ok(item) = Item::from_json(json.as_bytes())
        {
            log::debug!("using the decrypted session kept in the kernel keyring");
            return Ok(item);
        }
        let damaged = |reason: String| Error::Damaged {
            location: path.display().to_string(),
            reason,
        };
        jwe::check_shape(&text).map_err(&damaged)?;
        let plaintext = match self.unlock(Some(key))? {
            (_, Some(plaintext)) => plaintext,
            (passphrase, None) => jwe::decrypt(&passphrase, &text).map_err(|err| match err {
                jwe::DecryptError::Malformed(reason) => damaged(reason),
                jwe::DecryptError::Rejected => damaged(
                    "it does not decrypt with the passphrase that opens the other items".to_owned(),
                ),
            })?,
        };
        let item = Item::from_json(&plaintext).map_err(damaged)?;
        self.keep_session(&item, &text);
        Ok(item)
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        self.check_trusted()?;
        let (passphrase, _) = self.unlock(Some(&item.key))?;
        let text = jwe::encrypt(&passphrase, &item.to_json(), self.clock.now())
            .map_err(|reason| Error::io("cannot encrypt the item", io::Error::other(reason)))?;
        fsutil::create_private_dir(&self.dir)
            .map_err(|e| Error::io(format!("cannot create {}", self.dir.display()), e))?;
        self.remove_stale_temp_files();
        let path = self.path_for(&item.key);
        self.source.keep(&self.dir, &item.key, None);
        fsutil::write_atomic(&path, text.as_bytes(), 0o600)
            .map_err(|e| Error::io(format!("cannot write {}", path.display()), e))?;
        self.note_change(&item.key, Some(path));
        self.keep_session(item, &text);
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        self.check_trusted()?;
        let path = self.path_for(key);
        self.source.keep(&self.dir, key, None);
        self.note_change(key, None);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                Err(Error::not_found(key, BACKEND))
            }
            Err(err) => Err(Error::io(format!("cannot remove {}", path.display()), err)),
        }
    }

    fn list(&self) -> Result<Vec<String>, Error> {
        Ok(self.entries()?.into_iter().map(|(key, _)| key).collect())
    }

    fn reread(&self) {
        self.listing.borrow_mut().take();
    }

    fn damaged(&self) -> Result<Vec<Damaged>, Error> {
        let mut damaged = Vec::new();
        for (key, path) in self.entries()? {
            let shape = match Self::read(&path) {
                Ok(Some(text)) => jwe::check_shape(&text),
                Ok(None) => continue, // removed while we looked
                Err(err) => Err(err.to_string()),
            };
            if let Err(reason) = shape {
                damaged.push(Damaged {
                    key,
                    location: path,
                    reason,
                });
            }
        }
        Ok(damaged)
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::rc::Rc;

    use super::*;
    use crate::keystore::MasterCredentials;
    use crate::keystore::passphrase::Passphrase;

    /// Hands out queued passphrases and records what the keystore told it.
    #[derive(Default)]
    struct Scripted {
        answers: RefCell<Vec<(&'static str, Origin)>>,
        confirmed: Rc<Cell<usize>>,
        rejected: Rc<Cell<usize>>,
    }

    impl PassphraseSource for Scripted {
        fn obtain(&self, dir: &Path, _new_store: bool) -> Result<Passphrase, Error> {
            let (text, origin) = self.answers.borrow_mut().pop().ok_or(Error::NoPassphrase {
                dir: dir.to_owned(),
                reason: "no more answers".into(),
            })?;
            Ok(Passphrase {
                secret: Secret::new(text),
                origin,
            })
        }
        fn confirmed(&self, _: &Path, _: &Passphrase) {
            self.confirmed.set(self.confirmed.get() + 1);
        }
        fn rejected(&self, _: &Path) {
            self.rejected.set(self.rejected.get() + 1);
        }
    }

    fn store(
        dir: &Path,
        answers: Vec<(&'static str, Origin)>,
    ) -> (FileKeystore, Rc<Cell<usize>>, Rc<Cell<usize>>) {
        let source = Scripted {
            answers: RefCell::new(answers),
            ..Default::default()
        };
        let (confirmed, rejected) = (source.confirmed.clone(), source.rejected.clone());
        (
            FileKeystore::new(dir.to_owned(), Box::new(source), Clock::System),
            confirmed,
            rejected,
        )
    }

    fn item(profile: &str, secret: &str) -> Item {
        MasterCredentials {
            access_key_id: format!("AKIA{profile}"),
            secret_access_key: Secret::new(secret),
        }
        .to_item(profile)
    }

    #[test]
    fn stores_reads_lists_and_removes_items() {
        let dir = tempfile::tempdir().unwrap();
        let (ks, confirmed, _) = store(dir.path(), vec![("pw", Origin::Env)]);
        ks.set(&item("dev", "s1")).unwrap();
        ks.set(&item("oidc:https://x/start", "s2")).unwrap();
        assert_eq!(ks.get("dev").unwrap(), item("dev", "s1"));
        assert_eq!(ks.list().unwrap(), ["dev", "oidc:https://x/start"]);
        assert!(dir.path().join("oidc:https:%2F%2Fx%2Fstart").exists());
        ks.remove("dev").unwrap();
        assert!(matches!(ks.get("dev"), Err(Error::NotFound { .. })));
        assert!(matches!(ks.remove("dev"), Err(Error::NotFound { .. })));
        assert_eq!(
            confirmed.get(),
            1,
            "the passphrase is obtained once per process"
        );
    }

    #[test]
    fn a_wrong_passphrase_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), vec![("right", Origin::Env)])
            .0
            .set(&item("a", "s"))
            .unwrap();
        let before = fs::read(dir.path().join("a")).unwrap();
        // A typed passphrase is asked three times before the keystore gives up.
        let (ks, _, _) = store(dir.path(), vec![("wrong", Origin::Prompt); 6]);
        assert!(matches!(
            ks.set(&item("a", "new")),
            Err(Error::WrongPassphrase { .. })
        ));
        assert!(matches!(
            ks.set(&item("b", "new")),
            Err(Error::WrongPassphrase { .. })
        ));
        assert_eq!(fs::read(dir.path().join("a")).unwrap(), before);
        assert!(!dir.path().join("b").exists());
    }

    #[test]
    fn a_stale_cached_passphrase_is_dropped_and_asked_again() {
        let dir = tempfile::tempdir().unwrap();
        store(dir.path(), vec![("right", Origin::Env)])
            .0
            .set(&item("a", "s"))
            .unwrap();
        // Answers pop from the end: the cache answers first, then the prompt.
        let (ks, confirmed, rejected) = store(
            dir.path(),
            vec![("right", Origin::Prompt), ("old", Origin::Cache)],
        );
        assert_eq!(ks.get("a").unwrap(), item("a", "s"));
        assert_eq!((rejected.get(), confirmed.get()), (1, 1));
    }

    #[test]
    fn damaged_files_are_listed_as_damaged_and_do_not_hide_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let (ks, _, _) = store(dir.path(), vec![("pw", Origin::Env)]);
        ks.set(&item("good", "s")).unwrap();
        let text = fs::read_to_string(dir.path().join("good")).unwrap();
        fs::write(dir.path().join("cut"), &text[..text.len() / 2]).unwrap();
        fs::write(dir.path().join(".x.vault-tmp-1-0"), "partial").unwrap();
        // A new process sees the files written behind the first one's back.
        let (ks, _, _) = store(dir.path(), vec![("pw", Origin::Env)]);
        assert_eq!(ks.list().unwrap(), ["cut", "good"]);
        let damaged = ks.damaged().unwrap();
        assert_eq!(damaged.len(), 1);
        assert_eq!(damaged[0].key, "cut");
        let err = ks.get("cut").unwrap_err().to_string();
        assert!(
            err.contains(&dir.path().join("cut").display().to_string()),
            "{err}"
        );
    }

    #[test]
    fn the_remembered_listing_follows_our_own_writes_and_removals() {
        let dir = tempfile::tempdir().unwrap();
        let (ks, _, _) = store(dir.path(), vec![("pw", Origin::Env)]);
        ks.set(&item("b", "s")).unwrap();
        assert_eq!(ks.list().unwrap(), ["b"]);
        ks.set(&item("a", "s")).unwrap();
        ks.set(&item("c", "s")).unwrap();
        ks.remove("b").unwrap();
        assert_eq!(ks.list().unwrap(), ["a", "c"]);
    }

    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        store(&keys, vec![("pw", Origin::Env)])
            .0
            .set(&item("a", "s"))
            .unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&keys), mode(&keys.join("a"))), (0o700, 0o600));
    }
}
