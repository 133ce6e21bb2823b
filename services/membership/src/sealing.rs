//! Members' personal data at rest: sealed with AES-256-GCM under the
//! service's data key (`civicgrid_runtime::crypto::DataKey`), and ID
//! numbers findable through a keyed blind index. The index key is derived
//! from the data key (HMAC-SHA256 over a fixed label), so one secret file
//! serves both and the index cannot be recomputed without it: a plain hash
//! of an ID number would fall to a dictionary of the few billion valid
//! numbers.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use civicgrid_runtime::crypto::{CryptoError, DataKey};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use crate::domain::id_number::IdNumber;

type HmacSha256 = Hmac<Sha256>;

/// The label the blind-index key is derived under; a new version of the
/// index gets a new label.
const INDEX_KEY_LABEL: &[u8] = b"civicgrid/membership/id-number-blind-index/v1";

/// The data key and the blind-index key derived from it.
#[derive(Clone)]
pub struct PersonalDataKeys {
    data: DataKey,
    index_key: [u8; 32],
}

impl PersonalDataKeys {
    /// From a file holding the base64 of 32 random bytes.
    pub fn load(path: &Path) -> Result<PersonalDataKeys, CryptoError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| CryptoError::Key(format!("{}: {e}", path.display())))?;
        PersonalDataKeys::from_base64(text.trim())
    }

    /// From the base64 of 32 bytes.
    pub fn from_base64(encoded: &str) -> Result<PersonalDataKeys, CryptoError> {
        let data = DataKey::from_base64(encoded)?;
        // DataKey accepted it, so it decodes.
        let bytes = STANDARD
            .decode(encoded)
            .map_err(|e| CryptoError::Key(e.to_string()))?;
        let mut mac = HmacSha256::new_from_slice(&bytes)
            .map_err(|_| CryptoError::Key("unusable as an HMAC key".to_owned()))?;
        mac.update(INDEX_KEY_LABEL);
        let index_key: [u8; 32] = mac.finalize().into_bytes().into();
        Ok(PersonalDataKeys { data, index_key })
    }

    /// `nonce || ciphertext` of `plaintext`.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        self.data.seal(plaintext)
    }

    /// The plaintext of a sealed value.
    pub fn open(&self, sealed: &[u8]) -> Result<String, CryptoError> {
        self.data.open(sealed)
    }

    /// The blind index of an ID number: equal numbers give equal indexes
    /// (the number is normalised, `x` as `X`, when parsed), nothing else
    /// can be learnt from it without the key.
    pub fn blind_index(&self, id_number: &IdNumber) -> Vec<u8> {
        // Any key length is valid for HMAC.
        let mut mac = match HmacSha256::new_from_slice(&self.index_key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC takes keys of any length"),
        };
        mac.update(id_number.as_str().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn the_blind_index_is_stable_per_key_and_hides_the_number() {
        let key = DataKey::generate_base64();
        let keys = PersonalDataKeys::from_base64(&key).unwrap();
        let again = PersonalDataKeys::from_base64(&key).unwrap();
        let other = PersonalDataKeys::from_base64(&DataKey::generate_base64()).unwrap();
        let number = IdNumber::parse("11010519491231002x", chrono::NaiveDate::MAX).unwrap();
        let upper = IdNumber::parse("11010519491231002X", chrono::NaiveDate::MAX).unwrap();
        assert_eq!(keys.blind_index(&number), again.blind_index(&upper));
        assert_ne!(keys.blind_index(&number), other.blind_index(&number));
        assert_eq!(keys.blind_index(&number).len(), 32);
        let sealed = keys.seal(number.as_str());
        assert!(!sealed.windows(18).any(|w| w == number.as_str().as_bytes()));
        assert_eq!(keys.open(&sealed).unwrap(), "11010519491231002X");
    }
}
