//! A small county in the service's grid replica, centres to register in
//! it, and counts for "nothing was written".

use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Status;

use crate::TestApp;

/// county c / streets s1, s2 / communities s1-m1, s1-m2, s2-m1 / grid
/// s1-g; compounds k-old (s1-m1), k-new (s1-m1, newly built), k-s2 (s2-m1,
/// newly built). Written straight into the replica tables: the replica
/// checks prove the event path that fills them.
pub async fn small_county(app: &TestApp) {
    for (id, parent, level, path) in [
        ("c", None, 1i16, "/c/"),
        ("s1", Some("c"), 2, "/c/s1/"),
        ("s2", Some("c"), 2, "/c/s2/"),
        ("s1-m1", Some("s1"), 3, "/c/s1/s1-m1/"),
        ("s1-m2", Some("s1"), 3, "/c/s1/s1-m2/"),
        ("s2-m1", Some("s2"), 3, "/c/s2/s2-m1/"),
        ("s1-g", Some("s1-m1"), 4, "/c/s1/s1-m1/s1-g/"),
    ] {
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
    for (id, community, path, newly_built) in [
        ("k-old", "s1-m1", "/c/s1/s1-m1/", false),
        ("k-new", "s1-m1", "/c/s1/s1-m1/", true),
        ("k-s2", "s2-m1", "/c/s2/s2-m1/", true),
    ] {
        sqlx::query(
            "INSERT INTO compounds (id, community_id, community_path, display_name, newly_built, version, create_time, update_time) \
             VALUES ($1, $2, $3, $1, $4, 1, now(), now())",
        )
        .bind(id)
        .bind(community)
        .bind(path)
        .bind(newly_built)
        .execute(&app.pool)
        .await
        .unwrap();
    }
}

/// A zone.
pub fn zone(id: &str, function: pb::CentreFunction, area: i32) -> pb::Zone {
    pb::Zone {
        zone_id: id.to_owned(),
        display_name: id.to_uppercase(),
        function: function as i32,
        area_square_metres: area,
        capacity: 30,
    }
}

/// Monday to Sunday 08:00-12:00 regular, Monday 18:00-21:00 extended.
pub fn hours() -> Vec<pb::OpeningPeriod> {
    let mut periods: Vec<pb::OpeningPeriod> = (1..=7)
        .map(|weekday| pb::OpeningPeriod {
            weekday,
            opens: "08:00".into(),
            closes: "12:00".into(),
            kind: pb::OpeningKind::Regular as i32,
        })
        .collect();
    periods.push(pb::OpeningPeriod {
        weekday: 1,
        opens: "18:00".into(),
        closes: "21:00".into(),
        kind: pb::OpeningKind::Extended as i32,
    });
    periods
}

/// A full "1+3" community centre of 400 m² at `cell`.
pub fn community_centre(cell: &str) -> pb::Centre {
    use pb::CentreFunction::*;
    pb::Centre {
        display_name: "Community centre".into(),
        category: pb::CentreCategory::Community as i32,
        owner_organisation: "organisations/party-committee".into(),
        cell: format!("cells/{cell}"),
        floor_area_square_metres: 400,
        opening_hours: hours(),
        zones: vec![
            zone("hall", PartyMassActivity, 150),
            zone("study", StudyAndDeliberation, 80),
            zone("gym", CultureAndFitness, 100),
            zone("desk", ConvenienceServices, 40),
        ],
        ..Default::default()
    }
}

/// A centre of `category` at compound `compound` with one party-mass zone.
pub fn compound_centre(compound: &str, category: pb::CentreCategory, area: i32) -> pb::Centre {
    pb::Centre {
        display_name: "Compound room".into(),
        category: category as i32,
        owner_organisation: "organisations/branch".into(),
        compound: format!("compounds/{compound}"),
        floor_area_square_metres: area,
        opening_hours: hours(),
        zones: vec![zone("room", pb::CentreFunction::PartyMassActivity, area)],
        ..Default::default()
    }
}

/// Registers `centre` as `centre_id` with `token`.
pub async fn create(
    app: &TestApp,
    token: &str,
    id: &str,
    centre: pb::Centre,
) -> Result<pb::Centre, Status> {
    create_with_key(app, token, id, centre, "").await
}

/// Registers `centre` with an idempotency key.
pub async fn create_with_key(
    app: &TestApp,
    token: &str,
    id: &str,
    centre: pb::Centre,
    request_id: &str,
) -> Result<pb::Centre, Status> {
    app.client
        .clone()
        .create_centre(with_token(
            pb::CreateCentreRequest {
                centre_id: id.to_owned(),
                centre: Some(centre),
                request_id: request_id.to_owned(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().centre.unwrap())
}

/// The county admin's token.
pub fn admin() -> String {
    TestKeys::get().county_admin()
}

/// A street admin of `street`.
pub fn street_admin(street: &str) -> String {
    TestKeys::get().token(&[Role::StreetAdmin], &[&format!("cells/{street}")], None)
}

/// (centres, bookings, standards, outbox rows)
pub async fn counts(app: &TestApp) -> (i64, i64, i64, i64) {
    let count = |table: &'static str| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(format!(
                "SELECT count(*) FROM {table}"
            )))
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    (
        count("centres").await,
        count("bookings").await,
        count("standards").await,
        count("outbox").await,
    )
}

/// The routing keys in the outbox, in order.
pub async fn outbox_keys(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar("SELECT routing_key FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The routing keys in the outbox starting with `prefix`, in order.
pub async fn outbox_keys_like(app: &TestApp, prefix: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT routing_key FROM outbox WHERE starts_with(routing_key, $1) ORDER BY id",
    )
    .bind(prefix)
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

/// The payloads in the outbox under `key`, decoded, in order.
pub async fn published<M: prost::Message + Default>(app: &TestApp, key: &str) -> Vec<M> {
    let payloads: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1 ORDER BY id")
            .bind(key)
            .fetch_all(&app.pool)
            .await
            .unwrap();
    payloads
        .iter()
        .map(|p| M::decode(p.as_slice()).unwrap())
        .collect()
}

/// The events every registration writes in its transaction: the centre,
/// its compliance and its community's coverage.
pub const REGISTERED: [&str; 3] = [
    "centres.centre.registered",
    "centres.compliance.changed",
    "centres.coverage.changed",
];

/// The fields an INVALID_ARGUMENT names.
pub fn fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    field_violations(status)
        .into_iter()
        .map(|(f, _)| f)
        .collect()
}
