//! A real Secret Service for one test: a private D-Bus session bus in the sandbox's runtime
//! directory, and gnome-keyring-daemon on it with an unlocked `login` collection
//! (reference/test-environment.md §2). Both are stopped when the value is dropped.
//!
//! GNOME Keyring creates any other collection only after a desktop prompt, which cannot be
//! shown here; `create_collection` uses its internal D-Bus interface, which takes the new
//! collection's password directly, the way its own test-suite does.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use dbus::arg::{PropMap, RefArg, Variant};
use dbus::blocking::Connection;
use dbus::channel::Channel;
use dbus::strings::Path as ObjectPath;

use super::{Sandbox, output_of};

const SECRETS: &str = "org.freedesktop.secrets";
const SERVICE_PATH: &str = "/org/freedesktop/secrets";
const SERVICE_INTERFACE: &str = "org.freedesktop.Secret.Service";
const GNOME_INTERNAL: &str = "org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface";
/// The password of every test keyring.
pub const KEYRING_PASSWORD: &str = "test-keyring-password";

/// A session bus, with or without gnome-keyring on it.
pub struct SessionBus {
    address: String,
    bus: Child,
    keyring: Option<Child>,
    runtime_dir: PathBuf,
}

impl SessionBus {
    /// A bus with gnome-keyring-daemon serving the Secret Service.
    pub fn with_gnome_keyring(t: &Sandbox) -> Self {
        let mut bus = Self::start(t, &["--session"]);
        bus.start_gnome_keyring(t);
        bus
    }

    /// A bus where nothing provides the Secret Service, and nothing can be activated. (The
    /// `<listen>` element is required, and replaced by `--address`.)
    pub fn without_provider(t: &Sandbox) -> Self {
        let config = t.home().join("bus-without-services.conf");
        std::fs::write(
            &config,
            r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"#,
        )
        .expect("bus config");
        let config_arg = format!("--config-file={}", config.display());
        Self::start(t, &[config_arg.as_str()])
    }

    fn start(t: &Sandbox, config: &[&str]) -> Self {
        let runtime_dir = t.runtime_dir();
        let socket = runtime_dir.join("bus");
        let mut bus = Command::new("dbus-daemon")
            .args(config)
            .arg("--nofork")
            .arg("--print-address=1")
            .arg(format!("--address=unix:path={}", socket.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dbus-daemon starts (apt install dbus)");
        let mut line = String::new();
        BufReader::new(bus.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("dbus-daemon prints its address");
        assert!(!line.trim().is_empty(), "dbus-daemon printed no address");
        Self {
            address: line.trim().to_owned(),
            bus,
            keyring: None,
            runtime_dir,
        }
    }

    fn start_gnome_keyring(&mut self, t: &Sandbox) {
        let mut daemon = Command::new("gnome-keyring-daemon")
            .args(["--foreground", "--unlock", "--components=secrets"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", t.home())
            .env("XDG_DATA_HOME", t.home().join(".local/share"))
            .env("XDG_RUNTIME_DIR", &self.runtime_dir)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("gnome-keyring-daemon starts (apt install gnome-keyring)");
        // --unlock reads the login keyring's password until end of input.
        let mut stdin = daemon.stdin.take().expect("stdin");
        stdin.write_all(KEYRING_PASSWORD.as_bytes()).unwrap();
        drop(stdin);
        self.keyring = Some(daemon);
        let deadline = Instant::now() + Duration::from_secs(20);
        while !self.name_has_owner(SECRETS) {
            assert!(
                Instant::now() < deadline,
                "gnome-keyring-daemon never took {SECRETS} on the bus"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What vault needs to find this bus.
    pub fn address(&self) -> &str {
        &self.address
    }

    fn connect(&self) -> Connection {
        let mut channel = Channel::open_private(&self.address).expect("connect to the test bus");
        channel.register().expect("register on the test bus");
        Connection::from(channel)
    }

    fn name_has_owner(&self, name: &str) -> bool {
        let connection = self.connect();
        let proxy = connection.with_proxy(
            "org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            Duration::from_secs(5),
        );
        let (owned,): (bool,) = proxy
            .method_call("org.freedesktop.DBus", "NameHasOwner", (name,))
            .expect("NameHasOwner");
        owned
    }

    /// Creates the collection `label` with the test password, without any prompt.
    pub fn create_collection(&self, label: &str) -> String {
        let connection = self.connect();
        let proxy = connection.with_proxy(SECRETS, SERVICE_PATH, Duration::from_secs(10));
        let session = open_plain_session(&proxy);
        let mut properties: PropMap = HashMap::new();
        properties.insert(
            "org.freedesktop.Secret.Collection.Label".to_owned(),
            Variant(Box::new(label.to_owned()) as Box<dyn RefArg>),
        );
        let (path,): (ObjectPath<'static>,) = proxy
            .method_call(
                GNOME_INTERNAL,
                "CreateWithMasterPassword",
                (properties, master_secret(session)),
            )
            .expect("CreateWithMasterPassword");
        path.to_string()
    }

    /// Locks a collection (locking never needs a prompt).
    pub fn lock(&self, collection_path: &str) {
        let connection = self.connect();
        let proxy = connection.with_proxy(SECRETS, SERVICE_PATH, Duration::from_secs(10));
        let objects = vec![ObjectPath::new(collection_path).expect("object path")];
        let (_locked, _prompt): (Vec<ObjectPath<'static>>, ObjectPath<'static>) = proxy
            .method_call(SERVICE_INTERFACE, "Lock", (objects,))
            .expect("Lock");
    }

    /// Unlocks a collection with its password, as a desktop unlock prompt would.
    pub fn unlock_with_password(&self, collection_path: &str) {
        let connection = self.connect();
        let proxy = connection.with_proxy(SECRETS, SERVICE_PATH, Duration::from_secs(10));
        let session = open_plain_session(&proxy);
        let collection = ObjectPath::new(collection_path).expect("object path");
        let () = proxy
            .method_call(
                GNOME_INTERNAL,
                "UnlockWithMasterPassword",
                (collection, master_secret(session)),
            )
            .expect("UnlockWithMasterPassword");
    }

    /// `secret-tool ARGS` on this bus, returning stdout; panics when it fails.
    pub fn secret_tool(&self, t: &Sandbox, args: &[&str], stdin: Option<&str>) -> String {
        let mut command = t.command("secret-tool");
        command
            .args(args)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.address);
        output_of(command, stdin.unwrap_or(""))
    }

    pub fn runtime_dir(&self) -> &Path {
        &self.runtime_dir
    }
}

fn open_plain_session(proxy: &dbus::blocking::Proxy<'_, &Connection>) -> ObjectPath<'static> {
    let (_output, session): (Variant<Box<dyn RefArg>>, ObjectPath<'static>) = proxy
        .method_call(
            SERVICE_INTERFACE,
            "OpenSession",
            ("plain", Variant(Box::new(String::new()) as Box<dyn RefArg>)),
        )
        .expect("OpenSession");
    session
}

/// A Secret Service `Secret` struct holding the test password in the clear.
fn master_secret(session: ObjectPath<'static>) -> (ObjectPath<'static>, Vec<u8>, Vec<u8>, String) {
    (
        session,
        Vec::new(),
        KEYRING_PASSWORD.as_bytes().to_vec(),
        "text/plain".to_owned(),
    )
}

impl Drop for SessionBus {
    fn drop(&mut self) {
        if let Some(daemon) = &mut self.keyring {
            let _ = daemon.kill();
            let _ = daemon.wait();
        }
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}
