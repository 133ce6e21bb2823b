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

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, TimeZone};

    use super::*;
    use crate::domain::calendar::YearCalendar;
    use crate::domain::directory::{CategoryId, Urgency};

    fn spring_festival_2026() -> WorkCalendar {
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
        WorkCalendar::new([YearCalendar {
            year: 2026,
            holidays: [(2, 16), (2, 17), (2, 18), (2, 19), (2, 20), (2, 23)]
                .into_iter()
                .map(|(m, d)| day(m, d))
                .collect(),
            make_up_working_days: [(2, 14), (2, 28)]
                .into_iter()
                .map(|(m, d)| day(m, d))
                .collect(),
        }])
    }

    fn policy(minutes: [u32; 4]) -> DeadlinePolicy {
        let working = |minutes| Allowance {
            minutes,
            clock: Clock::Working,
        };
        DeadlinePolicy {
            category: CategoryId::parse("leak").unwrap_or_else(|| unreachable!()),
            urgency: Urgency::Normal,
            accept: working(minutes[0]),
            check_in: working(minutes[1]),
            resolve: working(minutes[2]),
            r#return: working(minutes[3]),
        }
    }

    /// 2026-02-13 16:30 China Standard Time, the Friday before the holiday.
    fn friday_before_the_holiday() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 2, 13, 8, 30, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn a_deadline_runs_on_into_the_make_up_saturday_before_the_spring_festival() {
        let clock = PolicyClock::new(Some(&policy([420, 840, 2100, 60])), spring_festival_2026());
        // One hour on Friday, then six on the make-up Saturday (Feb 14): 16:30 CST.
        assert_eq!(
            clock.accept_due(friday_before_the_holiday()),
            Utc.with_ymd_and_hms(2026, 2, 14, 8, 30, 0).unwrap()
        );
    }

    #[test]
    fn a_deadline_skips_the_whole_spring_festival_holiday() {
        let clock = PolicyClock::new(Some(&policy([420, 840, 2100, 60])), spring_festival_2026());
        // Friday 1 h + Saturday 7 h, then nothing until Tuesday Feb 24: six more hours end at 16:30 CST.
        assert_eq!(
            clock.check_in_due(friday_before_the_holiday()),
            Utc.with_ymd_and_hms(2026, 2, 24, 8, 30, 0).unwrap()
        );
    }

    #[test]
    fn a_category_without_a_policy_gets_the_working_day_fallback() {
        let clock = PolicyClock::new(None, spring_festival_2026());
        // Half a working day (210 min): Friday 60 min, then 150 on Saturday: 11:30 CST.
        assert_eq!(
            clock.accept_due(friday_before_the_holiday()),
            Utc.with_ymd_and_hms(2026, 2, 14, 3, 30, 0).unwrap()
        );
    }
}
