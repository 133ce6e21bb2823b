//! Working time: which days are worked, which hours count, and when an
//! allowance that starts at some instant runs out. Pure; the calendars come
//! from the database, the instants from the caller.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Utc, Weekday};

/// Longest allowance, in minutes: a year of wall-clock time. Anything longer
/// is not a deadline but a wish.
pub const MAX_ALLOWANCE_MINUTES: u32 = 525_600;

/// The county keeps China Standard Time: UTC+8 all year (China has no DST),
/// so a fixed offset is exact and needs no time-zone database.
pub(crate) const CST_OFFSET: TimeDelta = TimeDelta::hours(8);

/// Office hours of every working day, in China Standard Time, as minutes
/// after midnight: 09:00-12:00 and 13:30-17:30, 7 hours a day. The lunch
/// break does not count, so a task reported at 11:30 with one working hour
/// is due at 14:00. In ascending order, not overlapping.
pub const WORKING_HOURS: [(u32, u32); 2] = [(9 * 60, 12 * 60), (13 * 60 + 30, 17 * 60 + 30)];

/// Working minutes in a full working day (420).
pub const WORKING_MINUTES_PER_DAY: u32 = {
    let mut total = 0;
    let mut i = 0;
    while i < WORKING_HOURS.len() {
        total += WORKING_HOURS[i].1 - WORKING_HOURS[i].0;
        i += 1;
    }
    total
};

/// Which clock an allowance runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Clock {
    /// Wall-clock time, nights, weekends and holidays included.
    Calendar,
    /// Working hours of working days only.
    Working,
}

/// Time allowed for one step of a task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Allowance {
    /// Minutes on `clock`.
    pub minutes: u32,
    /// The clock the minutes run on.
    pub clock: Clock,
}

/// One year's exceptions to the Monday-Friday week (调休).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct YearCalendar {
    /// The year.
    pub year: i32,
    /// Days off that would otherwise be worked.
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days worked instead.
    pub make_up_working_days: BTreeSet<NaiveDate>,
}

/// The working calendar over every year known; years without data are
/// plain Monday-Friday weeks.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WorkCalendar {
    years: BTreeMap<i32, YearCalendar>,
}

impl WorkCalendar {
    /// A calendar of `years`; a later entry for the same year replaces an earlier one.
    pub fn new(years: impl IntoIterator<Item = YearCalendar>) -> Self {
        WorkCalendar {
            years: years.into_iter().map(|year| (year.year, year)).collect(),
        }
    }

    /// Whether `date` (in China Standard Time) is worked: a holiday is off, a
    /// make-up day is on, otherwise Monday to Friday.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if let Some(year) = self.years.get(&date.year()) {
            if year.holidays.contains(&date) {
                return false;
            }
            if year.make_up_working_days.contains(&date) {
                return true;
            }
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// When `allowance` started at `start` runs out.
    ///
    /// On the working clock the minutes are counted through working hours
    /// only: a start outside them counts from the next working interval, an
    /// allowance that ends exactly at the end of an interval is due at that
    /// end (not at the start of the next), and zero minutes are due at
    /// `start`. Far-future results saturate at the latest representable time.
    pub fn due(&self, start: DateTime<Utc>, allowance: Allowance) -> DateTime<Utc> {
        match allowance.clock {
            Clock::Calendar => start
                .checked_add_signed(TimeDelta::minutes(i64::from(allowance.minutes)))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
            Clock::Working => self.working_due(start, allowance.minutes),
        }
    }

    fn working_due(&self, start: DateTime<Utc>, minutes: u32) -> DateTime<Utc> {
        if minutes == 0 {
            return start;
        }
        let Some(mut now) = start.naive_utc().checked_add_signed(CST_OFFSET) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        let mut remaining = TimeDelta::minutes(i64::from(minutes));
        let full_day = TimeDelta::minutes(i64::from(WORKING_MINUTES_PER_DAY));
        let mut date = now.date();
        // One step per calendar day: a year's allowance is a few hundred
        // steps, however many minutes it holds.
        loop {
            if self.is_working_day(date) {
                let day_start = local(date, WORKING_HOURS[0].0);
                if now <= day_start && remaining > full_day {
                    // The whole day is used up; do not walk its intervals.
                    remaining -= full_day;
                } else {
                    for (from, to) in WORKING_HOURS {
                        let (from, to) = (local(date, from), local(date, to));
                        if now >= to {
                            continue;
                        }
                        let begin = now.max(from);
                        let available = to - begin;
                        if remaining <= available {
                            return utc(begin + remaining);
                        }
                        remaining -= available;
                        now = to;
                    }
                }
            }
            let Some(next) = date.succ_opt() else {
                return DateTime::<Utc>::MAX_UTC;
            };
            date = next;
            now = local(date, 0);
        }
    }
}

/// `minutes` after midnight of `date`, local time.
fn local(date: NaiveDate, minutes: u32) -> NaiveDateTime {
    // Every value passed is below 24 h; midnight is the safe fallback.
    let time = NaiveTime::from_num_seconds_from_midnight_opt(minutes * 60, 0).unwrap_or_default();
    date.and_time(time)
}

/// A local (China Standard Time) instant in UTC.
fn utc(local: NaiveDateTime) -> DateTime<Utc> {
    local
        .checked_sub_signed(CST_OFFSET)
        .map(|naive| naive.and_utc())
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Timelike;
    use proptest::prelude::*;

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    /// A China Standard Time instant, in UTC.
    fn cst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        utc(local(day(y, m, d), h * 60 + min))
    }

    fn working(minutes: u32) -> Allowance {
        Allowance {
            minutes,
            clock: Clock::Working,
        }
    }

    /// The State Council's official 2026 schedule (notice of November 2025): weekdays
    /// off and weekend days worked.
    fn cn_2026() -> WorkCalendar {
        let holidays = [
            (1, 1),
            (1, 2),
            (2, 16),
            (2, 17),
            (2, 18),
            (2, 19),
            (2, 20),
            (2, 23),
            (4, 6),
            (5, 1),
            (5, 4),
            (5, 5),
            (6, 19),
            (9, 25),
            (10, 1),
            (10, 2),
            (10, 5),
            (10, 6),
            (10, 7),
        ];
        let make_up = [(1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10)];
        WorkCalendar::new([YearCalendar {
            year: 2026,
            holidays: holidays.iter().map(|&(m, d)| day(2026, m, d)).collect(),
            make_up_working_days: make_up.iter().map(|&(m, d)| day(2026, m, d)).collect(),
        }])
    }

    #[test]
    fn a_working_day_has_seven_working_hours() {
        assert_eq!(WORKING_MINUTES_PER_DAY, 420);
    }

    #[test]
    fn seven_hours_from_monday_nine_end_at_half_past_five_the_same_day() {
        let calendar = WorkCalendar::default();
        let monday = cst(2026, 3, 2, 9, 0);
        assert_eq!(calendar.due(monday, working(420)), cst(2026, 3, 2, 17, 30));
    }

    #[test]
    fn an_allowance_ending_at_the_lunch_break_is_due_at_noon_not_after_lunch() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.due(cst(2026, 3, 2, 9, 0), working(180)),
            cst(2026, 3, 2, 12, 0)
        );
    }

    #[test]
    fn zero_minutes_are_due_at_the_start_even_outside_hours() {
        let calendar = WorkCalendar::default();
        let saturday_night = cst(2026, 3, 7, 23, 15);
        assert_eq!(calendar.due(saturday_night, working(0)), saturday_night);
    }

    #[test]
    fn a_start_before_hours_counts_from_nine() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.due(cst(2026, 3, 3, 6, 40), working(30)),
            cst(2026, 3, 3, 9, 30)
        );
    }

    #[test]
    fn a_start_during_lunch_counts_from_half_past_one() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.due(cst(2026, 3, 3, 12, 45), working(60)),
            cst(2026, 3, 3, 14, 30)
        );
    }

    #[test]
    fn the_morning_remainder_carries_over_the_lunch_break() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.due(cst(2026, 3, 3, 11, 30), working(60)),
            cst(2026, 3, 3, 14, 0)
        );
    }

    #[test]
    fn a_start_after_hours_counts_from_the_next_morning() {
        let calendar = WorkCalendar::default();
        assert_eq!(
            calendar.due(cst(2026, 3, 3, 18, 5), working(45)),
            cst(2026, 3, 4, 9, 45)
        );
    }

    #[test]
    fn a_friday_afternoon_allowance_continues_on_monday() {
        let calendar = WorkCalendar::default();
        // 16:30 Friday: one hour left that day, the other three fill Monday morning.
        assert_eq!(
            calendar.due(cst(2026, 3, 6, 16, 30), working(240)),
            cst(2026, 3, 9, 12, 0)
        );
    }

    #[test]
    fn the_spring_festival_holiday_is_not_working_time() {
        let calendar = cn_2026();
        // Friday 13 Feb 2026, 16:30: an hour that day, then the make-up
        // Saturday 14th, then nothing until Tuesday 24th (the 23rd is off too).
        let start = cst(2026, 2, 13, 16, 30);
        assert_eq!(
            calendar.due(start, working(60 + 420 + 60)),
            cst(2026, 2, 24, 10, 0)
        );
        for off in [15, 16, 17, 18, 19, 20, 21, 22, 23] {
            assert!(!calendar.is_working_day(day(2026, 2, off)), "Feb {off}");
        }
        assert!(calendar.is_working_day(day(2026, 2, 24)));
    }

    #[test]
    fn a_make_up_saturday_is_a_working_day() {
        let calendar = cn_2026();
        assert!(calendar.is_working_day(day(2026, 2, 28)));
        assert!(calendar.is_working_day(day(2026, 10, 10)));
        // Friday 27 Feb 17:00: half an hour, then Saturday 28 Feb from 09:00.
        assert_eq!(
            calendar.due(cst(2026, 2, 27, 17, 0), working(90)),
            cst(2026, 2, 28, 10, 0)
        );
        // Without the calendar the same allowance runs into Monday.
        assert_eq!(
            WorkCalendar::default().due(cst(2026, 2, 27, 17, 0), working(90)),
            cst(2026, 3, 2, 10, 0)
        );
    }

    #[test]
    fn a_weekend_without_make_up_days_is_skipped() {
        let calendar = cn_2026();
        assert!(!calendar.is_working_day(day(2026, 3, 7)));
        assert!(!calendar.is_working_day(day(2026, 3, 8)));
        assert_eq!(
            calendar.due(cst(2026, 3, 7, 10, 0), working(1)),
            cst(2026, 3, 9, 9, 1)
        );
    }

    #[test]
    fn years_without_data_are_monday_to_friday() {
        let calendar = cn_2026();
        // 1 January 2030 is a Tuesday; no calendar for 2030 makes it a working day.
        assert!(calendar.is_working_day(day(2030, 1, 1)));
        assert!(!calendar.is_working_day(day(2030, 1, 5)));
    }

    #[test]
    fn the_calendar_clock_counts_nights_and_holidays() {
        let calendar = cn_2026();
        let start = cst(2026, 2, 16, 23, 50);
        let allowance = Allowance {
            minutes: 30,
            clock: Clock::Calendar,
        };
        assert_eq!(calendar.due(start, allowance), cst(2026, 2, 17, 0, 20));
    }

    #[test]
    fn a_year_of_working_minutes_is_cheap_and_lands_in_working_hours() {
        let calendar = cn_2026();
        let due = calendar.due(cst(2026, 1, 5, 9, 0), working(MAX_ALLOWANCE_MINUTES));
        // 525600 / 420 = 1251 working days and 180 minutes: about five years.
        let local = due.naive_utc() + CST_OFFSET;
        assert_eq!(local.time(), NaiveTime::from_hms_opt(12, 0, 0).unwrap());
        assert!(local.date().year() >= 2030);
    }

    #[test]
    fn seconds_of_the_start_are_kept() {
        let calendar = WorkCalendar::default();
        let start = cst(2026, 3, 2, 11, 59) + TimeDelta::seconds(30);
        assert_eq!(
            calendar.due(start, working(1)),
            cst(2026, 3, 2, 13, 30) + TimeDelta::seconds(30)
        );
    }

    fn start_times() -> impl Strategy<Value = DateTime<Utc>> {
        // 2025-12-01 to about 2027-02: across the whole 2026 calendar.
        let from = cst(2025, 12, 1, 0, 0).timestamp();
        (0i64..(430 * 24 * 3600))
            .prop_map(move |offset| DateTime::from_timestamp(from + offset, 0).unwrap())
    }

    proptest! {
        #[test]
        fn working_allowances_add_up(start in start_times(), a in 0u32..20_000, b in 0u32..20_000) {
            let calendar = cn_2026();
            let split = calendar.due(calendar.due(start, working(a)), working(b));
            prop_assert_eq!(split, calendar.due(start, working(a + b)));
        }

        #[test]
        fn more_minutes_are_never_due_earlier(start in start_times(), a in 0u32..20_000, extra in 0u32..5_000) {
            let calendar = cn_2026();
            let shorter = calendar.due(start, working(a));
            let longer = calendar.due(start, working(a + extra));
            prop_assert!(shorter <= longer);
            prop_assert!(start <= shorter);
        }

        #[test]
        fn a_working_due_time_lies_in_working_hours(start in start_times(), minutes in 1u32..20_000) {
            let calendar = cn_2026();
            let local = calendar.due(start, working(minutes)).naive_utc() + CST_OFFSET;
            prop_assert!(calendar.is_working_day(local.date()));
            let second = local.time().num_seconds_from_midnight();
            prop_assert!(WORKING_HOURS.iter().any(|&(from, to)| second > from * 60 && second <= to * 60));
        }
    }
}
