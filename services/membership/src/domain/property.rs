//! 四方协同、交叉任职: per compound, which of the four parties exist and
//! which cross-appointments are filled, from the organisations placed in it
//! and the posts valid at one moment. No I/O.

use chrono::{DateTime, Utc};

use super::organisation::Kind;
use super::post::{PostFact, PostKind, holders};

/// An organisation as the report needs it.
#[derive(Debug, Clone)]
pub struct PlacedOrganisation {
    /// Its code.
    pub id: String,
    /// Its kind.
    pub kind: Kind,
    /// The compound it is placed in.
    pub compound_id: Option<String>,
    /// Its area.
    pub area_path: String,
}

/// A compound as the report needs it.
#[derive(Debug, Clone)]
pub struct Compound {
    /// Its code.
    pub id: String,
    /// Its community's path.
    pub community_path: String,
}

/// The four parties and cross-appointments of one compound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PropertyManagement {
    /// The community's party committee exists.
    pub community_party_committee: bool,
    /// A party branch is placed in the compound.
    pub compound_branch: bool,
    /// A property company is placed in it.
    pub property_company: bool,
    /// An owners' committee is placed in it.
    pub owners_committee: bool,
    /// A member is the property company's deputy manager.
    pub deputy_manager_filled: bool,
    /// Members on the owners' committee.
    pub members_on_owners_committee: usize,
    /// The branch secretary sits on the owners' committee.
    pub branch_secretary_on_owners_committee: bool,
}

impl PropertyManagement {
    /// Every party and the two cross-appointments.
    pub fn complete(&self) -> bool {
        self.community_party_committee
            && self.compound_branch
            && self.property_company
            && self.owners_committee
            && self.deputy_manager_filled
            && self.members_on_owners_committee > 0
    }
}

/// The report of `compound` over the organisations of its community and the posts in them.
pub fn report(
    compound: &Compound,
    organisations: &[PlacedOrganisation],
    posts: &[PostFact],
    at: DateTime<Utc>,
) -> PropertyManagement {
    let placed = |kinds: &[Kind]| -> Vec<&PlacedOrganisation> {
        organisations
            .iter()
            .filter(|org| kinds.contains(&org.kind))
            .filter(|org| org.compound_id.as_deref() == Some(compound.id.as_str()))
            .collect()
    };
    let branches = placed(&[Kind::CompoundBranch, Kind::Branch]);
    let companies = placed(&[Kind::PropertyCompany]);
    let committees = placed(&[Kind::OwnersCommittee]);
    let mut on_committee: Vec<uuid::Uuid> = committees
        .iter()
        .flat_map(|c| holders(posts, &c.id, PostKind::OwnersCommitteeMember, at))
        .collect();
    on_committee.sort();
    on_committee.dedup();
    PropertyManagement {
        community_party_committee: organisations.iter().any(|org| {
            org.kind == Kind::CommunityPartyCommittee && org.area_path == compound.community_path
        }),
        compound_branch: !branches.is_empty(),
        property_company: !companies.is_empty(),
        owners_committee: !committees.is_empty(),
        deputy_manager_filled: companies.iter().any(|c| {
            holders(posts, &c.id, PostKind::PropertyDeputyManager, at)
                .next()
                .is_some()
        }),
        members_on_owners_committee: on_committee.len(),
        branch_secretary_on_owners_committee: branches.iter().any(|b| {
            holders(posts, &b.id, PostKind::Secretary, at).any(|m| on_committee.contains(&m))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::post::Period;
    use chrono::TimeZone;

    fn org(id: &str, kind: Kind, compound: Option<&str>) -> PlacedOrganisation {
        PlacedOrganisation {
            id: id.into(),
            kind,
            compound_id: compound.map(str::to_owned),
            area_path: "/c/s1/m1/".into(),
        }
    }

    fn at(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, d, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn post(member: u128, org: &str, kind: PostKind, until: Option<u32>) -> PostFact {
        PostFact {
            member_id: uuid::Uuid::from_u128(member),
            organisation_id: org.into(),
            kind,
            period: Period {
                from: at(1),
                until: until.map(at),
            },
        }
    }

    #[test]
    fn a_compound_is_complete_with_four_parties_and_both_cross_appointments_in_force() {
        let compound = Compound {
            id: "k1".into(),
            community_path: "/c/s1/m1/".into(),
        };
        let orgs = [
            org("m1-pc", Kind::CommunityPartyCommittee, None),
            org("k1-b", Kind::CompoundBranch, Some("k1")),
            org("k1-pm", Kind::PropertyCompany, Some("k1")),
            org("k1-oc", Kind::OwnersCommittee, Some("k1")),
            // Another compound's company does not count.
            org("k2-pm", Kind::PropertyCompany, Some("k2")),
        ];
        let posts = [
            post(1, "k1-pm", PostKind::PropertyDeputyManager, Some(10)),
            post(2, "k1-b", PostKind::Secretary, None),
            post(2, "k1-oc", PostKind::OwnersCommitteeMember, None),
            post(3, "k1-oc", PostKind::OwnersCommitteeMember, None),
        ];
        let now = report(&compound, &orgs, &posts, at(5));
        assert_eq!(
            now,
            PropertyManagement {
                community_party_committee: true,
                compound_branch: true,
                property_company: true,
                owners_committee: true,
                deputy_manager_filled: true,
                members_on_owners_committee: 2,
                branch_secretary_on_owners_committee: true,
            }
        );
        assert!(now.complete());
        let later = report(&compound, &orgs, &posts, at(10));
        assert!(!later.deputy_manager_filled);
        assert!(!later.complete());
        let bare = report(&compound, &orgs[..1], &[], at(5));
        assert!(bare.community_party_committee && !bare.property_company && !bare.complete());
    }
}
