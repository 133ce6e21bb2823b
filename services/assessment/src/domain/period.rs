//! Assessment periods: a year, a quarter or a month in Asia/Shanghai.

use std::fmt;

use chrono::{DateTime, Datelike, TimeDelta, Utc};

/// China Standard Time. Asia/Shanghai has kept UTC+8 without daylight
/// saving since 1991, so a fixed offset is exact for every date the
/// service meets and needs no time-zone database.
const SHANGHAI_OFFSET_HOURS: i64 = 8;

/// One assessment period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Period {
    /// "2026"
    Year(i32),
    /// "2026-q4" (quarter 1-4)
    Quarter(i32, u32),
    /// "2026-11" (month 1-12)
    Month(i32, u32),
}

impl Period {
    /// The month, quarter and year (in that order) in which `time` falls in
    /// Asia/Shanghai.
    pub fn containing(time: DateTime<Utc>) -> [Period; 3] {
        let local = (time + TimeDelta::hours(SHANGHAI_OFFSET_HOURS)).naive_utc();
        let (year, month) = (local.year(), local.month());
        [
            Period::Month(year, month),
            Period::Quarter(year, (month - 1) / 3 + 1),
            Period::Year(year),
        ]
    }

    /// Parses "2026", "2026-q4" or "2026-11".
    pub fn parse(text: &str) -> Option<Period> {
        let year_of = |y: &str| -> Option<i32> {
            (y.len() == 4 && y.bytes().all(|b| b.is_ascii_digit()))
                .then(|| y.parse().ok())
                .flatten()
        };
        match text.split_once('-') {
            None => year_of(text).map(Period::Year),
            Some((year, rest)) => {
                let year = year_of(year)?;
                if let Some(quarter) = rest.strip_prefix('q') {
                    let quarter: u32 = (quarter.len() == 1)
                        .then(|| quarter.parse().ok())
                        .flatten()?;
                    (1..=4)
                        .contains(&quarter)
                        .then_some(Period::Quarter(year, quarter))
                } else {
                    let month: u32 = (rest.len() == 2 && rest.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| rest.parse().ok())
                        .flatten()?;
                    (1..=12)
                        .contains(&month)
                        .then_some(Period::Month(year, month))
                }
            }
        }
    }
}

impl Period {
    /// The first instant after the period (midnight Asia/Shanghai starting
    /// the next month, quarter or year): level metrics are the state as of
    /// just before it.
    pub fn end(self) -> DateTime<Utc> {
        let (year, month) = match self {
            Period::Year(year) => (year + 1, 1),
            Period::Quarter(year, 4) | Period::Month(year, 12) => (year + 1, 1),
            Period::Quarter(year, quarter) => (year, quarter * 3 + 1),
            Period::Month(year, month) => (year, month + 1),
        };
        let midnight = chrono::NaiveDate::from_ymd_opt(year, month, 1)
            .and_then(|day| day.and_hms_opt(0, 0, 0))
            .unwrap_or(chrono::NaiveDateTime::MAX);
        midnight.and_utc() - TimeDelta::hours(SHANGHAI_OFFSET_HOURS)
    }
}

/// The day `time` falls on in Asia/Shanghai.
pub fn shanghai_date(time: DateTime<Utc>) -> chrono::NaiveDate {
    (time + TimeDelta::hours(SHANGHAI_OFFSET_HOURS))
        .naive_utc()
        .date()
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Period::Year(year) => write!(f, "{year:04}"),
            Period::Quarter(year, quarter) => write!(f, "{year:04}-q{quarter}"),
            Period::Month(year, month) => write!(f, "{year:04}-{month:02}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_taken_in_shanghai_time_not_utc() {
        // 2026-03-31T16:30Z is 2026-04-01 00:30 in Shanghai.
        let time = "2026-03-31T16:30:00Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(
            Period::containing(time),
            [
                Period::Month(2026, 4),
                Period::Quarter(2026, 2),
                Period::Year(2026)
            ]
        );
        let time = "2026-12-31T15:59:59Z".parse::<DateTime<Utc>>().unwrap();
        assert_eq!(Period::containing(time)[0], Period::Month(2026, 12));
    }

    #[test]
    fn a_period_ends_at_the_next_ones_midnight_in_shanghai_and_contains_the_instant_before() {
        let utc = |text: &str| text.parse::<DateTime<Utc>>().unwrap();
        for (period, end) in [
            ("2026", "2026-12-31T16:00:00Z"),
            ("2026-q4", "2026-12-31T16:00:00Z"),
            ("2026-q1", "2026-03-31T16:00:00Z"),
            ("2026-11", "2026-11-30T16:00:00Z"),
            ("2026-12", "2026-12-31T16:00:00Z"),
        ] {
            let period = Period::parse(period).unwrap();
            assert_eq!(period.end(), utc(end), "{period}");
            let last = period.end() - TimeDelta::microseconds(1);
            assert!(Period::containing(last).contains(&period), "{period}");
            assert!(
                !Period::containing(period.end()).contains(&period),
                "{period}"
            );
        }
    }

    #[test]
    fn periods_round_trip_through_their_text_and_bad_text_is_refused() {
        for text in ["2026", "2026-q1", "2026-q4", "2026-01", "2026-12"] {
            assert_eq!(Period::parse(text).unwrap().to_string(), text);
        }
        for bad in [
            "", "26", "2026-q0", "2026-q5", "2026-13", "2026-00", "2026-1", "2026-Q1", "x026",
            "2026-q11",
        ] {
            assert_eq!(Period::parse(bad), None, "{bad}");
        }
    }
}
