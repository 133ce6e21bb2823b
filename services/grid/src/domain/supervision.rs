//! Supervision (督办): which deadlines a task has open, and which rungs of
//! the escalation ladder are due for one of them.

use chrono::{DateTime, Duration, Utc};

use super::task::{AssignmentState, Lifecycle, TaskState};

/// The step that is (or will be) late.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    /// The grid has not accepted the task.
    Accept = 1,
    /// A department has not checked in.
    CheckIn = 2,
    /// The grid or a department has not resolved.
    Resolve = 3,
}

impl Step {
    /// From its stored number.
    pub fn from_number(number: i32) -> Option<Step> {
        [Step::Accept, Step::CheckIn, Step::Resolve]
            .into_iter()
            .find(|s| *s as i32 == number)
    }
}

/// The rungs of the ladder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Level {
    /// Before the deadline.
    Warning = 1,
    /// At the deadline.
    Order = 2,
    /// A further period after it.
    Red = 3,
}

impl Level {
    /// From its stored number.
    pub fn from_number(number: i32) -> Option<Level> {
        [Level::Warning, Level::Order, Level::Red]
            .into_iter()
            .find(|l| *l as i32 == number)
    }
}

/// When each rung is due relative to a deadline (configuration).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ladder {
    /// A warning this long before the deadline.
    pub warning_before: Duration,
    /// Red escalation this long after it.
    pub red_after: Duration,
}

/// One open deadline of a task.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lapse {
    /// The department responsible; empty when the grid is.
    pub department: String,
    /// Which step.
    pub step: Step,
    /// The deadline.
    pub due: DateTime<Utc>,
}

/// The deadlines a task has open now: acceptance while reported, the grid's
/// resolution while it handles the task, each open department's check-in or
/// resolution while whistled. Nothing for other states.
pub fn open_lapses(task: &Lifecycle) -> Vec<Lapse> {
    let grid = |step, due: Option<DateTime<Utc>>| {
        due.map(|due| Lapse {
            department: String::new(),
            step,
            due,
        })
    };
    match task.state {
        TaskState::Reported => grid(Step::Accept, task.accept_due).into_iter().collect(),
        TaskState::Accepted | TaskState::InProgress => {
            grid(Step::Resolve, task.resolve_due).into_iter().collect()
        }
        TaskState::Whistled => task
            .assignments
            .iter()
            .filter_map(|a| match a.state {
                AssignmentState::Assigned => Some(Lapse {
                    department: a.department.clone(),
                    step: Step::CheckIn,
                    due: a.check_in_due,
                }),
                AssignmentState::CheckedIn => a.resolve_due.map(|due| Lapse {
                    department: a.department.clone(),
                    step: Step::Resolve,
                    due,
                }),
                _ => None,
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// The rungs due at `now` for a deadline `due`. A sweeper that was down
/// when a deadline passed issues the order (and red) late, but no warning:
/// warning of a deadline already missed helps nobody.
pub fn levels_due(ladder: &Ladder, due: DateTime<Utc>, now: DateTime<Utc>) -> Vec<Level> {
    if now >= due + ladder.red_after {
        vec![Level::Order, Level::Red]
    } else if now >= due {
        vec![Level::Order]
    } else if now >= due - ladder.warning_before {
        vec![Level::Warning]
    } else {
        Vec::new()
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn ladder() -> Ladder {
        Ladder {
            warning_before: Duration::minutes(30),
            red_after: Duration::hours(24),
        }
    }

    #[test]
    fn the_ladder_climbs_from_warning_to_order_to_red() {
        let due = Utc
            .with_ymd_and_hms(2026, 5, 6, 8, 0, 0)
            .single()
            .unwrap_or_default();
        assert_eq!(
            levels_due(&ladder(), due, due - Duration::minutes(31)),
            vec![]
        );
        assert_eq!(
            levels_due(&ladder(), due, due - Duration::minutes(30)),
            vec![Level::Warning]
        );
        assert_eq!(levels_due(&ladder(), due, due), vec![Level::Order]);
        assert_eq!(
            levels_due(&ladder(), due, due + Duration::hours(24)),
            vec![Level::Order, Level::Red]
        );
    }
}
