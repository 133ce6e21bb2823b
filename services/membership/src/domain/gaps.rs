//! The standardisation gaps report: per street and community, which party
//! organisations in it lack a branch committee or premises, and whether
//! the area's own committee exists.

use super::organisation::{Gap, Kind, Standardisation};

/// A street or community cell.
#[derive(Debug, Clone)]
pub struct Area {
    /// Its code.
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// 2 or 3.
    pub level: i16,
    /// `/county/street/.../`.
    pub path: String,
}

/// A party organisation as the report needs it.
#[derive(Debug, Clone)]
pub struct OrganisationFlags {
    /// Its code.
    pub id: String,
    /// Human-readable name.
    pub display_name: String,
    /// Its kind.
    pub kind: Kind,
    /// Where its area lies.
    pub area_path: String,
    /// Its flags.
    pub standardisation: Standardisation,
}

/// The report of one area.
#[derive(Debug, Clone)]
pub struct AreaGaps<'a> {
    /// The area.
    pub area: &'a Area,
    /// Its own committee exists.
    pub has_own_committee: bool,
    /// Party organisations in it.
    pub organisation_count: usize,
    /// Of which lack a branch committee, office premises, activity premises.
    pub without: [usize; 3],
    /// Each organisation that lacks something, by id.
    pub organisations: Vec<(&'a OrganisationFlags, Vec<Gap>)>,
}

/// The report of each of `areas` over `organisations` (party organisations
/// only; others are ignored), in the order of `areas`.
pub fn report<'a>(areas: &'a [Area], organisations: &'a [OrganisationFlags]) -> Vec<AreaGaps<'a>> {
    areas
        .iter()
        .map(|area| {
            let own = Kind::own_committee_of(area.level);
            let inside: Vec<&OrganisationFlags> = organisations
                .iter()
                .filter(|org| org.kind.is_party_organisation())
                .filter(|org| org.area_path.starts_with(&area.path))
                .collect();
            let has_own_committee = inside
                .iter()
                .any(|org| Some(org.kind) == own && org.area_path == area.path);
            let mut without = [0; 3];
            let mut lacking = Vec::new();
            for org in &inside {
                let gaps = org.standardisation.gaps();
                for gap in &gaps {
                    without[*gap as usize - 1] += 1;
                }
                if !gaps.is_empty() {
                    lacking.push((*org, gaps));
                }
            }
            lacking.sort_by(|a, b| a.0.id.cmp(&b.0.id));
            AreaGaps {
                area,
                has_own_committee,
                organisation_count: inside.len(),
                without,
                organisations: lacking,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area(id: &str, level: i16, path: &str) -> Area {
        Area {
            id: id.into(),
            display_name: id.to_uppercase(),
            level,
            path: path.into(),
        }
    }

    fn org(id: &str, kind: Kind, path: &str, flags: [bool; 3]) -> OrganisationFlags {
        OrganisationFlags {
            id: id.into(),
            display_name: id.into(),
            kind,
            area_path: path.into(),
            standardisation: Standardisation {
                branch_committee_formed: flags[0],
                office_premises: flags[1],
                activity_premises: flags[2],
            },
        }
    }

    #[test]
    fn an_area_counts_what_its_party_organisations_lack_and_whether_its_committee_exists() {
        let areas = [
            area("s1", 2, "/c/s1/"),
            area("m1", 3, "/c/s1/m1/"),
            area("m2", 3, "/c/s1/m2/"),
        ];
        let orgs = [
            org("s1-wc", Kind::StreetWorkingCommittee, "/c/s1/", [true; 3]),
            org(
                "m1-pc",
                Kind::CommunityPartyCommittee,
                "/c/s1/m1/",
                [true, false, true],
            ),
            org("m1-b", Kind::Branch, "/c/s1/m1/g1/", [false, false, false]),
            // Not a party organisation: never a gap.
            org("m2-pm", Kind::PropertyCompany, "/c/s1/m2/", [false; 3]),
            org("s2-x", Kind::Branch, "/c/s2/m9/", [false; 3]),
        ];
        let report = report(&areas, &orgs);
        let street = &report[0];
        assert!(street.has_own_committee);
        assert_eq!((street.organisation_count, street.without), (3, [1, 2, 1]));
        let m1 = &report[1];
        assert!(m1.has_own_committee);
        let lacking: Vec<(&str, &[Gap])> = m1
            .organisations
            .iter()
            .map(|(org, gaps)| (org.id.as_str(), gaps.as_slice()))
            .collect();
        assert_eq!(
            lacking,
            vec![
                (
                    "m1-b",
                    &[
                        Gap::NoBranchCommittee,
                        Gap::NoOfficePremises,
                        Gap::NoActivityPremises
                    ][..]
                ),
                ("m1-pc", &[Gap::NoOfficePremises][..]),
            ]
        );
        let m2 = &report[2];
        assert!(!m2.has_own_committee);
        assert_eq!((m2.organisation_count, m2.organisations.len()), (0, 0));
    }
}
