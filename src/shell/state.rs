//! What `use` changes in the shell, and the one state variable that remembers the values from
//! before the first `use`, so `unuse` restores exactly those, however many profiles were used in
//! between, and `refresh` re-resolves as the first `use` did.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::ctx::Env;

/// Every variable `use` may change.
pub(crate) const TOUCHED: &[&str] = &[
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_SECURITY_TOKEN",
    "AWS_CREDENTIAL_EXPIRATION",
    "AWS_SESSION_EXPIRATION",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_PROFILE",
    "AWS_VAULT",
    EXPIRES_AT,
    REFRESH_AT,
    CLOCK_BOOT,
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    AGENT_PID,
    AGENT_STAMP,
];

/// The state variable.
pub(crate) const STATE: &str = "__VAULT_STATE";
/// Unix seconds when the credentials expire: the prompt's countdown, with no process started.
pub(crate) const EXPIRES_AT: &str = "VAULT_EXPIRES_AT";
/// Unix seconds from which the hook refreshes the credentials.
pub(crate) const REFRESH_AT: &str = "VAULT_REFRESH_AT";
/// Unix seconds at boot, so fish can tell the time from /proc/uptime without a process.
pub(crate) const CLOCK_BOOT: &str = "VAULT_CLOCK_BOOT";
/// The agent serving this shell (`use --agent`): the hook sees it gone without a process.
pub(crate) const AGENT_PID: &str = "VAULT_AGENT_PID";
/// A file that exists while the agent's renewal needs the user: the prompt's needs-you mark.
pub(crate) const AGENT_STAMP: &str = "VAULT_AGENT_STAMP";

/// The values from before the first `use`, and the `use` flags that `refresh` repeats.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Saved {
    pub(crate) original: Vec<(String, Option<String>)>,
    pub(crate) region: Option<String>,
    pub(crate) duration_secs: Option<u64>,
    pub(crate) session_ttl_secs: Option<u64>,
    pub(crate) no_session: bool,
    /// `use --agent`: `refresh` renews through the agent.
    pub(crate) agent: bool,
}

impl Saved {
    /// The current values of the touched variables: what a first `use` saves.
    pub(crate) fn capture(env: &Env) -> Self {
        let original = TOUCHED
            .iter()
            .map(|name| ((*name).to_owned(), env.get(name).map(str::to_owned)))
            .collect();
        Self {
            original,
            ..Self::default()
        }
    }

    /// `NAME=<base64url>` for a value, `NAME` for an unset variable, `@flag…` for the flags,
    /// joined by `;`: nothing in it needs quoting.
    pub(crate) fn encode(&self) -> String {
        let mut parts: Vec<String> = self
            .original
            .iter()
            .map(|(name, value)| match value {
                Some(value) => format!("{name}={}", URL_SAFE_NO_PAD.encode(value)),
                None => name.clone(),
            })
            .collect();
        if let Some(region) = &self.region {
            parts.push(format!("@region={}", URL_SAFE_NO_PAD.encode(region)));
        }
        if let Some(secs) = self.duration_secs {
            parts.push(format!("@duration={secs}"));
        }
        if let Some(secs) = self.session_ttl_secs {
            parts.push(format!("@session-ttl={secs}"));
        }
        if self.no_session {
            parts.push("@no-session".to_owned());
        }
        if self.agent {
            parts.push("@agent".to_owned());
        }
        parts.join(";")
    }

    /// The flags alone, without the saved values: what shapes the credentials.
    pub(crate) fn flags(&self) -> Self {
        Self {
            original: Vec::new(),
            agent: false,
            ..self.clone()
        }
    }

    /// Reads the state variable; `None` when it is absent or not ours.
    pub(crate) fn decode(text: &str) -> Option<Self> {
        let decode = |b64: &str| {
            URL_SAFE_NO_PAD
                .decode(b64)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
        };
        let mut saved = Self::default();
        for part in text.split(';').filter(|p| !p.is_empty()) {
            let (name, raw) = match part.split_once('=') {
                Some((name, raw)) => (name, Some(raw)),
                None => (part, None),
            };
            match (name, raw) {
                ("@duration", Some(secs)) => saved.duration_secs = Some(secs.parse().ok()?),
                ("@session-ttl", Some(secs)) => {
                    saved.session_ttl_secs = Some(secs.parse().ok()?);
                }
                ("@no-session", None) => saved.no_session = true,
                ("@agent", None) => saved.agent = true,
                ("@region", Some(b64)) => saved.region = Some(decode(b64)?),
                (name, raw) if TOUCHED.contains(&name) => {
                    let value = match raw {
                        Some(b64) => Some(decode(b64)?),
                        None => None,
                    };
                    saved.original.push((name.to_owned(), value));
                }
                _ => return None,
            }
        }
        Some(saved)
    }

    /// Adds the variables a state written by an older vault did not know, with their values
    /// now: that vault never changed them, so these are the values to put back.
    pub(crate) fn complete(mut self, env: &Env) -> Self {
        for name in TOUCHED {
            if !self.original.iter().any(|(known, _)| known == name) {
                self.original
                    .push(((*name).to_owned(), env.get(name).map(str::to_owned)));
            }
        }
        self
    }

    /// The environment as it was before the first `use`.
    pub(crate) fn original_env(&self, env: &Env) -> Env {
        let mut original = env.clone();
        for (name, value) in &self.original {
            original.set(name, value.as_deref());
        }
        original.set(STATE, None);
        original
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_round_trips_any_value() {
        let env = Env::from_pairs([
            ("AWS_REGION", "eu-west-1; it's \"odd\"\n"),
            ("AWS_PROFILE", ""),
        ]);
        let mut saved = Saved::capture(&env);
        saved.region = Some("ap-south-1".into());
        saved.duration_secs = Some(3600);
        saved.session_ttl_secs = Some(7200);
        saved.no_session = true;
        saved.agent = true;
        let text = saved.encode();
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"_-=;@".contains(&b)),
            "{text}"
        );
        assert_eq!(Saved::decode(&text), Some(saved.clone()));
        let original =
            saved.original_env(&Env::from_pairs([("AWS_REGION", "x"), ("AWS_VAULT", "p")]));
        assert_eq!(
            original.get("AWS_REGION"),
            Some("eu-west-1; it's \"odd\"\n")
        );
        assert_eq!(original.get("AWS_PROFILE"), Some(""));
        assert_eq!(original.get("AWS_VAULT"), None);
    }

    #[test]
    fn a_state_from_an_older_vault_gains_the_variables_it_did_not_know_with_their_values_now() {
        let old = Saved::decode("AWS_REGION=ZXUtd2VzdC0x;AWS_VAULT").unwrap();
        let env = Env::from_pairs([("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://x/")]);
        let saved = old.complete(&env);
        let value = |name: &str| {
            saved
                .original
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
        };
        assert_eq!(value("AWS_REGION"), Some(Some("eu-west-1".to_owned())));
        assert_eq!(
            value("AWS_CONTAINER_CREDENTIALS_FULL_URI"),
            Some(Some("http://x/".to_owned()))
        );
        assert_eq!(value(AGENT_PID), Some(None));
        assert_eq!(saved.original.len(), TOUCHED.len());
    }

    #[test]
    fn a_foreign_state_is_not_trusted() {
        assert_eq!(Saved::decode("PATH=abc"), None);
        assert_eq!(Saved::decode("AWS_REGION=%%%"), None);
    }
}
