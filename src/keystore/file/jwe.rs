//! The file backend's encryption, byte-compatible with aws-vault (reference §5.3): a JWE in
//! compact form with `alg` PBES2-HS256+A128KW, `enc` A256GCM, `p2c` 8192 and a 12-byte salt.
//! josekit does the cryptography; this module only fixes the parameters and checks the
//! shape of a file before josekit sees it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use josekit::jwe::{self, JweHeader, PBES2_HS256_A128KW};
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::secret::Secret;

const ALG: &str = "PBES2-HS256+A128KW";
const ENC: &str = "A256GCM";
const ITERATIONS: usize = 8192;
const SALT_LEN: usize = 12;
/// josekit refuses more; aws-vault's own reader allows up to 1,300,000.
const MAX_ITERATIONS: u64 = 1_000_000;

/// Why a file cannot be decrypted.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum DecryptError {
    /// The text is not a JWE we can read: truncated, garbage, or other algorithms.
    Malformed(String),
    /// Well-formed, but the passphrase does not open it (or its ciphertext was altered).
    Rejected,
}

pub(super) fn encrypt(
    passphrase: &Secret,
    plaintext: &Secret,
    now: OffsetDateTime,
) -> Result<String, String> {
    let mut header = JweHeader::new();
    header.set_content_encryption(ENC);
    // Informational only, in Go's time.String() layout as aws-vault writes it.
    let created = now
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:9] +0000 UTC"
        ))
        .map_err(|e| e.to_string())?;
    header
        .set_claim("created", Some(Value::String(created)))
        .map_err(|e| e.to_string())?;
    let mut encrypter = PBES2_HS256_A128KW
        .encrypter_from_bytes(passphrase.expose().as_bytes())
        .map_err(|e| e.to_string())?;
    encrypter.set_salt_len(SALT_LEN);
    encrypter.set_iter_count(ITERATIONS);
    jwe::serialize_compact(plaintext.expose().as_bytes(), &header, &encrypter)
        .map_err(|e| e.to_string())
}

pub(super) fn decrypt(passphrase: &Secret, text: &str) -> Result<Vec<u8>, DecryptError> {
    check_shape(text).map_err(DecryptError::Malformed)?;
    let decrypter = PBES2_HS256_A128KW
        .decrypter_from_bytes(passphrase.expose().as_bytes())
        .map_err(|e| DecryptError::Malformed(e.to_string()))?;
    jwe::deserialize_compact(text.trim(), &decrypter)
        .map(|(payload, _header)| payload)
        .map_err(|_| DecryptError::Rejected)
}

/// The authentication tag of a compact JWE: it differs for every encryption.
pub(super) fn tag(text: &str) -> &str {
    text.trim().rsplit('.').next().unwrap_or_default()
}

/// Checks, without the passphrase, that `text` is a compact JWE with aws-vault's algorithms
/// and parts of the right sizes. This is what `list` uses to report damaged files, and it
/// keeps malformed input away from josekit.
pub(super) fn check_shape(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    let [header, encrypted_key, iv, ciphertext, tag] = parts[..] else {
        return Err(format!(
            "expected 5 dot-separated parts, found {}",
            parts.len()
        ));
    };
    let decode = |name: &str, part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| format!("the {name} is not base64url"))
    };
    let header: Value = serde_json::from_slice(&decode("header", header)?)
        .map_err(|_| "the header is not JSON".to_owned())?;
    if header["alg"] != ALG || header["enc"] != ENC {
        return Err(format!("the header is not {ALG} / {ENC}"));
    }
    let salt = header["p2s"].as_str().ok_or("the header has no p2s salt")?;
    if decode("salt", salt)?.len() < 8 {
        return Err("the salt is shorter than 8 bytes".to_owned());
    }
    match header["p2c"].as_u64() {
        Some(1..=MAX_ITERATIONS) => {}
        _ => return Err(format!("p2c must be between 1 and {MAX_ITERATIONS}")),
    }
    let sizes = [
        ("encrypted key", encrypted_key, 40),
        ("IV", iv, 12),
        ("tag", tag, 16),
    ];
    for (name, part, expected) in sizes {
        if decode(name, part)?.len() != expected {
            return Err(format!("the {name} is not {expected} bytes"));
        }
    }
    decode("ciphertext", ciphertext)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap()
    }

    #[test]
    fn round_trips_with_aws_vaults_parameters() {
        let pass = Secret::new("correct horse");
        let text = encrypt(&pass, &Secret::new("{\"Key\":\"k\"}"), now()).unwrap();
        check_shape(&text).unwrap();
        let header: Value = serde_json::from_slice(
            &URL_SAFE_NO_PAD
                .decode(text.split('.').next().unwrap())
                .unwrap(),
        )
        .unwrap();
        assert_eq!(header["alg"], ALG);
        assert_eq!(header["enc"], ENC);
        assert_eq!(header["p2c"], 8192);
        assert_eq!(
            URL_SAFE_NO_PAD
                .decode(header["p2s"].as_str().unwrap())
                .unwrap()
                .len(),
            12
        );
        assert_eq!(header["created"], "2023-11-14 22:13:20.000000000 +0000 UTC");
        assert_eq!(decrypt(&pass, &text).unwrap(), b"{\"Key\":\"k\"}");
    }

    #[test]
    fn an_empty_passphrase_is_an_error_not_a_panic() {
        assert!(encrypt(&Secret::new(""), &Secret::new("x"), now()).is_err());
        let text = encrypt(&Secret::new("p"), &Secret::new("x"), now()).unwrap();
        assert!(decrypt(&Secret::new(""), &text).is_err());
    }

    #[test]
    fn a_wrong_passphrase_is_rejected_not_malformed() {
        let text = encrypt(&Secret::new("right"), &Secret::new("x"), now()).unwrap();
        assert_eq!(
            decrypt(&Secret::new("wrong"), &text),
            Err(DecryptError::Rejected)
        );
    }

    #[test]
    fn truncated_or_garbage_text_is_malformed() {
        let text = encrypt(&Secret::new("p"), &Secret::new("x"), now()).unwrap();
        for cut in [1, 10, text.len() / 2, text.len() - 3] {
            assert!(
                matches!(
                    decrypt(&Secret::new("p"), &text[..cut]),
                    Err(DecryptError::Malformed(_))
                ),
                "cut at {cut}"
            );
        }
        assert!(matches!(
            decrypt(&Secret::new("p"), "garbage"),
            Err(DecryptError::Malformed(_))
        ));
        assert!(matches!(
            decrypt(&Secret::new("p"), "a.b.c.d.e"),
            Err(DecryptError::Malformed(_))
        ));
    }
}
