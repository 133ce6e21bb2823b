// The demo county's centres, shared by the loader (`civicgrid demo`,
// crates/cli/src/demo_centres.rs) and the centres tests (tests/api/demo.rs)
// through `include!`, so the coverage report the tests pin down is the one
// `make up` shows. Ids are those of crates/cli/src/demo.rs.
//
// Deliberate gaps: the communities qingshan-c2, dongcheng-c1 and
// dongcheng-c2 have no community centre; the newly built compounds
// dongfang and xinyue and the old hexi-xincun have no centre and no link.
// Deliberately non-compliant: hexi-c1's community centre (no convenience
// services zone, 240 m² of the 300 required) and the market's (no
// convenience services zone).

use civicgrid_proto::centres::v1 as pb;

/// Monday to Saturday 08:30-17:30 regular, Monday to Friday 18:00-21:00
/// extended (in-service members after work), Sunday 09:00-12:00 off-peak.
pub fn demo_hours() -> Vec<pb::OpeningPeriod> {
    let period =
        |weekday: i32, opens: &str, closes: &str, kind: pb::OpeningKind| pb::OpeningPeriod {
            weekday,
            opens: opens.to_owned(),
            closes: closes.to_owned(),
            kind: kind as i32,
        };
    let mut hours: Vec<pb::OpeningPeriod> = (1..=6)
        .map(|day| period(day, "08:30", "17:30", pb::OpeningKind::Regular))
        .collect();
    hours.extend((1..=5).map(|day| period(day, "18:00", "21:00", pb::OpeningKind::Extended)));
    hours.push(period(7, "09:00", "12:00", pb::OpeningKind::OffPeak));
    hours
}

fn demo_zone(id: &str, name: &str, function: pb::CentreFunction, area: i32) -> pb::Zone {
    pb::Zone {
        zone_id: id.to_owned(),
        display_name: name.to_owned(),
        function: function as i32,
        area_square_metres: area,
        capacity: (area / 3).max(1),
    }
}

/// The four "1+3" zones of a full community centre.
fn one_plus_three() -> Vec<pb::Zone> {
    use pb::CentreFunction::*;
    vec![
        demo_zone("hall", "党群活动室 Party-mass hall", PartyMassActivity, 150),
        demo_zone(
            "study",
            "学习议事室 Study and deliberation room",
            StudyAndDeliberation,
            80,
        ),
        demo_zone(
            "gym",
            "文化健身室 Culture and fitness room",
            CultureAndFitness,
            100,
        ),
        demo_zone(
            "desk",
            "便民服务站 Convenience services desk",
            ConvenienceServices,
            50,
        ),
    ]
}

#[allow(clippy::too_many_arguments)]
fn demo_centre(
    name: &str,
    category: pb::CentreCategory,
    owner: &str,
    cell: &str,
    compound: &str,
    area: i32,
    zones: Vec<pb::Zone>,
    linked: &[&str],
) -> pb::Centre {
    pb::Centre {
        display_name: name.to_owned(),
        category: category as i32,
        owner_organisation: format!("organisations/{owner}"),
        cell: if cell.is_empty() {
            String::new()
        } else {
            format!("cells/{cell}")
        },
        compound: if compound.is_empty() {
            String::new()
        } else {
            format!("compounds/{compound}")
        },
        floor_area_square_metres: area,
        opening_hours: demo_hours(),
        zones,
        linked_compounds: linked.iter().map(|k| format!("compounds/{k}")).collect(),
        ..Default::default()
    }
}

/// (centre_id, centre): one of every category at least.
pub fn demo_centres() -> Vec<(&'static str, pb::Centre)> {
    use pb::CentreCategory as C;
    use pb::CentreFunction::*;
    vec![
        (
            "qingshan-c1-centre",
            demo_centre(
                "青山第1社区党群服务中心 Qingshan 1st Community Centre",
                C::Community,
                "demo-county-qingshan-c1-committee",
                "demo-county-qingshan-c1",
                "",
                420,
                one_plus_three(),
                &["demo-county-jinxiu"],
            ),
        ),
        (
            "hexi-c1-centre",
            demo_centre(
                "河西第1社区党群服务中心 Hexi 1st Community Centre",
                C::Community,
                "demo-county-hexi-c1-committee",
                "demo-county-hexi-c1",
                "",
                240,
                vec![
                    demo_zone("hall", "党群活动室 Party-mass hall", PartyMassActivity, 120),
                    demo_zone("study", "学习议事室 Study room", StudyAndDeliberation, 60),
                    demo_zone("gym", "文化健身室 Fitness room", CultureAndFitness, 60),
                ],
                &[],
            ),
        ),
        (
            "hexi-c2-centre",
            demo_centre(
                "河西第2社区党群服务中心 Hexi 2nd Community Centre",
                C::Community,
                "demo-county-hexi-c2-committee",
                "demo-county-hexi-c2",
                "",
                360,
                one_plus_three(),
                &["demo-county-taoyuan"],
            ),
        ),
        (
            "binjiang-room",
            demo_centre(
                "滨江苑党群服务站 Binjiang Court Service Point",
                C::ResidentialCompound,
                "demo-county-binjiang-branch",
                "",
                "demo-county-binjiang",
                90,
                vec![
                    demo_zone("room", "活动室 Activity room", PartyMassActivity, 60),
                    demo_zone("desk", "服务台 Service desk", ConvenienceServices, 30),
                ],
                &[],
            ),
        ),
        (
            "dongcheng-park",
            demo_centre(
                "东城产业园党群服务中心 Dongcheng Industrial Park Centre",
                C::IndustrialPark,
                "demo-dongcheng-park-committee",
                "demo-county-dongcheng-c2-g1",
                "",
                200,
                vec![
                    demo_zone("hall", "活动室 Hall", PartyMassActivity, 120),
                    demo_zone("study", "学习室 Study room", StudyAndDeliberation, 80),
                ],
                &[],
            ),
        ),
        (
            "qingshan-tower",
            demo_centre(
                "青山金融大厦党群服务站 Qingshan Finance Tower Point",
                C::OfficeBuilding,
                "demo-qingshan-tower-branch",
                "demo-county-qingshan-c2-g1",
                "",
                120,
                vec![
                    demo_zone("hall", "活动室 Hall", PartyMassActivity, 70),
                    demo_zone("study", "会议室 Meeting room", StudyAndDeliberation, 50),
                ],
                &[],
            ),
        ),
        (
            "hexi-market",
            demo_centre(
                "河西农贸市场党群服务站 Hexi Market Point",
                C::BusinessDistrict,
                "demo-hexi-market-branch",
                "demo-county-hexi-c1-g2",
                "",
                100,
                vec![demo_zone("hall", "活动室 Hall", PartyMassActivity, 100)],
                &[],
            ),
        ),
        (
            "county-transport",
            demo_centre(
                "县交通运输系统党群服务中心 Transport System Centre",
                C::IndustrySystem,
                "demo-transport-committee",
                "demo-county-dongcheng",
                "",
                150,
                vec![
                    demo_zone("hall", "活动室 Hall", PartyMassActivity, 90),
                    demo_zone("study", "学习室 Study room", StudyAndDeliberation, 60),
                ],
                &[],
            ),
        ),
        (
            "xinyuan-tech",
            demo_centre(
                "新元科技党建工作站 Xinyuan Tech Party Point",
                C::NonPublicEnterprise,
                "demo-xinyuan-tech-branch",
                "demo-county-qingshan-c1-g2",
                "",
                40,
                vec![demo_zone("room", "活动室 Room", PartyMassActivity, 40)],
                &[],
            ),
        ),
        (
            "volunteers-assoc",
            demo_centre(
                "县志愿者协会党群服务站 Volunteers' Association Point",
                C::SocialOrganisation,
                "demo-volunteers-branch",
                "demo-county-dongcheng-c1-g1",
                "",
                50,
                vec![demo_zone("room", "活动室 Room", PartyMassActivity, 50)],
                &[],
            ),
        ),
    ]
}
