//! Party members: what a registration holds once parsed, and how personal
//! data is shown.

use super::id_number::IdNumber;
use super::organisation::OrganisationId;
use super::phone::Phone;

/// Full or probationary (`civicgrid.membership.v1.Standing`, same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    /// 正式党员
    Full = 1,
    /// 预备党员
    Probationary = 2,
}

impl Standing {
    /// From its proto number.
    pub fn from_number(number: i32) -> Option<Standing> {
        match number {
            1 => Some(Standing::Full),
            2 => Some(Standing::Probationary),
            _ => None,
        }
    }
}

/// A member's name: trimmed, 1-50 characters, no control characters.
#[derive(Clone, PartialEq, Eq)]
pub struct FullName(String);

/// Maximum characters of a name.
pub const MAX_NAME_CHARS: usize = 50;

impl FullName {
    /// Parses `text`, or says why not (never repeating it).
    pub fn parse(text: &str) -> Result<FullName, String> {
        let trimmed = text.trim();
        let count = trimmed.chars().count();
        if count == 0 {
            return Err("is required".to_owned());
        }
        if count > MAX_NAME_CHARS {
            return Err(format!("must be at most {MAX_NAME_CHARS} characters"));
        }
        if trimmed.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(FullName(trimmed.to_owned()))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Never the name itself.
impl std::fmt::Debug for FullName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FullName({})", mask_name(&self.0))
    }
}

/// A name as shown: its first character, the rest starred (`王**`).
pub fn mask_name(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        None => String::new(),
        Some(first) => format!("{first}{}", "*".repeat(chars.count().max(1))),
    }
}

/// A registration, parsed.
#[derive(Debug, Clone)]
pub struct NewMember {
    /// The name.
    pub full_name: FullName,
    /// The ID number.
    pub id_number: IdNumber,
    /// The mobile phone.
    pub phone: Phone,
    /// The organisation of record.
    pub organisation: OrganisationId,
    /// Full or probationary.
    pub standing: Standing,
    /// A flow member.
    pub flow_member: bool,
    /// Where the member lives (a cell code).
    pub residence_cell: Option<String>,
    /// The work unit's organisation.
    pub work_unit: Option<OrganisationId>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_masked_after_their_first_character() {
        assert_eq!(mask_name("王小明"), "王**");
        assert_eq!(mask_name("王明"), "王*");
        assert_eq!(mask_name("王"), "王*");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn a_name_must_be_short_plain_text() {
        assert!(FullName::parse(" 王小明 ").is_ok_and(|n| n.as_str() == "王小明"));
        assert!(FullName::parse("  ").is_err());
        assert!(FullName::parse(&"王".repeat(51)).is_err());
        assert!(FullName::parse("王\u{7}").is_err());
        assert_eq!(
            format!("{:?}", FullName::parse("王小明").map_err(|_| ())),
            "Ok(FullName(王**))"
        );
    }
}
