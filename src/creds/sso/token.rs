//! Where an IAM Identity Center sign-in is kept: in the keystore under aws-vault's item
//! `oidc:<start URL>` (docs/aws-vault.md §4.3), whose payload aws-vault reads (`Token` and
//! `Expiration`) with vault's own fields alongside (the client registration, the region and
//! the scopes), so one sign-in serves vault and aws-vault alike; and, read-only unless the user
//! asks, the AWS CLI's cache (`~/.aws/sso/cache/<sha1>.json`), so an `aws sso login` counts.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::client::Registration;
use crate::ctx::Env;
use crate::keystore::keys::OIDC_PREFIX;
use crate::keystore::{self, Item, Keystore};
use crate::secret::Secret;

/// A signed-in session with IAM Identity Center, for one start URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SignIn {
    pub(crate) access_token: Secret,
    pub(crate) expires_at: OffsetDateTime,
    pub(crate) refresh_token: Option<Secret>,
    /// The client that got the token, which a refresh must use again.
    pub(crate) client: Option<Registration>,
}

impl SignIn {
    /// Whether the access token still has `margin` left at `now`.
    pub(crate) fn usable(&self, now: OffsetDateTime, margin: Duration) -> bool {
        self.expires_at - now > margin
    }
}

pub(crate) fn key(start_url: &str) -> String {
    format!("{OIDC_PREFIX}{start_url}")
}

/// aws-vault's payload: a Go `ssooidc.CreateTokenOutput` and the absolute expiry, plus ours.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Payload {
    token: GoToken,
    expiration: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    client_secret: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    registration_expires_at: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    grant_types: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    scopes: Vec<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GoToken {
    access_token: Option<String>,
    #[serde(default)]
    expires_in: i64,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
    #[serde(default)]
    token_type: Option<String>,
    #[serde(default)]
    result_metadata: serde_json::Map<String, serde_json::Value>,
}

/// The token stored for `start_url`, if any can be read. A damaged one counts as none.
pub(crate) fn load(
    keystore: &dyn Keystore,
    start_url: &str,
) -> Result<Option<SignIn>, keystore::Error> {
    let item = match keystore.get(&key(start_url)) {
        Ok(item) => item,
        Err(keystore::Error::NotFound { .. } | keystore::Error::Damaged { .. }) => return Ok(None),
        Err(err) => return Err(err),
    };
    let Ok(payload) = serde_json::from_str::<Payload>(item.data.expose()) else {
        log::debug!("the stored SSO token for {start_url} is unreadable; signing in anew");
        return Ok(None);
    };
    Ok(from_payload(payload))
}

fn from_payload(payload: Payload) -> Option<SignIn> {
    let expires_at = OffsetDateTime::parse(&payload.expiration, &Rfc3339).ok()?;
    let client = match (payload.client_id, payload.client_secret) {
        (Some(client_id), Some(secret)) => Some(Registration {
            client_id,
            client_secret: Secret::new(secret),
            expires_at: payload
                .registration_expires_at
                .and_then(|at| OffsetDateTime::parse(&at, &Rfc3339).ok())?,
            grant_types: payload.grant_types,
            scopes: payload.scopes,
        }),
        _ => None,
    };
    Some(SignIn {
        access_token: Secret::new(payload.token.access_token.filter(|t| !t.is_empty())?),
        expires_at,
        refresh_token: payload
            .token
            .refresh_token
            .filter(|t| !t.is_empty())
            .map(Secret::new),
        client,
    })
}

/// Stores `token` for `start_url`, replacing what was there.
pub(crate) fn store(
    keystore: &dyn Keystore,
    start_url: &str,
    token: &SignIn,
    now: OffsetDateTime,
) -> Result<(), keystore::Error> {
    let expiration = token.expires_at.format(&Rfc3339).unwrap_or_default();
    let payload = Payload {
        token: GoToken {
            access_token: Some(token.access_token.expose().to_owned()),
            expires_in: (token.expires_at - now).whole_seconds().max(0),
            id_token: None,
            refresh_token: token.refresh_token.as_ref().map(|t| t.expose().to_owned()),
            token_type: Some("Bearer".to_owned()),
            result_metadata: serde_json::Map::new(),
        },
        expiration: expiration.clone(),
        client_id: token.client.as_ref().map(|c| c.client_id.clone()),
        client_secret: token
            .client
            .as_ref()
            .map(|c| c.client_secret.expose().to_owned()),
        registration_expires_at: token
            .client
            .as_ref()
            .and_then(|c| c.expires_at.format(&Rfc3339).ok()),
        grant_types: token
            .client
            .as_ref()
            .map(|c| c.grant_types.clone())
            .unwrap_or_default(),
        scopes: token
            .client
            .as_ref()
            .map(|c| c.scopes.clone())
            .unwrap_or_default(),
    };
    let data = serde_json::to_string(&payload).unwrap_or_default();
    keystore.set(&Item {
        key: key(start_url),
        label: format!("aws-vault oidc token for {start_url} (expires {expiration})"),
        description: "aws-vault oidc token".to_owned(),
        data: Secret::new(data),
        keychain_not_trust_application: false,
    })
}

/// Removes the token of `start_url`; none stored is not an error.
pub(crate) fn remove(keystore: &dyn Keystore, start_url: &str) -> Result<(), keystore::Error> {
    match keystore.remove(&key(start_url)) {
        Ok(()) | Err(keystore::Error::NotFound { .. }) => Ok(()),
        Err(err) => Err(err),
    }
}

/// The AWS CLI's token cache file for a session (by its name) or a legacy profile (by its
/// start URL): `~/.aws/sso/cache/<sha1 hex>.json`, as botocore names it.
pub(crate) fn cli_cache_path(env: &Env, session: Option<&str>, start_url: &str) -> Option<PathBuf> {
    let digest = ring::digest::digest(
        &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        session.unwrap_or(start_url).as_bytes(),
    );
    let hex = digest.as_ref().iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    Some(
        env.home()?
            .join(".aws")
            .join("sso")
            .join("cache")
            .join(format!("{hex}.json")),
    )
}

/// The AWS CLI's cache file, as botocore's `SSOTokenProvider` writes it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CliCache {
    start_url: Option<String>,
    access_token: Option<String>,
    expires_at: Option<String>,
    refresh_token: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    registration_expires_at: Option<String>,
}

/// The token the AWS CLI cached for this start URL, when there is one that can be read.
pub(crate) fn from_cli_cache(path: &Path, start_url: &str) -> Option<SignIn> {
    let text = std::fs::read_to_string(path).ok()?;
    let cache: CliCache = serde_json::from_str(&text).ok()?;
    if cache.start_url.as_deref() != Some(start_url) {
        return None;
    }
    let time = |at: Option<String>| {
        // botocore writes `2024-01-02T03:04:05Z` and also `…UTC` in older versions.
        let at = at?.replace("UTC", "Z");
        OffsetDateTime::parse(&at, &Rfc3339).ok()
    };
    let client = match (cache.client_id, cache.client_secret) {
        (Some(client_id), Some(secret)) => Some(Registration {
            client_id,
            client_secret: Secret::new(secret),
            expires_at: time(cache.registration_expires_at)?,
            grant_types: Vec::new(),
            scopes: Vec::new(),
        }),
        _ => None,
    };
    Some(SignIn {
        access_token: Secret::new(cache.access_token?),
        expires_at: time(cache.expires_at)?,
        refresh_token: cache.refresh_token.map(Secret::new),
        client,
    })
}

/// Writes `token` where the AWS CLI and the SDKs look for it, as botocore's `SSOTokenProvider`
/// writes it: atomically, mode 0600, in a private directory. Plaintext on disk, which is why
/// vault does it only when asked (`--share-cli-cache`).
pub(crate) fn write_cli_cache(
    path: &Path,
    start_url: &str,
    region: &str,
    token: &SignIn,
) -> std::io::Result<()> {
    let format = |at: OffsetDateTime| crate::creds::rfc3339_seconds(at);
    let mut json = serde_json::json!({
        "startUrl": start_url,
        "region": region,
        "accessToken": token.access_token.expose(),
        "expiresAt": format(token.expires_at),
    });
    if let Some(client) = &token.client {
        json["clientId"] = client.client_id.clone().into();
        json["clientSecret"] = client.client_secret.expose().into();
        json["registrationExpiresAt"] = format(client.expires_at).into();
    }
    if let Some(refresh) = &token.refresh_token {
        json["refreshToken"] = refresh.expose().into();
    }
    if let Some(dir) = path.parent() {
        crate::fsutil::create_private_dir(dir)?;
    }
    crate::fsutil::write_atomic(path, json.to_string().as_bytes(), 0o600)
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;
    use crate::keystore::memory::MemoryKeystore;

    const NOW: OffsetDateTime = datetime!(2026-12-05 12:00 UTC);

    fn token() -> SignIn {
        SignIn {
            access_token: Secret::new("access"),
            expires_at: NOW + Duration::from_hours(1),
            refresh_token: Some(Secret::new("refresh")),
            client: Some(Registration {
                client_id: "client".into(),
                client_secret: Secret::new("client-secret"),
                expires_at: NOW + Duration::from_hours(24 * 90),
                grant_types: vec!["authorization_code".into(), "refresh_token".into()],
                scopes: vec!["sso:account:access".into()],
            }),
        }
    }

    #[test]
    fn a_stored_token_has_aws_vaults_name_and_fields_and_comes_back_whole() {
        let keystore = MemoryKeystore::default();
        store(&keystore, "https://x.awsapps.com/start", &token(), NOW).unwrap();
        let item = keystore.get("oidc:https://x.awsapps.com/start").unwrap();
        assert_eq!(item.description, "aws-vault oidc token");
        assert!(item.label.starts_with(
            "aws-vault oidc token for https://x.awsapps.com/start (expires 2026-12-05T13:00:00Z"
        ));
        let json: serde_json::Value = serde_json::from_str(item.data.expose()).unwrap();
        assert_eq!(json["Token"]["AccessToken"], "access");
        assert_eq!(json["Token"]["ExpiresIn"], 3600);
        assert_eq!(json["Token"]["RefreshToken"], "refresh");
        assert_eq!(json["Token"]["TokenType"], "Bearer");
        assert_eq!(json["Token"]["ResultMetadata"], serde_json::json!({}));
        assert_eq!(json["Expiration"], "2026-12-05T13:00:00Z");
        assert_eq!(json["ClientId"], "client");
        let back = load(&keystore, "https://x.awsapps.com/start")
            .unwrap()
            .unwrap();
        assert_eq!(back, token());
    }

    #[test]
    fn an_aws_vault_token_without_our_fields_is_read() {
        let keystore = MemoryKeystore::default();
        let data = r#"{"Token":{"AccessToken":"a","ExpiresIn":28800,"IdToken":null,"RefreshToken":null,"TokenType":"Bearer","ResultMetadata":{}},"Expiration":"2026-12-05T20:00:00.123456789Z"}"#;
        keystore
            .set(&Item::from_data("oidc:https://s", data.to_owned()))
            .unwrap();
        let token = load(&keystore, "https://s").unwrap().unwrap();
        assert_eq!(token.access_token.expose(), "a");
        assert!(token.refresh_token.is_none() && token.client.is_none());
        assert!(token.usable(NOW, Duration::from_mins(5)));
        assert!(!token.usable(NOW + Duration::from_hours(8), Duration::from_mins(5)));
    }

    #[test]
    fn the_cli_cache_vault_writes_is_read_back_and_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sso/cache/x.json");
        write_cli_cache(&path, "https://s", "eu-west-1", &token()).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(json["expiresAt"], "2026-12-05T13:00:00Z");
        assert_eq!(json["region"], "eu-west-1");
        let back = from_cli_cache(&path, "https://s").unwrap();
        assert_eq!(back.access_token.expose(), "access");
        assert_eq!(back.refresh_token.unwrap().expose(), "refresh");
        assert!(from_cli_cache(&path, "https://other").is_none());
    }

    #[test]
    fn the_cli_cache_is_named_by_the_sha1_of_the_session_or_start_url() {
        let env = Env::from_pairs([("HOME", "/home/u")]);
        // botocore: sha1("my-sso").hexdigest()
        assert_eq!(
            cli_cache_path(&env, Some("my-sso"), "https://x").unwrap(),
            PathBuf::from("/home/u/.aws/sso/cache/0ad374308c5a4e22f723adf10145eafad7c4031c.json")
        );
    }
}
