//! fish: inside single quotes only `\\` and `\'` are escapes; everything else, newlines
//! included, is literal.

use super::Emitter;

pub(crate) struct Fish;

pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\\', r"\\").replace('\'', r"\'"))
}

impl Emitter for Fish {
    fn set(&self, name: &str, value: &str) -> String {
        format!("set -gx {name} {}\n", quote(value))
    }

    /// Only the global: a universal variable of the user's must survive (`set -e` would erase
    /// it from disk for every session).
    fn unset(&self, name: &str) -> String {
        format!("set -e -g {name}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backslashes_and_quotes_are_escaped() {
        assert_eq!(quote(r"a\b'c $d"), r"'a\\b\'c $d'");
    }
}
