//! Identifier rules: tube ids and GB 11643-1999 resident identity numbers.

use crate::RecordError;

/// Checks a tube id: 1-64 characters of `[A-Za-z0-9_-]`.
pub fn validate_tube_id(field: &str, id: &str) -> Result<(), RecordError> {
    if id.is_empty() || id.len() > 64 {
        return Err(RecordError::invalid(
            field,
            format!("{id:?}"),
            format!("must be 1-64 characters long, is {}", id.len()),
        ));
    }
    if let Some(bad) = id
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
    {
        return Err(RecordError::invalid(
            field,
            format!("{id:?}"),
            format!("character {bad:?} is not allowed (only A-Z a-z 0-9 _ -)"),
        ));
    }
    Ok(())
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [u8; 11] = *b"10X98765432";

/// The GB 11643-1999 check character for the first 17 digits of a resident id
/// (ISO 7064 MOD 11-2), or `None` if they are not 17 ASCII digits.
pub fn resident_id_check_char(first17: &[u8]) -> Option<u8> {
    if first17.len() != 17 || !first17.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let sum: u32 = first17
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    Some(CHECK_CHARS[(sum % 11) as usize])
}

/// Checks an 18-character resident id: 17 digits and a valid check character
/// (`0-9` or `X`; a lower-case `x` is refused, publishers must normalise).
pub fn validate_resident_id(field: &str, id: &str) -> Result<(), RecordError> {
    let bytes = id.as_bytes();
    if bytes.len() != 18 {
        return Err(RecordError::invalid(
            field,
            format!("{id:?}"),
            format!(
                "a resident_id has 18 characters, this has {}",
                id.chars().count()
            ),
        ));
    }
    let Some(expected) = resident_id_check_char(&bytes[..17]) else {
        return Err(RecordError::invalid(
            field,
            format!("{id:?}"),
            "the first 17 characters of a resident_id must be digits",
        ));
    };
    if bytes[17] != expected {
        return Err(RecordError::invalid(
            field,
            format!("{id:?}"),
            format!(
                "check digit is {:?}, GB 11643-1999 requires {:?}",
                bytes[17] as char, expected as char
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_good_ids() {
        for id in [
            "22010219610708001X",
            "220102196107090023",
            "11010519491231002X",
            "440524188001010014",
        ] {
            validate_resident_id("person_id", id).unwrap();
        }
    }

    #[test]
    fn bad_check_digit_named() {
        let err = validate_resident_id("members[0].person_id", "220102196107090024").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("members[0].person_id"), "{msg}");
        assert!(msg.contains("check digit is '4'"), "{msg}");
        assert!(msg.contains("requires '3'"), "{msg}");
    }

    #[test]
    fn wrong_length_and_letters() {
        assert!(validate_resident_id("p", "2201021961070900").is_err());
        assert!(validate_resident_id("p", "22010219610709002A3").is_err());
        assert!(validate_resident_id("p", "2201021961070A0023").is_err());
        assert!(validate_resident_id("p", "22010219610708001x").is_err());
    }

    #[test]
    fn tube_ids() {
        validate_tube_id("tube_id", "EX1-POOL_2").unwrap();
        assert!(validate_tube_id("tube_id", "").is_err());
        assert!(validate_tube_id("tube_id", &"A".repeat(65)).is_err());
        validate_tube_id("tube_id", &"A".repeat(64)).unwrap();
        assert!(validate_tube_id("tube_id", "EX 1").is_err());
        assert!(validate_tube_id("tube_id", "管1").is_err());
    }
}
