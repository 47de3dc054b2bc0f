//! What a keystore key name means (docs/aws-vault.md §4): long-term keys are stored under the bare
//! profile name, cached sessions under `type,b64url(profile),b64url(mfa),expiry`, SSO tokens
//! under `oidc:<start URL>`, and three legacy session patterns are recognised for cleanup.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// A current-format session key, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionKey {
    /// `sts.GetSessionToken`, `sts.AssumeRole`, … (aws-vault's type strings).
    pub(crate) kind: String,
    /// The profile whose step produced the session.
    pub(crate) profile: String,
    /// The MFA serial used, the SSO start URL, or empty.
    pub(crate) mfa: String,
    /// Unix seconds.
    pub(crate) expiry: i64,
}

impl SessionKey {
    pub(crate) fn parse(key: &str) -> Option<Self> {
        let mut parts = key.split(',');
        let (kind, profile, mfa, expiry) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let is_b64 = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if parts.next().is_some()
            || kind.is_empty()
            || profile.is_empty()
            || !is_b64(profile)
            || !is_b64(mfa)
            || expiry.is_empty()
            || !expiry.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let decode = |s: &str| {
            URL_SAFE_NO_PAD
                .decode(s)
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
        };
        Some(Self {
            kind: kind.to_owned(),
            profile: decode(profile)?,
            mfa: decode(mfa)?,
            expiry: expiry.parse().ok()?,
        })
    }

    pub(crate) fn to_key(&self) -> String {
        format!(
            "{},{},{},{}",
            self.kind,
            URL_SAFE_NO_PAD.encode(&self.profile),
            URL_SAFE_NO_PAD.encode(&self.mfa),
            self.expiry
        )
    }
}

/// What kind of thing a key names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyKind {
    /// Long-term access keys for the profile with this name.
    Credentials,
    Session(SessionKey),
    /// A session key from aws-vault v4–v6; only ever deleted.
    LegacySession,
    /// An SSO OIDC token for this start URL.
    Oidc(String),
}

pub(crate) const OIDC_PREFIX: &str = "oidc:";

pub(crate) fn classify(key: &str) -> KeyKind {
    if is_legacy_session(key) {
        return KeyKind::LegacySession;
    }
    if let Some(session) = SessionKey::parse(key) {
        return KeyKind::Session(session);
    }
    if let Some(url) = key.strip_prefix(OIDC_PREFIX) {
        return KeyKind::Oidc(url.to_owned());
    }
    KeyKind::Credentials
}

/// `session,<b64>,<b64>,<digits>`, `session:<p>:<mfa>:<digits>` and `<name> session (<digits>)`.
fn is_legacy_session(key: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let ends_in_digits = |s: &str, sep: char| {
        s.rsplit_once(sep)
            .is_some_and(|(head, tail)| digits(tail) && head.matches(sep).count() >= 2)
    };
    if let Some(rest) = key.strip_prefix("session,") {
        return ends_in_digits(&format!(",{rest}"), ',');
    }
    if let Some(rest) = key.strip_prefix("session:") {
        return ends_in_digits(&format!(":{rest}"), ':');
    }
    key.strip_suffix(')')
        .and_then(|k| k.rsplit_once(" session ("))
        .is_some_and(|(_, n)| digits(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_key_round_trips_with_aws_vaults_encoding() {
        let key =
            "sts.GetSessionToken,am9l,YXJuOmF3czppYW06OjEyMzQ1Njc4OTAxMjptZmEvam9l,1716200000";
        let parsed = SessionKey::parse(key).expect("session key");
        assert_eq!(parsed.kind, "sts.GetSessionToken");
        assert_eq!(parsed.profile, "joe");
        assert_eq!(parsed.mfa, "arn:aws:iam::123456789012:mfa/joe");
        assert_eq!(parsed.expiry, 1_716_200_000);
        assert_eq!(parsed.to_key(), key);
    }

    #[test]
    fn keys_are_classified_like_aws_vault_classifies_them() {
        assert_eq!(classify("prod"), KeyKind::Credentials);
        assert_eq!(classify("team,prod"), KeyKind::Credentials);
        assert_eq!(
            classify("oidc:https://x.awsapps.com/start"),
            KeyKind::Oidc("https://x.awsapps.com/start".into())
        );
        assert!(
            matches!(classify("sts.AssumeRole,cm9sZQ,,1716200000"), KeyKind::Session(s) if s.profile == "role" && s.mfa.is_empty())
        );
        for legacy in [
            "session,am9l,,1716200000",
            "session:joe:mfa:1716200000",
            "joe session (1716200000)",
        ] {
            assert_eq!(classify(legacy), KeyKind::LegacySession, "{legacy}");
        }
    }
}
