//! The file backend's encryption, byte-compatible with aws-vault (docs/aws-vault.md §5.3): a JWE in
//! compact form with `alg` PBES2-HS256+A128KW, `enc` A256GCM, `p2c` 8192 and a 12-byte salt
//! (RFC 7516, RFC 7518 §4.8, §4.4 and §5.3). ring provides PBKDF2 and AES-GCM, aes-kw the
//! RFC 3394 key wrap; this module composes them exactly as the RFCs say, and jwcrypto (an
//! independent implementation) reads what it writes and writes what it reads in the tests.

use std::num::NonZeroU32;

use aes_kw::KeyInit;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::pbkdf2;
use serde_json::Value;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::secret::Secret;

const ALG: &str = "PBES2-HS256+A128KW";
const ENC: &str = "A256GCM";
const ITERATIONS: u32 = 8192;
const SALT_LEN: usize = 12;
/// More would let a crafted file make every command spin; aws-vault's own reader allows up
/// to 1,300,000.
const MAX_ITERATIONS: u64 = 1_000_000;
/// A128KW's key and A256GCM's content key.
const KEK_LEN: usize = 16;
const CEK_LEN: usize = 32;
/// A wrapped key is 8 bytes longer than the key.
const WRAPPED_LEN: usize = CEK_LEN + 8;
const TAG_LEN: usize = 16;

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
    if passphrase.expose().is_empty() {
        return Err("an empty passphrase cannot be used".to_owned());
    }
    let salt: [u8; SALT_LEN] = random()?;
    let cek: [u8; CEK_LEN] = random()?;
    let iv: [u8; NONCE_LEN] = random()?;
    // Informational only, in Go's time.String() layout as aws-vault writes it.
    let created = now
        .format(format_description!(
            "[year]-[month]-[day] [hour]:[minute]:[second].[subsecond digits:9] +0000 UTC"
        ))
        .map_err(|e| e.to_string())?;
    // serde_json's map keeps keys sorted, which is the order Go writes them in.
    let header = serde_json::json!({
        "alg": ALG,
        "created": created,
        "enc": ENC,
        "p2c": ITERATIONS,
        "p2s": URL_SAFE_NO_PAD.encode(salt),
    });
    let header = URL_SAFE_NO_PAD.encode(header.to_string());

    let kek = key_encryption_key(passphrase, &salt, ITERATIONS);
    let mut wrapped = [0u8; WRAPPED_LEN];
    aes_kw::KwAes128::new_from_slice(&kek)
        .map_err(|_| "bad key-wrapping key length".to_owned())?
        .wrap_key(&cek, &mut wrapped)
        .map_err(|e| format!("key wrapping failed: {e}"))?;

    let key = content_key(&cek)?;
    let mut ciphertext = plaintext.expose().as_bytes().to_vec();
    let tag = key
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(iv),
            Aad::from(header.as_bytes()),
            &mut ciphertext,
        )
        .map_err(|_| "encryption failed".to_owned())?;
    Ok([
        header,
        URL_SAFE_NO_PAD.encode(wrapped),
        URL_SAFE_NO_PAD.encode(iv),
        URL_SAFE_NO_PAD.encode(&ciphertext),
        URL_SAFE_NO_PAD.encode(tag.as_ref()),
    ]
    .join("."))
}

pub(super) fn decrypt(passphrase: &Secret, text: &str) -> Result<Vec<u8>, DecryptError> {
    let parts = check_shape(text).map_err(DecryptError::Malformed)?;
    if passphrase.expose().is_empty() {
        return Err(DecryptError::Rejected);
    }
    let kek = key_encryption_key(passphrase, &parts.salt, parts.iterations);
    let mut cek = [0u8; CEK_LEN];
    // A wrong passphrase gives a wrong key-wrapping key, which the unwrap's check reveals.
    aes_kw::KwAes128::new_from_slice(&kek)
        .map_err(|_| DecryptError::Rejected)?
        .unwrap_key(&parts.encrypted_key, &mut cek)
        .map_err(|_| DecryptError::Rejected)?;
    let key = content_key(&cek).map_err(DecryptError::Malformed)?;
    let iv: [u8; NONCE_LEN] = parts
        .iv
        .try_into()
        .map_err(|_| DecryptError::Malformed("the IV is not 12 bytes".to_owned()))?;
    let mut sealed = parts.ciphertext;
    sealed.extend_from_slice(&parts.tag);
    let plaintext = key
        .open_in_place(
            Nonce::assume_unique_for_key(iv),
            Aad::from(parts.header.as_bytes()),
            &mut sealed,
        )
        .map_err(|_| DecryptError::Rejected)?;
    Ok(plaintext.to_vec())
}

/// RFC 7518 §4.8.1.1: PBKDF2-HMAC-SHA256 over the passphrase, salted with the algorithm's
/// name, a zero byte and the salt.
fn key_encryption_key(passphrase: &Secret, salt: &[u8], iterations: u32) -> [u8; KEK_LEN] {
    let mut salt_input = Vec::with_capacity(ALG.len() + 1 + salt.len());
    salt_input.extend_from_slice(ALG.as_bytes());
    salt_input.push(0);
    salt_input.extend_from_slice(salt);
    let mut kek = [0u8; KEK_LEN];
    pbkdf2::derive(
        pbkdf2::PBKDF2_HMAC_SHA256,
        NonZeroU32::new(iterations).unwrap_or(NonZeroU32::MIN),
        &salt_input,
        passphrase.expose().as_bytes(),
        &mut kek,
    );
    kek
}

fn content_key(cek: &[u8]) -> Result<LessSafeKey, String> {
    UnboundKey::new(&AES_256_GCM, cek)
        .map(LessSafeKey::new)
        .map_err(|_| "bad content key length".to_owned())
}

fn random<const N: usize>() -> Result<[u8; N], String> {
    let mut bytes = [0u8; N];
    getrandom::getrandom(&mut bytes).map_err(|e| format!("no randomness: {e}"))?;
    Ok(bytes)
}

/// The authentication tag of a compact JWE: it differs for every encryption.
pub(super) fn tag(text: &str) -> &str {
    text.trim().rsplit('.').next().unwrap_or_default()
}

/// The parts of a compact JWE, decoded.
pub(super) struct Parts {
    /// The protected header as written (base64url): it is the AAD.
    header: String,
    salt: Vec<u8>,
    iterations: u32,
    encrypted_key: Vec<u8>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
}

/// Checks, without the passphrase, that `text` is a compact JWE with aws-vault's algorithms
/// and parts of the right sizes, and decodes it. This is also what `list` uses to report
/// damaged files.
pub(super) fn check_shape(text: &str) -> Result<Parts, String> {
    let parts: Vec<&str> = text.trim().split('.').collect();
    let [header_text, encrypted_key, iv, ciphertext, tag] = parts[..] else {
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
    let header: Value = serde_json::from_slice(&decode("header", header_text)?)
        .map_err(|_| "the header is not JSON".to_owned())?;
    if header["alg"] != ALG || header["enc"] != ENC {
        return Err(format!("the header is not {ALG} / {ENC}"));
    }
    let salt = header["p2s"].as_str().ok_or("the header has no p2s salt")?;
    let salt = decode("salt", salt)?;
    if salt.len() < 8 {
        return Err("the salt is shorter than 8 bytes".to_owned());
    }
    let iterations = match header["p2c"].as_u64() {
        Some(n @ 1..=MAX_ITERATIONS) => u32::try_from(n).map_err(|_| "p2c is too large")?,
        _ => return Err(format!("p2c must be between 1 and {MAX_ITERATIONS}")),
    };
    let sized = |name: &str, part: &str, expected: usize| {
        let bytes = decode(name, part)?;
        if bytes.len() == expected {
            Ok(bytes)
        } else {
            Err(format!("the {name} is not {expected} bytes"))
        }
    };
    Ok(Parts {
        header: header_text.to_owned(),
        salt,
        iterations,
        encrypted_key: sized("encrypted key", encrypted_key, WRAPPED_LEN)?,
        iv: sized("IV", iv, NONCE_LEN)?,
        ciphertext: decode("ciphertext", ciphertext)?,
        tag: sized("tag", tag, TAG_LEN)?,
    })
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
        check_shape(&text).unwrap_or_else(|e| panic!("{e}"));
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
