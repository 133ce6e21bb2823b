//! Personal data at rest: AES-256-GCM with a key from a file, and masking
//! for output. Contacts and ID numbers are stored only as ciphertext; what
//! leaves the service is always masked.

use std::path::Path;

use aes_gcm::aead::{Aead, Generate, Key, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// A failure to load a key or open a sealed value.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// The key file is missing or not 32 base64-encoded bytes.
    #[error("bad data key: {0}")]
    Key(String),
    /// The value was not sealed with this key, or was altered.
    #[error("sealed value cannot be opened")]
    Open,
}

const NONCE_BYTES: usize = 12;

/// The key that seals personal data.
#[derive(Clone)]
pub struct DataKey {
    cipher: Aes256Gcm,
}

impl DataKey {
    /// From a file holding the base64 of 32 random bytes.
    pub fn load(path: &Path) -> Result<DataKey, CryptoError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CryptoError::Key(format!("{}: {e}", path.display())))?;
        DataKey::from_base64(text.trim())
    }

    /// From the base64 of 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<DataKey, CryptoError> {
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        let key = Key::<Aes256Gcm>::try_from(bytes.as_slice())
            .map_err(|_| CryptoError::Key("must be 32 bytes".to_owned()))?;
        Ok(DataKey {
            cipher: Aes256Gcm::new(&key),
        })
    }

    /// A new random key, base64-encoded, for a key file.
    pub fn generate_base64() -> String {
        STANDARD.encode(Key::<Aes256Gcm>::generate())
    }

    /// `nonce || ciphertext` of `plaintext`; a fresh random nonce each time.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let nonce = Nonce::generate();
        // Encryption with a valid key and an in-memory buffer cannot fail.
        let ciphertext = self
            .cipher
            .encrypt(&nonce, plaintext.as_bytes())
            .unwrap_or_default();
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(nonce.as_slice());
        sealed.extend_from_slice(&ciphertext);
        sealed
    }

    /// The plaintext of a value [`DataKey::seal`] produced.
    pub fn open(&self, sealed: &[u8]) -> Result<String, CryptoError> {
        if sealed.len() < NONCE_BYTES {
            return Err(CryptoError::Open);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let nonce = Nonce::try_from(nonce).map_err(|_| CryptoError::Open)?;
        let plaintext = self
            .cipher
            .decrypt(&nonce, ciphertext)
            .map_err(|_| CryptoError::Open)?;
        String::from_utf8(plaintext).map_err(|_| CryptoError::Open)
    }
}

/// A contact as it may be shown: a mobile number keeps its first three and
/// last four digits (`138****5678`); anything else keeps its first and last
/// character.
pub fn mask_contact(contact: &str) -> String {
    let chars: Vec<char> = contact.trim().chars().collect();
    if chars.len() == 11 && chars.iter().all(char::is_ascii_digit) {
        return format!(
            "{}****{}",
            chars[..3].iter().collect::<String>(),
            chars[7..].iter().collect::<String>()
        );
    }
    match chars.len() {
        0 => String::new(),
        1 | 2 => "*".repeat(chars.len()),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_key_and_never_shows_the_plaintext() {
        let key = DataKey::from_base64(&DataKey::generate_base64()).expect("key");
        let other = DataKey::from_base64(&DataKey::generate_base64()).expect("key");
        let sealed = key.seal("13812345678");
        assert!(!sealed.windows(11).any(|w| w == b"13812345678"));
        assert_ne!(key.seal("13812345678"), sealed, "fresh nonce each time");
        assert_eq!(key.open(&sealed).expect("opens"), "13812345678");
        assert!(other.open(&sealed).is_err());
        assert!(key.open(&sealed[..5]).is_err());
    }

    #[test]
    fn contacts_are_masked() {
        assert_eq!(mask_contact("13812345678"), "138****5678");
        assert_eq!(mask_contact("wang@example.org"), "w**************g");
        assert_eq!(mask_contact("ab"), "**");
        assert_eq!(mask_contact(""), "");
    }

    #[test]
    fn a_key_must_be_32_bytes() {
        assert!(DataKey::from_base64("c2hvcnQ=").is_err());
        assert!(DataKey::from_base64("not base64!").is_err());
    }
}
