//! Organisations: their kinds, where each kind may sit in the tree and in
//! the grid, and their standardisation flags. No I/O: the command looks up
//! the parent and the placement, this module says whether they fit.

use std::fmt;

/// Cell levels as the replicated grid stores them (`cells.level`).
pub mod level {
    /// 县
    pub const COUNTY: i16 = 1;
    /// 街道
    pub const STREET: i16 = 2;
    /// 社区
    pub const COMMUNITY: i16 = 3;
    /// 单元, the lowest.
    pub const UNIT: i16 = 6;
}

/// What an organisation is (`civicgrid.membership.v1.OrganisationKind`,
/// same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// 县委
    CountyCommittee = 1,
    /// 街道党工委
    StreetWorkingCommittee = 2,
    /// 社区党委
    CommunityPartyCommittee = 3,
    /// 党总支
    GeneralBranch = 4,
    /// 党支部
    Branch = 5,
    /// 小区党支部
    CompoundBranch = 6,
    /// 机关
    GovernmentBody = 7,
    /// 国有企业
    StateEnterprise = 8,
    /// 事业单位
    Institution = 9,
    /// 非公企业
    NonPublicEnterprise = 10,
    /// 社会组织
    SocialOrganisation = 11,
    /// 快递
    Couriers = 12,
    /// 外卖骑手
    Riders = 13,
    /// 网约平台
    PlatformWorkers = 14,
    /// 物业企业
    PropertyCompany = 15,
    /// 业委会
    OwnersCommittee = 16,
}

/// Where an organisation of a kind is placed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlacementRule {
    /// In a cell of exactly this level.
    CellAt(i16),
    /// In a cell at community level or below.
    CellInCommunity,
    /// In a cell at community level or below, or in a compound.
    CellInCommunityOrCompound,
    /// In a compound.
    Compound,
    /// Anywhere in its parent's area, or nowhere of its own.
    Optional,
}

use Kind::*;

const WORK_UNITS: [Kind; 3] = [GovernmentBody, StateEnterprise, Institution];
const TWO_NEW: [Kind; 2] = [NonPublicEnterprise, SocialOrganisation];
const EMERGING: [Kind; 3] = [Couriers, Riders, PlatformWorkers];

impl Kind {
    /// Every kind, in number order.
    pub const ALL: [Kind; 16] = [
        CountyCommittee,
        StreetWorkingCommittee,
        CommunityPartyCommittee,
        GeneralBranch,
        Branch,
        CompoundBranch,
        GovernmentBody,
        StateEnterprise,
        Institution,
        NonPublicEnterprise,
        SocialOrganisation,
        Couriers,
        Riders,
        PlatformWorkers,
        PropertyCompany,
        OwnersCommittee,
    ];

    /// The kind with proto number `number`.
    pub fn from_number(number: i32) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| *kind as i32 == number)
    }

    /// The proto number.
    pub fn number(self) -> i32 {
        self as i32
    }

    /// Party organisations carry standardisation flags; property companies
    /// and owners' committees are parties of property management, not of
    /// the party.
    pub fn is_party_organisation(self) -> bool {
        !matches!(self, PropertyCompany | OwnersCommittee)
    }

    /// Where it is placed.
    pub fn placement(self) -> PlacementRule {
        match self {
            CountyCommittee => PlacementRule::CellAt(level::COUNTY),
            StreetWorkingCommittee => PlacementRule::CellAt(level::STREET),
            CommunityPartyCommittee => PlacementRule::CellAt(level::COMMUNITY),
            GeneralBranch => PlacementRule::CellInCommunity,
            Branch => PlacementRule::CellInCommunityOrCompound,
            CompoundBranch | PropertyCompany | OwnersCommittee => PlacementRule::Compound,
            _ => PlacementRule::Optional,
        }
    }

    /// The kinds its parent may be; empty for the root.
    pub fn parents(self) -> Vec<Kind> {
        match self {
            CountyCommittee => Vec::new(),
            StreetWorkingCommittee => vec![CountyCommittee],
            CommunityPartyCommittee => vec![StreetWorkingCommittee],
            GeneralBranch => [CommunityPartyCommittee]
                .into_iter()
                .chain(WORK_UNITS)
                .chain(TWO_NEW)
                .collect(),
            Branch => [CommunityPartyCommittee, GeneralBranch]
                .into_iter()
                .chain(WORK_UNITS)
                .chain(TWO_NEW)
                .chain(EMERGING)
                .collect(),
            CompoundBranch => vec![CommunityPartyCommittee, GeneralBranch],
            GovernmentBody | StateEnterprise | Institution => {
                vec![CountyCommittee, StreetWorkingCommittee]
            }
            NonPublicEnterprise | SocialOrganisation | Couriers | Riders | PlatformWorkers => {
                vec![
                    CountyCommittee,
                    StreetWorkingCommittee,
                    CommunityPartyCommittee,
                ]
            }
            PropertyCompany | OwnersCommittee => vec![CommunityPartyCommittee, CompoundBranch],
        }
    }

    /// The committee that leads an area at `level`, if any kind does.
    pub fn own_committee_of(level: i16) -> Option<Kind> {
        match level {
            level::COUNTY => Some(CountyCommittee),
            level::STREET => Some(StreetWorkingCommittee),
            level::COMMUNITY => Some(CommunityPartyCommittee),
            _ => None,
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = match self {
            CountyCommittee => "county committee",
            StreetWorkingCommittee => "street working committee",
            CommunityPartyCommittee => "community party committee",
            GeneralBranch => "general branch",
            Branch => "branch",
            CompoundBranch => "compound branch",
            GovernmentBody => "government body organisation",
            StateEnterprise => "state enterprise organisation",
            Institution => "institution organisation",
            NonPublicEnterprise => "non-public enterprise organisation",
            SocialOrganisation => "social organisation",
            Couriers => "couriers' organisation",
            Riders => "riders' organisation",
            PlatformWorkers => "platform workers' organisation",
            PropertyCompany => "property company",
            OwnersCommittee => "owners' committee",
        };
        f.write_str(text)
    }
}

/// An organisation's code: 1-63 of a-z, 0-9 and `-`, as cells and compounds.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrganisationId(String);

impl OrganisationId {
    /// From a bare code.
    pub fn parse(id: &str) -> Option<OrganisationId> {
        civicgrid_cell_tree::is_valid_id(id).then(|| OrganisationId(id.to_owned()))
    }

    /// From `organisations/{id}`.
    pub fn parse_name(name: &str) -> Option<OrganisationId> {
        name.strip_prefix("organisations/")
            .and_then(OrganisationId::parse)
    }

    /// The code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `organisations/{id}`.
    pub fn resource_name(&self) -> String {
        organisation_name(&self.0)
    }
}

impl fmt::Display for OrganisationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `organisations/{id}`.
pub fn organisation_name(id: &str) -> String {
    format!("organisations/{id}")
}

/// Maximum characters of a display name.
pub const MAX_DISPLAY_NAME_CHARS: usize = 200;

/// A trimmed display name of 1-200 characters without control characters.
pub fn parse_display_name(text: &str) -> Result<String, String> {
    let trimmed = text.trim();
    let count = trimmed.chars().count();
    if count == 0 {
        return Err("is required".to_owned());
    }
    if count > MAX_DISPLAY_NAME_CHARS {
        return Err(format!(
            "must be at most {MAX_DISPLAY_NAME_CHARS} characters"
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err("must not contain control characters".to_owned());
    }
    Ok(trimmed.to_owned())
}

/// The standardisation flags (规范化建设).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Standardisation {
    /// 支委会 formed.
    pub branch_committee_formed: bool,
    /// Has office premises.
    pub office_premises: bool,
    /// Has activity premises.
    pub activity_premises: bool,
}

/// What a party organisation lacks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gap {
    /// No 支委会.
    NoBranchCommittee = 1,
    /// No office premises.
    NoOfficePremises = 2,
    /// No activity premises.
    NoActivityPremises = 3,
}

impl Standardisation {
    /// What is missing, in the order of [`Gap`].
    pub fn gaps(&self) -> Vec<Gap> {
        let mut gaps = Vec::new();
        if !self.branch_committee_formed {
            gaps.push(Gap::NoBranchCommittee);
        }
        if !self.office_premises {
            gaps.push(Gap::NoOfficePremises);
        }
        if !self.activity_premises {
            gaps.push(Gap::NoActivityPremises);
        }
        gaps
    }
}

/// Where the organisation was asked to be placed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Nowhere of its own: its parent's area.
    None,
    /// In a cell (its code).
    Cell(String),
    /// In a compound (its code).
    Compound(String),
}

/// A placement as stored in the replicated grid.
#[derive(Debug, Clone, Copy)]
pub enum StoredPlacement<'a> {
    /// No placement of its own.
    None,
    /// A cell of `level` at `path`.
    Cell {
        /// 1-6.
        level: i16,
        /// `/county/.../id/`.
        path: &'a str,
    },
    /// A compound in the community at `community_path`.
    Compound {
        /// `/county/street/community/`.
        community_path: &'a str,
    },
}

/// Why an organisation cannot be placed or attached as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlacementError {
    /// The kind needs a placement of its own.
    #[error("a {kind} must be placed in {what}")]
    Required {
        /// The kind.
        kind: Kind,
        /// What it needs.
        what: &'static str,
    },
    /// The kind cannot be placed in this.
    #[error("a {kind} cannot be placed in {what}; it must be placed in {expected}")]
    Wrong {
        /// The kind.
        kind: Kind,
        /// What was given.
        what: String,
        /// What it needs.
        expected: &'static str,
    },
    /// The placement lies outside the parent's area.
    #[error("lies outside the area of its parent")]
    OutsideParent,
    /// The root has no parent; others need one of the right kind.
    #[error("{0}")]
    Parent(String),
}

fn expected(rule: PlacementRule) -> &'static str {
    match rule {
        PlacementRule::CellAt(level::COUNTY) => "a county cell",
        PlacementRule::CellAt(level::STREET) => "a street cell",
        PlacementRule::CellAt(_) => "a community cell",
        PlacementRule::CellInCommunity => "a cell at community level or below",
        PlacementRule::CellInCommunityOrCompound => {
            "a cell at community level or below, or a compound"
        }
        PlacementRule::Compound => "a compound",
        PlacementRule::Optional => "a cell or a compound inside its parent's area",
    }
}

/// The parent's kind must be one `kind` may report to (`None`: no parent).
pub fn check_parent(kind: Kind, parent: Option<Kind>) -> Result<(), PlacementError> {
    let allowed = kind.parents();
    match parent {
        None if allowed.is_empty() => Ok(()),
        None => Err(PlacementError::Parent(format!(
            "a {kind} needs a parent organisation"
        ))),
        Some(_) if allowed.is_empty() => Err(PlacementError::Parent(format!(
            "a {kind} is the root of the tree and has no parent"
        ))),
        Some(parent) if allowed.contains(&parent) => Ok(()),
        Some(parent) => Err(PlacementError::Parent(format!(
            "a {kind} cannot report to a {parent}; it reports to a {}",
            allowed
                .iter()
                .map(Kind::to_string)
                .collect::<Vec<_>>()
                .join(" or a ")
        ))),
    }
}

/// The area path of an organisation of `kind` placed at `placement`,
/// under a parent whose area is `parent_area` (`None`: the root).
pub fn area_path(
    kind: Kind,
    placement: StoredPlacement<'_>,
    parent_area: Option<&str>,
) -> Result<String, PlacementError> {
    let rule = kind.placement();
    let wrong = |what: String| PlacementError::Wrong {
        kind,
        what,
        expected: expected(rule),
    };
    let path = match (rule, placement) {
        (PlacementRule::Optional, StoredPlacement::None) => {
            return parent_area
                .map(str::to_owned)
                .ok_or(PlacementError::OutsideParent);
        }
        (_, StoredPlacement::None) => {
            return Err(PlacementError::Required {
                kind,
                what: expected(rule),
            });
        }
        (PlacementRule::CellAt(wanted), StoredPlacement::Cell { level, path }) => {
            if level != wanted {
                return Err(wrong(format!("a level {level} cell")));
            }
            path
        }
        (
            PlacementRule::CellInCommunity | PlacementRule::CellInCommunityOrCompound,
            StoredPlacement::Cell { level, path },
        ) => {
            if !(level::COMMUNITY..=level::UNIT).contains(&level) {
                return Err(wrong(format!("a level {level} cell")));
            }
            path
        }
        (
            PlacementRule::Compound | PlacementRule::CellInCommunityOrCompound,
            StoredPlacement::Compound { community_path },
        ) => community_path,
        (PlacementRule::Optional, StoredPlacement::Cell { path, .. }) => path,
        (PlacementRule::Optional, StoredPlacement::Compound { community_path }) => community_path,
        (_, StoredPlacement::Cell { level, .. }) => {
            return Err(wrong(format!("a level {level} cell")));
        }
        (_, StoredPlacement::Compound { .. }) => return Err(wrong("a compound".to_owned())),
    };
    match parent_area {
        Some(parent) if !path.starts_with(parent) => Err(PlacementError::OutsideParent),
        _ => Ok(path.to_owned()),
    }
}

/// Whether a caller whose cell scope roots are `roots` (`None`: all) sees
/// an organisation whose area is at `area_path`.
pub fn visible(area_path: &str, roots: Option<&[String]>) -> bool {
    match roots {
        None => true,
        Some(roots) => roots
            .iter()
            .any(|root| area_path.contains(&format!("/{root}/"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_their_proto_numbers() {
        for kind in Kind::ALL {
            assert_eq!(Kind::from_number(kind.number()), Some(kind));
        }
        assert_eq!(Kind::from_number(0), None);
        assert_eq!(Kind::from_number(17), None);
    }

    #[test]
    fn territorial_kinds_sit_at_their_level_inside_their_parent() {
        let street = StoredPlacement::Cell {
            level: level::STREET,
            path: "/c/s1/",
        };
        assert_eq!(
            area_path(StreetWorkingCommittee, street, Some("/c/")),
            Ok("/c/s1/".to_owned())
        );
        assert!(matches!(
            area_path(CommunityPartyCommittee, street, Some("/c/s1/")),
            Err(PlacementError::Wrong { .. })
        ));
        let other_street = StoredPlacement::Cell {
            level: level::COMMUNITY,
            path: "/c/s2/m2/",
        };
        assert_eq!(
            area_path(CommunityPartyCommittee, other_street, Some("/c/s1/")),
            Err(PlacementError::OutsideParent)
        );
        assert!(matches!(
            area_path(CompoundBranch, StoredPlacement::None, Some("/c/s1/m1/")),
            Err(PlacementError::Required { .. })
        ));
        let compound = StoredPlacement::Compound {
            community_path: "/c/s1/m1/",
        };
        assert_eq!(
            area_path(CompoundBranch, compound, Some("/c/s1/m1/")),
            Ok("/c/s1/m1/".to_owned())
        );
        assert_eq!(
            area_path(NonPublicEnterprise, StoredPlacement::None, Some("/c/s1/")),
            Ok("/c/s1/".to_owned())
        );
    }

    #[test]
    fn only_the_county_committee_has_no_parent_and_others_need_the_right_one() {
        assert_eq!(check_parent(CountyCommittee, None), Ok(()));
        assert!(check_parent(CountyCommittee, Some(CountyCommittee)).is_err());
        assert!(check_parent(StreetWorkingCommittee, None).is_err());
        assert_eq!(
            check_parent(CompoundBranch, Some(CommunityPartyCommittee)),
            Ok(())
        );
        let refused = check_parent(CommunityPartyCommittee, Some(CountyCommittee));
        assert_eq!(
            refused.map_err(|e| e.to_string()),
            Err("a community party committee cannot report to a county committee; it reports to a street working committee".to_owned())
        );
    }

    #[test]
    fn gaps_name_every_missing_flag() {
        assert_eq!(
            Standardisation::default().gaps(),
            vec![
                Gap::NoBranchCommittee,
                Gap::NoOfficePremises,
                Gap::NoActivityPremises
            ]
        );
        let full = Standardisation {
            branch_committee_formed: true,
            office_premises: true,
            activity_premises: true,
        };
        assert!(full.gaps().is_empty());
    }
}
