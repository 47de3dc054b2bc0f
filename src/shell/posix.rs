//! bash and zsh: single quotes keep every byte literal; a single quote itself is closed,
//! escaped and reopened (`'\''`).

use super::Emitter;

pub(crate) struct Posix;

pub(crate) fn quote(value: &str) -> String {
    format!("'{}'", value.replace('\'', r"'\''"))
}

impl Emitter for Posix {
    fn set(&self, name: &str, value: &str) -> String {
        format!("export {name}={}\n", quote(value))
    }

    fn unset(&self, name: &str) -> String {
        format!("unset {name}\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_closed_escaped_and_reopened() {
        assert_eq!(quote("it's $(x) `y` \\ \n%"), "'it'\\''s $(x) `y` \\ \n%'");
        assert_eq!(Posix.set("A", ""), "export A=''\n");
    }
}
