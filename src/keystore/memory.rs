//! An in-memory keystore for unit tests of the layers above the backends. It can be told to
//! fail its next call, to test that callers lose nothing when a backend fails.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::io;

use super::{Error, Item, Keystore};

#[derive(Default)]
pub(crate) struct MemoryKeystore {
    items: RefCell<BTreeMap<String, Item>>,
    fail_next: RefCell<Option<String>>,
}

impl MemoryKeystore {
    pub(crate) fn fail_next_call(&self, reason: &str) {
        *self.fail_next.borrow_mut() = Some(reason.to_owned());
    }

    fn check(&self) -> Result<(), Error> {
        match self.fail_next.borrow_mut().take() {
            Some(reason) => Err(Error::io("memory keystore", io::Error::other(reason))),
            None => Ok(()),
        }
    }
}

impl Keystore for MemoryKeystore {
    fn backend(&self) -> &'static str {
        "memory"
    }

    fn get(&self, key: &str) -> Result<Item, Error> {
        self.check()?;
        self.items
            .borrow()
            .get(key)
            .cloned()
            .ok_or_else(|| Error::not_found(key, "memory"))
    }

    fn set(&self, item: &Item) -> Result<(), Error> {
        self.check()?;
        self.items
            .borrow_mut()
            .insert(item.key.clone(), item.clone());
        Ok(())
    }

    fn remove(&self, key: &str) -> Result<(), Error> {
        self.check()?;
        self.items
            .borrow_mut()
            .remove(key)
            .map(|_| ())
            .ok_or_else(|| Error::not_found(key, "memory"))
    }

    fn list(&self) -> Result<Vec<String>, Error> {
        self.check()?;
        Ok(self.items.borrow().keys().cloned().collect())
    }
}
