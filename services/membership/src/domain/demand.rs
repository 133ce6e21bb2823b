//! Demands offered to reported members (三单制 meets 双报到): a demand of a
//! community's demand list is offered to each active member report of
//! that community whose skills or volunteer posts include the demand's
//! category, while the demand is still needed.

use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A demand of a community, as centres registered it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommunityDemand {
    /// centres' demand id.
    pub id: Uuid,
    /// Category code, e.g. `plumbing`.
    pub category: String,
    /// The community it lies in.
    pub community_id: String,
    /// Needed until (exclusive).
    pub end: DateTime<Utc>,
}

/// What matching needs of a member report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offeree<'a> {
    /// The report's community.
    pub community_id: &'a str,
    /// Skills offered.
    pub skills: &'a [String],
    /// Volunteer posts chosen.
    pub volunteer_posts: &'a [String],
    /// Whether the report is still active (not ended).
    pub active: bool,
}

/// Whether `demand` is offered to `report` at `now`: an active report of
/// the demand's community, one of whose skills or volunteer posts is the
/// demand's category, while the demand is still needed.
pub fn is_offered(report: &Offeree<'_>, demand: &CommunityDemand, now: DateTime<Utc>) -> bool {
    let offers = |labels: &[String]| labels.iter().any(|l| l.trim() == demand.category);
    report.active
        && report.community_id == demand.community_id
        && demand.end > now
        && (offers(report.skills) || offers(report.volunteer_posts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn demand(category: &str, community: &str, end_day: u32) -> CommunityDemand {
        CommunityDemand {
            id: Uuid::nil(),
            category: category.to_owned(),
            community_id: community.to_owned(),
            end: Utc.with_ymd_and_hms(2026, 6, end_day, 0, 0, 0).unwrap(),
        }
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 6, 10, 0, 0, 0).unwrap()
    }

    #[test]
    fn a_demand_is_offered_to_an_active_report_of_its_community_with_the_skill() {
        let skills = vec!["水电维修".to_owned(), "plumbing".to_owned()];
        let report = Offeree {
            community_id: "m1",
            skills: &skills,
            volunteer_posts: &[],
            active: true,
        };
        assert!(is_offered(&report, &demand("plumbing", "m1", 20), now()));
    }

    #[test]
    fn a_volunteer_post_offers_as_a_skill_does() {
        let posts = vec!["elderly_care".to_owned()];
        let report = Offeree {
            community_id: "m1",
            skills: &[],
            volunteer_posts: &posts,
            active: true,
        };
        assert!(is_offered(
            &report,
            &demand("elderly_care", "m1", 20),
            now()
        ));
    }

    #[test]
    fn no_offer_without_the_skill_in_another_community_after_the_window_or_to_an_ended_report() {
        let skills = vec!["plumbing".to_owned()];
        let report = Offeree {
            community_id: "m1",
            skills: &skills,
            volunteer_posts: &[],
            active: true,
        };
        assert!(!is_offered(&report, &demand("legal_aid", "m1", 20), now()));
        assert!(!is_offered(&report, &demand("plumbing", "m2", 20), now()));
        assert!(!is_offered(&report, &demand("plumbing", "m1", 10), now()));
        let ended = Offeree {
            active: false,
            ..report
        };
        assert!(!is_offered(&ended, &demand("plumbing", "m1", 20), now()));
    }
}
