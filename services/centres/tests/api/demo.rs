//! The demo county `make up` loads (crates/cli/src/demo.rs for the grid,
//! services/centres/demo/fixture.rs for the centres): its coverage report
//! names exactly the deliberate gaps, newly built compounds first, and its
//! compliance report exactly the deliberately non-compliant centres.

use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;

use crate::spawn_app;
use crate::support::*;

mod fixture {
    include!("../../demo/fixture.rs");
}

const COUNTY: &str = "demo-county";
const STREETS: [&str; 3] = ["qingshan", "hexi", "dongcheng"];
/// The compounds of crates/cli/src/demo.rs: (code, street, community, newly built).
const COMPOUNDS: [(&str, &str, u8, bool); 6] = [
    ("jinxiu", "qingshan", 1, false),
    ("xinyue", "qingshan", 2, true),
    ("hexi-xincun", "hexi", 1, false),
    ("binjiang", "hexi", 1, true),
    ("taoyuan", "hexi", 2, false),
    ("dongfang", "dongcheng", 1, true),
];

/// The demo county's cells down to grids and its compounds, written into
/// the replica as the grid's events would (the replica checks prove that
/// path); buildings and units play no part in coverage.
pub(crate) async fn demo_county(app: &crate::TestApp) {
    let mut cells = vec![(COUNTY.to_owned(), None, 1i16, format!("/{COUNTY}/"))];
    for street in STREETS {
        let street_id = format!("{COUNTY}-{street}");
        let street_path = format!("/{COUNTY}/{street_id}/");
        cells.push((
            street_id.clone(),
            Some(COUNTY.to_owned()),
            2,
            street_path.clone(),
        ));
        for c in 1..=2 {
            let community = format!("{street_id}-c{c}");
            let community_path = format!("{street_path}{community}/");
            cells.push((
                community.clone(),
                Some(street_id.clone()),
                3,
                community_path.clone(),
            ));
            for g in 1..=2 {
                let grid = format!("{community}-g{g}");
                cells.push((
                    grid.clone(),
                    Some(community.clone()),
                    4,
                    format!("{community_path}{grid}/"),
                ));
            }
        }
    }
    for (id, parent, level, path) in cells {
        sqlx::query(
            "INSERT INTO cells (id, parent_id, level, display_name, path, version, create_time, update_time) \
             VALUES ($1, $2, $3, $1, $4, 1, now(), now())",
        )
        .bind(id)
        .bind(parent)
        .bind(level)
        .bind(path)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    for (code, street, c, newly_built) in COMPOUNDS {
        let community = format!("{COUNTY}-{street}-c{c}");
        sqlx::query(
            "INSERT INTO compounds (id, community_id, community_path, display_name, newly_built, version, create_time, update_time) \
             VALUES ($1, $2, $3, $1, $4, 1, now(), now())",
        )
        .bind(format!("{COUNTY}-{code}"))
        .bind(&community)
        .bind(format!("/{COUNTY}/{COUNTY}-{street}/{community}/"))
        .bind(newly_built)
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

#[tokio::test]
async fn the_demo_countys_coverage_report_names_exactly_its_uncovered_communities_and_compounds_newly_built_first()
 {
    let app = spawn_app().await;
    demo_county(&app).await;
    let centres = fixture::demo_centres();
    let categories: std::collections::BTreeSet<i32> =
        centres.iter().map(|(_, c)| c.category).collect();
    assert_eq!(categories.len(), 8, "a centre of every category");
    for (id, centre) in centres {
        create(&app, &admin(), id, centre).await.unwrap();
    }

    let report = app
        .client
        .clone()
        .get_coverage_report(with_token(
            pb::GetCoverageReportRequest {
                ancestor: format!("cells/{COUNTY}"),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        report.uncovered_communities,
        [
            "cells/demo-county-dongcheng-c1",
            "cells/demo-county-dongcheng-c2",
            "cells/demo-county-qingshan-c2",
        ]
    );
    assert_eq!(
        report.uncovered_compounds,
        [
            "compounds/demo-county-dongfang",
            "compounds/demo-county-xinyue",
            "compounds/demo-county-hexi-xincun",
        ]
    );
    let per_street: Vec<(String, i32, i32, i32, i32)> = report
        .streets
        .iter()
        .map(|s| {
            (
                s.street.clone(),
                s.community_count,
                s.covered_community_count,
                s.compound_count,
                s.covered_compound_count,
            )
        })
        .collect();
    assert_eq!(
        per_street,
        [
            ("cells/demo-county-dongcheng".to_owned(), 2, 0, 1, 0),
            ("cells/demo-county-hexi".to_owned(), 2, 2, 3, 2),
            ("cells/demo-county-qingshan".to_owned(), 2, 1, 2, 1),
        ]
    );

    let compliance = app
        .client
        .clone()
        .list_centre_compliance(with_token(
            pb::ListCentreComplianceRequest {
                non_compliant_only: true,
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .compliance;
    let short: Vec<(String, Vec<i32>, i32)> = compliance
        .into_iter()
        .map(|c| {
            (
                c.centre,
                c.missing_functions,
                c.area_shortfall_square_metres,
            )
        })
        .collect();
    let convenience = pb::CentreFunction::ConvenienceServices as i32;
    assert_eq!(
        short,
        [
            ("centres/hexi-c1-centre".to_owned(), vec![convenience], 60),
            ("centres/hexi-market".to_owned(), vec![convenience], 0),
        ]
    );
}

/// What the cli's `demo::authorized` does, for the loader under test.
pub(crate) fn authorized<T>(message: T, token: &str) -> anyhow::Result<tonic::Request<T>> {
    Ok(with_token(message, token))
}

/// Attendee names for centres running alone, where no membership
/// publishes members (the stack's demo passes real ones).
fn placeholder_attendees() -> Vec<String> {
    (1..=crate::demo_centres::ATTENDEES)
        .map(|m| format!("members/demo-member-{m}"))
        .collect()
}

#[tokio::test]
async fn the_demo_loader_fills_every_list_through_the_api_and_a_second_run_adds_nothing() {
    let app = spawn_app().await;
    demo_county(&app).await;
    let addr = civicgrid_testkit::endpoint(app.addr);
    crate::demo_centres::load_into(addr.clone(), &admin(), &placeholder_attendees())
        .await
        .unwrap();
    let events = || async {
        sqlx::query_as::<_, (String, i64)>(
            "SELECT routing_key, count(*) FROM outbox GROUP BY 1 ORDER BY 1",
        )
        .fetch_all(&app.pool)
        .await
        .unwrap()
    };
    let first = events().await;
    let count = |key: &str| {
        first
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, n)| *n)
            .unwrap_or(0)
    };
    assert_eq!(count("centres.centre.registered"), 10);
    assert_eq!(count("centres.booking.confirmed"), 3);
    assert_eq!(count("centres.slot_booking.confirmed"), 2);
    assert_eq!(count("centres.activity.scheduled"), 2);
    assert_eq!(count("centres.registration.registered"), 8);
    assert_eq!(count("centres.registration.waitlisted"), 2);
    assert_eq!(count("centres.checkin.recorded"), 6);
    assert_eq!(count("centres.demand.registered"), 3);
    assert_eq!(count("centres.resource.registered"), 3);
    assert_eq!(count("centres.project.started"), 1);
    crate::demo_centres::load_into(addr, &admin(), &placeholder_attendees())
        .await
        .unwrap();
    assert_eq!(events().await, first);
}
