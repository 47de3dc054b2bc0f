//! Reads `~/.aws/config` text into sections, with the quirks aws-vault's INI reader has.
//!
//! Parsing is rust-ini's; this module decides what the sections mean:
//! - `[default]` is the profile `default`; `[profile X]` is the profile `X`; `[sso-session X]`
//!   is an SSO session. `[profile default]` is read as more of `[default]` (the AWS CLI's
//!   reading; aws-vault ignores it), and `[default]` wins where both set a key.
//! - Key names are case-insensitive, section names are not.
//! - A section written twice is one section; the later value of a key wins.
//! - An inline comment needs a space before `#` or `;` (the fork's rule), so
//!   `sso_start_url=https://x/start#/` keeps its `#`.
//! - Indented lines under a key (`s3 =` blocks) belong to that key's value.
//! - Sections whose names contain dots do NOT inherit from a shorter section (the Go INI
//!   library's child-section quirk): see the README.

use std::collections::HashMap;
use std::path::Path;

use ini::{Ini, ParseOption};

use super::Error;
use super::profile::key;

pub(crate) const DEFAULT_PROFILE: &str = "default";

/// One section's keys (lower-cased) and values. A section has a handful of keys, so a list
/// searched in order beats hashing (this is the hot path of resolving big configs).
#[derive(Debug, Default, Clone)]
pub(crate) struct Section {
    entries: Vec<(String, String)>,
}

impl Section {
    /// The value of `key` when it is present and not empty; an empty value counts as unset,
    /// as it does for aws-vault.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entries whose keys the merge copies, with their position in `key::MERGED`.
    pub(crate) fn merged_entries(&self) -> impl Iterator<Item = (usize, &str)> {
        self.entries.iter().filter_map(|(k, v)| {
            let slot = key::merged_slot(k)?;
            (!v.is_empty()).then_some((slot, v.as_str()))
        })
    }

    fn absorb(&mut self, props: ini::Properties, keep_existing: bool) {
        for (key, value) in props {
            let key = lower_trimmed(key);
            let value = match unquote(value.trim()) {
                unquoted if unquoted.len() == value.len() => value,
                unquoted => unquoted.to_owned(),
            };
            match self.entries.iter_mut().find(|(k, _)| *k == key) {
                Some(_) if keep_existing => {}
                Some(entry) => entry.1 = value,
                None => self.entries.push((key, value)),
            }
        }
    }
}

/// `text` trimmed, reusing its allocation when nothing is trimmed (the common case).
fn trimmed(text: String) -> String {
    if text.trim().len() == text.len() {
        text
    } else {
        text.trim().to_owned()
    }
}

fn lower_trimmed(key: String) -> String {
    let key = trimmed(key);
    if key.bytes().any(|b| b.is_ascii_uppercase()) {
        key.to_ascii_lowercase()
    } else {
        key
    }
}

/// The parsed file: profiles in file order, and SSO sessions by name.
#[derive(Debug, Default)]
pub(crate) struct Document {
    profile_order: Vec<String>,
    profiles: HashMap<String, Section>,
    sso_sessions: HashMap<String, Section>,
    /// The line (from 1) of each profile's first section header, for errors.
    profile_lines: HashMap<String, usize>,
    sso_session_lines: HashMap<String, usize>,
}

enum Header<'a> {
    Default,
    /// `[profile default]`: extra keys for `[default]`.
    ProfileDefault,
    Profile(&'a str),
    SsoSession(&'a str),
    Other,
}

fn classify(name: &str) -> Header<'_> {
    let name = name.trim();
    if name == DEFAULT_PROFILE {
        return Header::Default;
    }
    if let Some(profile) = name.strip_prefix("profile ") {
        let profile = profile.trim();
        return if profile == DEFAULT_PROFILE {
            Header::ProfileDefault
        } else {
            Header::Profile(profile)
        };
    }
    if let Some(session) = name.strip_prefix("sso-session ") {
        return Header::SsoSession(session.trim());
    }
    Header::Other
}

impl Document {
    pub(crate) fn parse(text: &str, path: &Path) -> Result<Self, Error> {
        let options = ParseOption {
            // Quotes and nested values are handled by `prepare` and `unquote`, as Go reads them.
            enabled_quote: false,
            // Go's INI reader keeps backslashes (Windows paths in credential_process).
            enabled_escape: false,
            enabled_indented_mutiline_value: false,
            enabled_preserve_key_leading_whitespace: false,
        };
        let original = text;
        let text = prepare(text, path)?;
        let ini = Ini::load_from_str_opt(&text, options).map_err(|err| Error::Syntax {
            path: path.to_owned(),
            line: err.line + 1,
            message: err.msg.into_owned(),
        })?;
        let mut doc = Self::default();
        for (name, props) in ini {
            let Some(name) = name else { continue };
            match classify(&name) {
                Header::Default => doc.profile_mut(DEFAULT_PROFILE).absorb(props, false),
                Header::ProfileDefault => doc.profile_mut(DEFAULT_PROFILE).absorb(props, true),
                Header::Profile(profile) => doc.profile_mut(profile).absorb(props, false),
                Header::SsoSession(session) => doc
                    .sso_sessions
                    .entry(session.to_owned())
                    .or_default()
                    .absorb(props, false),
                Header::Other => {
                    log::debug!("ignoring section [{name}] in {}", path.display());
                }
            }
        }
        doc.find_header_lines(original);
        Ok(doc)
    }

    /// Where each section starts, read from the text itself (the INI parser keeps no lines).
    fn find_header_lines(&mut self, text: &str) {
        for (index, line) in text.lines().enumerate() {
            let Some(name) = line
                .trim()
                .strip_prefix('[')
                .and_then(|rest| rest.split_once(']'))
                .map(|(name, _)| name)
            else {
                continue;
            };
            match classify(name) {
                Header::Default | Header::ProfileDefault => {
                    self.profile_lines
                        .entry(DEFAULT_PROFILE.to_owned())
                        .or_insert(index + 1);
                }
                Header::Profile(profile) => {
                    self.profile_lines
                        .entry(profile.to_owned())
                        .or_insert(index + 1);
                }
                Header::SsoSession(session) => {
                    self.sso_session_lines
                        .entry(session.to_owned())
                        .or_insert(index + 1);
                }
                Header::Other => {}
            }
        }
    }

    /// The line of the profile's section header.
    pub(crate) fn profile_line(&self, name: &str) -> Option<usize> {
        self.profile_lines.get(name).copied()
    }

    /// The line of the `[sso-session]` section header.
    pub(crate) fn sso_session_line(&self, name: &str) -> Option<usize> {
        self.sso_session_lines.get(name).copied()
    }

    fn profile_mut(&mut self, name: &str) -> &mut Section {
        if !self.profiles.contains_key(name) {
            self.profile_order.push(name.to_owned());
        }
        self.profiles.entry(name.to_owned()).or_default()
    }

    pub(crate) fn profile(&self, name: &str) -> Option<&Section> {
        self.profiles.get(name)
    }

    pub(crate) fn sso_session(&self, name: &str) -> Option<&Section> {
        self.sso_sessions.get(name)
    }

    pub(crate) fn sso_sessions(&self) -> impl Iterator<Item = (&str, &Section)> {
        self.sso_sessions
            .iter()
            .map(|(name, section)| (name.as_str(), section))
    }

    /// Profile names in file order; `default` only when it sets something, as aws-vault lists it.
    pub(crate) fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profile_order
            .iter()
            .map(String::as_str)
            .filter(|name| {
                *name != DEFAULT_PROFILE || self.profiles.get(*name).is_some_and(|s| !s.is_empty())
            })
    }
}

/// Readies the text for rust-ini the way Go's INI reader (aws-vault's) reads it, keeping every
/// line where it was so rust-ini's line numbers stay right:
/// - indented lines under a key with an empty value (`s3 =` blocks) are nested settings that
///   no AWS credential key uses: they are blanked;
/// - a value ending in `\` continues on the next line;
/// - a malformed line is an error naming its line (rust-ini reports an unclosed `[` at the end
///   of the file instead).
fn prepare(text: &str, path: &Path) -> Result<String, Error> {
    let mut out = String::with_capacity(text.len());
    let mut nesting = false;
    let mut lines = text.lines().enumerate();
    while let Some((index, raw)) = lines.next() {
        let line = raw.trim();
        let fail = |message: &str| Error::Syntax {
            path: path.to_owned(),
            line: index + 1,
            message: message.to_owned(),
        };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            out.push('\n');
            continue;
        }
        // No environment variable can hold a NUL, and fish would cut its quoting there.
        if raw.contains('\0') {
            return Err(fail(
                "holds a NUL byte, which no environment variable can hold; remove it",
            ));
        }
        if nesting && raw.starts_with([' ', '\t']) {
            out.push('\n');
            continue;
        }
        nesting = false;
        if line.starts_with('[') {
            if !line.contains(']') {
                return Err(fail("a section header must end with ]"));
            }
        } else {
            let Some(at) = line.find(['=', ':']) else {
                return Err(fail("expected key = value, a [section] or a comment"));
            };
            nesting = line[at + 1..].trim().is_empty();
        }
        let mut blanks = 0;
        let mut current = raw.trim_end();
        while let Some(head) = current.strip_suffix('\\') {
            out.push_str(head);
            // A backslash on the last line continues into nothing.
            current = lines.next().map_or("", |(_, next)| next.trim());
            blanks += 1;
        }
        out.push_str(current);
        out.push('\n');
        for _ in 0..blanks {
            out.push('\n');
        }
    }
    Ok(out)
}

/// Removes the quotes around a value when they are its only quotes of that kind, as Go's INI
/// reader does: `"a b"` becomes `a b`, `"a" and "b"` stays as written.
fn unquote(value: &str) -> &str {
    for quote in ['"', '\''] {
        if let Some(inner) = value
            .strip_prefix(quote)
            .and_then(|v| v.strip_suffix(quote))
            && !inner.contains(quote)
        {
            return inner;
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Document {
        Document::parse(text, Path::new("config")).expect("parses")
    }

    #[test]
    fn keys_are_case_insensitive_and_section_names_are_not() {
        let doc = parse("[profile Dev]\nREGION = eu-west-1\n[profile dev]\nregion=us-east-1\n");
        assert_eq!(doc.profile("Dev").unwrap().get("region"), Some("eu-west-1"));
        assert_eq!(doc.profile("dev").unwrap().get("region"), Some("us-east-1"));
    }

    #[test]
    fn a_hash_without_a_space_before_it_stays_in_the_value() {
        let doc =
            parse("[profile a]\nsso_start_url=https://x/start#/\nregion = eu-west-1 # here\n");
        let a = doc.profile("a").unwrap();
        assert_eq!(a.get("sso_start_url"), Some("https://x/start#/"));
        assert_eq!(a.get("region"), Some("eu-west-1"));
    }

    #[test]
    fn quotes_are_stripped_and_backslashes_kept() {
        let doc = parse("[profile a]\nregion=\"eu-west-1\"\ncredential_process = C:\\bin\\p.exe\n");
        let a = doc.profile("a").unwrap();
        assert_eq!(a.get("region"), Some("eu-west-1"));
        assert_eq!(a.get("credential_process"), Some("C:\\bin\\p.exe"));
    }

    #[test]
    fn indented_keys_after_a_value_are_keys_of_their_own() {
        let doc =
            parse("[profile role]\n    region = us-east-1\n    source_profile = base\n  # note\n");
        let role = doc.profile("role").unwrap();
        assert_eq!(role.get("region"), Some("us-east-1"));
        assert_eq!(role.get("source_profile"), Some("base"));
    }

    #[test]
    fn only_surrounding_quotes_are_removed() {
        let doc = parse(
            "[profile a]\ncredential_process = \"C:\\Program Files\\t.exe\" --flag\nx = 'single'\ny = \"a\" and \"b\"\n",
        );
        let a = doc.profile("a").unwrap();
        assert_eq!(
            a.get("credential_process"),
            Some("\"C:\\Program Files\\t.exe\" --flag")
        );
        assert_eq!(a.get("x"), Some("single"));
        assert_eq!(a.get("y"), Some("\"a\" and \"b\""));
    }

    #[test]
    fn a_trailing_backslash_continues_the_value_and_later_lines_keep_their_numbers() {
        let doc = parse("[profile a]\ncredential_process = tool \\\n   --flag\nregion = r\n");
        let a = doc.profile("a").unwrap();
        assert_eq!(a.get("credential_process"), Some("tool --flag"));
        assert_eq!(a.get("region"), Some("r"));
        let err = Document::parse("[profile a]\nk = a \\\n b\n[broken\n", Path::new("cfg"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cfg:4:"), "{err}");
    }

    #[test]
    fn nested_values_do_not_leak_into_the_profile() {
        let doc = parse("[profile a]\ns3 =\n  max_concurrent_requests = 20\nregion = us-east-2\n");
        let a = doc.profile("a").unwrap();
        assert_eq!(a.get("max_concurrent_requests"), None);
        assert_eq!(a.get("region"), Some("us-east-2"));
    }

    #[test]
    fn a_repeated_section_is_merged_and_the_later_value_wins() {
        let doc = parse("[profile a]\nregion=r1\nmfa_serial=m\n[profile a]\nregion=r2\n");
        let a = doc.profile("a").unwrap();
        assert_eq!(
            (a.get("region"), a.get("mfa_serial")),
            (Some("r2"), Some("m"))
        );
        assert_eq!(doc.profile_names().collect::<Vec<_>>(), ["a"]);
    }

    #[test]
    fn profile_default_adds_to_default_without_overriding_it() {
        let doc = parse("[default]\nregion=r1\n[profile default]\nregion=r2\nmfa_serial=m\n");
        let d = doc.profile("default").unwrap();
        assert_eq!(
            (d.get("region"), d.get("mfa_serial")),
            (Some("r1"), Some("m"))
        );
    }

    #[test]
    fn names_keep_file_order_and_an_empty_default_is_not_listed() {
        let doc = parse("[default]\n[profile b]\n[sso-session s]\n[profile a]\n[services x]\n");
        assert_eq!(doc.profile_names().collect::<Vec<_>>(), ["b", "a"]);
        assert!(doc.sso_session("s").is_some());
    }

    #[test]
    fn a_nul_byte_is_refused_with_its_line() {
        let err = Document::parse("[profile p]\nregion = eu\0west\n", Path::new("cfg"))
            .expect_err("refused");
        assert_eq!(
            err.to_string(),
            "cfg:2: holds a NUL byte, which no environment variable can hold; remove it; fix that line of the AWS config file"
        );
    }

    #[test]
    fn a_syntax_error_names_the_line() {
        let err = Document::parse("[profile a]\nregion=x\n[profile b\n", Path::new("cfg"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cfg:3:"), "{err}");
        let err = Document::parse("[profile a]\nregion=x\njunk\n", Path::new("cfg"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("cfg:3: expected key = value"), "{err}");
    }
}
