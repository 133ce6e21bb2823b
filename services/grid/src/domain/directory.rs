//! The directory tasks are measured against: functional departments, task
//! categories with their extra fields, and deadline policies per category
//! and urgency. Values here exist only once parsed.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Datelike, NaiveDate, Utc, Weekday};

use super::calendar::{Allowance, MAX_ALLOWANCE_MINUTES};
use super::cell::DisplayName;

/// A department's code, e.g. `housing`; the rules of cell codes
/// (`civicgrid_cell_tree::is_valid_id`), so it is safe in resource names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DepartmentId(String);

impl DepartmentId {
    /// Accepts a valid code.
    pub fn parse(id: &str) -> Option<DepartmentId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| DepartmentId(id.to_owned()))
    }

    /// Accepts `departments/{id}`.
    pub fn parse_name(name: &str) -> Option<DepartmentId> {
        name.strip_prefix("departments/")
            .and_then(DepartmentId::parse)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `departments/{id}`.
    pub fn resource_name(&self) -> String {
        format!("departments/{}", self.0)
    }
}

impl fmt::Display for DepartmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A category's code, e.g. `illegal-parking`; the rules of cell codes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct CategoryId(String);

impl CategoryId {
    /// Accepts a valid code.
    pub fn parse(id: &str) -> Option<CategoryId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| CategoryId(id.to_owned()))
    }

    /// Accepts `categories/{id}`.
    pub fn parse_name(name: &str) -> Option<CategoryId> {
        name.strip_prefix("categories/").and_then(CategoryId::parse)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `categories/{id}`.
    pub fn resource_name(&self) -> String {
        format!("categories/{}", self.0)
    }
}

impl fmt::Display for CategoryId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The key of a category's extra field: `[a-z][a-z0-9_]{0,62}`, so it can
/// be a JSON key, a column name or a form field name without escaping.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldKey(String);

impl FieldKey {
    /// Accepts a valid key.
    pub fn parse(key: &str) -> Option<FieldKey> {
        let bytes = key.as_bytes();
        let valid = matches!(bytes.first(), Some(b'a'..=b'z'))
            && bytes.len() <= 63
            && bytes
                .iter()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'_');
        valid.then(|| FieldKey(key.to_owned()))
    }

    /// The key.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Most extra fields a category may ask for: a reporter fills them in on a
/// phone, so a long form is a design mistake rather than a need.
pub const MAX_CATEGORY_FIELDS: usize = 32;

/// A functional department (职能部门).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Department {
    /// Its code.
    pub id: DepartmentId,
    /// Its name.
    pub display_name: DisplayName,
}

/// One extra field a category asks reporters for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryField {
    /// The key tasks use.
    pub key: FieldKey,
    /// What the form shows.
    pub display_name: DisplayName,
    /// Whether a task of the category must carry it.
    pub required: bool,
}

/// A kind of task with the extra fields it needs; keys are unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Its code.
    pub id: CategoryId,
    /// Its name.
    pub display_name: DisplayName,
    /// Extra fields in form order.
    pub fields: Vec<CategoryField>,
}

/// What is wrong with a task's extra fields for its category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    /// A required field is absent or blank.
    Missing(String),
    /// The category has no such field.
    Unknown(String),
}

impl Category {
    /// Every problem of the extra `values` (key, value) a task carries:
    /// required fields absent or blank, keys the category does not know.
    pub fn field_problems<'a>(
        &self,
        values: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<FieldProblem> {
        let mut present = BTreeSet::new();
        let mut problems = Vec::new();
        for (key, value) in values {
            if !self.fields.iter().any(|field| field.key.as_str() == key) {
                problems.push(FieldProblem::Unknown(key.to_owned()));
            } else if !value.trim().is_empty() {
                present.insert(key);
            }
        }
        for field in &self.fields {
            if field.required && !present.contains(field.key.as_str()) {
                problems.push(FieldProblem::Missing(field.key.as_str().to_owned()));
            }
        }
        problems
    }
}

/// How urgent a task is; every deadline depends on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Urgency {
    /// Can wait.
    Low = 1,
    /// The usual.
    Normal = 2,
    /// Needs attention today.
    Urgent = 3,
    /// Danger to people or property: the wall clock runs.
    Emergency = 4,
}

impl Urgency {
    /// Every urgency, least urgent first.
    pub const ALL: [Urgency; 4] = [
        Urgency::Low,
        Urgency::Normal,
        Urgency::Urgent,
        Urgency::Emergency,
    ];

    /// The urgency for its number (1-4, as `civicgrid.grid.v1.Urgency` and
    /// the database number them).
    pub fn from_number(number: i32) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| *u as i32 == number)
    }

    /// Its number (1-4).
    pub fn number(self) -> i16 {
        self as i16
    }

    /// The segment of a policy name: `low`, `normal`, `urgent`, `emergency`.
    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Normal => "normal",
            Urgency::Urgent => "urgent",
            Urgency::Emergency => "emergency",
        }
    }

    /// The urgency of a policy name segment.
    pub fn parse(segment: &str) -> Option<Urgency> {
        Urgency::ALL.into_iter().find(|u| u.as_str() == segment)
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The time allowed for each step of a task of one category and urgency.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// The category.
    pub category: CategoryId,
    /// The urgency.
    pub urgency: Urgency,
    /// For the grid (or street) to accept a reported task.
    pub accept: Allowance,
    /// For a whistled department to check in.
    pub check_in: Allowance,
    /// To resolve, from check-in (or acceptance).
    pub resolve: Allowance,
    /// For a department to return a task that is not its own, from the whistle.
    pub r#return: Allowance,
}

impl DeadlinePolicy {
    /// `categories/{category}/deadlinePolicies/{urgency}`.
    pub fn resource_name(&self) -> String {
        policy_name(&self.category, self.urgency)
    }
}

/// `categories/{category}/deadlinePolicies/{urgency}`.
pub fn policy_name(category: &CategoryId, urgency: Urgency) -> String {
    format!("categories/{category}/deadlinePolicies/{urgency}")
}

/// The category and urgency of a policy name.
pub fn parse_policy_name(name: &str) -> Option<(CategoryId, Urgency)> {
    let rest = name.strip_prefix("categories/")?;
    let (category, urgency) = rest.split_once("/deadlinePolicies/")?;
    Some((CategoryId::parse(category)?, Urgency::parse(urgency)?))
}

/// Whether `minutes` is an allowed allowance length (1 to a year).
pub fn valid_minutes(minutes: i64) -> bool {
    (1..=i64::from(MAX_ALLOWANCE_MINUTES)).contains(&minutes)
}

/// Oldest and newest years a working calendar may describe.
pub const CALENDAR_YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;

/// `workingCalendars/{year}`.
pub fn calendar_name(year: i32) -> String {
    format!("workingCalendars/{year}")
}

/// The year of `workingCalendars/{year}` within [`CALENDAR_YEARS`].
pub fn parse_calendar_name(name: &str) -> Option<i32> {
    let year = name.strip_prefix("workingCalendars/")?;
    // `parse` would accept "+2026" and "02026": one spelling per calendar.
    if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    year.parse().ok().filter(|y| CALENDAR_YEARS.contains(y))
}

/// Why a day cannot be in a year's calendar, if it cannot.
pub fn holiday_problem(year: i32, date: NaiveDate) -> Option<&'static str> {
    if date.year() != year {
        Some("must fall in the calendar's year")
    } else if is_weekend(date) {
        Some("must be a weekday: weekends are off anyway")
    } else {
        None
    }
}

/// Why a day cannot be a make-up working day of `year`, if it cannot.
pub fn make_up_day_problem(year: i32, date: NaiveDate) -> Option<&'static str> {
    if date.year() != year {
        Some("must fall in the calendar's year")
    } else if !is_weekend(date) {
        Some("must be a Saturday or Sunday: weekdays are worked anyway")
    } else {
        None
    }
}

fn is_weekend(date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
}

/// A stored directory entry with its version and times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Versioned<T> {
    /// The entry.
    pub value: T,
    /// 1 when created, +1 on every replacement.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last replaced at.
    pub update_time: DateTime<Utc>,
}

/// Why a directory change is refused, whatever the caller's rights.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectoryRuleError {
    /// A policy names a category that does not exist.
    #[error("category `{0}` does not exist; create it before its deadline policies")]
    CategoryMissing(CategoryId),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn category(fields: &[(&str, bool)]) -> Category {
        Category {
            id: CategoryId::parse("illegal-parking").unwrap(),
            display_name: DisplayName::parse("违章停车").unwrap(),
            fields: fields
                .iter()
                .map(|&(key, required)| CategoryField {
                    key: FieldKey::parse(key).unwrap(),
                    display_name: DisplayName::parse(key).unwrap(),
                    required,
                })
                .collect(),
        }
    }

    #[test]
    fn field_keys_are_lowercase_identifiers() {
        for good in ["a", "licence_plate", "x9", &format!("a{}", "b".repeat(62))] {
            assert!(FieldKey::parse(good).is_some(), "{good}");
        }
        for bad in ["", "9a", "_a", "A", "a-b", "a b", &"a".repeat(64)] {
            assert!(FieldKey::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn policy_names_round_trip_with_lower_case_urgencies() {
        let category = CategoryId::parse("noise").unwrap();
        for urgency in Urgency::ALL {
            let name = policy_name(&category, urgency);
            assert_eq!(parse_policy_name(&name), Some((category.clone(), urgency)));
        }
        assert_eq!(
            policy_name(&category, Urgency::Urgent),
            "categories/noise/deadlinePolicies/urgent"
        );
        for bad in [
            "categories/noise/deadlinePolicies/URGENT",
            "categories/noise/deadlinePolicies/",
            "categories/No/deadlinePolicies/low",
            "categories/noise",
            "noise/deadlinePolicies/low",
        ] {
            assert_eq!(parse_policy_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn urgencies_number_like_the_contract() {
        assert_eq!(Urgency::from_number(1), Some(Urgency::Low));
        assert_eq!(Urgency::from_number(4), Some(Urgency::Emergency));
        assert_eq!(Urgency::from_number(0), None);
        assert_eq!(Urgency::from_number(5), None);
        assert_eq!(Urgency::Urgent.number(), 3);
    }

    #[test]
    fn allowances_last_a_minute_to_a_year() {
        assert!(!valid_minutes(0));
        assert!(valid_minutes(1));
        assert!(valid_minutes(525_600));
        assert!(!valid_minutes(525_601));
        assert!(!valid_minutes(-5));
    }

    #[test]
    fn calendar_names_carry_a_four_digit_year() {
        assert_eq!(parse_calendar_name("workingCalendars/2026"), Some(2026));
        for bad in [
            "workingCalendars/+2026",
            "workingCalendars/02026",
            "workingCalendars/1999",
            "workingCalendars/",
            "calendars/2026",
        ] {
            assert_eq!(parse_calendar_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn holidays_are_weekdays_and_make_up_days_weekends_of_the_year() {
        let sunday = NaiveDate::from_ymd_opt(2026, 2, 15).unwrap();
        let monday = NaiveDate::from_ymd_opt(2026, 2, 16).unwrap();
        assert!(holiday_problem(2026, monday).is_none());
        assert!(holiday_problem(2026, sunday).is_some());
        assert!(holiday_problem(2027, monday).is_some());
        assert!(make_up_day_problem(2026, sunday).is_none());
        assert!(make_up_day_problem(2026, monday).is_some());
    }

    #[test]
    fn a_task_must_fill_required_fields_and_only_known_ones() {
        let parking = category(&[("licence_plate", true), ("colour", false)]);
        assert_eq!(
            parking.field_problems([("licence_plate", "浙A12345")]),
            vec![]
        );
        assert_eq!(
            parking.field_problems([("licence_plate", "  "), ("speed", "90")]),
            vec![
                FieldProblem::Unknown("speed".into()),
                FieldProblem::Missing("licence_plate".into())
            ]
        );
    }
}
