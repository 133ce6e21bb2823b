//! Posts over time: which kind of post may be held in which kind of
//! organisation, the periods they are valid for, and what is derived from
//! the posts valid at one moment (一肩挑). No I/O.

use chrono::{DateTime, Utc};

use super::organisation::Kind;

/// A post's kind (`civicgrid.membership.v1.PostKind`, same numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PostKind {
    /// 书记
    Secretary = 1,
    /// 副书记
    DeputySecretary = 2,
    /// 委员
    CommitteeMember = 3,
    /// 居委会主任
    ResidentsCommitteeDirector = 4,
    /// 业委会成员
    OwnersCommitteeMember = 5,
    /// 物业公司副经理 (a grid worker, 四方协同、交叉任职)
    PropertyDeputyManager = 6,
}

impl PostKind {
    /// Every kind, in number order.
    pub const ALL: [PostKind; 6] = [
        PostKind::Secretary,
        PostKind::DeputySecretary,
        PostKind::CommitteeMember,
        PostKind::ResidentsCommitteeDirector,
        PostKind::OwnersCommitteeMember,
        PostKind::PropertyDeputyManager,
    ];

    /// From its proto number.
    pub fn from_number(number: i32) -> Option<PostKind> {
        PostKind::ALL
            .into_iter()
            .find(|kind| *kind as i32 == number)
    }

    /// Its proto number.
    pub fn number(self) -> i32 {
        self as i32
    }

    /// Posts one person at a time holds in an organisation: a second
    /// holder for an overlapping period is refused.
    pub fn single_holder(self) -> bool {
        matches!(
            self,
            PostKind::Secretary
                | PostKind::ResidentsCommitteeDirector
                | PostKind::PropertyDeputyManager
        )
    }

    /// Whether the post can be held in an organisation of `kind`, or why not.
    pub fn check_organisation(self, kind: Kind) -> Result<(), String> {
        let fits = match self {
            PostKind::Secretary | PostKind::DeputySecretary | PostKind::CommitteeMember => {
                kind.is_party_organisation()
            }
            // The residents' committee is no organisation of the party; its
            // director's post is held in the community's party committee.
            PostKind::ResidentsCommitteeDirector => kind == Kind::CommunityPartyCommittee,
            PostKind::OwnersCommitteeMember => kind == Kind::OwnersCommittee,
            PostKind::PropertyDeputyManager => kind == Kind::PropertyCompany,
        };
        if fits {
            return Ok(());
        }
        let wanted = match self {
            PostKind::Secretary | PostKind::DeputySecretary | PostKind::CommitteeMember => {
                "a party organisation"
            }
            PostKind::ResidentsCommitteeDirector => "a community party committee",
            PostKind::OwnersCommitteeMember => "an owners' committee",
            PostKind::PropertyDeputyManager => "a property company",
        };
        Err(format!(
            "a {self} post is held in {wanted}, not in a {kind}"
        ))
    }
}

impl std::fmt::Display for PostKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PostKind::Secretary => "secretary",
            PostKind::DeputySecretary => "deputy secretary",
            PostKind::CommitteeMember => "committee member",
            PostKind::ResidentsCommitteeDirector => "residents' committee director",
            PostKind::OwnersCommitteeMember => "owners' committee member",
            PostKind::PropertyDeputyManager => "property deputy manager",
        })
    }
}

/// `[from, until)`; `until` `None` is open-ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Inclusive start.
    pub from: DateTime<Utc>,
    /// Exclusive end.
    pub until: Option<DateTime<Utc>>,
}

impl Period {
    /// Whether `at` lies in the period.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.from <= at && self.until.is_none_or(|until| at < until)
    }

    /// Whether the two periods share a moment.
    pub fn overlaps(&self, other: &Period) -> bool {
        let starts_before_other_ends = other.until.is_none_or(|until| self.from < until);
        let other_starts_before_end = self.until.is_none_or(|until| other.from < until);
        starts_before_other_ends && other_starts_before_end
    }
}

/// A post as derivations need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostFact {
    /// Who holds it.
    pub member_id: uuid::Uuid,
    /// Where.
    pub organisation_id: String,
    /// What.
    pub kind: PostKind,
    /// When.
    pub period: Period,
}

/// The members holding `kind` in `organisation` at `at`.
pub fn holders<'a>(
    posts: &'a [PostFact],
    organisation: &'a str,
    kind: PostKind,
    at: DateTime<Utc>,
) -> impl Iterator<Item = uuid::Uuid> + 'a {
    posts
        .iter()
        .filter(move |post| {
            post.organisation_id == organisation && post.kind == kind && post.period.contains(at)
        })
        .map(|post| post.member_id)
}

/// 一肩挑: at `at`, the secretary of the community party committee
/// `committee` also holds its residents' committee director post.
pub fn secretary_is_director(posts: &[PostFact], committee: &str, at: DateTime<Utc>) -> bool {
    let directors: Vec<uuid::Uuid> =
        holders(posts, committee, PostKind::ResidentsCommitteeDirector, at).collect();
    holders(posts, committee, PostKind::Secretary, at).any(|member| directors.contains(&member))
}

/// The community an area lies in: its cell code and path, from
/// `/county/street/community/...`; `None` above community level.
pub fn community_of(area_path: &str) -> Option<(String, String)> {
    let segments: Vec<&str> = area_path.split('/').filter(|s| !s.is_empty()).collect();
    let community = segments.get(2)?;
    Some((
        (*community).to_owned(),
        format!("/{}/", segments[..3].join("/")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn day(d: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, d, 0, 0, 0)
            .single()
            .unwrap_or_default()
    }

    fn post(member: u128, kind: PostKind, from: u32, until: Option<u32>) -> PostFact {
        PostFact {
            member_id: uuid::Uuid::from_u128(member),
            organisation_id: "m1-pc".into(),
            kind,
            period: Period {
                from: day(from),
                until: until.map(day),
            },
        }
    }

    #[test]
    fn an_area_lies_in_the_community_of_its_third_segment() {
        assert_eq!(
            community_of("/c/s1/m1/g1/"),
            Some(("m1".to_owned(), "/c/s1/m1/".to_owned()))
        );
        assert_eq!(community_of("/c/s1/"), None);
    }

    #[test]
    fn periods_are_half_open() {
        let p = Period {
            from: day(2),
            until: Some(day(5)),
        };
        assert!(!p.contains(day(1)));
        assert!(p.contains(day(2)));
        assert!(!p.contains(day(5)));
        let next = Period {
            from: day(5),
            until: None,
        };
        assert!(!p.overlaps(&next));
        assert!(next.overlaps(&Period {
            from: day(9),
            until: Some(day(10))
        }));
        assert!(p.overlaps(&Period {
            from: day(1),
            until: Some(day(3))
        }));
    }

    #[test]
    fn one_shoulder_needs_the_same_member_in_both_posts_at_the_same_time() {
        let posts = [
            post(1, PostKind::Secretary, 1, None),
            post(1, PostKind::ResidentsCommitteeDirector, 3, Some(10)),
            post(2, PostKind::ResidentsCommitteeDirector, 10, None),
        ];
        assert!(!secretary_is_director(&posts, "m1-pc", day(2)));
        assert!(secretary_is_director(&posts, "m1-pc", day(3)));
        // The director's post ended; someone else directs now.
        assert!(!secretary_is_director(&posts, "m1-pc", day(10)));
        assert!(!secretary_is_director(&posts, "m2-pc", day(3)));
    }

    #[test]
    fn each_post_is_held_in_its_own_kind_of_organisation() {
        assert!(
            PostKind::ResidentsCommitteeDirector
                .check_organisation(Kind::CommunityPartyCommittee)
                .is_ok()
        );
        assert!(
            PostKind::ResidentsCommitteeDirector
                .check_organisation(Kind::Branch)
                .is_err()
        );
        assert!(
            PostKind::Secretary
                .check_organisation(Kind::PropertyCompany)
                .is_err()
        );
        assert!(
            PostKind::PropertyDeputyManager
                .check_organisation(Kind::PropertyCompany)
                .is_ok()
        );
        assert!(
            PostKind::OwnersCommitteeMember
                .check_organisation(Kind::OwnersCommittee)
                .is_ok()
        );
        for kind in PostKind::ALL {
            assert_eq!(PostKind::from_number(kind.number()), Some(kind));
        }
        assert_eq!(PostKind::from_number(0), None);
    }
}
