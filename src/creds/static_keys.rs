//! Long-term access keys stored in the keystore under the profile name.

use serde::Serialize;

use super::credentials::Credentials;
use super::{Context, Error};
use crate::keystore::MasterCredentials;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct StoredKeys {
    pub(crate) profile: String,
}

impl StoredKeys {
    pub(crate) fn retrieve(&self, cx: &Context<'_>) -> Result<Credentials, Error> {
        let item = cx.keystore.get(&self.profile)?;
        let keys = MasterCredentials::from_item(&item).map_err(|reason| {
            Error::Keystore(crate::keystore::Error::Damaged {
                location: self.profile.clone(),
                reason,
            })
        })?;
        log::debug!(
            "profile {}: using stored keys {}",
            self.profile,
            mask(&keys.access_key_id)
        );
        Ok(keys.into())
    }
}

/// `****************ABCD`, as aws-vault shows key ids.
pub(crate) fn mask(access_key_id: &str) -> String {
    let chars: Vec<char> = access_key_id.chars().collect();
    let hidden = chars.len().saturating_sub(4);
    let shown: String = chars[hidden..].iter().collect();
    format!("{}{shown}", "*".repeat(hidden))
}

#[cfg(test)]
mod tests {
    use super::mask;

    #[test]
    fn masks_all_but_the_last_four_characters_of_any_text() {
        assert_eq!(mask("AKIAIOSFODNN7EXAMPLE"), "****************MPLE");
        assert_eq!(mask("AKIAéAAA"), "****éAAA");
        assert_eq!(mask("ab"), "ab");
    }
}
