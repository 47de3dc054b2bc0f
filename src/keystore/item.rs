//! The two payload layers aws-vault stores:
//! - the keyring `Item` (what the file, secret-service and pass backends keep, as JSON with
//!   `Data` base64-encoded, exactly as Go's encoding/json writes a struct with a `[]byte`);
//! - inside it, the data: for long-term keys, Go's `aws.Credentials` JSON.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};

use crate::secret::Secret;

/// One keystore entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Item {
    pub(crate) key: String,
    pub(crate) label: String,
    pub(crate) description: String,
    pub(crate) data: Secret,
    /// macOS only: ask before an application reads the item (aws-vault sets it for keys).
    pub(crate) keychain_not_trust_application: bool,
}

/// The Go struct's field names and order, for byte-compatible JSON.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ItemJson {
    #[serde(default)]
    key: String,
    #[serde(default)]
    data: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    keychain_not_trust_application: bool,
    #[serde(default)]
    keychain_not_synchronizable: bool,
}

impl Item {
    /// An item rebuilt from a backend that keeps only the data (keyctl, the macOS and Windows
    /// stores, as aws-vault lays them out).
    pub(crate) fn from_data(key: &str, data: String) -> Self {
        Self {
            key: key.to_owned(),
            label: key.to_owned(),
            description: String::new(),
            data: Secret::new(data),
            keychain_not_trust_application: false,
        }
    }

    pub(crate) fn to_json(&self) -> Secret {
        let json = ItemJson {
            key: self.key.clone(),
            data: STANDARD.encode(self.data.expose()),
            label: self.label.clone(),
            description: self.description.clone(),
            keychain_not_trust_application: self.keychain_not_trust_application,
            keychain_not_synchronizable: false,
        };
        Secret::new(serde_json::to_string(&json).expect("plain struct serialises"))
    }

    pub(crate) fn from_json(bytes: &[u8]) -> Result<Self, String> {
        let json: ItemJson =
            serde_json::from_slice(bytes).map_err(|e| format!("not an item: {e}"))?;
        let data = STANDARD
            .decode(json.data.as_bytes())
            .map_err(|e| format!("item data is not base64: {e}"))?;
        let data = String::from_utf8(data).map_err(|_| "item data is not text".to_owned())?;
        Ok(Self {
            key: json.key,
            label: json.label,
            description: json.description,
            data: Secret::new(data),
            keychain_not_trust_application: json.keychain_not_trust_application,
        })
    }
}

/// Long-term ("master") access keys, stored under the profile name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct MasterCredentials {
    pub(crate) access_key_id: String,
    pub(crate) secret_access_key: Secret,
}

/// Go's `aws.Credentials`: note `AccessKeyID` with a capital D. Readers accept the minimal
/// `{"AccessKeyID","SecretAccessKey"}` and ignore unknown fields.
#[derive(Serialize, Deserialize)]
struct GoCredentialsJson {
    #[serde(rename = "AccessKeyID")]
    access_key_id: String,
    #[serde(rename = "SecretAccessKey")]
    secret_access_key: String,
    #[serde(rename = "SessionToken", default)]
    session_token: String,
    #[serde(rename = "Source", default)]
    source: String,
    #[serde(rename = "CanExpire", default)]
    can_expire: bool,
    #[serde(rename = "Expires", default = "go_zero_time")]
    expires: String,
}

fn go_zero_time() -> String {
    "0001-01-01T00:00:00Z".to_owned()
}

impl MasterCredentials {
    pub(crate) fn to_item(&self, profile: &str) -> Item {
        let json = GoCredentialsJson {
            access_key_id: self.access_key_id.clone(),
            secret_access_key: self.secret_access_key.expose().to_owned(),
            session_token: String::new(),
            source: String::new(),
            can_expire: false,
            expires: go_zero_time(),
        };
        Item {
            key: profile.to_owned(),
            label: format!("aws-vault ({profile})"),
            description: String::new(),
            data: Secret::new(serde_json::to_string(&json).expect("plain struct serialises")),
            keychain_not_trust_application: true,
        }
    }

    pub(crate) fn from_item(item: &Item) -> Result<Self, String> {
        let json: GoCredentialsJson = serde_json::from_str(item.data.expose())
            .map_err(|_| format!("{:?} does not hold access keys", item.key))?;
        Ok(Self {
            access_key_id: json.access_key_id,
            secret_access_key: Secret::new(json.secret_access_key),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn item_json_has_go_field_names_and_base64_data() {
        let creds = MasterCredentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Secret::new("s3cr3t"),
        };
        let json = creds.to_item("dev").to_json();
        let value: serde_json::Value = serde_json::from_str(json.expose()).unwrap();
        assert_eq!(value["Key"], "dev");
        assert_eq!(value["Label"], "aws-vault (dev)");
        let data = STANDARD.decode(value["Data"].as_str().unwrap()).unwrap();
        let data: serde_json::Value = serde_json::from_slice(&data).unwrap();
        assert_eq!(data["AccessKeyID"], "AKIAEXAMPLE");
        assert_eq!(data["SecretAccessKey"], "s3cr3t");
        assert_eq!(data["Expires"], "0001-01-01T00:00:00Z");
    }

    #[test]
    fn reads_the_minimal_form_and_ignores_unknown_fields() {
        let item = Item {
            key: "k".into(),
            label: String::new(),
            description: String::new(),
            data: Secret::new(r#"{"AccessKeyID":"A","SecretAccessKey":"S","AccountID":""}"#),
            keychain_not_trust_application: false,
        };
        let creds = MasterCredentials::from_item(&item).unwrap();
        assert_eq!(creds.access_key_id, "A");
        assert_eq!(creds.secret_access_key.expose(), "S");
    }

    #[test]
    fn debug_of_credentials_is_redacted() {
        let creds = MasterCredentials {
            access_key_id: "AKIAEXAMPLE".into(),
            secret_access_key: Secret::new("do-not-print-me"),
        };
        let shown = format!("{creds:?} {:?}", creds.to_item("p"));
        assert!(!shown.contains("do-not-print-me"), "{shown}");
    }
}
