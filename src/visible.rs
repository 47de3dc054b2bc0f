//! Text from input (profile names and `mfa_serial` from the config) on its way to a terminal:
//! control characters are written as visible escapes (`\x1b`), so no config file can move the
//! cursor, retitle the window, or hide text with ESC, CSI, OSC, BEL or C1 sequences.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `text` with every C0 control, DEL and C1 control written as `\xHH`.
pub(crate) fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_control(c) {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `visible`, but line breaks stay: for messages whose own text spans lines.
pub(crate) fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_control(c)) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.split('\n').map(visible).collect::<Vec<_>>().join("\n"))
}

/// C0 (U+0000–U+001F), DEL and C1 (U+0080–U+009F): the characters terminals act on.
fn is_control(c: char) -> bool {
    c.is_control()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        assert_eq!(visible("prod"), "prod");
        assert_eq!(visible("ré\u{e9}"), "ré\u{e9}");
        assert_eq!(
            visible("a\u{1b}]0;x\u{7}b\u{9b}31m\u{7f}\n"),
            "a\\x1b]0;x\\x07b\\x9b31m\\x7f\\x0a"
        );
        assert_eq!(visible_lines("one\n  \u{1b}[2J"), "one\n  \\x1b[2J");
    }
}
