//! PowerShell: single-quoted strings are literal, and a quote is written twice. PowerShell also
//! takes the typographic single quotes (U+2018–U+201B) as quotes, so those are doubled too.

use super::Emitter;

pub(crate) struct Pwsh;

const SINGLE_QUOTES: [char; 5] = ['\'', '\u{2018}', '\u{2019}', '\u{201A}', '\u{201B}'];

pub(crate) fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if SINGLE_QUOTES.contains(&c) {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

impl Emitter for Pwsh {
    fn set(&self, name: &str, value: &str) -> String {
        format!("$env:{name} = {}\n", quote(value))
    }

    fn unset(&self, name: &str) -> String {
        format!("Remove-Item -Path Env:{name} -ErrorAction SilentlyContinue\n")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_of_single_quote_is_doubled() {
        assert_eq!(
            quote("it's \u{2019}x\u{2019} $y"),
            "'it''s \u{2019}\u{2019}x\u{2019}\u{2019} $y'"
        );
    }
}
