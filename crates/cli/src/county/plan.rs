//! The generated county, as data: deterministic from a seed, computed
//! without I/O, so a rerun (after Ctrl-C, a killed process, a restarted
//! service) plans exactly the same objects with the same ids and the
//! services' idempotency skips what is there.

mod centres;
mod ratings;
mod reports;

use chrono::{DateTime, Duration, Utc};
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::transition_task_request::{self as tr, Action as A};

pub use self::centres::{
    Attendee, Fate, PlannedActivity, PlannedCentre, active_members, activities_per_centre,
    activity, centres,
};
pub use self::ratings::ratings;
pub use self::reports::{
    PlannedMemberReport, PlannedUnitReport, member_reports, unit_reports, work_unit,
};

/// How big a county to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// For tests and a first look: 2 streets, 4 communities, 91 cells,
    /// 8 compounds, 1,000 tasks over three months, 40 party members; 34
    /// centres (every category in every community, 6 compounds with
    /// one), an activity per centre a month (102, with 4 members
    /// registered each and most checked in), ratings of a third of the
    /// tasks departments resolved.
    Small,
    /// A demo-sized county: 6 streets, 30 communities, 240 grids with
    /// buildings and units, 60 compounds, 3,000 tasks over four months,
    /// 3,000 party members; 250 centres of all eight categories, an
    /// activity per centre a month (1,000: held, called off, still
    /// ahead) with 6 members registered each and their check-ins, ratings
    /// of half the tasks departments resolved.
    Demo,
    /// For load tests: 12 streets, 120 communities, 3,000 grids, about
    /// 213,000 cells, 360 compounds, a million tasks over a year, 240,000
    /// party members; about 1,080 centres, an activity per centre a month
    /// (12,960) with 8 members registered each, ratings of half the tasks
    /// departments resolved. (An activity a week would be about 900,000
    /// centres calls, an hour of the load on two cores, for no figure the
    /// bench reports.)
    Large,
}

/// The numbers of a scale (per parent, except `tasks`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub streets: u32,
    pub communities: u32,
    pub grids: u32,
    pub buildings: u32,
    pub units: u32,
    pub compounds: u32,
    pub tasks: u64,
    pub months: u32,
    /// Party members per community (in membership).
    pub members: u32,
    /// Activities per centre per month (at most about one a week).
    pub activities: u32,
    /// Members registered for each activity.
    pub attendees: u32,
    /// Percent of the tasks departments resolved whose departments the
    /// community rates.
    pub rated_percent: u32,
}

impl Scale {
    pub fn shape(self) -> Shape {
        match self {
            Scale::Small => Shape {
                streets: 2,
                communities: 2,
                grids: 3,
                buildings: 2,
                units: 2,
                compounds: 2,
                tasks: 1_000,
                months: 3,
                members: 10,
                activities: 1,
                attendees: 4,
                rated_percent: 33,
            },
            Scale::Demo => Shape {
                streets: 6,
                communities: 5,
                grids: 8,
                buildings: 3,
                units: 4,
                compounds: 2,
                tasks: 3_000,
                months: 4,
                members: 100,
                activities: 1,
                attendees: 6,
                rated_percent: 50,
            },
            Scale::Large => Shape {
                streets: 12,
                communities: 10,
                grids: 25,
                buildings: 10,
                units: 6,
                compounds: 3,
                tasks: 1_000_000,
                months: 12,
                members: 2_000,
                activities: 1,
                attendees: 8,
                rated_percent: 50,
            },
        }
    }
}

/// SplitMix64: a tiny, well-known generator whose whole state is one
/// number, so any object's randomness is derived from (seed, kind, index)
/// alone and objects can be generated in any order, in parallel.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn for_object(seed: u64, kind: u64, index: u64) -> Rng {
        let mut rng = Rng(seed ^ kind.wrapping_mul(0xA076_1D64_78BD_642F));
        rng.0 ^= index.wrapping_mul(0x9E37_79B9_7F4A_7C15);
        rng.next_u64();
        rng
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A UUID (version 4 layout) from the generator: the same object gets
    /// the same id on every run.
    pub fn uuid(&mut self) -> uuid::Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

const TASK_KIND: u64 = 1;
const MEMBER_KIND: u64 = 2;
// 3: activities (centres.rs); 4: ratings (ratings.rs); 5, 6: work units
// and member reports (reports.rs).

/// A cell to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCell {
    pub id: String,
    pub parent: String,
    pub level: pb::CellLevel,
    pub display_name: String,
}

/// A compound to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedCompound {
    pub id: String,
    pub community: String,
    pub display_name: String,
    pub buildings: Vec<String>,
    pub year_built: i32,
    pub newly_built: bool,
}

/// Street and community names (cycled, numbered when they repeat).
const STREET_NAMES: [&str; 12] = [
    "青山", "河西", "东城", "南湖", "北关", "西园", "金桥", "柳巷", "龙泉", "桃源", "新华", "临江",
];

/// The cells, one list per level (county first), each parent before its children.
pub fn cells(root: &str, shape: &Shape) -> Vec<Vec<PlannedCell>> {
    let mut levels: Vec<Vec<PlannedCell>> = vec![Vec::new(); 6];
    levels[0].push(PlannedCell {
        id: root.to_owned(),
        parent: String::new(),
        level: pb::CellLevel::County,
        display_name: "生成县 Generated County".to_owned(),
    });
    for s in 1..=shape.streets {
        let street = format!("{root}-s{s:02}");
        let name = STREET_NAMES[(s as usize - 1) % STREET_NAMES.len()];
        levels[1].push(cell(
            &street,
            root,
            pb::CellLevel::Street,
            format!("{name}街道"),
        ));
        for c in 1..=shape.communities {
            let community = format!("{street}-c{c:02}");
            levels[2].push(cell(
                &community,
                &street,
                pb::CellLevel::Community,
                format!("{name}第{c}社区"),
            ));
            for g in 1..=shape.grids {
                let grid = format!("{community}-g{g:02}");
                levels[3].push(cell(
                    &grid,
                    &community,
                    pb::CellLevel::Grid,
                    format!("第{g}网格"),
                ));
                for b in 1..=shape.buildings {
                    let building = format!("{grid}-b{b:02}");
                    levels[4].push(cell(
                        &building,
                        &grid,
                        pb::CellLevel::Building,
                        format!("{b}号楼"),
                    ));
                    for u in 1..=shape.units {
                        levels[5].push(cell(
                            &format!("{building}-u{u}"),
                            &building,
                            pb::CellLevel::Unit,
                            format!("{u}单元"),
                        ));
                    }
                }
            }
        }
    }
    levels
}

fn cell(id: &str, parent: &str, level: pb::CellLevel, display_name: String) -> PlannedCell {
    PlannedCell {
        id: id.to_owned(),
        parent: parent.to_owned(),
        level,
        display_name,
    }
}

/// Per community, `shape.compounds` compounds, the k-th holding the
/// buildings of the community's k-th grid; every third one newly built.
pub fn compounds(root: &str, shape: &Shape) -> Vec<PlannedCompound> {
    let mut out = Vec::new();
    let mut n = 0;
    for s in 1..=shape.streets {
        for c in 1..=shape.communities {
            let community = format!("{root}-s{s:02}-c{c:02}");
            for k in 1..=shape.compounds.min(shape.grids) {
                n += 1;
                let newly_built = n % 3 == 0;
                out.push(PlannedCompound {
                    id: format!("{root}-s{s:02}-c{c:02}-y{k}"),
                    community: community.clone(),
                    display_name: format!(
                        "{}{k}号小区",
                        STREET_NAMES[(n as usize) % STREET_NAMES.len()]
                    ),
                    buildings: (1..=shape.buildings)
                        .map(|b| format!("{community}-g{k:02}-b{b:02}"))
                        .collect(),
                    year_built: if newly_built { 2025 } else { 1990 + (n % 30) },
                    newly_built,
                });
            }
        }
    }
    out
}

/// A party organisation to create in membership, placed in a cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedOrganisation {
    pub id: String,
    pub kind: civicgrid_proto::membership::v1::OrganisationKind,
    /// The parent organisation's id; empty for the county committee.
    pub parent: String,
    pub cell: String,
    pub display_name: String,
}

/// The party organisations, one list per level (parents first): the
/// county committee, a working committee per street, a party committee
/// per community (the members' organisation of record) and each street's
/// work units (where in-service members work; they report to the street's
/// communities).
pub fn organisations(root: &str, shape: &Shape) -> Vec<Vec<PlannedOrganisation>> {
    use civicgrid_proto::membership::v1::OrganisationKind as K;
    let county = format!("{root}-cc");
    let mut levels = vec![
        vec![PlannedOrganisation {
            id: county.clone(),
            kind: K::CountyCommittee,
            parent: String::new(),
            cell: root.to_owned(),
            display_name: "中共生成县委".to_owned(),
        }],
        Vec::new(),
        Vec::new(),
    ];
    for s in 1..=shape.streets {
        let street = format!("{root}-s{s:02}");
        let name = STREET_NAMES[(s as usize - 1) % STREET_NAMES.len()];
        levels[1].push(PlannedOrganisation {
            id: format!("{street}-wc"),
            kind: K::StreetWorkingCommittee,
            parent: county.clone(),
            cell: street.clone(),
            display_name: format!("{name}街道党工委"),
        });
        for c in 1..=shape.communities {
            levels[2].push(PlannedOrganisation {
                id: format!("{street}-c{c:02}-pc"),
                kind: K::CommunityPartyCommittee,
                parent: format!("{street}-wc"),
                cell: format!("{street}-c{c:02}"),
                display_name: format!("{name}第{c}社区党委"),
            });
        }
        levels[2].extend(reports::work_units(&street, s));
    }
    levels
}

/// How many members the county has.
pub fn member_count(shape: &Shape) -> u64 {
    u64::from(shape.streets) * u64::from(shape.communities) * u64::from(shape.members)
}

/// The header of ImportMembers' CSV.
pub const MEMBER_CSV_HEADER: &str =
    "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit";

/// Member `index` as a line of ImportMembers' CSV, and its ID number (the
/// key a rerun looks it up by). Members fill the communities in turn; each
/// lives in a grid of their community; one in ten is probationary, one in
/// twenty a flow member.
pub fn member(seed: u64, index: u64, root: &str, shape: &Shape) -> (String, String) {
    let mut rng = Rng::for_object(seed, MEMBER_KIND, index);
    let grid = 1 + rng.below(shape.grids.into());
    let (_, place) = member_home(index, root, shape);
    let id_number = id_number(seed, index);
    const SURNAMES: [&str; 12] = [
        "王", "李", "张", "刘", "陈", "杨", "赵", "黄", "周", "吴", "徐", "孙",
    ];
    const GIVEN: [&str; 10] = ["伟", "芳", "娜", "敏", "静", "强", "磊", "洋", "艳", "勇"];
    let name = format!(
        "{}{}{}",
        rng.pick(&SURNAMES),
        rng.pick(&GIVEN),
        rng.pick(&GIVEN)
    );
    // 139 + eight digits of the index: distinct for every member.
    let phone = format!("139{:08}", index % 100_000_000);
    let standing = if rng.below(10) == 0 {
        "probationary"
    } else {
        "full"
    };
    let flow = rng.below(20) == 0;
    let work_unit = work_unit(seed, index, root, shape).unwrap_or_default();
    let line = format!(
        "{name},{id_number},{phone},{place}-pc,{standing},{flow},{place}-g{grid:02},{work_unit}"
    );
    (line, id_number)
}

/// The street and community (their ids) member `index` belongs to:
/// members fill the communities in turn.
fn member_home(index: u64, root: &str, shape: &Shape) -> (String, String) {
    let per_street = u64::from(shape.communities) * u64::from(shape.members);
    let street = 1 + index / per_street.max(1);
    let community = 1 + index % per_street.max(1) / u64::from(shape.members).max(1);
    let street = format!("{root}-s{street:02}");
    let community = format!("{street}-c{community:02}");
    (street, community)
}

/// The `index`th generated ID number (GB 11643-1999): a real region code,
/// a birth date between 1950 and 2003 and a sequence (shifted by the seed,
/// so counties of other seeds mostly differ), distinct for every index
/// below 78 million, with its ISO 7064 MOD 11-2 check character.
pub fn id_number(seed: u64, index: u64) -> String {
    // Not the hand-written demo's regions (`demo_membership.rs`): the two
    // counties live side by side under `make up`.
    const REGIONS: [&str; 4] = ["330102", "110105", "440305", "510104"];
    const DAYS: u64 = 19_700;
    let born = chrono::NaiveDate::from_ymd_opt(1950, 1, 1).unwrap_or_default()
        + Duration::days(i64::try_from(index / 4 % DAYS).unwrap_or(0));
    let body = format!(
        "{}{}{:03}",
        REGIONS[(index % 4) as usize],
        born.format("%Y%m%d"),
        (index / (4 * DAYS) + seed.wrapping_mul(7)) % 1000
    );
    let check = civicgrid_membership::domain::id_number::check_character(body.as_bytes());
    format!("{body}{}", char::from(check))
}

/// The demo directory's categories with their required extra fields and
/// a plausible value for each (see `demo.rs`, which creates them).
/// A category and its required fields, each with the values to draw from.
type PlannedCategory = (
    &'static str,
    &'static [(&'static str, &'static [&'static str])],
);

const CATEGORIES: [PlannedCategory; 7] = [
    (
        "illegal-parking",
        &[("licence_plate", &["浙A·12345", "浙B·6K789", "沪C·88888"])],
    ),
    ("noise", &[]),
    ("garbage", &[]),
    (
        "road-damage",
        &[("road_name", &["人民路", "解放路", "建设大道"])],
    ),
    ("water-leak", &[]),
    (
        "elevator-failure",
        &[
            ("elevator_code", &["31103301012017", "31103301012018"]),
            ("people_trapped", &["否", "是"]),
        ],
    ),
    ("property-dispute", &[]),
];

/// Which departments answer which category (lead first).
fn departments_for(category: &str) -> &'static [&'static str] {
    match category {
        "illegal-parking" => &["public-security", "transport"],
        "noise" => &["urban-management", "public-security"],
        "garbage" => &["urban-management"],
        "road-damage" => &["transport", "urban-management"],
        "water-leak" => &["water-supply", "housing"],
        "elevator-failure" => &["market-supervision", "housing"],
        _ => &["housing", "market-supervision"],
    }
}

const DESCRIPTIONS: [&str; 6] = [
    "居民反映：楼道内长期堆放杂物，影响通行",
    "Resident reports the problem again; neighbours affected",
    "网格员巡查发现，需要尽快处理",
    "夜间持续出现，已影响老人休息",
    "小区门口，早晚高峰尤其严重",
    "热线转来，居民希望尽快答复",
];

/// Task `index` of the county: where, what, when and its whole life up to
/// `now` (a life that would run past `now` stops there, still valid: every
/// prefix of a life is one).
pub fn task(
    seed: u64,
    index: u64,
    root: &str,
    shape: &Shape,
    now: DateTime<Utc>,
) -> pb::HistoricalTask {
    let mut rng = Rng::for_object(seed, TASK_KIND, index);
    let id = rng.uuid();
    let street = 1 + rng.below(shape.streets.into());
    let community = 1 + rng.below(shape.communities.into());
    let grid = 1 + rng.below(shape.grids.into());
    let cell = format!("{root}-s{street:02}-c{community:02}-g{grid:02}");
    let (category, fields) = *rng.pick(&CATEGORIES);
    let fields = fields
        .iter()
        .map(|(key, values)| ((*key).to_owned(), (*rng.pick(values)).to_owned()))
        .collect();
    let urgency = *rng.pick(&[
        pb::Urgency::Low,
        pb::Urgency::Normal,
        pb::Urgency::Normal,
        pb::Urgency::Normal,
        pb::Urgency::Urgent,
        pb::Urgency::Emergency,
    ]);
    let channel = *rng.pick(&[
        pb::Channel::GridPatrol,
        pb::Channel::Resident,
        pb::Channel::Hotline,
        pb::Channel::ServiceCentre,
    ]);
    let span_minutes = i64::from(shape.months) * 30 * 24 * 60;
    let reported = minute(now - Duration::minutes(1 + rng.below(span_minutes as u64) as i64));
    let departments = departments_for(category);
    let steps = life(&mut rng, reported, now, &cell, departments);
    pb::HistoricalTask {
        name: format!("tasks/{id}"),
        task: Some(pb::Task {
            cell: format!("cells/{cell}"),
            category: format!("categories/{category}"),
            urgency: urgency as i32,
            channel: channel as i32,
            description: (*rng.pick(&DESCRIPTIONS)).to_owned(),
            fields,
            ..Default::default()
        }),
        report_time: Some(timestamp(reported)),
        reporter: format!("resident-{}", rng.below(5_000)),
        steps,
    }
}

fn minute(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp() / 60 * 60, 0).unwrap_or(at)
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The shapes of life a task takes, in rough proportion to a real county's.
fn life(
    rng: &mut Rng,
    reported: DateTime<Utc>,
    now: DateTime<Utc>,
    cell: &str,
    departments: &[&str],
) -> Vec<pb::HistoricalStep> {
    let worker = format!("grid-worker-{cell}");
    let community = format!("community-staff-{}", &cell[..cell.len().saturating_sub(4)]);
    let lead = departments[0];
    let other = departments.get(1).copied().unwrap_or("housing");
    let d = |id: &str| format!("departments/{id}");
    let operator = |id: &str| format!("operator-{id}");
    let mut script: Vec<(String, A, &str)> = Vec::new();
    let accept = (worker.clone(), A::Accept(tr::Accept {}), "");
    let satisfied = (
        "resident".to_owned(),
        A::Rate(tr::Rate { satisfied: true }),
        "",
    );
    let whistled = |lead: &str| {
        vec![
            (
                community.clone(),
                A::Whistle(tr::Whistle {
                    lead: d(lead),
                    assisting: vec![],
                }),
                "",
            ),
            (
                operator(lead),
                A::CheckIn(tr::CheckIn {
                    department: d(lead),
                }),
                "",
            ),
            (
                operator(lead),
                A::ResolvePart(tr::ResolvePart {
                    department: d(lead),
                }),
                "",
            ),
        ]
    };
    match rng.below(100) {
        // Waiting to be accepted.
        0..=7 => {}
        // Accepted, or being handled by the grid.
        8..=11 => script.push(accept),
        12..=15 => {
            script.push(accept);
            script.push((worker.clone(), A::Start(tr::Start {}), ""));
        }
        // Solved in the grid, resident satisfied.
        16..=40 => {
            script.push(accept);
            script.push((worker.clone(), A::ResolveByGrid(tr::ResolveByGrid {}), ""));
            script.push(satisfied);
        }
        // Whistled to the lead department, resolved, satisfied.
        41..=70 => {
            script.push(accept);
            script.extend(whistled(lead));
            script.push(satisfied);
        }
        // The lead returns it; the community whistles another.
        71..=78 => {
            script.push(accept);
            script.push((
                community.clone(),
                A::Whistle(tr::Whistle {
                    lead: d(lead),
                    assisting: vec![],
                }),
                "",
            ));
            script.push((
                operator(lead),
                A::Return(tr::Return {
                    department: d(lead),
                }),
                "不属于本部门职责",
            ));
            script.extend(whistled(other));
            script.push(satisfied);
        }
        // Dissatisfied: reopened, then whistled and resolved.
        79..=86 => {
            script.push(accept);
            script.push((worker.clone(), A::ResolveByGrid(tr::ResolveByGrid {}), ""));
            script.push((
                "resident".to_owned(),
                A::Rate(tr::Rate { satisfied: false }),
                "问题没有解决",
            ));
            script.extend(whistled(lead));
            script.push(satisfied);
        }
        // Whistled and checked in, still being worked on.
        87..=93 => {
            script.push(accept);
            script.extend(whistled(lead).into_iter().take(2));
        }
        // Rejected as invalid.
        _ => script.push((
            community.clone(),
            A::Reject(tr::Reject {
                kind: pb::RejectionKind::Invalid as i32,
            }),
            "重复举报，已合并处理",
        )),
    }
    let mut at = reported;
    let mut steps = Vec::with_capacity(script.len());
    for (actor, action, reason) in script {
        // A department may return a task only before its return deadline
        // (30 minutes for an emergency): returns come quickly.
        let most = if matches!(action, A::Return(_)) {
            20
        } else {
            240
        };
        at += Duration::minutes(5 + rng.below(most) as i64);
        if at > now {
            break;
        }
        steps.push(pb::HistoricalStep {
            time: Some(timestamp(at)),
            actor,
            transition: Some(pb::TransitionTaskRequest {
                reason: reason.to_owned(),
                action: Some(action),
                ..Default::default()
            }),
        });
    }
    steps
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_plans_the_same_tasks_and_another_seed_others() {
        let shape = Scale::Demo.shape();
        let now = Utc::now();
        let a: Vec<_> = (0..50).map(|i| task(7, i, "gen", &shape, now)).collect();
        let b: Vec<_> = (0..50).map(|i| task(7, i, "gen", &shape, now)).collect();
        let c: Vec<_> = (0..50).map(|i| task(8, i, "gen", &shape, now)).collect();
        assert_eq!(a, b);
        assert!(a.iter().zip(&c).all(|(x, y)| x.name != y.name));
    }

    #[test]
    fn the_demo_scale_has_the_promised_size_and_valid_unique_ids() {
        let shape = Scale::Demo.shape();
        let levels = cells("gen", &shape);
        let counts: Vec<usize> = levels.iter().map(Vec::len).collect();
        assert_eq!(counts, [1, 6, 30, 240, 720, 2_880]);
        let mut ids: Vec<&str> = levels.iter().flatten().map(|c| c.id.as_str()).collect();
        assert!(
            ids.iter().all(|id| civicgrid_cell_tree::is_valid_id(id)),
            "ids follow the contract"
        );
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), counts.iter().sum::<usize>());
        let compounds = compounds("gen", &shape);
        assert_eq!(compounds.len(), 60);
        assert_eq!(compounds.iter().filter(|c| c.newly_built).count(), 20);
    }

    #[test]
    fn task_steps_never_run_past_now_and_come_in_order() {
        let shape = Scale::Demo.shape();
        let now = Utc::now();
        for index in 0..2_000 {
            let task = task(42, index, "gen", &shape, now);
            let mut last = task.report_time.unwrap().seconds;
            assert!(last <= now.timestamp());
            for step in &task.steps {
                let at = step.time.unwrap().seconds;
                assert!(at >= last && at <= now.timestamp());
                last = at;
            }
        }
    }

    #[test]
    fn every_planned_member_has_a_valid_distinct_id_number_and_phone_in_a_planned_community() {
        use civicgrid_membership::domain::{id_number::IdNumber, phone::Phone};
        let shape = Scale::Demo.shape();
        let today = Utc::now().date_naive();
        let organisations: std::collections::HashSet<String> = organisations("gen", &shape)
            .into_iter()
            .flatten()
            .map(|o| o.id)
            .collect();
        let mut id_numbers = std::collections::HashSet::new();
        let mut phones = std::collections::HashSet::new();
        for index in 0..member_count(&shape) {
            let (line, id_number) = member(7, index, "gen", &shape);
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), MEMBER_CSV_HEADER.split(',').count(), "{line}");
            assert_eq!(fields[1], id_number);
            assert!(IdNumber::parse(fields[1], today).is_ok(), "{line}");
            assert!(Phone::parse(fields[2]).is_ok(), "{line}");
            assert!(organisations.contains(fields[3]), "{line}");
            assert!(
                fields[6].starts_with(&fields[3][..fields[3].len() - 3]),
                "{line}"
            );
            assert!(id_numbers.insert(fields[1].to_owned()), "distinct: {line}");
            assert!(phones.insert(fields[2].to_owned()), "distinct: {line}");
        }
        assert_eq!(id_numbers.len(), 3_000);
        // The large county's quarter of a million stay distinct too.
        let large: std::collections::HashSet<String> =
            (0..240_000).map(|i| id_number(7, i)).collect();
        assert_eq!(large.len(), 240_000);
    }

    #[test]
    fn the_demo_scale_has_centres_of_every_category_and_an_activity_per_centre_a_month() {
        use civicgrid_proto::centres::v1::CentreCategory;
        let shape = Scale::Demo.shape();
        let planned = centres("gen", &shape);
        assert_eq!(planned.len(), 250);
        let mut ids: Vec<&str> = planned.iter().map(|c| c.id.as_str()).collect();
        assert!(ids.iter().all(|id| civicgrid_cell_tree::is_valid_id(id)));
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 250, "distinct ids");
        let categories: std::collections::BTreeSet<i32> =
            planned.iter().map(|c| c.centre.category).collect();
        assert_eq!(categories.len(), 8, "all eight categories");
        assert!(!categories.contains(&(CentreCategory::Unspecified as i32)));
        assert_eq!(activities_per_centre(&shape), 4);
        assert_eq!(centres("gen", &Scale::Small.shape()).len(), 34);
        // At most about one a week at the large scale.
        let large = Scale::Large.shape();
        assert!(activities_per_centre(&large) <= u64::from(large.months) * 31 / 7);
    }

    #[test]
    fn activities_fall_in_opening_hours_held_ones_behind_us_with_registered_or_walk_in_attendees() {
        let shape = Scale::Demo.shape();
        let now = Utc::now();
        let planned = centres("gen", &shape);
        let active: std::collections::HashSet<u64> = active_members(&shape).into_iter().collect();
        let mut requests = std::collections::HashSet::new();
        let mut fates = std::collections::HashMap::new();
        for (index, centre) in planned.iter().enumerate() {
            for k in 0..activities_per_centre(&shape) {
                let a = activity(7, index as u64, k, centre, &shape, now);
                assert_eq!(a, activity(7, index as u64, k, centre, &shape, now));
                assert!(requests.insert(a.request_id.clone()), "distinct keys");
                *fates.entry(format!("{:?}", a.fate)).or_insert(0) += 1;
                let start = a.activity.start_time.unwrap().seconds;
                let end = a.activity.end_time.unwrap().seconds;
                // Shanghai local time: within 09:00-21:00 on one day.
                let local = (start + 8 * 3600).rem_euclid(86_400);
                assert!((9 * 3600..=19 * 3600).contains(&local), "{a:?}");
                assert!(end > start && local + (end - start) <= 21 * 3600);
                match a.fate {
                    Fate::Held | Fate::Cancelled if end < now.timestamp() => {}
                    Fate::Scheduled if start > now.timestamp() => {}
                    Fate::Cancelled => {}
                    _ => panic!("out of place in time: {a:?}"),
                }
                assert!(a.registrations.len() as i32 <= a.activity.capacity);
                assert!(a.registrations.iter().all(|m| active.contains(m)));
                for attendee in &a.checkins {
                    match attendee {
                        Attendee::Member(m) => assert!(a.registrations.contains(m)),
                        Attendee::Resident(name) => assert!(name.starts_with("residents/")),
                    }
                }
                if a.fate != Fate::Held {
                    assert!(a.checkins.is_empty());
                }
            }
        }
        assert_eq!(requests.len(), 1_000);
        assert_eq!(fates.len(), 3, "held, called off and ahead: {fates:?}");
    }

    #[test]
    fn ratings_rate_each_whistled_department_of_tasks_resolved_a_day_ago_once() {
        let shape = Scale::Demo.shape();
        let now = Utc::now();
        let planned = ratings(7, "gen", &shape, now, 0..shape.tasks);
        assert!(planned.len() > 300, "{} ratings", planned.len());
        let mut keys = std::collections::HashSet::new();
        for rating in &planned {
            assert!(rating.department.starts_with("departments/"));
            assert!(keys.insert((rating.task.clone(), rating.department.clone())));
        }
        // A rerun a while later plans the same ratings.
        assert_eq!(
            planned,
            ratings(
                7,
                "gen",
                &shape,
                now + Duration::minutes(30),
                0..shape.tasks
            )
        );
    }

    #[test]
    fn in_service_members_report_to_their_community_and_some_of_them_never_take_part() {
        let shape = Scale::Demo.shape();
        let reports = member_reports(2026, "gen", &shape);
        assert!(!reports.is_empty());
        for report in &reports {
            let unit = work_unit(2026, report.member, "gen", &shape).expect("in service");
            let (line, _) = member(2026, report.member, "gen", &shape);
            let street = &report.community[..report.community.len() - 4];
            assert!(line.ends_with(&format!(",{unit}")), "{line}");
            assert!(unit.starts_with(&format!("{street}-wu-")), "{unit}");
            assert!(
                line.contains(&format!(",{}-pc,", report.community)),
                "{line}"
            );
            assert_eq!((report.skills.len(), report.volunteer_posts.len()), (2, 1));
        }
        let active: std::collections::HashSet<u64> = active_members(&shape).into_iter().collect();
        let attending = reports
            .iter()
            .filter(|r| active.contains(&r.member))
            .count();
        assert!(attending > 0, "reporting members take part");
        assert!(attending < reports.len(), "and some never do");
        // About half of all members are in service.
        let members = member_count(&shape);
        let in_service = (0..members)
            .filter(|&i| work_unit(2026, i, "gen", &shape).is_some())
            .count() as u64;
        assert!(in_service > members / 3 && in_service < members * 2 / 3);
    }

    #[test]
    fn each_streets_work_units_report_to_every_community_of_the_street() {
        let shape = Scale::Demo.shape();
        let organisations: std::collections::HashMap<String, PlannedOrganisation> =
            organisations("gen", &shape)
                .into_iter()
                .flatten()
                .map(|o| (o.id.clone(), o))
                .collect();
        let reports = unit_reports("gen", &shape);
        assert_eq!(reports.len(), 6 * 3 * 5);
        for report in &reports {
            let unit = &organisations[&report.unit];
            assert_eq!(unit.parent, format!("{}-wc", unit.cell));
            assert!(report.community.starts_with(&format!("{}-c", unit.cell)));
            assert!(!report.resources.is_empty());
        }
    }
}
