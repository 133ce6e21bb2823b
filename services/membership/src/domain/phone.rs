//! Mainland mobile numbers: 11 digits starting 13 to 19, optionally written
//! with the country code (+86 or 86) and spaces or hyphens between groups.

/// A valid mainland mobile number, stored as its 11 digits.
#[derive(Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses `text`; the reason when it is no mainland mobile number.
    pub fn parse(text: &str) -> Result<Phone, &'static str> {
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-'))
            .collect();
        let digits = compact
            .strip_prefix("+86")
            .or_else(|| compact.strip_prefix("0086"))
            .or_else(|| {
                (compact.len() == 13)
                    .then(|| compact.strip_prefix("86"))
                    .flatten()
            })
            .unwrap_or(&compact);
        let bytes = digits.as_bytes();
        if bytes.len() != 11 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err("must be a mainland mobile number of 11 digits");
        }
        if bytes[0] != b'1' || !(b'3'..=b'9').contains(&bytes[1]) {
            return Err("must be a mainland mobile number starting 13 to 19");
        }
        Ok(Phone(digits.to_owned()))
    }

    /// The 11 digits.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        civicgrid_runtime::crypto::mask_contact(&self.0)
    }
}

/// Never the number itself.
impl std::fmt::Debug for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mainland_mobile_numbers_are_accepted_in_their_usual_spellings() {
        for good in [
            "13812345678",
            "+8613812345678",
            "86 138 1234 5678",
            "0086-199-1234-5678",
            " 15012345678 ",
        ] {
            let phone = Phone::parse(good);
            assert!(phone.is_ok(), "{good}");
        }
        assert_eq!(
            Phone::parse("+86 138-1234-5678").map(|p| p.as_str().to_owned()),
            Ok("13812345678".to_owned())
        );
    }

    #[test]
    fn other_numbers_are_refused() {
        for bad in [
            "",
            "1381234567",
            "138123456789",
            "12812345678",
            "23812345678",
            "1381234567a",
            "010-12345678",
            "+1 415 555 0100",
        ] {
            assert!(Phone::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_phone_shows_only_masked() {
        let phone = Phone::parse("13812345678")
            .map_err(|_| ())
            .unwrap_or_else(|()| unreachable!());
        assert_eq!(phone.masked(), "138****5678");
        assert_eq!(format!("{phone:?}"), "Phone(138****5678)");
    }
}
