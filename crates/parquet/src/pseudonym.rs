//! Pseudonymous person keys: keyed HMAC-SHA256 of the person id.
//!
//! Why keyed: resident ids are 18 characters, but the space of real ones is
//! small (region code, birth date, a 3-digit sequence, a check digit: a few
//! billion candidates for a whole country, far fewer for one city). A plain
//! hash of an id can be reversed by hashing every candidate. With a secret
//! key that never leaves the pipeline, the analysts' key cannot be computed
//! from an id, so it cannot be reversed by enumeration; the same person still
//! gets the same key in every row, file and run that uses the same secret.

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use crate::ParquetError;

/// Fewer key bytes than this would make the key itself guessable.
pub const MIN_KEY_LEN: usize = 16;

/// Length of a person key: hex of the first 16 bytes of the HMAC.
pub const PERSON_KEY_LEN: usize = 32;

/// The secret behind `person_key`. Holds the HMAC state with the key already
/// absorbed, so each id costs one clone and two SHA-256 blocks.
#[derive(Clone)]
pub struct PseudonymKey {
    mac: Hmac<Sha256>,
}

impl PseudonymKey {
    /// A key from secret bytes (at least [`MIN_KEY_LEN`]; 32 random bytes
    /// are recommended). Changing the key changes every person key.
    pub fn new(secret: &[u8]) -> Result<Self, ParquetError> {
        if secret.len() < MIN_KEY_LEN {
            return Err(ParquetError::KeyTooShort {
                len: secret.len(),
                min: MIN_KEY_LEN,
            });
        }
        let mac =
            Hmac::<Sha256>::new_from_slice(secret).map_err(|_| ParquetError::KeyTooShort {
                len: secret.len(),
                min: MIN_KEY_LEN,
            })?;
        Ok(PseudonymKey { mac })
    }

    /// The person key of `person_id`: lowercase hex of the first 16 bytes of
    /// HMAC-SHA256(secret, person_id).
    pub fn person_key(&self, person_id: &str) -> String {
        let mut buf = [0u8; PERSON_KEY_LEN];
        self.person_key_into(person_id, &mut buf).to_owned()
    }

    /// Like [`PseudonymKey::person_key`], without allocating.
    pub fn person_key_into<'b>(
        &self,
        person_id: &str,
        buf: &'b mut [u8; PERSON_KEY_LEN],
    ) -> &'b str {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut mac = self.mac.clone();
        mac.update(person_id.as_bytes());
        let digest = mac.finalize().into_bytes();
        for (i, b) in digest.iter().take(PERSON_KEY_LEN / 2).enumerate() {
            buf[2 * i] = HEX[usize::from(b >> 4)];
            buf[2 * i + 1] = HEX[usize::from(b & 15)];
        }
        // Only ASCII hex digits were written.
        std::str::from_utf8(buf).unwrap_or_default()
    }
}

/// A person key computed ahead of its row ([`PseudonymKey::key_of`]), so
/// that another thread can do the hashing: [`PERSON_KEY_LEN`] lowercase
/// hex digits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct PersonKey([u8; PERSON_KEY_LEN]);

impl PersonKey {
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

impl fmt::Debug for PersonKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PseudonymKey {
    /// The [`PseudonymKey::person_key`] of `person_id`, kept by value.
    pub fn key_of(&self, person_id: &str) -> PersonKey {
        let mut buf = [0u8; PERSON_KEY_LEN];
        self.person_key_into(person_id, &mut buf);
        PersonKey(buf)
    }
}

impl fmt::Debug for PseudonymKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PseudonymKey(<secret>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_keys_are_refused() {
        let err = PseudonymKey::new(&[7u8; 15]).unwrap_err();
        assert!(
            matches!(err, ParquetError::KeyTooShort { len: 15, min: 16 }),
            "{err}"
        );
        assert!(err.to_string().contains("at least 16 bytes"), "{err}");
        PseudonymKey::new(&[7u8; 16]).unwrap();
    }

    #[test]
    fn stable_per_key_and_distinct_across_keys() {
        let a = PseudonymKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
        let b = PseudonymKey::new(b"0123456789abcdef0123456789abcdeF").unwrap();
        let id = "22010219610708001X";
        let ka = a.person_key(id);
        assert_eq!(ka.len(), 32);
        assert!(ka
            .bytes()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_eq!(ka, a.person_key(id));
        assert_ne!(ka, b.person_key(id));
        assert_ne!(ka, a.person_key("220102196107090023"));
        assert!(!format!("{a:?}").contains("0123"));
    }

    #[test]
    fn a_key_computed_ahead_is_the_same_key() {
        let key = PseudonymKey::new(b"0123456789abcdef0123456789abcdef").unwrap();
        for id in ["22010219610708001X", "", "E12345678"] {
            assert_eq!(key.key_of(id).as_str(), key.person_key(id));
        }
    }

    #[test]
    fn is_the_hmac_sha256_prefix() {
        let key = b"Jefe-and-some-more-bytes";
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(b"what do ya want for nothing?");
        let full = mac.finalize().into_bytes();
        let hex: String = full[..16].iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            PseudonymKey::new(key)
                .unwrap()
                .person_key("what do ya want for nothing?"),
            hex
        );
    }
}
