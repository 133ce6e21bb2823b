//! GetTaskStatistics' arithmetic: the counts a window of tasks adds up to,
//! the rates they give, and how a window splits into whole days (read from
//! the kept tallies) and the hours at its edges (counted from the history).
//! Pure; the counts come from the database.

use std::ops::AddAssign;

use chrono::{DateTime, Days, NaiveDate, Utc};

use super::calendar::CST_OFFSET;

/// What the rates are made of, summed over tasks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tallies {
    /// Tasks.
    pub tasks: i64,
    /// Acceptances and check-ins with a deadline, and those made on time.
    pub responses: i64,
    pub responses_on_time: i64,
    /// Resolutions (by the grid or a department) with a deadline, and those on time.
    pub resolutions: i64,
    pub resolutions_on_time: i64,
    /// Ratings, and the satisfied ones.
    pub ratings: i64,
    pub ratings_satisfied: i64,
    /// Departments' returns and check-ins.
    pub returns: i64,
    pub check_ins: i64,
    /// Reopenings, and resolutions a reopening can follow.
    pub reopenings: i64,
    pub resolved: i64,
}

impl AddAssign for Tallies {
    fn add_assign(&mut self, other: Tallies) {
        self.tasks += other.tasks;
        self.responses += other.responses;
        self.responses_on_time += other.responses_on_time;
        self.resolutions += other.resolutions;
        self.resolutions_on_time += other.resolutions_on_time;
        self.ratings += other.ratings;
        self.ratings_satisfied += other.ratings_satisfied;
        self.returns += other.returns;
        self.check_ins += other.check_ins;
        self.reopenings += other.reopenings;
        self.resolved += other.resolved;
    }
}

/// The rates of the tasks reported in a window, within a scope.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TaskStatistics {
    /// Tasks counted.
    pub task_count: i64,
    /// Acceptances and check-ins made on time, as a share.
    pub response_rate: f64,
    /// Resolutions (by the grid or a department) made on time, as a share.
    pub resolution_rate: f64,
    /// Ratings that were satisfied, as a share.
    pub satisfaction_rate: f64,
    /// Department responses that were returns, as a share of check-ins and returns.
    pub return_rate: f64,
    /// Reopenings per resolution.
    pub reopen_rate: f64,
}

impl Tallies {
    /// The rates; a rate of nothing is 0.
    pub fn statistics(&self) -> TaskStatistics {
        TaskStatistics {
            task_count: self.tasks,
            response_rate: share(self.responses_on_time, self.responses),
            resolution_rate: share(self.resolutions_on_time, self.resolutions),
            satisfaction_rate: share(self.ratings_satisfied, self.ratings),
            return_rate: share(self.returns, self.returns + self.check_ins),
            reopen_rate: share(self.reopenings, self.resolved),
        }
    }
}

fn share(part: i64, whole: i64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// Report times `[from, to)`, either end open.
pub type Span = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// A window of report times cut into the whole days (China Standard Time)
/// the tallies answer for and the instants at its edges they cannot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowParts {
    /// Whole days `[first, end)`, unbounded where the window is; None when
    /// the window holds no whole day.
    pub days: Option<(Option<NaiveDate>, Option<NaiveDate>)>,
    /// Edges `[from, to)` to count from the history.
    pub edges: Vec<Span>,
}

/// Cuts `[after, before)` (either end open) at the first and last
/// midnights inside it.
pub fn split_window(after: Option<DateTime<Utc>>, before: Option<DateTime<Utc>>) -> WindowParts {
    let first = after.map(next_midnight);
    let end = before.map(last_midnight);
    if let (Some(first), Some(end)) = (first, end)
        && first >= end
    {
        return WindowParts {
            days: None,
            edges: vec![(after, before)],
        };
    }
    let mut edges = Vec::new();
    if let (Some(after), Some(first)) = (after, first)
        && after < first
    {
        edges.push((Some(after), Some(first)));
    }
    if let (Some(before), Some(end)) = (before, end)
        && end < before
    {
        edges.push((Some(end), Some(before)));
    }
    WindowParts {
        days: Some((first.map(cst_date), end.map(cst_date))),
        edges,
    }
}

/// The China Standard Time date of `at`.
pub fn cst_date(at: DateTime<Utc>) -> NaiveDate {
    (at + CST_OFFSET).date_naive()
}

fn midnight(date: NaiveDate) -> DateTime<Utc> {
    date.and_time(chrono::NaiveTime::MIN).and_utc() - CST_OFFSET
}

/// `at` if it is a midnight, else the one after.
fn next_midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    let start = midnight(cst_date(at));
    if start == at {
        at
    } else {
        midnight(
            cst_date(at)
                .checked_add_days(Days::new(1))
                .unwrap_or(NaiveDate::MAX),
        )
    }
}

/// The midnight at or before `at`.
fn last_midnight(at: DateTime<Utc>) -> DateTime<Utc> {
    midnight(cst_date(at))
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
    }

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    #[test]
    fn a_month_in_china_standard_time_is_whole_days_and_no_edges() {
        // 1 November 00:00 CST is 31 October 16:00 UTC.
        let parts = split_window(
            Some(utc(2026, 10, 31, 16, 0)),
            Some(utc(2026, 11, 30, 16, 0)),
        );
        assert_eq!(
            parts.days,
            Some((Some(date(2026, 11, 1)), Some(date(2026, 12, 1))))
        );
        assert!(parts.edges.is_empty());
    }

    #[test]
    fn a_window_off_midnight_keeps_its_hours_at_both_edges() {
        let (after, before) = (utc(2026, 11, 1, 3, 30), utc(2026, 11, 5, 20, 0));
        let parts = split_window(Some(after), Some(before));
        // 2 November CST begins 1 November 16:00 UTC; 6 November CST at 5 November 16:00.
        assert_eq!(
            parts.days,
            Some((Some(date(2026, 11, 2)), Some(date(2026, 11, 6))))
        );
        assert_eq!(
            parts.edges,
            vec![
                (Some(after), Some(utc(2026, 11, 1, 16, 0))),
                (Some(utc(2026, 11, 5, 16, 0)), Some(before)),
            ]
        );
    }

    #[test]
    fn a_window_inside_one_day_is_all_edge() {
        let (after, before) = (utc(2026, 11, 1, 1, 0), utc(2026, 11, 1, 2, 0));
        let parts = split_window(Some(after), Some(before));
        assert_eq!(parts.days, None);
        assert_eq!(parts.edges, vec![(Some(after), Some(before))]);
    }

    #[test]
    fn an_open_window_is_every_day_and_an_open_end_keeps_its_one_edge() {
        assert_eq!(
            split_window(None, None),
            WindowParts {
                days: Some((None, None)),
                edges: vec![]
            }
        );
        let after = utc(2026, 11, 1, 3, 30);
        let parts = split_window(Some(after), None);
        assert_eq!(parts.days, Some((Some(date(2026, 11, 2)), None)));
        assert_eq!(
            parts.edges,
            vec![(Some(after), Some(utc(2026, 11, 1, 16, 0)))]
        );
    }

    #[test]
    fn rates_of_nothing_are_zero_and_returns_share_the_responses() {
        assert_eq!(Tallies::default().statistics(), TaskStatistics::default());
        let tallies = Tallies {
            tasks: 4,
            responses: 4,
            responses_on_time: 3,
            returns: 1,
            check_ins: 3,
            ratings: 2,
            ratings_satisfied: 1,
            reopenings: 1,
            resolved: 4,
            ..Tallies::default()
        };
        let stats = tallies.statistics();
        assert_eq!(stats.task_count, 4);
        assert_eq!(stats.response_rate, 0.75);
        assert_eq!(stats.return_rate, 0.25);
        assert_eq!(stats.satisfaction_rate, 0.5);
        assert_eq!(stats.reopen_rate, 0.25);
        assert_eq!(stats.resolution_rate, 0.0);
    }
}
