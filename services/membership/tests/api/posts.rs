//! Posts over time, and what is derived from them: 一肩挑 in the gaps
//! report and the red property management report.

use civicgrid_proto::membership::v1 as pb;
use civicgrid_testkit::with_token;
use prost::Message;
use tonic::Code;

use crate::support::*;

use pb::OrganisationKind as K;
use pb::PostKind as P;

async fn assign(
    app: &TestApp,
    member: &str,
    organisation: &str,
    kind: P,
) -> Result<pb::Post, tonic::Status> {
    app.client
        .clone()
        .assign_post(with_token(
            pb::AssignPostRequest {
                post: Some(pb::Post {
                    member: member.into(),
                    organisation: format!("organisations/{organisation}"),
                    kind: kind as i32,
                    ..Default::default()
                }),
                request_id: String::new(),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().post.unwrap())
}

async fn end(app: &TestApp, post: &str) -> Result<pb::Post, tonic::Status> {
    app.client
        .clone()
        .end_post(with_token(
            pb::EndPostRequest {
                name: post.into(),
                end_time: None,
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().post.unwrap())
}

async fn gaps(
    app: &TestApp,
    at: Option<prost_types::Timestamp>,
) -> pb::GetStandardisationGapsResponse {
    app.client
        .clone()
        .get_standardisation_gaps(with_token(
            pb::GetStandardisationGapsRequest {
                ancestor: String::new(),
                at,
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
}

async fn red_property(app: &TestApp) -> pb::CompoundPropertyManagement {
    let report = app
        .client
        .clone()
        .get_red_property_report(with_token(
            pb::GetRedPropertyReportRequest::default(),
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(report.compounds.len(), 1);
    assert_eq!(
        report.complete_count,
        i32::from(report.compounds[0].complete)
    );
    report.compounds[0].clone()
}

fn one_shoulder(report: &pb::GetStandardisationGapsResponse) -> Vec<(&str, bool)> {
    report
        .communities
        .iter()
        .map(|c| (c.cell.as_str(), c.secretary_is_director))
        .collect()
}

#[tokio::test]
async fn one_shoulder_is_counted_from_posts_and_a_post_that_ended_no_longer_counts() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let wang = register_member(&app, "m1-pc", 1).await;
    let li = register_member(&app, "m1-pc", 2).await;
    assign(&app, &wang, "m1-pc", P::Secretary).await.unwrap();
    // Someone else directing the residents' committee is not 一肩挑.
    let other = assign(&app, &li, "m1-pc", P::ResidentsCommitteeDirector)
        .await
        .unwrap();
    let report = gaps(&app, None).await;
    assert_eq!(
        one_shoulder(&report),
        [("cells/m1", false), ("cells/m2", false)]
    );
    assert_eq!(report.secretary_is_director_count, 0);
    end(&app, &other.name).await.unwrap();

    let director = assign(&app, &wang, "m1-pc", P::ResidentsCommitteeDirector)
        .await
        .unwrap();
    assert_eq!(director.cell, "cells/m1");
    let report = gaps(&app, None).await;
    assert_eq!(
        one_shoulder(&report),
        [("cells/m1", true), ("cells/m2", false)]
    );
    assert_eq!(
        (report.community_count, report.secretary_is_director_count),
        (2, 1)
    );

    let ended = end(&app, &director.name).await.unwrap();
    let report = gaps(&app, None).await;
    assert_eq!(
        one_shoulder(&report),
        [("cells/m1", false), ("cells/m2", false)]
    );
    assert_eq!(report.secretary_is_director_count, 0);
    // Asked about a moment while both posts held, it still counts.
    // valid_until is exclusive: one microsecond before it both posts held.
    let until = ended.valid_until.unwrap();
    let micros = until.seconds * 1_000_000 + i64::from(until.nanos / 1000) - 1;
    let before_the_end = prost_types::Timestamp {
        seconds: micros.div_euclid(1_000_000),
        nanos: i32::try_from(micros.rem_euclid(1_000_000) * 1000).unwrap(),
    };
    assert_eq!(
        gaps(&app, Some(before_the_end))
            .await
            .secretary_is_director_count,
        1
    );

    // The events say what was derived after each change.
    let posts: Vec<(String, bool)> = outbox(&app)
        .await
        .into_iter()
        .filter_map(|(key, payload)| match key.as_str() {
            "membership.post.assigned" => {
                let e = pb::PostAssigned::decode(payload.as_slice()).unwrap();
                assert_eq!(e.meta.unwrap().aggregate_id, e.post);
                Some((key, e.community_secretary_is_director))
            }
            "membership.post.ended" => {
                let e = pb::PostEnded::decode(payload.as_slice()).unwrap();
                assert_eq!(e.cell, "cells/m1");
                Some((key, e.community_secretary_is_director))
            }
            _ => None,
        })
        .collect();
    let expected = [
        ("membership.post.assigned", false),
        ("membership.post.assigned", false),
        ("membership.post.ended", false),
        ("membership.post.assigned", true),
        ("membership.post.ended", false),
    ];
    assert_eq!(posts, expected.map(|(k, v)| (k.to_owned(), v)).to_vec());
}

#[tokio::test]
async fn posts_assigned_and_ended_in_a_community_committee_publish_one_shoulder_with_rising_versions()
 {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let wang = register_member(&app, "m1-pc", 1).await;
    let li = register_member(&app, "m1-pc", 2).await;
    let zhao = register_member(&app, "m2-pc", 3).await;
    let secretary = assign(&app, &wang, "m1-pc", P::Secretary).await.unwrap();
    let other = assign(&app, &li, "m1-pc", P::ResidentsCommitteeDirector)
        .await
        .unwrap();
    end(&app, &other.name).await.unwrap();
    let director = assign(&app, &wang, "m1-pc", P::ResidentsCommitteeDirector)
        .await
        .unwrap();
    // Another community has its own counter; a street's committee is no
    // community's.
    assign(&app, &zhao, "m2-pc", P::Secretary).await.unwrap();
    assign(&app, &zhao, "s1-wc", P::Secretary).await.unwrap();
    end(&app, &director.name).await.unwrap();
    end(&app, &secretary.name).await.unwrap();
    // A post ending in the future still holds now: 一肩挑 while it lasts.
    let director = assign(&app, &li, "m1-pc", P::ResidentsCommitteeDirector)
        .await
        .unwrap();
    assign(&app, &li, "m1-pc", P::Secretary).await.unwrap();
    let tomorrow = prost_types::Timestamp {
        seconds: chrono::Utc::now().timestamp() + 24 * 3600,
        nanos: 0,
    };
    let scheduled = app
        .client
        .clone()
        .end_post(with_token(
            pb::EndPostRequest {
                name: director.name.clone(),
                end_time: Some(tomorrow),
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .post
        .unwrap();
    assert!(scheduled.valid_until.is_some());

    let changes: Vec<(String, bool, i64)> = outbox(&app)
        .await
        .into_iter()
        .filter(|(key, _)| key == "membership.community.one_shoulder.changed")
        .map(|(_, payload)| {
            let e = pb::OneShoulderChanged::decode(payload.as_slice()).unwrap();
            let meta = e.meta.unwrap();
            assert_eq!(
                (meta.aggregate_id.as_str(), meta.aggregate_version),
                (e.community.as_str(), e.version)
            );
            let community = e.community.trim_start_matches("cells/").to_owned();
            assert_eq!(
                e.ancestors,
                [
                    "cells/c".to_owned(),
                    format!("cells/{}", if community == "m1" { "s1" } else { "s2" }),
                    e.community.clone()
                ]
            );
            assert_eq!(e.committee, format!("organisations/{community}-pc"));
            (community, e.secretary_is_director, e.version)
        })
        .collect();
    let expected = [
        ("m1", false, 1),
        ("m1", false, 2),
        ("m1", false, 3),
        ("m1", true, 4),
        ("m2", false, 1),
        ("m1", false, 5),
        ("m1", false, 6),
        ("m1", false, 7),
        ("m1", true, 8),
        ("m1", true, 9),
    ];
    assert_eq!(
        changes,
        expected.map(|(c, v, n)| (c.to_owned(), v, n)).to_vec()
    );
}

#[tokio::test]
async fn the_red_property_report_shows_the_four_parties_and_cross_appointments_in_force() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    let bare = red_property(&app).await;
    assert_eq!(
        (
            bare.compound.as_str(),
            bare.community.as_str(),
            bare.has_community_party_committee,
            bare.has_compound_branch,
            bare.has_property_company,
            bare.complete
        ),
        ("compounds/k1", "cells/m1", true, false, false, false)
    );
    for (id, kind) in [
        ("k1-b", K::CompoundBranch),
        ("k1-pm", K::PropertyCompany),
        ("k1-oc", K::OwnersCommittee),
    ] {
        create(
            &app,
            &admin(),
            id,
            organisation(kind, "m1-pc", "compounds/k1"),
        )
        .await
        .unwrap();
    }
    let parties = red_property(&app).await;
    assert!(
        parties.has_compound_branch && parties.has_property_company && parties.has_owners_committee
    );
    assert!(!parties.property_deputy_manager_filled && !parties.complete);

    let secretary = register_member(&app, "k1-b", 1).await;
    let grid_worker = register_member(&app, "m1-pc", 2).await;
    assign(&app, &secretary, "k1-b", P::Secretary)
        .await
        .unwrap();
    assign(&app, &secretary, "k1-oc", P::OwnersCommitteeMember)
        .await
        .unwrap();
    let deputy = assign(&app, &grid_worker, "k1-pm", P::PropertyDeputyManager)
        .await
        .unwrap();
    assert_eq!(deputy.compound, "compounds/k1");
    let full = red_property(&app).await;
    assert_eq!(
        (
            full.property_deputy_manager_filled,
            full.members_on_owners_committee,
            full.branch_secretary_on_owners_committee,
            full.complete
        ),
        (true, 1, true, true)
    );

    end(&app, &deputy.name).await.unwrap();
    let after = red_property(&app).await;
    assert_eq!(
        (after.property_deputy_manager_filled, after.complete),
        (false, false)
    );
}

#[tokio::test]
async fn a_post_is_refused_where_it_cannot_be_held_or_while_another_holds_it_and_nothing_changes() {
    let app = spawn_with_county().await;
    create_tree(&app).await;
    create(
        &app,
        &admin(),
        "g1-b",
        organisation(K::Branch, "m1-pc", "g1"),
    )
    .await
    .unwrap();
    let wang = register_member(&app, "m1-pc", 1).await;
    let li = register_member(&app, "m1-pc", 2).await;
    let first = assign(&app, &wang, "m1-pc", P::Secretary).await.unwrap();
    let before = counts(&app).await;

    let second = assign(&app, &li, "m1-pc", P::Secretary).await.unwrap_err();
    assert_eq!(second.code(), Code::AlreadyExists, "{second:?}");
    assert!(second.message().contains(&first.name), "{second:?}");
    let twice = assign(&app, &wang, "m1-pc", P::Secretary)
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::AlreadyExists);
    let wrong = assign(&app, &li, "g1-b", P::ResidentsCommitteeDirector)
        .await
        .unwrap_err();
    assert_eq!(fields(&wrong), ["post.kind"]);
    let nobody = assign(
        &app,
        "members/0190a1b2-0000-7000-8000-000000000000",
        "m1-pc",
        P::CommitteeMember,
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&nobody), ["post.member"]);
    let post_count = |app: &TestApp| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>("SELECT count(*) FROM posts")
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!((counts(&app).await, post_count(&app).await), (before, 1));

    // Once ended, the post can be taken by someone else; ending it again is refused.
    end(&app, &first.name).await.unwrap();
    let again = end(&app, &first.name).await.unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition, "{again:?}");
    assign(&app, &li, "m1-pc", P::Secretary).await.unwrap();

    // A street admin of s2 sees none of m1's posts.
    let theirs = app
        .client
        .clone()
        .list_posts(with_token(
            pb::ListPostsRequest::default(),
            &street_admin("s2"),
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(theirs.posts.is_empty());
    let current = app
        .client
        .clone()
        .list_posts(with_token(
            pb::ListPostsRequest {
                organisation: "organisations/m1-pc".into(),
                valid_at: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp() + 1,
                    nanos: 0,
                }),
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(current.posts.len(), 1);
    assert_eq!(current.posts[0].member, li);
}
