//! What a reporter tells the grid, validated once.

use std::collections::BTreeMap;

use super::cell::CellId;

/// How a task reached the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    /// Found on patrol.
    GridPatrol = 1,
    /// From a resident.
    Resident = 2,
    /// From the hotline.
    Hotline = 3,
    /// At a service centre.
    ServiceCentre = 4,
}

impl Channel {
    /// The channel for its number (1-4, as in the proto and the database).
    pub fn from_number(number: i32) -> Option<Channel> {
        [
            Channel::GridPatrol,
            Channel::Resident,
            Channel::Hotline,
            Channel::ServiceCentre,
        ]
        .into_iter()
        .find(|c| *c as i32 == number)
    }

    /// Its number.
    pub fn number(self) -> i16 {
        self as i16
    }
}

/// Longest description, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 4000;
/// Most attachments per task.
pub const MAX_ATTACHMENTS: usize = 20;
/// Longest attachment reference.
pub const MAX_ATTACHMENT_CHARS: usize = 2048;
/// Longest reporter contact.
pub const MAX_CONTACT_CHARS: usize = 100;

/// A description: 1-4,000 characters after trimming.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Description(String);

impl Description {
    /// Accepts a valid description or says what is wrong.
    pub fn parse(text: &str) -> Result<Description, &'static str> {
        let text = text.trim();
        if text.is_empty() {
            return Err("must not be empty");
        }
        if text.chars().count() > MAX_DESCRIPTION_CHARS {
            return Err("must be at most 4,000 characters");
        }
        Ok(Description(text.to_owned()))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An attachment reference: a URI of a stored file (no spaces or controls).
pub fn attachment_problem(reference: &str) -> Option<&'static str> {
    if reference.is_empty() || reference.chars().count() > MAX_ATTACHMENT_CHARS {
        return Some("must be 1-2048 characters");
    }
    if !reference.contains(':')
        || reference
            .chars()
            .any(|c| c.is_whitespace() || c.is_control())
    {
        return Some("must be a URI such as s3://bucket/key or https://...");
    }
    None
}

/// A parsed report, before the category's rules are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Where.
    pub cell: CellId,
    /// Which category.
    pub category: super::directory::CategoryId,
    /// How urgent.
    pub urgency: super::directory::Urgency,
    /// How it came in.
    pub channel: Channel,
    /// What happened.
    pub description: Description,
    /// Stored files.
    pub attachments: Vec<String>,
    /// The category's extra fields.
    pub fields: BTreeMap<String, String>,
    /// The reporter's contact, in clear until it is sealed.
    pub reporter_contact: Option<String>,
}
