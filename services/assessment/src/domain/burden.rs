//! Burden reduction: what a department's work request to a community
//! lacks, and campaign quotas.

use chrono::NaiveDate;

/// A whitelist item as the rules need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhitelistItem {
    /// The item's id.
    pub id: String,
    /// "departments/{id}".
    pub department: String,
    /// Yuan per year.
    pub yearly_funds: i64,
    /// What the department provides.
    pub working_conditions: String,
    /// Valid from this day...
    pub valid_from: NaiveDate,
    /// ...to this day, inclusive.
    pub valid_until: NaiveDate,
}

/// What a request citing `item` (None: no such item) by `department` on
/// `today` lacks; empty when it may be handed over.
pub fn missing(
    item: Option<&WhitelistItem>,
    item_name: &str,
    department: &str,
    today: NaiveDate,
) -> Vec<String> {
    let Some(item) = item else {
        return vec![format!(
            "a whitelist item: {item_name} is not on the community-work whitelist"
        )];
    };
    let mut missing = Vec::new();
    if item.department != department {
        missing.push(format!(
            "a whitelist item of {department}: {item_name} is {}'s",
            item.department
        ));
    }
    if today < item.valid_from || today > item.valid_until {
        missing.push(format!(
            "an active item: {item_name} is valid from {} to {}, not on {today}",
            item.valid_from, item.valid_until
        ));
    }
    if item.yearly_funds <= 0 {
        missing.push(format!("funds: {item_name} has no yearly funds"));
    }
    if item.working_conditions.trim().is_empty() {
        missing.push(format!("working conditions: {item_name} names none"));
    }
    missing
}

/// Why a campaign may not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuotaRefusal {
    /// The county set no quota: no campaigns at all.
    #[error("{department} has no campaign quota for {year}")]
    NoQuota { department: String, year: i32 },
    /// The quota is used up.
    #[error("{department} has used its quota of {quota} campaigns in {year}")]
    OverQuota {
        department: String,
        year: i32,
        quota: i32,
    },
}

/// Whether one more campaign fits a quota of which `used` are taken.
pub fn check_quota(
    department: &str,
    year: i32,
    quota: Option<i32>,
    used: i64,
) -> Result<(), QuotaRefusal> {
    let Some(quota) = quota else {
        return Err(QuotaRefusal::NoQuota {
            department: department.to_owned(),
            year,
        });
    };
    if used >= i64::from(quota) {
        return Err(QuotaRefusal::OverQuota {
            department: department.to_owned(),
            year,
            quota,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        text.parse().unwrap()
    }

    #[test]
    fn a_request_lacks_everything_the_cited_item_does_not_give() {
        let item = WhitelistItem {
            id: "census".to_owned(),
            department: "departments/stats".to_owned(),
            yearly_funds: 0,
            working_conditions: " ".to_owned(),
            valid_from: day("2026-01-01"),
            valid_until: day("2026-06-30"),
        };
        let name = "whitelistItems/census";
        assert_eq!(
            missing(None, name, "departments/stats", day("2026-03-01")).len(),
            1
        );
        let lacks = missing(Some(&item), name, "departments/housing", day("2026-11-10"));
        let heads: Vec<&str> = lacks.iter().map(|m| m.split(':').next().unwrap()).collect();
        assert_eq!(
            heads,
            [
                "a whitelist item of departments/housing",
                "an active item",
                "funds",
                "working conditions"
            ]
        );
        let good = WhitelistItem {
            yearly_funds: 5000,
            working_conditions: "a laptop".to_owned(),
            ..item
        };
        assert!(missing(Some(&good), name, "departments/stats", day("2026-06-30")).is_empty());
        assert_eq!(
            missing(Some(&good), name, "departments/stats", day("2026-07-01")).len(),
            1
        );
    }

    #[test]
    fn quotas_refuse_the_campaign_after_the_last_one_allowed() {
        assert!(check_quota("departments/a", 2026, Some(2), 1).is_ok());
        assert!(matches!(
            check_quota("departments/a", 2026, Some(2), 2),
            Err(QuotaRefusal::OverQuota { quota: 2, .. })
        ));
        assert!(matches!(
            check_quota("departments/a", 2026, None, 0),
            Err(QuotaRefusal::NoQuota { .. })
        ));
    }
}
