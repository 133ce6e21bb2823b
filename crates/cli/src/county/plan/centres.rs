//! The centres side of the generated county: centres of every category,
//! activities over the scale's months with their registrations and
//! check-ins by generated members. Pure, like the rest of the plan.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc, Weekday};
use civicgrid_proto::centres::v1 as cpb;

use super::{Rng, Shape, compounds, member_count};

const ACTIVITY_KIND: u64 = 3;

/// Shanghai's offset (UTC+8, no daylight saving): centres' opening hours
/// are local time.
const SHANGHAI: i64 = 8 * 3600;

/// A centre to register.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedCentre {
    pub id: String,
    /// The community cell it serves (a compound centre: its compound's).
    pub community: String,
    pub centre: cpb::Centre,
}

/// The categories a community hosts besides its community centre, each
/// with its code suffix, name, floor area and zones.
const CATEGORIES: [(cpb::CentreCategory, &str, &str, i32); 6] = [
    (
        cpb::CentreCategory::IndustrialPark,
        "park",
        "产业园区党群服务站",
        220,
    ),
    (
        cpb::CentreCategory::OfficeBuilding,
        "office",
        "商务楼宇党群服务站",
        160,
    ),
    (
        cpb::CentreCategory::BusinessDistrict,
        "market",
        "商圈市场党群服务站",
        140,
    ),
    (
        cpb::CentreCategory::IndustrySystem,
        "system",
        "行业系统党群服务站",
        180,
    ),
    (
        cpb::CentreCategory::NonPublicEnterprise,
        "firm",
        "非公企业党群服务站",
        120,
    ),
    (
        cpb::CentreCategory::SocialOrganisation,
        "social",
        "社会组织党群服务站",
        100,
    ),
];

/// Monday to Saturday 08:30-17:30, Monday to Friday 18:00-21:00 extended,
/// Sunday 09:00-12:00 off-peak (as the demo fixture's centres).
fn hours() -> Vec<cpb::OpeningPeriod> {
    let period =
        |weekday: i32, opens: &str, closes: &str, kind: cpb::OpeningKind| cpb::OpeningPeriod {
            weekday,
            opens: opens.to_owned(),
            closes: closes.to_owned(),
            kind: kind as i32,
        };
    let mut hours: Vec<_> = (1..=6)
        .map(|day| period(day, "08:30", "17:30", cpb::OpeningKind::Regular))
        .collect();
    hours.extend((1..=5).map(|day| period(day, "18:00", "21:00", cpb::OpeningKind::Extended)));
    hours.push(period(7, "09:00", "12:00", cpb::OpeningKind::OffPeak));
    hours
}

fn zone(id: &str, name: &str, function: cpb::CentreFunction, area: i32) -> cpb::Zone {
    cpb::Zone {
        zone_id: id.to_owned(),
        display_name: name.to_owned(),
        function: function as i32,
        area_square_metres: area,
        capacity: (area / 3).max(1),
    }
}

/// The "1+3" zones; `full` false leaves out the convenience desk (a centre
/// that falls short of its standard, as some do).
fn zones(full: bool) -> Vec<cpb::Zone> {
    use cpb::CentreFunction::*;
    let mut zones = vec![
        zone("hall", "党群活动室", PartyMassActivity, 150),
        zone("study", "学习议事室", StudyAndDeliberation, 80),
        zone("gym", "文化健身室", CultureAndFitness, 100),
    ];
    if full {
        zones.push(zone("desk", "便民服务站", ConvenienceServices, 50));
    }
    zones
}

/// Per community a community centre at its cell (every fifth one without
/// its convenience desk) and one centre of each other place category run
/// by the community party committee; per compound that is not newly built
/// a residential compound centre (newly built compounds stay the coverage
/// gaps the speech complains of).
pub fn centres(root: &str, shape: &Shape) -> Vec<PlannedCentre> {
    let mut out = Vec::new();
    let mut n = 0;
    for s in 1..=shape.streets {
        for c in 1..=shape.communities {
            let community = format!("{root}-s{s:02}-c{c:02}");
            let owner = format!("organisations/{community}-pc");
            n += 1;
            out.push(PlannedCentre {
                id: format!("{community}-centre"),
                community: community.clone(),
                centre: cpb::Centre {
                    display_name: format!("第{c}社区党群服务中心"),
                    category: cpb::CentreCategory::Community as i32,
                    owner_organisation: owner.clone(),
                    cell: format!("cells/{community}"),
                    floor_area_square_metres: 400,
                    opening_hours: hours(),
                    zones: zones(n % 5 != 0),
                    ..Default::default()
                },
            });
            for (category, suffix, name, area) in CATEGORIES {
                out.push(PlannedCentre {
                    id: format!("{community}-{suffix}"),
                    community: community.clone(),
                    centre: cpb::Centre {
                        display_name: format!("第{c}社区{name}"),
                        category: category as i32,
                        owner_organisation: owner.clone(),
                        cell: format!("cells/{community}"),
                        floor_area_square_metres: area,
                        opening_hours: hours(),
                        zones: zones(false).into_iter().take(2).collect(),
                        ..Default::default()
                    },
                });
            }
        }
    }
    for compound in compounds(root, shape) {
        if compound.newly_built {
            continue;
        }
        out.push(PlannedCentre {
            id: format!("{}-centre", compound.id),
            community: compound.community.clone(),
            centre: cpb::Centre {
                display_name: format!("{}党群服务站", compound.display_name),
                category: cpb::CentreCategory::ResidentialCompound as i32,
                owner_organisation: format!("organisations/{}-pc", compound.community),
                compound: format!("compounds/{}", compound.id),
                floor_area_square_metres: 120,
                opening_hours: hours(),
                zones: vec![
                    zone(
                        "hall",
                        "党群活动室",
                        cpb::CentreFunction::PartyMassActivity,
                        80,
                    ),
                    zone(
                        "gym",
                        "文化健身室",
                        cpb::CentreFunction::CultureAndFitness,
                        40,
                    ),
                ],
                ..Default::default()
            },
        });
    }
    out
}

/// Who takes part in an activity.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attendee {
    /// The generated member of this index (its name comes from membership).
    Member(u64),
    /// A resident who is not a party member.
    Resident(String),
}

/// How an activity ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate {
    /// Took place: its check-ins recorded, closed as held.
    Held,
    /// Called off (after some registered).
    Cancelled,
    /// Still ahead, open for registration.
    Scheduled,
}

/// An activity to schedule, with what happens to it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlannedActivity {
    /// CreateActivity's idempotency key: a rerun gets the same activity.
    pub request_id: String,
    pub centre: String,
    pub activity: cpb::Activity,
    pub fate: Fate,
    /// Members registered (all within capacity, so all hold a place).
    pub registrations: Vec<u64>,
    /// Confirmed attendances (only for a held activity): most registered
    /// members, sometimes a walk-in resident.
    pub checkins: Vec<Attendee>,
}

/// How many activities each centre gets.
pub fn activities_per_centre(shape: &Shape) -> u64 {
    u64::from(shape.months) * u64::from(shape.activities)
}

/// Which members of a community take part in its activities: its first
/// `pool` members (the rest of the roll never does, as the speech says
/// of many).
pub(super) fn pool(shape: &Shape) -> u64 {
    (u64::from(shape.members) * 2 / 3).clamp(1, 30)
}

/// The member indexes activities draw their attendees from, for the
/// loader to look up once.
pub fn active_members(shape: &Shape) -> Vec<u64> {
    let per_community = u64::from(shape.members);
    let communities = member_count(shape) / per_community.max(1);
    (0..communities)
        .flat_map(|c| (0..pool(shape).min(per_community)).map(move |j| c * per_community + j))
        .collect()
}

/// The community's position (0-based) among all communities, from its id.
fn community_index(shape: &Shape, community: &str) -> u64 {
    // `{root}-sSS-cCC`: the last two numbers.
    let mut numbers = community
        .rsplit('-')
        .take(2)
        .map(|part| part[1..].parse::<u64>().unwrap_or(1));
    let c = numbers.next().unwrap_or(1);
    let s = numbers.next().unwrap_or(1);
    (s - 1) * u64::from(shape.communities) + (c - 1)
}

const TITLES: [(cpb::ActivityType, &str); 6] = [
    (cpb::ActivityType::VolunteerService, "清洁家园志愿服务"),
    (cpb::ActivityType::VolunteerService, "关爱老人上门服务"),
    (cpb::ActivityType::Study, "支部主题党日学习"),
    (cpb::ActivityType::DeliberationMeeting, "居民议事协商会"),
    (cpb::ActivityType::CultureAndFitness, "广场舞展演"),
    (cpb::ActivityType::CultureAndFitness, "太极拳晨练"),
];

/// Activity `k` of centre `centre` (its `index`th in [`centres`]):
/// deterministic from (seed, centre index, k). CreateActivity accepts any
/// time within an opening period, past ones included, so held activities
/// lie over the scale's months behind `now`; one in ten is still ahead
/// (in the next two weeks) and one in ten called off. Check-ins carry the
/// time the loader records them (the API takes no other), not the
/// activity's.
pub fn activity(
    seed: u64,
    index: u64,
    k: u64,
    centre: &PlannedCentre,
    shape: &Shape,
    now: DateTime<Utc>,
) -> PlannedActivity {
    let mut rng = Rng::for_object(seed, ACTIVITY_KIND, index * 1_000 + k);
    let request_id = rng.uuid().to_string();
    let fate = match rng.below(10) {
        0 => Fate::Scheduled,
        1 => Fate::Cancelled,
        _ => Fate::Held,
    };
    let today = (now + Duration::seconds(SHANGHAI)).date_naive();
    let span = i64::from(shape.months) * 30;
    let day = match fate {
        Fate::Scheduled => today + Duration::days(1 + rng.below(14) as i64),
        _ => today - Duration::days(1 + rng.below(span as u64) as i64),
    };
    let (start, end) = slot(&mut rng, day);
    let (activity_type, title) = *rng.pick(&TITLES);
    let attendees = u64::from(shape.attendees);
    let first = community_index(shape, &centre.community) * u64::from(shape.members);
    let pool = pool(shape).min(u64::from(shape.members));
    // Distinct members of the pool, from a random start.
    let offset = rng.below(pool);
    let registrations: Vec<u64> = (0..attendees.min(pool))
        .map(|i| first + (offset + i) % pool)
        .collect();
    let mut checkins = Vec::new();
    if fate == Fate::Held {
        // About one in six registered is a no-show.
        checkins.extend(
            registrations
                .iter()
                .filter(|_| rng.below(6) != 0)
                .map(|&m| Attendee::Member(m)),
        );
        if rng.below(3) == 0 {
            checkins.push(Attendee::Resident(format!(
                "residents/{}-r{}",
                centre.community,
                rng.below(500)
            )));
        }
    }
    let capacity = registrations.len() as i32 + 1 + rng.below(10) as i32;
    PlannedActivity {
        request_id,
        centre: centre.id.clone(),
        activity: cpb::Activity {
            display_name: title.to_owned(),
            organiser: centre.centre.owner_organisation.clone(),
            activity_type: activity_type as i32,
            start_time: Some(start),
            end_time: Some(end),
            capacity,
            volunteer_minutes: *rng.pick(&[60, 90, 120]),
            ..Default::default()
        },
        fate,
        registrations,
        checkins,
    }
}

/// A slot inside one of the day's opening periods: Sunday 09:30-11:30,
/// else 09:00-11:00 or 14:00-16:00, and on weekdays also 19:00-20:30.
fn slot(rng: &mut Rng, day: NaiveDate) -> (prost_types::Timestamp, prost_types::Timestamp) {
    let (start, minutes) = match day.weekday() {
        Weekday::Sun => ((9, 30), 120),
        Weekday::Sat => (*rng.pick(&[(9, 0), (14, 0)]), 120),
        _ => match rng.below(3) {
            0 => ((9, 0), 120),
            1 => ((14, 0), 120),
            _ => ((19, 0), 90),
        },
    };
    let start = day
        .and_hms_opt(start.0, start.1, 0)
        .map(|local| local.and_utc().timestamp() - SHANGHAI)
        .unwrap_or_default();
    let at = |seconds| prost_types::Timestamp { seconds, nanos: 0 };
    (at(start), at(start + minutes * 60))
}
