//! Dual reporting (双报到), planned: each street's work-unit organisations,
//! the members who work in them (在职), the units' reports to every
//! community of their street with the resources they pledge, and the
//! in-service members' reports to the community they live in. Among the
//! reporting members only the first half of a community's draw take part
//! in its activities, so its "reported but never took part" list is never
//! empty, as the speech says it is not.

use civicgrid_proto::membership::v1 as mpb;
use civicgrid_proto::membership::v1::OrganisationKind as K;

use super::centres::pool;
use super::{PlannedOrganisation, Rng, STREET_NAMES, Shape, member_home};

const WORK_UNIT_KIND: u64 = 5;
const REPORT_KIND: u64 = 6;

/// Each street's work units: the street office's own body, a state
/// enterprise and an institution (id suffix, kind, name after the street's).
const WORK_UNITS: [(&str, K, &str); 3] = [
    ("gov", K::GovernmentBody, "街道办事处机关党支部"),
    ("soe", K::StateEnterprise, "供电所党支部"),
    ("inst", K::Institution, "社区卫生服务中心党支部"),
];

/// Skills a reporting member offers; the first three are the categories
/// `make up` maps residents' requests to, so some requests reach them.
const SKILLS: [&str; 6] = [
    "plumbing",
    "elevator_repair",
    "cleaning",
    "legal_aid",
    "tutoring",
    "first_aid",
];

/// Volunteer posts a reporting member chooses (志愿岗).
const POSTS: [&str; 4] = [
    "patrol",
    "elderly_care",
    "garbage_sorting",
    "civilised_traffic",
];

/// What a reporting unit pledges (category, capacity, unit, description).
const PLEDGES: [(&str, i32, &str, &str); 3] = [
    ("volunteers", 10, "people", "每月一次志愿服务"),
    ("venue", 1, "places", "会议室周末开放"),
    ("elderly_care", 20, "hours", "上门巡诊"),
];

/// The work-unit organisations of street `street` (its id), under its
/// working committee and placed in its cell.
pub fn work_units(street: &str, street_number: u32) -> Vec<PlannedOrganisation> {
    let name = STREET_NAMES[(street_number as usize).saturating_sub(1) % STREET_NAMES.len()];
    WORK_UNITS
        .iter()
        .map(|(suffix, kind, title)| PlannedOrganisation {
            id: format!("{street}-wu-{suffix}"),
            kind: *kind,
            parent: format!("{street}-wc"),
            cell: street.to_owned(),
            display_name: format!("{name}{title}"),
        })
        .collect()
}

/// The work unit member `index` is in service at, if any: half of the
/// members, each at one of their street's units.
pub fn work_unit(seed: u64, index: u64, root: &str, shape: &Shape) -> Option<String> {
    let mut rng = Rng::for_object(seed, WORK_UNIT_KIND, index);
    if rng.below(2) != 0 {
        return None;
    }
    let (street, _) = member_home(index, root, shape);
    let (suffix, _, _) = rng.pick(&WORK_UNITS);
    Some(format!("{street}-wu-{suffix}"))
}

/// A unit's report to a community.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedUnitReport {
    pub unit: String,
    pub community: String,
    pub resources: Vec<mpb::PledgedResource>,
}

/// Every work unit reports to every community of its street.
pub fn unit_reports(root: &str, shape: &Shape) -> Vec<PlannedUnitReport> {
    let mut out = Vec::new();
    for s in 1..=shape.streets {
        let street = format!("{root}-s{s:02}");
        for unit in work_units(&street, s) {
            for c in 1..=shape.communities {
                out.push(PlannedUnitReport {
                    unit: unit.id.clone(),
                    community: format!("{street}-c{c:02}"),
                    resources: PLEDGES
                        .iter()
                        .map(
                            |(category, capacity, unit, description)| mpb::PledgedResource {
                                category: (*category).to_owned(),
                                capacity: *capacity,
                                unit: (*unit).to_owned(),
                                description: (*description).to_owned(),
                            },
                        )
                        .collect(),
                });
            }
        }
    }
    out
}

/// A member's report to the community they live in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedMemberReport {
    /// The member's index (their ID number comes from it).
    pub member: u64,
    pub community: String,
    pub skills: Vec<String>,
    pub volunteer_posts: Vec<String>,
}

/// The in-service members among the first two activity pools of each
/// community report to it: those of the first pool are the ones its
/// activities draw on, those of the second never take part.
pub fn member_reports(seed: u64, root: &str, shape: &Shape) -> Vec<PlannedMemberReport> {
    let per_community = u64::from(shape.members);
    let communities = u64::from(shape.streets) * u64::from(shape.communities);
    let drawn = (2 * pool(shape)).min(per_community);
    let mut out = Vec::new();
    for c in 0..communities {
        for j in 0..drawn {
            let index = c * per_community + j;
            if work_unit(seed, index, root, shape).is_none() {
                continue;
            }
            let mut rng = Rng::for_object(seed, REPORT_KIND, index);
            let first = rng.below(SKILLS.len() as u64) as usize;
            let skills = vec![
                SKILLS[first].to_owned(),
                SKILLS[(first + 3) % SKILLS.len()].to_owned(),
            ];
            let volunteer_posts = vec![(*rng.pick(&POSTS)).to_owned()];
            out.push(PlannedMemberReport {
                member: index,
                community: member_home(index, root, shape).1,
                skills,
                volunteer_posts,
            });
        }
    }
    out
}
