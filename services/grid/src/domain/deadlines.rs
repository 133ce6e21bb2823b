//! A task's deadlines from its category's policy and the working calendar.

use chrono::{DateTime, Utc};

use super::calendar::{Allowance, Clock, WorkCalendar};
use super::directory::DeadlinePolicy;
use super::task::DeadlineRules;

/// The allowances of a policy, measured on the working calendar.
pub struct PolicyClock {
    accept: Allowance,
    check_in: Allowance,
    resolve: Allowance,
    give_back: Allowance,
    calendar: WorkCalendar,
}

/// Working hours a category without a policy gets: a resident's request is
/// never refused for missing configuration, and these are conservative
/// (half a working day to accept, a working day to check in or return, five
/// working days to resolve).
const FALLBACK_MINUTES: [u32; 4] = [210, 420, 5 * 420, 420];

impl PolicyClock {
    /// Deadlines from `policy`, or the fallback when the category has none.
    pub fn new(policy: Option<&DeadlinePolicy>, calendar: WorkCalendar) -> PolicyClock {
        let working = |minutes| Allowance {
            minutes,
            clock: Clock::Working,
        };
        match policy {
            Some(policy) => PolicyClock {
                accept: policy.accept,
                check_in: policy.check_in,
                resolve: policy.resolve,
                give_back: policy.r#return,
                calendar,
            },
            None => PolicyClock {
                accept: working(FALLBACK_MINUTES[0]),
                check_in: working(FALLBACK_MINUTES[1]),
                resolve: working(FALLBACK_MINUTES[2]),
                give_back: working(FALLBACK_MINUTES[3]),
                calendar,
            },
        }
    }
}

impl DeadlineRules for PolicyClock {
    fn accept_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.calendar.due(from, self.accept)
    }

    fn check_in_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.calendar.due(from, self.check_in)
    }

    fn resolve_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.calendar.due(from, self.resolve)
    }

    fn return_due(&self, from: DateTime<Utc>) -> DateTime<Utc> {
        self.calendar.due(from, self.give_back)
    }
}
