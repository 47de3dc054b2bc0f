//! `~/.aws/credentials` (or `AWS_SHARED_CREDENTIALS_FILE`): the plaintext keys `vault import`
//! moves into the keystore, and the hint that names `vault import` when a profile's keys are
//! only there (issue 17).
//!
//! Read line by line, not through the INI library: taking the keys out must keep every other
//! byte of the file (comments, order, spacing, other sections), and the library would write
//! the file anew in its own form. The reading follows the AWS CLI's where it matters here:
//! `[name]` is the profile `name` (no `profile ` prefix in this file), `key = value` or
//! `key: value`, key names in any case, `#` and `;` start a comment line, and a section written
//! twice is one profile whose later values win. A value is one line: an inline comment needs a
//! space before `#` or `;`, as in the config file, and access keys hold neither.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use crate::ctx::Env;
use crate::fsutil;

pub(crate) const ACCESS_KEY_ID: &str = "aws_access_key_id";
pub(crate) const SECRET_ACCESS_KEY: &str = "aws_secret_access_key";
/// A session token (`aws_security_token` is its old name, still read by the AWS CLI) marks
/// temporary credentials, which expire and have no place in the keystore.
const SESSION_TOKENS: [&str; 2] = ["aws_session_token", "aws_security_token"];

/// `$AWS_SHARED_CREDENTIALS_FILE`, else `~/.aws/credentials`; `None` without either HOME or
/// the variable.
pub(crate) fn path_from_env(env: &Env) -> Option<PathBuf> {
    if let Some(path) = env.non_empty("AWS_SHARED_CREDENTIALS_FILE") {
        return Some(env.expand_home(Path::new(path)));
    }
    env.home().map(|home| home.join(".aws").join("credentials"))
}

/// The credentials file, when it holds long-term keys for `profile` that `vault import` would
/// take. Only read on an error path (a profile with no stored keys), never on the way to
/// credentials; any failure to read it just means no hint.
pub(crate) fn importable(env: &Env, profile: &str) -> Option<PathBuf> {
    let path = path_from_env(env)?;
    let text = fs::read_to_string(&path).ok()?;
    let file = CredentialsFile::parse(&text);
    let found = file.profile(profile)?;
    (found.keys().is_some() && !found.session_token).then_some(path)
}

/// One line of the file, as this reader sees it.
enum Line<'a> {
    Header(&'a str),
    Key {
        name: String,
        value: &'a str,
    },
    /// Blank lines and comments.
    Comment,
    /// Anything else (a continuation, a line no reader understands): kept, and it keeps its
    /// section's header.
    Other,
}

fn classify(line: &str) -> Line<'_> {
    let trimmed = line.trim();
    if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
        return Line::Comment;
    }
    if let Some(rest) = trimmed.strip_prefix('[') {
        return match rest.split_once(']') {
            Some((name, _)) => Line::Header(name.trim()),
            None => Line::Other,
        };
    }
    let Some(at) = trimmed.find(['=', ':']) else {
        return Line::Other;
    };
    let value = trimmed[at + 1..].trim();
    let value = [" #", "\t#", " ;", "\t;"]
        .iter()
        .filter_map(|comment| value.find(comment))
        .min()
        .map_or(value, |end| value[..end].trim_end());
    Line::Key {
        name: trimmed[..at].trim().to_ascii_lowercase(),
        value,
    }
}

/// The file's text, split into lines that keep their endings.
pub(crate) struct CredentialsFile<'a> {
    lines: Vec<&'a str>,
}

/// What the file says for one profile (all its sections together). Holds a secret: no
/// `Debug`.
pub(crate) struct Profile<'a> {
    pub(crate) name: &'a str,
    access_key_id: Option<&'a str>,
    secret_access_key: Option<&'a str>,
    pub(crate) session_token: bool,
}

impl<'a> Profile<'a> {
    /// (access key id, secret access key) when both are there and not empty.
    pub(crate) fn keys(&self) -> Option<(&'a str, &'a str)> {
        Some((
            self.access_key_id.filter(|v| !v.is_empty())?,
            self.secret_access_key.filter(|v| !v.is_empty())?,
        ))
    }

    /// The names of the two keys that are missing or empty.
    pub(crate) fn missing_keys(&self) -> Vec<&'static str> {
        [
            (ACCESS_KEY_ID, self.access_key_id),
            (SECRET_ACCESS_KEY, self.secret_access_key),
        ]
        .into_iter()
        .filter(|(_, value)| value.is_none_or(str::is_empty))
        .map(|(name, _)| name)
        .collect()
    }
}

impl<'a> CredentialsFile<'a> {
    pub(crate) fn parse(text: &'a str) -> Self {
        Self {
            lines: text.split_inclusive('\n').collect(),
        }
    }

    /// Every profile, in the order of its first section.
    pub(crate) fn profiles(&self) -> Vec<Profile<'a>> {
        let mut profiles: Vec<Profile<'a>> = Vec::new();
        let mut current: Option<usize> = None;
        for line in &self.lines {
            match classify(line) {
                Line::Header(name) => {
                    let index = profiles.iter().position(|p| p.name == name);
                    current = Some(index.unwrap_or_else(|| {
                        profiles.push(Profile {
                            name,
                            access_key_id: None,
                            secret_access_key: None,
                            session_token: false,
                        });
                        profiles.len() - 1
                    }));
                }
                Line::Key { name, value } => {
                    let Some(profile) = current.map(|i| &mut profiles[i]) else {
                        continue;
                    };
                    match name.as_str() {
                        ACCESS_KEY_ID => profile.access_key_id = Some(value),
                        SECRET_ACCESS_KEY => profile.secret_access_key = Some(value),
                        token if SESSION_TOKENS.contains(&token) && !value.is_empty() => {
                            profile.session_token = true;
                        }
                        _ => {}
                    }
                }
                Line::Comment | Line::Other => {}
            }
        }
        profiles
    }

    pub(crate) fn profile(&self, name: &str) -> Option<Profile<'a>> {
        self.profiles().into_iter().find(|p| p.name == name)
    }

    /// The text without the two key lines of each of `profiles`, and without the header of a
    /// section left with no keys. Comments and blank lines stay even then: they are the user's
    /// words, and the ones just above a header often describe the next section.
    pub(crate) fn without_keys(&self, profiles: &[&str]) -> String {
        let mut keep = vec![true; self.lines.len()];
        let mut section: Option<(usize, bool)> = None;
        let close = |section: Option<(usize, bool)>, keep: &mut Vec<bool>| {
            if let Some((header, true)) = section {
                keep[header] = false;
            }
        };
        for (index, line) in self.lines.iter().enumerate() {
            match classify(line) {
                Line::Header(name) => {
                    close(section.take(), &mut keep);
                    // A header is dropped only when its section ends with nothing but
                    // comments; `true` until a line says otherwise.
                    section = profiles.contains(&name).then_some((index, true));
                }
                Line::Key { name, .. } => {
                    let Some((_, emptied)) = &mut section else {
                        continue;
                    };
                    if name == ACCESS_KEY_ID || name == SECRET_ACCESS_KEY {
                        keep[index] = false;
                    } else {
                        *emptied = false;
                    }
                }
                Line::Other => {
                    if let Some((_, emptied)) = &mut section {
                        *emptied = false;
                    }
                }
                Line::Comment => {}
            }
        }
        close(section, &mut keep);
        self.lines
            .iter()
            .zip(keep)
            .filter_map(|(line, keep)| keep.then_some(*line))
            .collect()
    }
}

/// What `remove_keys` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Removed {
    /// The profiles whose keys are gone from the file.
    pub(crate) removed: Vec<String>,
    /// The profiles whose keys in the file changed since they were imported: left there.
    pub(crate) changed: Vec<String>,
}

/// Takes the keys of `imported` (profile, access key id, secret) out of the file at `path`,
/// rewriting it atomically with its mode kept, and only where the file still holds exactly
/// those keys: it is read again under a lock, so an edit made meanwhile (another `vault
/// import`, `aws configure`) is neither lost nor taken for what was imported.
pub(crate) fn remove_keys(path: &Path, imported: &[(&str, &str, &str)]) -> io::Result<Removed> {
    // Write through a symbolic link (a file kept in a dotfiles repository) to its target.
    let resolved = fs::canonicalize(path)?;
    let dir = resolved
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // The directory, not the file, which the rename replaces; `vault add` locks ~/.aws the same
    // way while it appends to the config, so the two take turns.
    let lock = fs::File::open(dir)?;
    lock.lock()?;
    let text = fs::read_to_string(&resolved)?;
    let mode = fs::metadata(&resolved)?.permissions().mode() & 0o7777;
    let file = CredentialsFile::parse(&text);
    let mut outcome = Removed::default();
    for (name, access_key_id, secret) in imported {
        let same = file
            .profile(name)
            .and_then(|p| p.keys())
            .is_some_and(|keys| keys == (*access_key_id, *secret));
        let list = if same {
            &mut outcome.removed
        } else {
            &mut outcome.changed
        };
        list.push((*name).to_owned());
    }
    if !outcome.removed.is_empty() {
        let names: Vec<&str> = outcome.removed.iter().map(String::as_str).collect();
        fsutil::write_atomic(&resolved, file.without_keys(&names).as_bytes(), mode)?;
    }
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "\
# my keys
[default]
aws_access_key_id = AKIADEFAULT
aws_secret_access_key = secretdefault

; work, with a region
[work]
region = eu-west-1
AWS_Access_Key_ID=AKIAWORK # the work key
aws_secret_access_key: secretwork\r
[temp]
aws_access_key_id = ASIATEMP
aws_secret_access_key = secrettemp
aws_session_token = token
";

    /// Each profile as "name id secret" (or "name -"), and "+token" when it has one.
    fn summary(file: &CredentialsFile<'_>) -> Vec<String> {
        file.profiles()
            .iter()
            .map(|p| {
                let keys = p.keys().map_or("-".to_owned(), |(a, s)| format!("{a} {s}"));
                let token = if p.session_token { " +token" } else { "" };
                format!("{} {keys}{token}", p.name)
            })
            .collect()
    }

    #[test]
    fn reads_each_profile_with_its_keys_and_whether_it_has_a_session_token() {
        let file = CredentialsFile::parse(FILE);
        assert_eq!(
            summary(&file),
            [
                "default AKIADEFAULT secretdefault",
                "work AKIAWORK secretwork",
                "temp ASIATEMP secrettemp +token",
            ]
        );
    }

    #[test]
    fn a_section_written_twice_is_one_profile_whose_later_values_win() {
        let text = "[a]\naws_access_key_id = OLD\n[b]\n[a]\naws_access_key_id = NEW\naws_secret_access_key = s\n";
        let file = CredentialsFile::parse(text);
        assert_eq!(file.profiles().len(), 2);
        assert_eq!(file.profile("a").unwrap().keys(), Some(("NEW", "s")));
        assert_eq!(
            file.without_keys(&["a"]),
            "[b]\n",
            "both sections of a lose their keys and headers"
        );
    }

    #[test]
    fn names_the_missing_key_and_ignores_keys_before_any_section() {
        let file = CredentialsFile::parse(
            "aws_access_key_id = X\n[half]\naws_access_key_id = A\n[empty]\naws_secret_access_key =\n",
        );
        assert_eq!(file.profiles().len(), 2);
        assert_eq!(
            file.profile("half").unwrap().missing_keys(),
            [SECRET_ACCESS_KEY]
        );
        assert_eq!(
            file.profile("empty").unwrap().missing_keys(),
            [ACCESS_KEY_ID, SECRET_ACCESS_KEY]
        );
    }

    #[test]
    fn removing_keys_keeps_every_other_byte_and_drops_a_header_left_with_only_comments() {
        let file = CredentialsFile::parse(FILE);
        assert_eq!(
            file.without_keys(&["default", "work"]),
            "\
# my keys

; work, with a region
[work]
region = eu-west-1
[temp]
aws_access_key_id = ASIATEMP
aws_secret_access_key = secrettemp
aws_session_token = token
"
        );
    }

    #[test]
    fn a_file_without_a_final_newline_is_rewritten_without_one() {
        let file =
            CredentialsFile::parse("[a]\nx = 1\naws_access_key_id = A\naws_secret_access_key = s");
        assert_eq!(file.without_keys(&["a"]), "[a]\nx = 1\n");
        let file = CredentialsFile::parse("# top\n[a]\naws_access_key_id = A\n[b]\nk = v");
        assert_eq!(file.without_keys(&["a"]), "# top\n[b]\nk = v");
    }

    #[test]
    fn remove_keys_leaves_a_profile_whose_keys_changed_since_and_keeps_the_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("credentials");
        fs::write(&path, FILE).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let removed = remove_keys(
            &path,
            &[
                ("default", "AKIADEFAULT", "secretdefault"),
                ("work", "AKIAWORK", "an older secret"),
            ],
        )
        .unwrap();
        assert_eq!(
            removed,
            Removed {
                removed: vec!["default".to_owned()],
                changed: vec!["work".to_owned()],
            }
        );
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("# my keys\n\n; work"), "{text}");
        assert!(text.contains("secretwork"));
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);
    }

    #[test]
    fn the_import_hint_needs_long_term_keys_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("creds");
        fs::write(&path, FILE).unwrap();
        let shown = path.to_str().unwrap();
        let env = Env::from_pairs([("AWS_SHARED_CREDENTIALS_FILE", shown), ("HOME", "/nowhere")]);
        assert_eq!(importable(&env, "work"), Some(path.clone()));
        assert_eq!(importable(&env, "temp"), None, "temporary credentials");
        assert_eq!(importable(&env, "other"), None);
        let env = Env::from_pairs([("HOME", "/nowhere")]);
        assert_eq!(
            importable(&env, "work"),
            None,
            "no file at ~/.aws/credentials"
        );
    }
}
