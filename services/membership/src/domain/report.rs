//! 双报到: what a unit or member report holds once parsed, and the quarters
//! participation is counted in. No I/O.

use chrono::{DateTime, Datelike, FixedOffset, NaiveDate, TimeZone, Utc};

use super::organisation::Kind;

/// China's time (Asia/Shanghai): UTC+8 all year, no daylight saving.
fn china() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("8 hours is a valid offset"))
}

/// A quarter of a year in China's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quarter {
    /// The year.
    pub year: i32,
    /// 1-4.
    pub quarter: u32,
}

impl Quarter {
    /// The quarter `(year, quarter)`, if `quarter` is 1-4 and the year plausible.
    pub fn new(year: i32, quarter: i32) -> Option<Quarter> {
        let quarter = u32::try_from(quarter)
            .ok()
            .filter(|q| (1..=4).contains(q))?;
        (2000..=2200)
            .contains(&year)
            .then_some(Quarter { year, quarter })
    }

    /// The quarter `at` falls in, in China's time.
    pub fn of(at: DateTime<Utc>) -> Quarter {
        let local = at.with_timezone(&china());
        Quarter {
            year: local.year(),
            quarter: (local.month() - 1) / 3 + 1,
        }
    }

    /// Its first moment, as UTC.
    pub fn start(self) -> DateTime<Utc> {
        let first = NaiveDate::from_ymd_opt(self.year, (self.quarter - 1) * 3 + 1, 1)
            .unwrap_or_default()
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default();
        china()
            .from_local_datetime(&first)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    }

    /// The first moment of the next quarter, as UTC.
    pub fn end(self) -> DateTime<Utc> {
        match self.quarter {
            4 => Quarter {
                year: self.year + 1,
                quarter: 1,
            },
            q => Quarter {
                year: self.year,
                quarter: q + 1,
            },
        }
        .start()
    }
}

/// Kinds that report to communities as units: work units and "two new" organisations.
pub fn may_report_as_unit(kind: Kind) -> bool {
    matches!(
        kind,
        Kind::GovernmentBody
            | Kind::StateEnterprise
            | Kind::Institution
            | Kind::NonPublicEnterprise
            | Kind::SocialOrganisation
    )
}

/// A pledged resource, parsed.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Resource {
    /// A category code shared with the centres' demand list.
    pub category: String,
    /// How much.
    pub capacity: i32,
    /// Of what.
    pub unit: String,
    /// What exactly.
    pub description: String,
}

/// Most list items (resources, skills, posts) of one report.
pub const MAX_ITEMS: usize = 20;

/// A pledged resource from its parts, or why not (per part, by field suffix).
pub fn parse_resource(
    category: &str,
    capacity: i32,
    unit: &str,
    description: &str,
) -> Result<Resource, Vec<(&'static str, String)>> {
    let mut problems = Vec::new();
    let category = category.trim();
    if category.is_empty()
        || category.len() > 50
        || !category
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        problems.push((
            "category",
            "must be a category code of 1-50 of a-z, 0-9 and '_'".to_owned(),
        ));
    }
    if capacity <= 0 {
        problems.push(("capacity", "must be positive".to_owned()));
    }
    let unit = unit.trim();
    if unit.is_empty() || unit.chars().count() > 20 {
        problems.push(("unit", "must be 1-20 characters".to_owned()));
    }
    let description = description.trim();
    if description.chars().count() > 500 {
        problems.push(("description", "must be at most 500 characters".to_owned()));
    }
    if problems.is_empty() {
        Ok(Resource {
            category: category.to_owned(),
            capacity,
            unit: unit.to_owned(),
            description: description.to_owned(),
        })
    } else {
        Err(problems)
    }
}

/// A list of short labels (skills, volunteer posts): each trimmed, 1-50
/// characters, at most [`MAX_ITEMS`], repeats dropped.
pub fn parse_labels(items: &[String]) -> Result<Vec<String>, String> {
    if items.len() > MAX_ITEMS {
        return Err(format!("must have at most {MAX_ITEMS} items"));
    }
    let mut labels: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let label = item.trim();
        if label.is_empty() || label.chars().count() > 50 || label.chars().any(char::is_control) {
            return Err("must each be 1-50 characters of plain text".to_owned());
        }
        if !labels.iter().any(|l| l == label) {
            labels.push(label.to_owned());
        }
    }
    Ok(labels)
}

/// A period year: 2000-2200.
pub fn parse_year(year: i32) -> Option<i32> {
    (2000..=2200).contains(&year).then_some(year)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn quarters_are_counted_in_chinas_time() {
        // 16:30 UTC on New Year's Eve is already next year in Shanghai.
        assert_eq!(
            Quarter::of(utc(2026, 12, 31, 17)),
            Quarter {
                year: 2027,
                quarter: 1
            }
        );
        assert_eq!(
            Quarter::of(utc(2026, 12, 31, 15)),
            Quarter {
                year: 2026,
                quarter: 4
            }
        );
        assert_eq!(
            Quarter::of(utc(2026, 6, 30, 15)),
            Quarter {
                year: 2026,
                quarter: 2
            }
        );
        let q = Quarter {
            year: 2026,
            quarter: 4,
        };
        assert_eq!(q.start(), utc(2026, 9, 30, 16));
        assert_eq!(q.end(), utc(2026, 12, 31, 16));
        assert_eq!(Quarter::new(2026, 5), None);
        assert_eq!(Quarter::new(1999, 1), None);
    }

    #[test]
    fn resources_and_labels_are_checked_part_by_part() {
        assert!(parse_resource("legal_aid", 10, "hours", "").is_ok());
        let problems = parse_resource("Legal Aid", 0, "", "")
            .err()
            .unwrap_or_default();
        let fields: Vec<&str> = problems.iter().map(|(f, _)| *f).collect();
        assert_eq!(fields, ["category", "capacity", "unit"]);
        assert_eq!(
            parse_labels(&[" 法律 ".into(), "法律".into(), "医疗".into()]),
            Ok(vec!["法律".to_owned(), "医疗".to_owned()])
        );
        assert!(parse_labels(&[" ".into()]).is_err());
        assert!(!may_report_as_unit(Kind::Branch));
        assert!(may_report_as_unit(Kind::NonPublicEnterprise));
    }
}
