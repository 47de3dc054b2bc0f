//! `vault list` (alias `ls`): profiles, stored credentials and cached sessions (docs/aws-vault.md
//! §4.5).
//!
//! Nothing is decrypted: the table comes from the config file and the keystore's key names.
//! Entries the keystore cannot read are reported on stderr and do not hide the others.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{backend_options, note, open_keystore, print, warn};
use crate::cli::{GlobalArgs, ListArgs};
use crate::config::Config;
use crate::creds::sso::token;
use crate::ctx::Ctx;
use crate::duration;
use crate::error::Error;
use crate::keystore;
use crate::keystore::keys::{KeyKind, SessionKey, classify};
use crate::visible::visible;

pub(crate) fn run(args: &ListArgs, global: &GlobalArgs, ctx: &Ctx) -> Result<(), Error> {
    let config = Config::load(&ctx.env)?;
    // aws-vault's order when several are given: credentials, then profiles, then sessions.
    if args.profiles && !args.credentials {
        let names: Vec<&str> = config.profile_names().collect();
        return print_names(&names, args.json);
    }
    let keystore = open_keystore(global, ctx)?;
    for damaged in keystore.damaged()? {
        warn(&format!(
            "{} cannot be read ({}); `vault remove {}` deletes it",
            damaged.location.display(),
            damaged.reason,
            damaged.key
        ));
    }
    let stored = Stored::sort(keystore.list()?);
    if global.backend.is_none() && keystore.backend() != "file" {
        hint_at_file_keys(&stored.credentials, global, ctx);
    }
    if args.credentials {
        return print_names(&stored.credentials, args.json);
    }
    if args.sessions {
        let now = ctx.clock.now().unix_timestamp();
        let labels: Vec<String> = stored
            .oidc
            .iter()
            .map(|url| oidc_cell(url, &config).label)
            .chain(stored.sessions.iter().map(|s| session_cell(s, now).label))
            .collect();
        return print_names(&labels, args.json);
    }
    let tokens = token_states(keystore.as_ref(), &stored);
    let rows = table_rows(&config, &stored, &tokens, ctx);
    if args.json {
        return print(&(to_json(&rows) + "\n"));
    }
    print(&render_table(&rows))
}

/// Without `--backend`, a desktop's Secret Service now wins over the file keystore, where vault
/// used to keep keys: say so when the file keystore holds keys the listing does not show,
/// rather than let them seem lost.
fn hint_at_file_keys(shown: &[String], global: &GlobalArgs, ctx: &Ctx) {
    let options = backend_options(global, ctx).with_backend("file");
    let Ok(file) = keystore::open(&options, ctx) else {
        return;
    };
    let hidden: Vec<String> = file
        .list()
        .unwrap_or_default()
        .into_iter()
        .filter(|key| classify(key) == KeyKind::Credentials && !shown.contains(key))
        .collect();
    if !hidden.is_empty() {
        note(&format!(
            "vault: note: the file keystore also holds keys for {}, which this list (from the keystore vault chose) does not show; use them with --backend file, or copy them with `vault migrate --from file --to {}`",
            hidden.join(", "),
            keystore::DEFAULT_BACKEND
        ));
    }
}

/// The keystore's keys by kind.
struct Stored {
    credentials: Vec<String>,
    sessions: Vec<SessionKey>,
    oidc: Vec<String>,
}

impl Stored {
    fn sort(keys: Vec<String>) -> Self {
        let mut stored = Self {
            credentials: Vec::new(),
            sessions: Vec::new(),
            oidc: Vec::new(),
        };
        for key in keys {
            match classify(&key) {
                KeyKind::Credentials => stored.credentials.push(key),
                KeyKind::Session(session) => stored.sessions.push(session),
                KeyKind::Oidc(url) => stored.oidc.push(url),
                KeyKind::LegacySession => {}
            }
        }
        stored
    }
}

/// One table row; `None` prints as `-`.
#[derive(Serialize)]
struct Row {
    profile: Option<String>,
    credentials: Option<String>,
    sessions: Vec<SessionCell>,
}

#[derive(Serialize)]
struct SessionCell {
    #[serde(rename = "type")]
    kind: String,
    /// The profile that produced the session (none for SSO tokens).
    #[serde(skip_serializing_if = "Option::is_none")]
    profile: Option<String>,
    /// Unix seconds (for an SSO sign-in, of its access token, when it could be read).
    #[serde(skip_serializing_if = "Option::is_none")]
    expires: Option<i64>,
    /// For an SSO sign-in: whether a refresh token can renew it without a browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    renewable: Option<bool>,
    /// What the text table shows: `sts.GetSessionToken:59m12s` or `oidc:<name>`.
    label: String,
}

/// What each stored SSO sign-in holds: when its access token expires, and whether a refresh
/// token can renew it. A token that cannot be read is left out (shown without a state).
fn token_states(
    keystore: &dyn crate::keystore::Keystore,
    stored: &Stored,
) -> BTreeMap<String, TokenState> {
    stored
        .oidc
        .iter()
        .filter_map(|url| {
            let token = token::load(keystore, url).ok().flatten()?;
            let state = TokenState {
                expires: token.expires_at.unix_timestamp(),
                renewable: token.refresh_token.is_some() && token.client.is_some(),
            };
            Some((url.clone(), state))
        })
        .collect()
}

#[derive(Debug, Clone, Copy)]
struct TokenState {
    expires: i64,
    renewable: bool,
}

fn table_rows(
    config: &Config,
    stored: &Stored,
    tokens: &BTreeMap<String, TokenState>,
    ctx: &Ctx,
) -> Vec<Row> {
    let now = ctx.clock.now().unix_timestamp();
    let mut sessions_by_profile: BTreeMap<&str, Vec<SessionCell>> = BTreeMap::new();
    for session in &stored.sessions {
        sessions_by_profile
            .entry(session.profile.as_str())
            .or_default()
            .push(session_cell(session, now));
    }
    let oidc_by_profile = sso_tokens_by_profile(config, stored, ctx);
    let credentials: BTreeSet<&str> = stored.credentials.iter().map(String::as_str).collect();
    let mut shown_oidc = BTreeSet::new();
    let mut rows = Vec::new();
    for name in config.profile_names() {
        let mut sessions = sessions_by_profile.remove(name).unwrap_or_default();
        if let Some(url) = oidc_by_profile.get(name) {
            shown_oidc.insert(url.as_str());
            sessions.insert(0, oidc_cell(url, config).with_state(tokens.get(url), now));
        }
        rows.push(Row {
            profile: Some(name.to_owned()),
            credentials: credentials.contains(name).then(|| name.to_owned()),
            sessions,
        });
    }
    for name in &stored.credentials {
        if !config.has_profile(name) {
            rows.push(Row {
                profile: None,
                credentials: Some(name.clone()),
                sessions: Vec::new(),
            });
        }
    }
    let orphan_oidc = stored
        .oidc
        .iter()
        .filter(|url| !shown_oidc.contains(url.as_str()))
        .map(|url| oidc_cell(url, config).with_state(tokens.get(url), now));
    let orphan_sessions = sessions_by_profile.into_values().flatten();
    for cell in orphan_oidc.chain(orphan_sessions) {
        rows.push(Row {
            profile: None,
            credentials: None,
            sessions: vec![cell],
        });
    }
    rows
}

/// `sts.GetSessionToken:59m12s`, as aws-vault labels a session (negative once expired).
fn session_cell(session: &SessionKey, now: i64) -> SessionCell {
    SessionCell {
        kind: session.kind.clone(),
        profile: Some(session.profile.clone()),
        expires: Some(session.expiry),
        renewable: None,
        label: format!(
            "{}:{}",
            session.kind,
            duration::format_seconds(session.expiry - now)
        ),
    }
}

/// `oidc:<sso-session name>`, or `oidc:<host of the start URL>` for inline SSO settings, as
/// the fork labels SSO tokens (their expiry is inside the encrypted item).
fn oidc_cell(url: &str, config: &Config) -> SessionCell {
    let id = config.sso_session_for_start_url(url).map_or_else(
        || {
            let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
            after_scheme
                .split('/')
                .next()
                .filter(|h| !h.is_empty())
                .unwrap_or(url)
                .to_owned()
        },
        str::to_owned,
    );
    SessionCell {
        kind: "oidc".to_owned(),
        profile: None,
        expires: None,
        renewable: None,
        label: format!("oidc:{id}"),
    }
}

impl SessionCell {
    /// The table's label for a sign-in: its time left (`oidc:corp:7h59m12s`), else
    /// `renewable` when a refresh token can renew it silently, else `expired`.
    fn with_state(mut self, state: Option<&TokenState>, now: i64) -> Self {
        let Some(state) = state else {
            return self;
        };
        let left = state.expires - now;
        let shown = if left > 0 {
            duration::format_seconds(left)
        } else if state.renewable {
            "renewable".to_owned()
        } else {
            "expired".to_owned()
        };
        self.label = format!("{}:{shown}", self.label);
        self.expires = Some(state.expires);
        self.renewable = Some(state.renewable);
        self
    }
}

/// Profile → SSO start URL, for the start URLs that have a stored token. Profiles are
/// resolved only when some token is stored, and a profile that fails to resolve is skipped.
fn sso_tokens_by_profile(config: &Config, stored: &Stored, ctx: &Ctx) -> BTreeMap<String, String> {
    let mut map = BTreeMap::new();
    if stored.oidc.is_empty() {
        return map;
    }
    for name in config.profile_names() {
        let url = config
            .resolve_profile(name, &ctx.env)
            .ok()
            .and_then(|profile| profile.sso_start_url);
        if let Some(url) = url.filter(|u| stored.oidc.contains(u)) {
            map.insert(name.to_owned(), url);
        }
    }
    map
}

fn print_names<S: AsRef<str> + Serialize>(names: &[S], json: bool) -> Result<(), Error> {
    if json {
        return print(&(to_json(&names) + "\n"));
    }
    let mut text = String::new();
    for name in names {
        text.push_str(&visible(name.as_ref()));
        text.push('\n');
    }
    print(&text)
}

fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string_pretty(value).expect("plain data serialises")
}

/// The table as aws-vault prints it with Go's tabwriter (min width 25, padding 2, every
/// cell tab-terminated, so every cell is padded).
fn render_table(rows: &[Row]) -> String {
    let dash = |cell: &Option<String>| {
        cell.as_deref()
            .map_or_else(|| "-".to_owned(), |text| visible(text).into_owned())
    };
    let mut cells: Vec<[String; 3]> = vec![
        ["Profile".into(), "Credentials".into(), "Sessions".into()],
        ["=======".into(), "===========".into(), "========".into()],
    ];
    for row in rows {
        let sessions = if row.sessions.is_empty() {
            "-".to_owned()
        } else {
            row.sessions
                .iter()
                .map(|s| visible(&s.label))
                .collect::<Vec<_>>()
                .join(", ")
        };
        cells.push([dash(&row.profile), dash(&row.credentials), sessions]);
    }
    let widths: Vec<usize> = (0..3)
        .map(|col| {
            let widest = cells
                .iter()
                .map(|r| r[col].chars().count())
                .max()
                .unwrap_or(0);
            (widest + 2).max(25)
        })
        .collect();
    let mut out = String::new();
    for row in &cells {
        for (cell, width) in row.iter().zip(&widths) {
            out.push_str(cell);
            out.push_str(&" ".repeat(width - cell.chars().count()));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use time::OffsetDateTime;

    use super::*;
    use crate::ctx::{Clock, Env};

    #[test]
    fn sessions_show_their_time_left_by_the_injected_clock() {
        let now = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let ctx = Ctx {
            env: Env::default(),
            clock: Clock::Fixed(now),
            interactive: false,
            mfa_prompt: crate::mfa_prompt::Driver::Terminal,
            show_waits: false,
        };
        let config = Config::parse(PathBuf::from("config"), "[profile dev]\n").unwrap();
        let session = |kind: &str, profile: &str, left: i64| {
            SessionKey {
                kind: kind.into(),
                profile: profile.into(),
                mfa: String::new(),
                expiry: 1_700_000_000 + left,
            }
            .to_key()
        };
        let stored = Stored::sort(vec![
            session("sts.GetSessionToken", "dev", 3600 + 61),
            session("sts.AssumeRole", "dev", -5),
            session("sts.AssumeRole", "gone", 10),
        ]);
        let rows = table_rows(&config, &stored, &BTreeMap::new(), &ctx);
        let labels: Vec<Vec<&str>> = rows
            .iter()
            .map(|r| r.sessions.iter().map(|s| s.label.as_str()).collect())
            .collect();
        assert_eq!(
            labels[0],
            ["sts.GetSessionToken:1h1m1s", "sts.AssumeRole:-5s"]
        );
        assert_eq!(labels[1], ["sts.AssumeRole:10s"]);
    }

    #[test]
    fn the_table_pads_like_gos_tabwriter() {
        let rows = vec![
            Row {
                profile: Some("dev".into()),
                credentials: Some("dev".into()),
                sessions: vec![],
            },
            Row {
                profile: None,
                credentials: Some("a-rather-long-profile-name-x".into()),
                sessions: vec![],
            },
        ];
        let text = render_table(&rows);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            format!("{:25}{:30}{:25}", "Profile", "Credentials", "Sessions")
        );
        assert_eq!(lines[2], format!("{:25}{:30}{:25}", "dev", "dev", "-"));
        assert_eq!(
            lines[3],
            format!("{:25}{:30}{:25}", "-", "a-rather-long-profile-name-x", "-")
        );
    }
}
