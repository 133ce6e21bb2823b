//! Weekly opening hours in the county's local time, and whether a booked
//! range falls within them.
//!
//! The county is in Asia/Shanghai, which has kept UTC+8 without daylight
//! saving since 1991, so a fixed offset is exact for every date a booking
//! can have and spares the service a time-zone database.

use chrono::{DateTime, Datelike, Duration, FixedOffset, TimeZone, Timelike, Utc};
use serde::{Deserialize, Serialize};

/// The time zone opening hours are written in.
pub const TIME_ZONE: &str = "Asia/Shanghai";

/// Asia/Shanghai's offset from UTC.
const UTC_OFFSET_SECONDS: i32 = 8 * 3600;

/// Minutes in a day: `closes` may be exactly this ("24:00").
pub const DAY_MINUTES: u16 = 24 * 60;

/// Most periods one schedule lists.
pub const MAX_PERIODS: usize = 100;

/// Why a period is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OpeningKind {
    /// Regular hours.
    Regular,
    /// Extended hours (延时服务).
    Extended,
    /// Off-peak hours (错时服务).
    OffPeak,
}

/// One open period: a weekday (1 = Monday ... 7 = Sunday) from `opens` to
/// `closes`, minutes after local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpeningPeriod {
    /// 1 (Monday) to 7 (Sunday).
    pub weekday: u8,
    /// Minutes after midnight, below `closes`.
    pub opens: u16,
    /// Minutes after midnight, at most [`DAY_MINUTES`].
    pub closes: u16,
    /// Why it is open.
    pub kind: OpeningKind,
}

/// "HH:MM" as minutes after midnight; "24:00" only when `end` is true.
pub fn parse_clock(text: &str, end: bool) -> Result<u16, String> {
    let bad = || {
        if end {
            "must be \"HH:MM\" from 00:01 to 24:00".to_owned()
        } else {
            "must be \"HH:MM\" from 00:00 to 23:59".to_owned()
        }
    };
    let (hours, minutes) = text.split_once(':').ok_or_else(bad)?;
    if hours.len() != 2 || minutes.len() != 2 {
        return Err(bad());
    }
    let hours: u16 = hours.parse().map_err(|_| bad())?;
    let minutes: u16 = minutes.parse().map_err(|_| bad())?;
    if minutes > 59 {
        return Err(bad());
    }
    let total = hours * 60 + minutes;
    match (end, total) {
        (false, t) if t < DAY_MINUTES => Ok(t),
        (true, t) if t > 0 && t <= DAY_MINUTES => Ok(t),
        _ => Err(bad()),
    }
}

/// Minutes after midnight as "HH:MM".
pub fn format_clock(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// The period `[start, end)` lies wholly within, if any: the same local
/// day, on that weekday, between opens and closes.
pub fn period_for(
    periods: &[OpeningPeriod],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Option<OpeningPeriod> {
    let offset = FixedOffset::east_opt(UTC_OFFSET_SECONDS)?;
    let local_start = start.with_timezone(&offset);
    let day_start = local_start.date_naive();
    let start_minute = local_start.hour() * 60 + local_start.minute();
    // A booking ending at local midnight ends at minute 1440 of its start day.
    let end_minutes_since_day_start = (end
        - offset
            .from_local_datetime(&day_start.and_hms_opt(0, 0, 0)?)
            .single()?
            .with_timezone(&Utc))
    .num_minutes();
    let sub_minute = start.timestamp() % 60 != 0
        || start.timestamp_subsec_nanos() != 0
        || end.timestamp() % 60 != 0
        || end.timestamp_subsec_nanos() != 0;
    if sub_minute || end <= start || end - start > Duration::days(1) {
        return None;
    }
    let weekday = u8::try_from(day_start.weekday().number_from_monday()).ok()?;
    periods.iter().copied().find(|period| {
        period.weekday == weekday
            && u32::from(period.opens) <= start_minute
            && end_minutes_since_day_start <= i64::from(period.closes)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    fn monday(opens: u16, closes: u16) -> OpeningPeriod {
        OpeningPeriod {
            weekday: 1,
            opens,
            closes,
            kind: OpeningKind::Regular,
        }
    }

    #[test]
    fn clocks_parse_with_midnight_only_as_an_end() {
        assert_eq!(parse_clock("08:30", false), Ok(510));
        assert_eq!(parse_clock("24:00", true), Ok(1440));
        assert!(parse_clock("24:00", false).is_err());
        assert!(parse_clock("00:00", true).is_err());
        assert!(parse_clock("8:30", false).is_err());
        assert!(parse_clock("08:60", false).is_err());
        assert_eq!(format_clock(510), "08:30");
    }

    #[test]
    fn a_booking_must_fall_within_one_local_period() {
        // 2026-12-07 is a Monday; 09:00-10:00 in Shanghai is 01:00-02:00 UTC.
        let hours = [monday(8 * 60, 12 * 60), monday(18 * 60, DAY_MINUTES)];
        let inside = period_for(
            &hours,
            at("2026-12-07T01:00:00Z"),
            at("2026-12-07T02:00:00Z"),
        );
        assert_eq!(inside, Some(hours[0]));
        // Until local midnight in the evening period.
        let evening = period_for(
            &hours,
            at("2026-12-07T14:00:00Z"),
            at("2026-12-07T16:00:00Z"),
        );
        assert_eq!(evening, Some(hours[1]));
        // 11:00-13:00 runs past the morning's close.
        assert_eq!(
            period_for(
                &hours,
                at("2026-12-07T03:00:00Z"),
                at("2026-12-07T05:00:00Z")
            ),
            None
        );
        // The same local hours on Tuesday are closed.
        assert_eq!(
            period_for(
                &hours,
                at("2026-12-08T01:00:00Z"),
                at("2026-12-08T02:00:00Z")
            ),
            None
        );
        // 07:00 local is before opening.
        assert_eq!(
            period_for(
                &hours,
                at("2026-12-06T23:00:00Z"),
                at("2026-12-07T01:00:00Z")
            ),
            None
        );
    }
}
