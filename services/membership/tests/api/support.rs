//! The membership service under test: its own database and broker names,
//! gRPC on port 0, its client, and a small county in its grid replica.

use civicgrid_membership::Application;
use civicgrid_membership::config::MembershipSettings;
use civicgrid_proto::grid::v1 as grid;
use civicgrid_proto::membership::v1 as pb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use civicgrid_runtime::auth::Role;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestKeys, with_token};
use tonic::Status;
use tonic::transport::Channel;
use uuid::Uuid;

pub type Client = MembershipServiceClient<Channel>;
pub type TestApp = civicgrid_testkit::TestApp<Client>;

/// Membership's own section for tests: the test data key.
pub fn test_config() -> MembershipSettings {
    MembershipSettings {
        membership_data_key_path: TestKeys::get().data_key_path.clone(),
        ..MembershipSettings::default()
    }
}

/// The service on port 0 with its own database and broker names.
pub async fn spawn_app() -> TestApp {
    crate::capture::install();
    TestApp::spawn::<Application>(
        test_config(),
        |app| (app.grpc_addr(), app.pool().clone(), app.consumers()),
        Client::new,
    )
    .await
}

/// county c / streets s1, s2 / communities m1 (in s1), m2 (in s2) / grid
/// g1 in m1, and compound k1 in m1, applied through the replica consumers.
pub async fn spawn_with_county() -> TestApp {
    let app = spawn_app().await;
    let cells = [
        ("c", None, grid::CellLevel::County),
        ("s1", Some("c"), grid::CellLevel::Street),
        ("s2", Some("c"), grid::CellLevel::Street),
        ("m1", Some("s1"), grid::CellLevel::Community),
        ("m2", Some("s2"), grid::CellLevel::Community),
        ("g1", Some("m1"), grid::CellLevel::Grid),
    ];
    let mut paths: std::collections::HashMap<&str, Vec<String>> = Default::default();
    for (id, parent, level) in cells {
        let ancestors = parent
            .map(|p| {
                let mut above = paths[p].clone();
                above.push(format!("cells/{p}"));
                above
            })
            .unwrap_or_default();
        paths.insert(id, ancestors.clone());
        let event = grid::CellCreated {
            meta: None,
            cell: Some(grid::Cell {
                name: format!("cells/{id}"),
                parent: parent.map(|p| format!("cells/{p}")).unwrap_or_default(),
                level: level as i32,
                display_name: id.to_uppercase(),
                ancestors,
                version: 1,
                ..Default::default()
            }),
        };
        app.publish("grid.cell.created", Uuid::now_v7(), &event)
            .await;
    }
    assert_eq!(app.consumers[0].drain().await.unwrap().len(), 6);
    let compound = grid::CompoundCreated {
        meta: None,
        compound: Some(grid::Compound {
            name: "compounds/k1".into(),
            community: "cells/m1".into(),
            display_name: "锦绣花园".into(),
            ancestors: vec!["cells/c".into(), "cells/s1".into(), "cells/m1".into()],
            version: 1,
            ..Default::default()
        }),
    };
    app.publish("grid.compound.created", Uuid::now_v7(), &compound)
        .await;
    assert_eq!(app.consumers[1].drain().await.unwrap().len(), 1);
    app
}

pub fn admin() -> String {
    TestKeys::get().county_admin()
}

pub fn street_admin(street: &str) -> String {
    TestKeys::get().token(&[Role::StreetAdmin], &[&format!("cells/{street}")], None)
}

/// An organisation to create.
pub fn organisation(kind: pb::OrganisationKind, parent: &str, cell: &str) -> pb::Organisation {
    pb::Organisation {
        display_name: "组织".into(),
        kind: kind as i32,
        parent: if parent.is_empty() {
            String::new()
        } else {
            format!("organisations/{parent}")
        },
        cell: if cell.is_empty() || cell.starts_with("compounds/") {
            String::new()
        } else {
            format!("cells/{cell}")
        },
        compound: if cell.starts_with("compounds/") {
            cell.to_owned()
        } else {
            String::new()
        },
        ..Default::default()
    }
}

pub async fn create(
    app: &TestApp,
    token: &str,
    id: &str,
    organisation: pb::Organisation,
) -> Result<pb::Organisation, Status> {
    app.client
        .clone()
        .create_organisation(with_token(
            pb::CreateOrganisationRequest {
                organisation_id: id.into(),
                organisation: Some(organisation),
                request_id: String::new(),
            },
            token,
        ))
        .await
        .map(|r| r.into_inner().organisation.unwrap())
}

/// The tree: county committee cc, street committees s1-wc and s2-wc,
/// community committees m1-pc and m2-pc.
pub async fn create_tree(app: &TestApp) {
    use pb::OrganisationKind as K;
    for (id, kind, parent, cell) in [
        ("cc", K::CountyCommittee, "", "c"),
        ("s1-wc", K::StreetWorkingCommittee, "cc", "s1"),
        ("s2-wc", K::StreetWorkingCommittee, "cc", "s2"),
        ("m1-pc", K::CommunityPartyCommittee, "s1-wc", "m1"),
        ("m2-pc", K::CommunityPartyCommittee, "s2-wc", "m2"),
    ] {
        create(app, &admin(), id, organisation(kind, parent, cell))
            .await
            .unwrap();
    }
}

/// (organisations, members, outbox rows)
pub async fn counts(app: &TestApp) -> (i64, i64, i64) {
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
        count("organisations").await,
        count("members").await,
        count("outbox").await,
    )
}

/// The fields an INVALID_ARGUMENT names.
pub fn fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    field_violations(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

/// The routing keys and payloads in the outbox, oldest first.
pub async fn outbox(app: &TestApp) -> Vec<(String, Vec<u8>)> {
    sqlx::query_as("SELECT routing_key, payload FROM outbox ORDER BY id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// A valid ID number (region 110105, born 1980-01-01) with sequence `n`.
pub fn id_number(n: u32) -> String {
    let body = format!(
        "1101051980{:02}{:02}{:03}",
        1 + (n / 28_000) % 12,
        1 + (n / 1000) % 28,
        n % 1000
    );
    let check = civicgrid_membership::domain::id_number::check_character(body.as_bytes());
    format!("{body}{}", char::from(check))
}

/// A valid mobile number with sequence `n`.
pub fn phone(n: u32) -> String {
    format!("139{:08}", n)
}

/// Registers a member of `organisation` with ID number `id_number(n)`; its name.
pub async fn register_member(app: &TestApp, organisation: &str, n: u32) -> String {
    app.client
        .clone()
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(pb::Member {
                    full_name: "李四".into(),
                    id_number: id_number(n),
                    phone: phone(n),
                    organisation: format!("organisations/{organisation}"),
                    standing: pb::Standing::Full as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap()
        .name
}
