//! No ID number or phone in clear anywhere: after exercising the API (good
//! and refused requests of every kind that touches members), scan every
//! response and status, every captured log line and span attribute, every
//! outbox event payload and header, and every column of every table.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use uuid::Uuid;

use crate::support::*;

/// Whether `haystack` holds `needle` as bytes.
fn holds(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Every form a secret could leak in: ID numbers in either case of the
/// check character and without it; phones bare, with +86, and their
/// 11-digit body.
fn secrets(ns: &[u32]) -> Vec<String> {
    let mut all = Vec::new();
    for n in ns {
        let id = id_number(*n);
        all.push(id.clone());
        all.push(id.to_lowercase());
        all.push(id[..17].to_owned());
        let phone = phone(*n);
        all.push(format!("+86{phone}"));
        all.push(phone);
    }
    all
}

fn scan(what: &str, text: &[u8], secrets: &[String]) {
    for secret in secrets {
        assert!(
            !holds(text, secret),
            "{secret} in clear in {what}: {}",
            String::from_utf8_lossy(text)
        );
    }
}

fn status_bytes(status: &tonic::Status) -> Vec<u8> {
    let mut bytes = status.message().as_bytes().to_vec();
    bytes.extend_from_slice(status.details());
    bytes.extend_from_slice(format!("{status:?}").as_bytes());
    bytes
}

#[tokio::test]
async fn no_id_number_or_phone_is_in_clear_in_any_response_log_line_trace_attribute_event_or_column()
 {
    assert!(
        crate::capture::install(),
        "the capturing subscriber must be the process's first (run under nextest: a process per test)"
    );
    let app = spawn_with_county().await;
    create_tree(&app).await;
    create(
        &app,
        &admin(),
        "gov-1",
        organisation(pb::OrganisationKind::GovernmentBody, "cc", ""),
    )
    .await
    .unwrap();
    let mut client = app.client.clone();
    let mut responses: Vec<(String, Vec<u8>)> = Vec::new();
    let mut keep = |what: &str, bytes: Vec<u8>| responses.push((what.to_owned(), bytes));

    // Registered one by one, with the lowercase check character where it has one.
    let mut members = Vec::new();
    for n in 1..=3 {
        let member = pb::Member {
            full_name: "郑十一".into(),
            id_number: id_number(n).to_lowercase(),
            phone: format!("+86{}", phone(n)),
            organisation: "organisations/m1-pc".into(),
            standing: pb::Standing::Full as i32,
            residence_cell: "cells/g1".into(),
            work_unit: "organisations/gov-1".into(),
            ..Default::default()
        };
        let response = client
            .register_member(with_token(
                pb::RegisterMemberRequest {
                    member: Some(member.clone()),
                    request_id: Uuid::now_v7().to_string(),
                },
                &admin(),
            ))
            .await
            .unwrap()
            .into_inner();
        keep("RegisterMember", response.encode_to_vec());
        members.push(response.member.unwrap().name);
        // The same number again, and a bad phone: refusals are scanned too.
        let again = client
            .register_member(with_token(
                pb::RegisterMemberRequest {
                    member: Some(member.clone()),
                    request_id: String::new(),
                },
                &admin(),
            ))
            .await
            .unwrap_err();
        keep("RegisterMember refused", status_bytes(&again));
    }
    let mut bad = pb::Member {
        full_name: "王十二".into(),
        id_number: id_number(4),
        phone: "1".to_owned() + &phone(4),
        organisation: "organisations/m1-pc".into(),
        standing: pb::Standing::Full as i32,
        ..Default::default()
    };
    let refused = client
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(bad.clone()),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    keep("RegisterMember invalid", status_bytes(&refused));
    bad.phone = phone(4);
    let good = id_number(4);
    let wrong = if good.ends_with('0') { "1" } else { "0" };
    bad.id_number = good[..17].to_owned() + wrong;
    let refused = client
        .register_member(with_token(
            pb::RegisterMemberRequest {
                member: Some(bad),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    keep("RegisterMember bad check", status_bytes(&refused));

    // A roll with a bad line (refused) and then a good one.
    let header =
        "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n";
    let line = |n: u32| format!("钱十三,{},{},m2-pc,full,,,\n", id_number(n), phone(n));
    let bad_roll = format!(
        "{header}{}{}钱十四,{},1{},m2-pc,full,,,\n",
        line(5),
        line(1),
        id_number(6),
        phone(6)
    );
    let status = client
        .import_members(with_token(
            pb::ImportMembersRequest {
                content: bad_roll.into_bytes(),
                validate_only: false,
            },
            &admin(),
        ))
        .await
        .unwrap_err();
    keep("ImportMembers refused", status_bytes(&status));
    let imported = client
        .import_members(with_token(
            pb::ImportMembersRequest {
                content: format!("{header}{}{}", line(5), line(6)).into_bytes(),
                validate_only: false,
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(imported.created_count, 2);

    // Every read of a member, found and not found.
    for n in [1, 2, 5, 7] {
        match client
            .lookup_member(with_token(
                pb::LookupMemberRequest {
                    id_number: id_number(n),
                },
                &admin(),
            ))
            .await
        {
            Ok(found) => keep("LookupMember", found.into_inner().encode_to_vec()),
            Err(status) => keep("LookupMember not found", status_bytes(&status)),
        }
    }
    for name in &members {
        let got = client
            .get_member(with_token(
                pb::GetMemberRequest { name: name.clone() },
                &admin(),
            ))
            .await
            .unwrap()
            .into_inner();
        keep("GetMember", got.encode_to_vec());
    }
    // Posts and reports name members; their responses and events too.
    let post = client
        .assign_post(with_token(
            pb::AssignPostRequest {
                post: Some(pb::Post {
                    member: members[0].clone(),
                    organisation: "organisations/m1-pc".into(),
                    kind: pb::PostKind::Secretary as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    keep("AssignPost", post.encode_to_vec());
    let report = client
        .register_member_report(with_token(
            pb::RegisterMemberReportRequest {
                report: Some(pb::MemberReport {
                    member: members[1].clone(),
                    community: "cells/m1".into(),
                    period_year: 2026,
                    skills: vec!["维修".into()],
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    keep("RegisterMemberReport", report.encode_to_vec());
    let participation = client
        .get_participation(with_token(
            pb::GetParticipationRequest {
                community: "cells/m1".into(),
                quarter: Some(pb::Quarter {
                    year: 2026,
                    quarter: 4,
                }),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    keep("GetParticipation", participation.encode_to_vec());

    let secrets = secrets(&[1, 2, 3, 4, 5, 6, 7]);
    assert!(responses.len() >= 15, "{}", responses.len());
    for (what, bytes) in &responses {
        scan(what, bytes, &secrets);
    }

    let logs = crate::capture::captured();
    // The capture really saw the service at work: commands' spans and lines.
    assert!(
        logs.iter().any(|l| l.contains("member registered")),
        "no log lines captured"
    );
    assert!(
        logs.iter().any(|l| l.starts_with("span register_member")),
        "no spans captured"
    );
    for line in &logs {
        scan("a log line or span attribute", line.as_bytes(), &secrets);
    }

    let rows: Vec<(String, Vec<u8>, String)> =
        sqlx::query_as("SELECT routing_key, payload, headers::text FROM outbox ORDER BY id")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert!(rows.len() >= 8, "{}", rows.len());
    for (key, payload, headers) in &rows {
        scan(key, payload, &secrets);
        scan(key, headers.as_bytes(), &secrets);
    }

    // Every table, every row as text; every bytea column as raw bytes.
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables \
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(tables.contains(&"members".to_owned()) && tables.contains(&"outbox".to_owned()));
    for table in &tables {
        let texts: Vec<String> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT t::text FROM \"{table}\" t"
        )))
        .fetch_all(&app.pool)
        .await
        .unwrap();
        for text in texts {
            scan(table, text.as_bytes(), &secrets);
        }
    }
    let bytea: Vec<(String, String)> = sqlx::query_as(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type = 'bytea'",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();
    assert!(
        bytea
            .iter()
            .any(|(t, c)| t == "members" && c == "id_number_sealed")
    );
    for (table, column) in bytea {
        let values: Vec<Option<Vec<u8>>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT \"{column}\" FROM \"{table}\""
        )))
        .fetch_all(&app.pool)
        .await
        .unwrap();
        for value in values.into_iter().flatten() {
            scan(&format!("{table}.{column}"), &value, &secrets);
        }
    }
}
