//! The `secret-service` backend: items in a Secret Service collection (GNOME Keyring, KWallet,
//! KeePassXC) over D-Bus, laid out exactly as aws-vault writes them (docs/aws-vault.md §5.2):
//! collection `awsvault`, each item labelled with its key, attribute `profile` = key, the Item JSON
//! as the secret, content type `application/json`.
//!
//! This talks to the service through dbus-secret-service rather than keyring-core's store:
//! that store always adds its own `service`/`username` attributes and searches by them, so it
//! can neither find aws-vault's items nor write items aws-vault finds.

use std::cell::RefCell;
use std::collections::HashMap;
use std::time::{Duration, Instant};

use dbus::Message;
use dbus::arg::Variant;
use dbus::channel::{BusType, Channel};
use dbus::strings::Path;
use dbus_secret_service::{Collection, EncryptionType, SecretService};

use super::{Error, Item, Keystore};
use crate::ctx::Env;

const BACKEND: &str = "secret-service";
/// aws-vault's collection, and the default of `--secret-service-collection`.
pub(crate) const DEFAULT_COLLECTION: &str = "awsvault";
/// The attribute aws-vault searches by.
const KEY_ATTRIBUTE: &str = "profile";
const CONTENT_TYPE: &str = "application/json";
const SECRETS: &str = "org.freedesktop.secrets";
const PROPERTIES: &str = "org.freedesktop.DBus.Properties";
const ITEM_INTERFACE: &str = "org.freedesktop.Secret.Item";
/// libdbus's own default for one method call.
const REPLY_TIMEOUT: Duration = Duration::from_secs(25);
/// How long a desktop unlock prompt may wait for the user.
const PROMPT_SECONDS: u64 = 120;

pub(super) struct SecretServiceKeystore {
    service: SecretService,
    collection_name: String,
    /// The collection's object path once found or created: `exec` lists and then reads, and
    /// looking the collection up again each time would cost round trips on every command.
    collection_path: RefCell<Option<Path<'static>>>,
}

impl SecretServiceKeystore {
    /// Connects to the session bus and opens a session with the Secret Service. `interactive`
    /// says whether the service may show an unlock prompt (never from the prompt hook).
    pub(super) fn connect(
        collection_name: &str,
        env: &Env,
        interactive: bool,
    ) -> Result<Self, Error> {
        if !session_bus_exists(env) {
            return Err(Error::Unavailable {
                backend: BACKEND,
                reason: "there is no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set and $XDG_RUNTIME_DIR/bus does not exist)".to_owned(),
                fix: "run vault inside a desktop session, or choose --backend file, keyctl or pass (AWS_VAULT_BACKEND)".to_owned(),
            });
        }
        let prompt_seconds = if interactive { PROMPT_SECONDS } else { 0 };
        let service =
            SecretService::connect_with_max_prompt_timeout(EncryptionType::Plain, prompt_seconds)
                .map_err(|e| connect_error(&e))?;
        Ok(Self {
            service,
            collection_name: collection_name.to_owned(),
            collection_path: RefCell::new(None),
        })
    }

    /// The collection, if it exists. aws-vault matches the last element of the object path,
    /// where GNOME Keyring escapes a label's other characters as `_XX`; the label is accepted
    /// too, for services that name paths otherwise.
    fn collection(&self) -> Result<Option<Collection<'_>>, Error> {
        if let Some(path) = self.collection_path.borrow().clone() {
            return Ok(Some(Collection::new(&self.service, path)));
        }
        let found = self.find_collection()?;
        if let Some(collection) = &found {
            self.remember(collection);
        }
        Ok(found)
    }

    fn remember(&self, collection: &Collection<'_>) {
        *self.collection_path.borrow_mut() = Some(collection.path.clone());
    }

    fn find_collection(&self) -> Result<Option<Collection<'_>>, Error> {
        let collections = self
            .service
            .get_all_collections()
            .map_err(|e| failed("listing collections", &e))?;
        let wanted = self.collection_name.as_str();
        let mut by_label = None;
        for collection in collections {
            let path_name = collection
                .path
                .rsplit('/')
                .next()
                .map(unescape_path_element);
            if path_name.as_deref() == Some(wanted) {
                return Ok(Some(collection));
            }
            if by_label.is_none() && collection.get_label().is_ok_and(|label| label == wanted) {
                by_label = Some(collection);
            }
        }
        Ok(by_label)
    }

    /// The collection, unlocked, created when it does not exist yet.
    fn writable_collection(&self) -> Result<Collection<'_>, Error> {
        let collection = if let Some(collection) = self.collection()? {
            collection
        } else {
            let created = self
                .service
                .create_collection(&self.collection_name, "")
                .map_err(|e| self.create_error(&e))?;
            self.remember(&created);
            created
        };
        self.unlocked(&collection)?;
        Ok(collection)
    }

    fn unlocked(&self, collection: &Collection<'_>) -> Result<(), Error> {
        collection.ensure_unlocked().map_err(|e| match e {
            dbus_secret_service::Error::Prompt => Error::Unavailable {
                backend: BACKEND,
                reason: format!(
                    "the collection {:?} is locked, and unlocking it was refused or no unlock prompt could be shown",
                    self.collection_name
                ),
                fix: "unlock it from your desktop session (for example in Seahorse), or unlock GNOME Keyring with `gnome-keyring-daemon --unlock` and its password on stdin".to_owned(),
            },
            other => failed("unlocking the collection", &other),
        })
    }

    fn create_error(&self, error: &dbus_secret_service::Error) -> Error {
        match error {
            dbus_secret_service::Error::Prompt => Error::Unavailable {
                backend: BACKEND,
                reason: format!(
                    "the Secret Service refused to create the collection {:?} (GNOME Keyring asks for a new collection's password through a desktop prompt, and none could be shown)",
                    self.collection_name
                ),
                fix: "create it once from a desktop session (store any key there with vault or aws-vault), or keep keys in the login keyring with --secret-service-collection login (AWS_VAULT_SECRET_SERVICE_COLLECTION_NAME=login)".to_owned(),
            },
            other => failed("creating the collection", other),
        }
    }
}

/// The items stored under `key` (aws-vault finds them by the `profile` attribute).
fn items<'a>(
    collection: &'a Collection<'a>,
    key: &str,
) -> Result<Vec<dbus_secret_service::Item<'a>>, Error> {
    collection
        .search_items(HashMap::from([(KEY_ATTRIBUTE, key)]))
        .map_err(|e| failed("searching the collection", &e))
}

impl Keystore for SecretServiceKeystore {
    fn backend(&self) -> &'static str {
        BACKEND
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        let collection = self.collection()?.ok_or_else(|| not_found(key))?;
        self.unlocked(&collection)?;
        let items = items(&collection, key)?;
        let item = items.first().ok_or_else(|| not_found(key))?;
        let secret = item
            .get_secret()
            .map_err(|e| failed(&format!("reading {key:?}"), &e))?;
        Item::from_json(&secret).map_err(|reason| Error::Damaged {
            location: format!(
                "the Secret Service item {key:?} in collection {:?}",
                self.collection_name
            ),
            reason,
        })
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        let collection = self.writable_collection()?;
        let attributes = HashMap::from([(KEY_ATTRIBUTE, item.key.as_str())]);
        let json = item.to_json();
        collection
            .create_item(
                &item.key,
                attributes,
                json.expose().as_bytes(),
                true,
                CONTENT_TYPE,
            )
            .map_err(|e| failed(&format!("storing {:?}", item.key), &e))?;
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        let collection = self.collection()?.ok_or_else(|| not_found(key))?;
        self.unlocked(&collection)?;
        let items = items(&collection, key)?;
        if items.is_empty() {
            return Err(not_found(key));
        }
        for item in &items {
            item.delete()
                .map_err(|e| failed(&format!("removing {key:?}"), &e))?;
        }
        Ok(())
    }

    /// The `profile` attribute of every item that has one: in a shared collection such as
    /// `login`, other programs' items are not ours to list.
    fn list(&self) -> Result<Vec<String>, Error> {
        let Some(collection) = self.collection()? else {
            return Ok(Vec::new());
        };
        let items = collection
            .get_all_items()
            .map_err(|e| failed("listing items", &e))?;
        let paths: Vec<_> = items.into_iter().map(|item| item.path).collect();
        let mut keys: Vec<String> = attributes_of(&paths)
            .map_err(|reason| {
                Error::backend(BACKEND, "reading item attributes".to_owned(), reason)
            })?
            .into_iter()
            .filter_map(|mut attributes| attributes.remove(KEY_ATTRIBUTE))
            .collect();
        // The service keeps no order; other backends list by name.
        keys.sort();
        Ok(keys)
    }
}

/// The `Attributes` of many items at once. Every request goes out before the first answer is
/// read, so a collection of 200 items costs about one round trip's wait instead of 200 (each
/// crosses the bus daemon twice). Listing happens on every `exec`, which looks for sessions.
fn attributes_of(paths: &[Path<'static>]) -> Result<Vec<HashMap<String, String>>, String> {
    let channel = Channel::get_private(BusType::Session).map_err(|e| e.to_string())?;
    let mut pending = HashMap::with_capacity(paths.len());
    for (index, path) in paths.iter().enumerate() {
        let request = Message::new_method_call(SECRETS, path.clone(), PROPERTIES, "Get")?
            .append2(ITEM_INTERFACE, "Attributes");
        let serial = channel
            .send(request)
            .map_err(|()| "the bus connection closed".to_owned())?;
        pending.insert(serial, index);
    }
    channel.flush();
    let mut all = vec![HashMap::new(); paths.len()];
    let deadline = Instant::now() + REPLY_TIMEOUT;
    while !pending.is_empty() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!("{} answers did not come in time", pending.len()));
        }
        let Some(mut reply) = channel
            .blocking_pop_message(left)
            .map_err(|e| e.to_string())?
        else {
            continue;
        };
        let Some(index) = reply.get_reply_serial().and_then(|s| pending.remove(&s)) else {
            continue;
        };
        reply.as_result().map_err(|e| e.to_string())?;
        let Variant(attributes) = reply
            .read1::<Variant<HashMap<String, String>>>()
            .map_err(|e| e.to_string())?;
        all[index] = attributes;
    }
    Ok(all)
}

/// Whether a session bus can be reached without libdbus trying to autolaunch one (which would
/// start a dbus-daemon on an X display, or fail slowly): an address in the environment, or
/// the per-user socket libdbus itself falls back to.
pub(super) fn session_bus_exists(env: &Env) -> bool {
    env.non_empty("DBUS_SESSION_BUS_ADDRESS").is_some()
        || env
            .non_empty("XDG_RUNTIME_DIR")
            .is_some_and(|dir| std::path::Path::new(dir).join("bus").exists())
}

/// GNOME Keyring's object path element for a label: characters other than ASCII letters and
/// digits become `_XX` (hex).
fn unescape_path_element(element: &str) -> String {
    let bytes = element.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'_')
            .then(|| element.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        if let Some(byte) = escaped {
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn connect_error(error: &dbus_secret_service::Error) -> Error {
    let (reason, fix) = match error {
        dbus_secret_service::Error::Dbus(e)
            if matches!(
                e.name(),
                Some("org.freedesktop.DBus.Error.ServiceUnknown" | "org.freedesktop.DBus.Error.NameHasNoOwner")
            ) =>
        {
            (
                "no Secret Service provider is running on the session bus (nothing owns org.freedesktop.secrets)".to_owned(),
                "install and start one (GNOME Keyring: `gnome-keyring-daemon --start --components=secrets`; or KeePassXC with Secret Service integration), or choose --backend file, keyctl or pass",
            )
        }
        other => (
            format!("cannot reach the Secret Service over the session bus: {other}"),
            "check DBUS_SESSION_BUS_ADDRESS, or choose --backend file, keyctl or pass",
        ),
    };
    Error::Unavailable {
        backend: BACKEND,
        reason,
        fix: fix.to_owned(),
    }
}

fn failed(action: &str, error: &dbus_secret_service::Error) -> Error {
    Error::backend(BACKEND, action.to_owned(), error.to_string())
}

fn not_found(key: &str) -> Error {
    Error::not_found(key, BACKEND)
}

#[cfg(test)]
mod tests {
    use super::unescape_path_element;

    #[test]
    fn path_elements_decode_gnome_keyring_escapes() {
        assert_eq!(unescape_path_element("awsvault"), "awsvault");
        assert_eq!(unescape_path_element("my_2dvault"), "my-vault");
        assert_eq!(unescape_path_element("a_20b"), "a b");
        // A lone or malformed escape stays as it is.
        assert_eq!(unescape_path_element("a_zz_"), "a_zz_");
    }
}
