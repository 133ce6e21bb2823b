//! The demand, resource and project lists (三单制).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::centre::Location;
use super::matching::{GridPlace, IdleResource, OpenDemand};

/// Largest quantity or capacity accepted.
pub const MAX_AMOUNT: i32 = 100_000;

/// Whether `code` is a category code: 1-63 of a-z, 0-9 and `_`.
pub fn is_category(code: &str) -> bool {
    (1..=63).contains(&code.len())
        && code
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// A place in the grid with what matching needs of it and its path (for scope).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// The cell or compound entered.
    pub location: Location,
    /// Its street, community and compound.
    pub grid: GridPlace,
    /// Its cell path (a compound's: its community's).
    pub path: String,
}

/// A demand to enter, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDemand {
    /// Category code.
    pub category: String,
    /// Where.
    pub location: Location,
    /// How much.
    pub quantity: i32,
    /// Needed from.
    pub start: DateTime<Utc>,
    /// Needed until.
    pub end: DateTime<Utc>,
    /// A 微心愿.
    pub small_wish: bool,
    /// What.
    pub description: String,
}

/// Open or matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemandState {
    /// Waiting.
    Open,
    /// A project serves it.
    Matched,
}

/// A stored demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Demand {
    /// Its id.
    pub id: Uuid,
    /// Category code.
    pub category: String,
    /// Where.
    pub place: Placed,
    /// How much.
    pub quantity: i32,
    /// Needed from.
    pub start: DateTime<Utc>,
    /// Needed until.
    pub end: DateTime<Utc>,
    /// A 微心愿.
    pub small_wish: bool,
    /// What.
    pub description: String,
    /// Who entered it.
    pub requested_by: String,
    /// `tasks/{task_id}` when it came from a resident's request in the
    /// grid (`grid.task.reported`); `None` when entered directly.
    pub task: Option<String>,
    /// Open or matched.
    pub state: DemandState,
    /// Entered at.
    pub create_time: DateTime<Utc>,
}

impl Demand {
    /// `demands/{id}`.
    pub fn resource_name(&self) -> String {
        format!("demands/{}", self.id)
    }

    /// What matching sees of it.
    pub fn to_open(&self) -> OpenDemand {
        OpenDemand {
            id: self.id,
            category: self.category.clone(),
            place: self.place.grid.clone(),
            quantity: self.quantity,
            start: self.start,
            end: self.end,
        }
    }
}

/// A resource to enter, parsed (or taken from a report event).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewResource {
    /// Category code.
    pub category: String,
    /// Where it is offered.
    pub location: Location,
    /// How much.
    pub capacity: i32,
    /// Available from.
    pub start: DateTime<Utc>,
    /// Available until.
    pub end: DateTime<Utc>,
    /// What.
    pub description: String,
    /// `organisations/{id}` or `members/{id}`.
    pub provider: String,
    /// The report it came from, or empty.
    pub source: String,
}

/// Idle, committed or withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceState {
    /// Free to match.
    Idle,
    /// Serves a project.
    Committed,
    /// Its report ended.
    Withdrawn,
}

/// A stored resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// Its id.
    pub id: Uuid,
    /// Category code.
    pub category: String,
    /// Where.
    pub place: Placed,
    /// How much.
    pub capacity: i32,
    /// Available from.
    pub start: DateTime<Utc>,
    /// Available until.
    pub end: DateTime<Utc>,
    /// What.
    pub description: String,
    /// Who offers it.
    pub provider: String,
    /// The report it came from, or empty.
    pub source: String,
    /// Idle, committed or withdrawn.
    pub state: ResourceState,
    /// Entered at.
    pub create_time: DateTime<Utc>,
}

impl Resource {
    /// `resources/{id}`.
    pub fn resource_name(&self) -> String {
        format!("resources/{}", self.id)
    }

    /// What matching sees of it.
    pub fn to_idle(&self) -> IdleResource {
        IdleResource {
            id: self.id,
            category: self.category.clone(),
            place: self.place.grid.clone(),
            capacity: self.capacity,
            start: self.start,
            end: self.end,
        }
    }
}

/// A milestone reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestone {
    /// What.
    pub title: String,
    /// When.
    pub reach_time: DateTime<Utc>,
}

/// A project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// Its id.
    pub id: Uuid,
    /// The demand served.
    pub demand_id: Uuid,
    /// The resource serving it.
    pub resource_id: Uuid,
    /// Category code.
    pub category: String,
    /// Completed yet.
    pub completed: bool,
    /// Reached so far.
    pub milestones: Vec<Milestone>,
    /// 1-5 once completed, else 0.
    pub rating: i32,
    /// Who claimed it.
    pub started_by: String,
    /// Started at.
    pub start_time: DateTime<Utc>,
    /// Completed at.
    pub complete_time: Option<DateTime<Utc>>,
    /// Incremented on every change.
    pub version: i64,
}

impl Project {
    /// `projects/{id}`.
    pub fn resource_name(&self) -> String {
        format!("projects/{}", self.id)
    }
}

/// The uuid of `{collection}/{uuid}`.
pub fn parse_id(name: &str, collection: &str) -> Option<Uuid> {
    Uuid::parse_str(name.strip_prefix(collection)?.strip_prefix('/')?).ok()
}

/// The street and community of a cell path `/county/street/community/...`;
/// `None` above community level.
pub fn street_and_community(path: &str) -> Option<(String, String)> {
    let mut segments = path.split('/').filter(|s| !s.is_empty()).skip(1);
    let street = segments.next()?;
    let community = segments.next()?;
    Some((street.to_owned(), community.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_snake_case_codes_and_paths_give_street_and_community() {
        assert!(is_category("elderly_care"));
        assert!(!is_category("Elderly care"));
        assert!(!is_category(""));
        assert_eq!(
            street_and_community("/c/s1/m1/g1/"),
            Some(("s1".to_owned(), "m1".to_owned()))
        );
        assert_eq!(street_and_community("/c/s1/"), None);
    }
}
