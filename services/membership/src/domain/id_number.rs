//! Resident ID numbers (公民身份号码) as GB 11643-1999 defines them: six
//! digits of region code, eight of birth date, three of sequence and a
//! check character (ISO 7064 MOD 11-2), 18 characters in all.

use chrono::NaiveDate;

/// Why a text is not an ID number. The messages never repeat the number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum IdNumberError {
    /// Not 18 characters.
    #[error("must be 18 characters")]
    Length,
    /// Something other than a digit in the first 17, or a check character
    /// other than a digit or X.
    #[error("must be 17 digits followed by a digit or X")]
    Characters,
    /// The first two digits are no province, region or municipality code.
    #[error("does not start with a valid region code")]
    Region,
    /// Digits 7-14 are no calendar date from 1900 on.
    #[error("does not hold a real date of birth")]
    BirthDate,
    /// The birth date lies after today.
    #[error("holds a date of birth in the future")]
    FutureBirth,
    /// The check character does not match the other 17.
    #[error("has a wrong check character")]
    CheckCharacter,
}

/// The two-digit codes of provinces, autonomous regions and municipalities
/// (GB/T 2260), with 71 Taiwan, 81 Hong Kong, 82 Macao and 83 for
/// residence permits of Taiwan residents.
const PROVINCES: [u8; 35] = [
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 83,
];

/// ISO 7064 MOD 11-2 weights: 2^(17-i) mod 11 for positions 0 to 16.
const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];

/// Check characters by the weighted sum mod 11.
const CHECK: [u8; 11] = *b"10X98765432";

/// A valid ID number, stored with an uppercase `X`.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(String);

impl IdNumber {
    /// Parses `text` (surrounding whitespace ignored), accepting a birth
    /// date up to `today`.
    pub fn parse(text: &str, today: NaiveDate) -> Result<IdNumber, IdNumberError> {
        let text = text.trim();
        if text.chars().count() != 18 {
            return Err(IdNumberError::Length);
        }
        let bytes = text.as_bytes();
        let (body, last) = bytes.split_at(17);
        if !body.iter().all(u8::is_ascii_digit) || !matches!(last[0], b'0'..=b'9' | b'X' | b'x') {
            return Err(IdNumberError::Characters);
        }
        let province = (body[0] - b'0') * 10 + (body[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(IdNumberError::Region);
        }
        let number = |range: std::ops::Range<usize>| -> u32 {
            body[range]
                .iter()
                .fold(0, |n, digit| n * 10 + u32::from(digit - b'0'))
        };
        let birth = i32::try_from(number(6..10))
            .ok()
            .filter(|year| *year >= 1900)
            .and_then(|year| NaiveDate::from_ymd_opt(year, number(10..12), number(12..14)))
            .ok_or(IdNumberError::BirthDate)?;
        if birth > today {
            return Err(IdNumberError::FutureBirth);
        }
        if last[0].to_ascii_uppercase() != check_character(body) {
            return Err(IdNumberError::CheckCharacter);
        }
        Ok(IdNumber(text.to_ascii_uppercase()))
    }

    /// The 18 characters.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The masked form shown to callers: the first and the last character
    /// kept (`3****************X`), so region, birth date and sequence stay hidden.
    pub fn masked(&self) -> String {
        mask_id_number(&self.0)
    }
}

/// Never the number itself, so a stray `{:?}` in a log cannot leak it.
impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({})", self.masked())
    }
}

/// The masked form of a stored ID number.
pub fn mask_id_number(number: &str) -> String {
    let chars: Vec<char> = number.chars().collect();
    match chars.as_slice() {
        [] => String::new(),
        [only] => only.to_string(),
        [first, middle @ .., last] => format!("{first}{}{last}", "*".repeat(middle.len())),
    }
}

/// The check character of the first 17 digits.
pub fn check_character(body: &[u8]) -> u8 {
    let sum: u32 = body
        .iter()
        .zip(WEIGHTS)
        .map(|(digit, weight)| u32::from(digit - b'0') * weight)
        .sum();
    CHECK[(sum % 11) as usize]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use proptest::prelude::*;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, 2).unwrap()
    }

    /// 17 digits and their check character.
    fn with_check(body: &str) -> String {
        format!("{body}{}", check_character(body.as_bytes()) as char)
    }

    #[test]
    fn the_standards_example_number_is_valid() {
        // The example of GB 11643-1999 itself.
        let parsed = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(parsed.as_str(), "11010519491231002X");
        assert_eq!(
            IdNumber::parse("110105194912310021", today()),
            Err(IdNumberError::CheckCharacter)
        );
    }

    #[test]
    fn a_lowercase_x_is_valid_and_stored_as_uppercase() {
        let parsed = IdNumber::parse(" 11010519491231002x ", today()).unwrap();
        assert_eq!(parsed.as_str(), "11010519491231002X");
    }

    #[test]
    fn each_kind_of_bad_number_is_refused_for_its_reason() {
        let future = with_check("33010220271201001");
        let feb30 = with_check("33010219900230001");
        let cases = [
            ("11010519491231002", IdNumberError::Length),
            ("11010519491231002XX", IdNumberError::Length),
            ("", IdNumberError::Length),
            ("1101051949A231002X", IdNumberError::Characters),
            ("11010519491231002Y", IdNumberError::Characters),
            ("１１010519491231002X", IdNumberError::Characters),
            ("99010519491231002X", IdNumberError::Region),
            ("00010519491231002X", IdNumberError::Region),
            (feb30.as_str(), IdNumberError::BirthDate),
            ("33010218991231001X", IdNumberError::BirthDate),
            (future.as_str(), IdNumberError::FutureBirth),
            ("110105194912310029", IdNumberError::CheckCharacter),
        ];
        for (text, reason) in cases {
            assert_eq!(IdNumber::parse(text, today()), Err(reason), "{text}");
        }
    }

    #[test]
    fn a_number_born_today_is_accepted_and_tomorrow_is_not() {
        let born_today = with_check("33010220261202001");
        assert!(IdNumber::parse(&born_today, today()).is_ok());
        let tomorrow = with_check("33010220261203001");
        assert_eq!(
            IdNumber::parse(&tomorrow, today()),
            Err(IdNumberError::FutureBirth)
        );
    }

    #[test]
    fn the_masked_form_keeps_only_the_first_and_last_character() {
        let parsed = IdNumber::parse("11010519491231002X", today()).unwrap();
        assert_eq!(parsed.masked(), "1****************X");
        assert_eq!(format!("{parsed:?}"), "IdNumber(1****************X)");
    }

    prop_compose! {
        fn valid_body()(
            province in proptest::sample::select(PROVINCES.to_vec()),
            rest_of_region in 0u32..10_000,
            birth in 0i64..(365 * 126),
            sequence in 0u32..1000,
        ) -> String {
            let date = NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(birth);
            format!("{province:02}{rest_of_region:04}{}{sequence:03}", date.format("%Y%m%d"))
        }
    }

    proptest! {
        #[test]
        fn every_generated_valid_number_is_accepted(body in valid_body(), lower in any::<bool>()) {
            let mut number = with_check(&body);
            if lower {
                number = number.to_ascii_lowercase();
            }
            let parsed = IdNumber::parse(&number, today()).unwrap();
            prop_assert_eq!(parsed.as_str(), number.to_ascii_uppercase());
        }

        #[test]
        fn changing_one_digit_of_a_valid_number_breaks_its_check(body in valid_body(), position in 0usize..17, delta in 1u8..10) {
            let mut bytes = with_check(&body).into_bytes();
            bytes[position] = b'0' + (bytes[position] - b'0' + delta) % 10;
            let changed = String::from_utf8(bytes).unwrap();
            prop_assert!(IdNumber::parse(&changed, today()).is_err());
        }
    }
}
