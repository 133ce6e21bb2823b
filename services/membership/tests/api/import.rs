//! ImportMembers: a CSV roll, every bad line named, all or nothing.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use tonic::Code;

use crate::support::*;

const HEADER: &str =
    "full_name,id_number,phone,organisation,standing,flow_member,residence_cell,work_unit\n";

async fn import(
    app: &TestApp,
    content: String,
    validate_only: bool,
) -> Result<pb::ImportMembersResponse, tonic::Status> {
    app.client
        .clone()
        .import_members(with_token(
            pb::ImportMembersRequest {
                content: content.into_bytes(),
                validate_only,
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner())
}

fn line(n: u32, organisation: &str) -> String {
    format!(
        "党员{n},{},{},{organisation},full,false,g1,\n",
        id_number(n),
        phone(n)
    )
}

#[tokio::test]
async fn a_roll_with_bad_lines_names_every_one_and_imports_nothing() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    create(
        &app,
        &admin(),
        "k1-pm",
        organisation(
            pb::OrganisationKind::PropertyCompany,
            "m1-pc",
            "compounds/k1",
        ),
    )
    .await
    .unwrap();
    register_member(&app, "m1-pc", 7).await;
    let before = counts(&app).await;
    let mut content = String::from(HEADER);
    content += &line(1, "m1-pc"); // line 2: good
    content += "王五,110105194912310021,12812345678,m1-pc,full,,,\n"; // line 3: check character, phone
    content += &line(7, "m1-pc"); // line 4: already registered
    content += &line(1, "m2-pc"); // line 5: the number of line 2
    content += &line(2, "nope"); // line 6: no such organisation
    content += &line(3, "k1-pm"); // line 7: not a party organisation
    content += &format!("赵六,{},{},m1-pc,member,yes,g1,\n", id_number(4), phone(4)); // line 8
    content += &format!("钱七,{},{},m1-pc,full,,zz,\n", id_number(6), phone(6)); // line 9: no such cell
    content += &line(5, "m2-pc"); // line 10: good
    let status = import(&app, content.clone(), false).await.unwrap_err();
    assert_eq!(
        fields(&status),
        [
            "content.line[3].id_number",
            "content.line[3].phone",
            "content.line[4].id_number",
            "content.line[5].id_number",
            "content.line[6].organisation",
            "content.line[7].organisation",
            "content.line[8].standing",
            "content.line[8].flow_member",
            "content.line[9].residence_cell",
        ]
    );
    for secret in [
        id_number(1),
        id_number(7),
        "110105194912310021".to_owned(),
        "12812345678".to_owned(),
    ] {
        assert!(!format!("{status:?}").contains(&secret), "{status:?}");
    }
    assert_eq!(counts(&app).await, before);
    // validate_only reports the same and writes nothing either.
    let checked = import(&app, content, true).await.unwrap_err();
    assert_eq!(fields(&checked).len(), 9);
    assert_eq!(counts(&app).await, before);
}

#[tokio::test]
async fn a_good_roll_registers_every_member_with_an_event_each_and_finds_them_by_id_number() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let before = counts(&app).await;
    let content: String = std::iter::once(HEADER.to_owned())
        .chain((1..=300).map(|n| line(n, if n % 2 == 0 { "m1-pc" } else { "m2-pc" })))
        .collect();
    let checked = import(&app, content.clone(), true).await.unwrap();
    assert_eq!((checked.valid_count, checked.created_count), (300, 0));
    assert_eq!(counts(&app).await, before);
    let imported = import(&app, content.clone(), false).await.unwrap();
    assert_eq!((imported.valid_count, imported.created_count), (300, 300));
    let after = counts(&app).await;
    assert_eq!((after.1 - before.1, after.2 - before.2), (300, 300));
    let found = app
        .client
        .clone()
        .lookup_member(with_token(
            pb::LookupMemberRequest {
                id_number: id_number(42),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .member
        .unwrap();
    assert_eq!(found.organisation, "organisations/m1-pc");
    // The same roll again: every line is taken now.
    let again = import(&app, content, false).await.unwrap_err();
    assert_eq!(again.code(), Code::InvalidArgument);
    assert_eq!(counts(&app).await, after);
}
