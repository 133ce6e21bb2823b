//! People in the grid: who holds which duty in which cell, and for how long
//! ("cadres to compounds, grids to buildings").

use std::fmt;

use chrono::{DateTime, Utc};

use super::cell::{CellId, DisplayName, Level};

/// The duty a person holds in a cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StaffRole {
    /// 网格长.
    GridChief = 1,
    /// 网格员.
    GridWorker = 2,
    /// 楼栋长.
    BuildingChief = 3,
    /// 单元长.
    UnitChief = 4,
    /// 下沉干部: a cadre sunk from a county department.
    SunkCadre = 5,
}

impl StaffRole {
    /// The role for its number (1-5, as in `StaffRole`).
    pub fn from_number(number: i32) -> Option<StaffRole> {
        Some(match number {
            1 => StaffRole::GridChief,
            2 => StaffRole::GridWorker,
            3 => StaffRole::BuildingChief,
            4 => StaffRole::UnitChief,
            5 => StaffRole::SunkCadre,
            _ => return None,
        })
    }

    /// Its number, as stored.
    pub fn number(self) -> i16 {
        self as i16
    }

    /// The levels of cell the duty is held in. Sunk cadres go to
    /// communities and to compounds (grids, buildings / courtyards).
    pub fn levels(self) -> &'static [Level] {
        match self {
            StaffRole::GridChief | StaffRole::GridWorker => &[Level::Grid],
            StaffRole::BuildingChief => &[Level::Building],
            StaffRole::UnitChief => &[Level::Unit],
            StaffRole::SunkCadre => &[Level::Community, Level::Grid, Level::Building],
        }
    }

    /// Only sunk cadres come from (and keep) a home department.
    pub fn has_home_department(self) -> bool {
        self == StaffRole::SunkCadre
    }
}

impl fmt::Display for StaffRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StaffRole::GridChief => "grid chief",
            StaffRole::GridWorker => "grid worker",
            StaffRole::BuildingChief => "building chief",
            StaffRole::UnitChief => "unit chief",
            StaffRole::SunkCadre => "sunk cadre",
        })
    }
}

/// Longest person account, in characters.
const MAX_PERSON_CHARS: usize = 200;

/// A person's account: the `sub` of their tokens.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Person(String);

impl Person {
    /// Accepts 1-200 characters without whitespace or control characters
    /// (token subjects never have them); or says what is wrong.
    pub fn parse(text: &str) -> Result<Person, &'static str> {
        if text.is_empty() {
            return Err("is required: the person's account (the `sub` of their tokens)");
        }
        if text.chars().count() > MAX_PERSON_CHARS {
            return Err("must be at most 200 characters");
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain whitespace or control characters");
        }
        Ok(Person(text.to_owned()))
    }

    /// The account.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A department's code, as in `departments/{id}`: `[a-z0-9-]{1,63}`.
///
/// Whether the department exists is not checked: the directory of
/// departments lives beside the grid and may be filled in later.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DepartmentId(String);

impl DepartmentId {
    /// Accepts `departments/{id}`.
    pub fn parse_name(name: &str) -> Option<DepartmentId> {
        let id = name.strip_prefix("departments/")?;
        let valid = (1..=63).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        valid.then(|| DepartmentId(id.to_owned()))
    }

    /// Trusts a code read back from the database.
    pub fn from_stored(id: String) -> DepartmentId {
        DepartmentId(id)
    }

    /// The code, without the `departments/` prefix.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `departments/{id}`.
    pub fn name(&self) -> String {
        format!("departments/{}", self.0)
    }
}

/// When a duty holds: from `from` (inclusive) until `until` (exclusive),
/// open-ended when `until` is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValidityPeriod {
    from: DateTime<Utc>,
    until: Option<DateTime<Utc>>,
}

impl ValidityPeriod {
    /// A period whose end, if any, is after its start; or says what is wrong.
    pub fn new(
        from: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
    ) -> Result<ValidityPeriod, &'static str> {
        if until.is_some_and(|until| until <= from) {
            return Err("must be after valid_from");
        }
        Ok(ValidityPeriod { from, until })
    }

    /// A period read back from the database, trusted as stored (an ended
    /// duty may have an empty period, which [`ValidityPeriod::new`] refuses).
    pub fn from_stored(from: DateTime<Utc>, until: Option<DateTime<Utc>>) -> ValidityPeriod {
        ValidityPeriod { from, until }
    }

    /// The start.
    pub fn from(&self) -> DateTime<Utc> {
        self.from
    }

    /// The end, if any.
    pub fn until(&self) -> Option<DateTime<Utc>> {
        self.until
    }

    /// Whether the duty holds at `at`.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }

    /// Whether the two periods share an instant.
    pub fn overlaps(&self, other: &ValidityPeriod) -> bool {
        self.until.is_none_or(|until| other.from < until)
            && other.until.is_none_or(|until| self.from < until)
    }
}

/// A new duty, parsed from a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStaffAssignment {
    /// The cell the duty is held in.
    pub cell: CellId,
    /// Who holds it.
    pub person: Person,
    /// Their name, for lists.
    pub person_display_name: DisplayName,
    /// The duty.
    pub role: StaffRole,
    /// For sunk cadres (and only for them): where they come from.
    pub home_department: Option<DepartmentId>,
    /// When it holds.
    pub period: ValidityPeriod,
}

/// Why a duty cannot be assigned or ended, whatever the caller's rights.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StaffRuleError {
    /// The role is not held at that level of cell.
    #[error("a {role} serves in a {}, not in a {level}", levels(.role))]
    WrongLevel {
        /// The duty.
        role: StaffRole,
        /// The cell's level.
        level: Level,
    },
    /// The duty has already ended.
    #[error("the duty already ended at {0}")]
    AlreadyEnded(DateTime<Utc>),
}

/// "grid", "community, grid or building".
fn levels(role: &StaffRole) -> String {
    let names: Vec<String> = role.levels().iter().map(Level::to_string).collect();
    match names.split_last() {
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// Checks that `role` may be held in a cell at `level`.
pub fn check_level(role: StaffRole, level: Level) -> Result<(), StaffRuleError> {
    if role.levels().contains(&level) {
        Ok(())
    } else {
        Err(StaffRuleError::WrongLevel { role, level })
    }
}

/// The period of a duty ended at `now`. A duty that has not begun yet ends
/// at its start: an empty period, never valid, so planned duties can be
/// called off too.
pub fn end(period: ValidityPeriod, now: DateTime<Utc>) -> Result<ValidityPeriod, StaffRuleError> {
    if let Some(until) = period.until
        && until <= now
    {
        return Err(StaffRuleError::AlreadyEnded(until));
    }
    Ok(ValidityPeriod {
        from: period.from,
        until: Some(now.max(period.from)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 27, hour, 0, 0)
            .single()
            .unwrap_or_else(|| unreachable!())
    }

    #[test]
    fn a_period_ends_after_it_starts_and_excludes_its_end() {
        assert!(ValidityPeriod::new(at(10), Some(at(10))).is_err());
        assert!(ValidityPeriod::new(at(10), Some(at(9))).is_err());
        let period = ValidityPeriod::new(at(10), Some(at(12))).expect("valid");
        assert!(!period.contains(at(9)));
        assert!(period.contains(at(10)));
        assert!(period.contains(at(11)));
        assert!(!period.contains(at(12)));
        let open = ValidityPeriod::new(at(10), None).expect("valid");
        assert!(open.contains(at(23)));
    }

    #[test]
    fn periods_overlap_only_when_they_share_an_instant() {
        let morning = ValidityPeriod::new(at(8), Some(at(12))).expect("valid");
        let afternoon = ValidityPeriod::new(at(12), Some(at(18))).expect("valid");
        let from_eleven = ValidityPeriod::new(at(11), None).expect("valid");
        assert!(!morning.overlaps(&afternoon));
        assert!(!afternoon.overlaps(&morning));
        assert!(morning.overlaps(&from_eleven));
        assert!(from_eleven.overlaps(&afternoon));
    }

    #[test]
    fn ending_a_duty_sets_its_end_to_now_once() {
        let open = ValidityPeriod::new(at(8), None).expect("valid");
        let ended = end(open, at(10)).expect("ends");
        assert_eq!(ended.until(), Some(at(10)));
        assert!(!ended.contains(at(10)));
        assert_eq!(
            end(ended, at(11)),
            Err(StaffRuleError::AlreadyEnded(at(10)))
        );
        // A scheduled end still ahead is brought forward.
        let scheduled = ValidityPeriod::new(at(8), Some(at(20))).expect("valid");
        assert_eq!(end(scheduled, at(9)).expect("ends").until(), Some(at(9)));
    }

    #[test]
    fn a_duty_not_yet_begun_is_called_off_with_an_empty_period() {
        let planned = ValidityPeriod::new(at(14), None).expect("valid");
        let called_off = end(planned, at(9)).expect("ends");
        assert_eq!(called_off.until(), Some(at(14)));
        assert!(!called_off.contains(at(14)));
    }

    #[test]
    fn each_duty_is_held_at_its_own_levels() {
        assert!(check_level(StaffRole::GridChief, Level::Grid).is_ok());
        assert!(check_level(StaffRole::BuildingChief, Level::Building).is_ok());
        assert!(check_level(StaffRole::UnitChief, Level::Unit).is_ok());
        assert!(check_level(StaffRole::SunkCadre, Level::Community).is_ok());
        assert!(check_level(StaffRole::SunkCadre, Level::Building).is_ok());
        assert_eq!(
            check_level(StaffRole::GridWorker, Level::Street).map_err(|e| e.to_string()),
            Err("a grid worker serves in a grid, not in a street".to_owned())
        );
        assert_eq!(
            check_level(StaffRole::SunkCadre, Level::Unit).map_err(|e| e.to_string()),
            Err("a sunk cadre serves in a community, grid or building, not in a unit".to_owned())
        );
    }

    #[test]
    fn people_and_departments_are_parsed_strictly() {
        assert!(Person::parse("zhang.wei@county").is_ok());
        assert!(Person::parse("").is_err());
        assert!(Person::parse("zhang wei").is_err());
        assert_eq!(
            DepartmentId::parse_name("departments/housing").map(|d| d.as_str().to_owned()),
            Some("housing".to_owned())
        );
        assert_eq!(DepartmentId::parse_name("housing"), None);
        assert_eq!(DepartmentId::parse_name("departments/Housing"), None);
        assert_eq!(DepartmentId::parse_name("departments/"), None);
    }
}
