//! Activities: registration with a waitlist under concurrency, offers
//! that lapse and pass on exactly once, check-ins confirmed by the
//! organiser (walk-ins only when recorded as such), closing with no-shows.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use civicgrid_centres::commands::sweep_offers::sweep_once;
use civicgrid_centres::config::CentresSettings;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_runtime::auth::Role;
use civicgrid_testkit::{TestKeys, with_token};
use prost::Message;
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::spawn_app;
use crate::support::*;

/// Monday 2026-12-07 at `hh:mm` in Shanghai (UTC+8).
fn monday(clock: &str) -> prost_types::Timestamp {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&format!("2026-12-07T{clock}:00+08:00"))
        .unwrap()
        .with_timezone(&Utc);
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// A grid worker of street s1: organises activities without being a
/// centre administrator.
fn organiser() -> String {
    TestKeys::get().token(&[Role::GridWorker], &["cells/s1"], None)
}

/// Someone else in s1 who may register people but organises nothing here.
fn bystander() -> String {
    TestKeys::get().token(&[Role::DepartmentOperator], &["cells/s1"], None)
}

fn activity(capacity: i32, activity_type: pb::ActivityType, agreement: &str) -> pb::Activity {
    pb::Activity {
        display_name: "Volunteer clean-up".into(),
        organiser: "organisations/branch-1".into(),
        activity_type: activity_type as i32,
        agreement: agreement.to_owned(),
        start_time: Some(monday("09:00")),
        end_time: Some(monday("11:00")),
        capacity,
        volunteer_minutes: 60,
        ..Default::default()
    }
}

struct Harness {
    app: crate::TestApp,
}

impl Harness {
    async fn new() -> Harness {
        let app = spawn_app().await;
        small_county(&app).await;
        create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
            .await
            .unwrap();
        Harness { app }
    }

    async fn schedule(&self, token: &str, activity: pb::Activity) -> Result<pb::Activity, Status> {
        self.app
            .client
            .clone()
            .create_activity(with_token(
                pb::CreateActivityRequest {
                    parent: "centres/m1-centre".into(),
                    activity: Some(activity),
                    request_id: String::new(),
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().activity.unwrap())
    }

    async fn register(&self, activity: &str, attendee: &str) -> Result<pb::Registration, Status> {
        self.app
            .client
            .clone()
            .create_registration(with_token(
                pb::CreateRegistrationRequest {
                    parent: activity.to_owned(),
                    registration: Some(pb::Registration {
                        attendee: attendee.to_owned(),
                        ..Default::default()
                    }),
                },
                &admin(),
            ))
            .await
            .map(|r| r.into_inner().registration.unwrap())
    }

    async fn check_in(
        &self,
        token: &str,
        activity: &str,
        attendee: &str,
        walk_in: bool,
    ) -> Result<pb::Checkin, Status> {
        self.app
            .client
            .clone()
            .record_checkin(with_token(
                pb::RecordCheckinRequest {
                    parent: activity.to_owned(),
                    attendee: attendee.to_owned(),
                    walk_in,
                },
                token,
            ))
            .await
            .map(|r| r.into_inner().checkin.unwrap())
    }

    async fn get(&self, activity: &str) -> pb::Activity {
        self.app
            .client
            .clone()
            .get_activity(with_token(
                pb::GetActivityRequest {
                    name: activity.to_owned(),
                },
                &admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .activity
            .unwrap()
    }

    async fn registrations(&self, activity: &str) -> Vec<pb::Registration> {
        let mut all = Vec::new();
        let mut page_token = String::new();
        loop {
            let page = self
                .app
                .client
                .clone()
                .list_registrations(with_token(
                    pb::ListRegistrationsRequest {
                        parent: activity.to_owned(),
                        page_size: 7,
                        page_token,
                    },
                    &admin(),
                ))
                .await
                .unwrap()
                .into_inner();
            all.extend(page.registrations);
            if page.next_page_token.is_empty() {
                return all;
            }
            page_token = page.next_page_token;
        }
    }

    async fn accept(&self, registration: &str) -> Result<pb::Registration, Status> {
        self.app
            .client
            .clone()
            .accept_registration_offer(with_token(
                pb::AcceptRegistrationOfferRequest {
                    name: registration.to_owned(),
                },
                &admin(),
            ))
            .await
            .map(|r| r.into_inner().registration.unwrap())
    }

    async fn cancel(&self, registration: &str) -> Result<pb::Registration, Status> {
        self.app
            .client
            .clone()
            .cancel_registration(with_token(
                pb::CancelRegistrationRequest {
                    name: registration.to_owned(),
                },
                &admin(),
            ))
            .await
            .map(|r| r.into_inner().registration.unwrap())
    }

    /// Payloads of the outbox rows with `routing_key`, in order.
    async fn events<M: Message + Default>(&self, routing_key: &str) -> Vec<M> {
        let payloads: Vec<Vec<u8>> =
            sqlx::query_scalar("SELECT payload FROM outbox WHERE routing_key = $1 ORDER BY id")
                .bind(routing_key)
                .fetch_all(&self.app.pool)
                .await
                .unwrap();
        payloads
            .iter()
            .map(|p| M::decode(p.as_slice()).unwrap())
            .collect()
    }

    async fn count(&self, sql: &'static str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(&self.app.pool)
            .await
            .unwrap()
    }
}

fn state_of(registrations: &[pb::Registration], state: pb::RegistrationState) -> usize {
    registrations
        .iter()
        .filter(|r| r.state == state as i32)
        .count()
}

#[tokio::test]
async fn fifty_concurrent_registrations_for_ten_places_register_exactly_ten_and_waitlist_forty() {
    let harness = Arc::new(Harness::new().await);
    let activity = harness
        .schedule(
            &organiser(),
            activity(10, pb::ActivityType::VolunteerService, ""),
        )
        .await
        .unwrap();
    let callers = 50;
    let barrier = Arc::new(Barrier::new(callers));
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (harness, barrier, name) = (harness.clone(), barrier.clone(), activity.name.clone());
        tasks.push(tokio::spawn(async move {
            let attendee = format!("residents/r{caller}");
            barrier.wait().await;
            harness.register(&name, &attendee).await
        }));
    }
    let mut answered = Vec::new();
    for task in tasks {
        answered.push(task.await.unwrap().unwrap());
    }
    assert_eq!(
        (
            state_of(&answered, pb::RegistrationState::Registered),
            state_of(&answered, pb::RegistrationState::Waitlisted)
        ),
        (10, 40)
    );
    let listed = harness.registrations(&activity.name).await;
    assert_eq!(listed.len(), 50);
    assert_eq!(
        (
            state_of(&listed, pb::RegistrationState::Registered),
            state_of(&listed, pb::RegistrationState::Waitlisted)
        ),
        (10, 40)
    );
    // Arrival order: the first ten positions hold the places.
    let positions: Vec<i64> = listed.iter().map(|r| r.waitlist_position).collect();
    assert_eq!(positions, (1..=50).collect::<Vec<i64>>());
    assert!(
        listed[..10]
            .iter()
            .all(|r| r.state == pb::RegistrationState::Registered as i32)
    );
    assert_eq!(harness.get(&activity.name).await.seats_taken, 10);
    assert_eq!(
        harness
            .events::<pb::RegistrationChanged>("centres.registration.registered")
            .await
            .len(),
        10
    );
    assert_eq!(
        harness
            .events::<pb::RegistrationChanged>("centres.registration.waitlisted")
            .await
            .len(),
        40
    );
    // The same attendee twice is refused and changes nothing.
    let before = harness.count("SELECT count(*) FROM outbox").await;
    let status = harness
        .register(&activity.name, "residents/r3")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(harness.count("SELECT count(*) FROM outbox").await, before);
    assert_eq!(
        harness.count("SELECT count(*) FROM registrations").await,
        50
    );
}

#[tokio::test]
async fn a_lapsed_offer_passes_to_the_next_in_line_exactly_once_across_two_racing_sweepers() {
    let harness = Harness::new().await;
    // spawn_app runs the service with the default settings.
    let ttl = CentresSettings::default().offer_ttl();
    let activity = harness
        .schedule(&organiser(), activity(1, pb::ActivityType::Study, ""))
        .await
        .unwrap();
    let first = harness
        .register(&activity.name, "members/m1")
        .await
        .unwrap();
    let second = harness
        .register(&activity.name, "members/m2")
        .await
        .unwrap();
    let third = harness
        .register(&activity.name, "members/m3")
        .await
        .unwrap();
    assert_eq!(second.state, pb::RegistrationState::Waitlisted as i32);
    harness.cancel(&first.name).await.unwrap();
    let listed = harness.registrations(&activity.name).await;
    assert_eq!(listed[1].state, pb::RegistrationState::Offered as i32);
    assert!(listed[1].offer_expire_time.is_some());
    // Before the offer lapses a sweep passes nothing on.
    let pool = harness.app.pool.clone();
    assert_eq!(sweep_once(&pool, ttl, Utc::now()).await.unwrap(), 0);

    let later = Utc::now() + ttl + chrono::Duration::minutes(1);
    let barrier = Arc::new(Barrier::new(2));
    let sweep = |barrier: Arc<Barrier>| {
        let pool = pool.clone();
        async move {
            barrier.wait().await;
            sweep_once(&pool, ttl, later).await.unwrap()
        }
    };
    let (a, b) = tokio::join!(sweep(barrier.clone()), sweep(barrier.clone()));
    assert_eq!(a + b, 1, "the lapsed offer passed on once between them");
    assert_eq!(sweep_once(&pool, ttl, later).await.unwrap(), 0);

    let listed = harness.registrations(&activity.name).await;
    let states: Vec<(String, i32)> = listed
        .iter()
        .map(|r| (r.attendee.clone(), r.state))
        .collect();
    assert_eq!(
        states,
        [
            (
                "members/m1".to_owned(),
                pb::RegistrationState::Cancelled as i32
            ),
            (
                "members/m2".to_owned(),
                pb::RegistrationState::Expired as i32
            ),
            (
                "members/m3".to_owned(),
                pb::RegistrationState::Offered as i32
            ),
        ]
    );
    assert_eq!(
        listed[2].offer_expire_time.as_ref().map(|t| t.seconds),
        Some((later + ttl).timestamp())
    );
    let expired = harness
        .events::<pb::RegistrationChanged>("centres.registration.expired")
        .await;
    assert_eq!(expired.len(), 1);
    assert_eq!(expired[0].registration.as_ref().unwrap().name, second.name);
    let offered: Vec<String> = harness
        .events::<pb::RegistrationChanged>("centres.registration.offered")
        .await
        .into_iter()
        .map(|e| e.registration.unwrap().name)
        .collect();
    assert_eq!(offered, [second.name.clone(), third.name.clone()]);
    // The place stayed held throughout: offered, never freed.
    assert_eq!(harness.get(&activity.name).await.seats_taken, 1);

    // The lapsed offer cannot be accepted; the open one can.
    let status = harness.accept(&second.name).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let accepted = harness.accept(&third.name).await.unwrap();
    assert_eq!(accepted.state, pb::RegistrationState::Registered as i32);
    assert_eq!(accepted.offer_expire_time, None);
    // With nobody waiting, a cancelled place is free again.
    harness.cancel(&third.name).await.unwrap();
    assert_eq!(harness.get(&activity.name).await.seats_taken, 0);
}

#[tokio::test]
async fn a_checkin_of_someone_not_registered_is_refused_with_the_reason_unless_recorded_as_a_walk_in()
 {
    let harness = Harness::new().await;
    let activity = harness
        .schedule(
            &organiser(),
            activity(1, pb::ActivityType::CoBuilding, "agreements/a-7"),
        )
        .await
        .unwrap();
    harness
        .register(&activity.name, "members/m1")
        .await
        .unwrap();
    harness
        .register(&activity.name, "members/m2")
        .await
        .unwrap();
    let before = (
        harness.count("SELECT count(*) FROM checkins").await,
        harness.count("SELECT count(*) FROM outbox").await,
    );
    for attendee in ["members/m9", "members/m2"] {
        let status = harness
            .check_in(&organiser(), &activity.name, attendee, false)
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status.message().contains(attendee) && status.message().contains("walk-in"),
            "{}",
            status.message()
        );
    }
    // Only the organiser (or a centre administrator) confirms.
    let status = harness
        .check_in(&bystander(), &activity.name, "members/m1", false)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let after = (
        harness.count("SELECT count(*) FROM checkins").await,
        harness.count("SELECT count(*) FROM outbox").await,
    );
    assert_eq!(after, before, "a refused check-in writes nothing");

    let registered = harness
        .check_in(&organiser(), &activity.name, "members/m1", false)
        .await
        .unwrap();
    assert!(!registered.walk_in);
    assert_eq!(registered.volunteer_minutes, 60);
    let again = harness
        .check_in(&organiser(), &activity.name, "members/m1", true)
        .await
        .unwrap();
    assert_eq!(again.name, registered.name, "a repeat returns the first");
    let walk_in = harness
        .check_in(&organiser(), &activity.name, "residents/r5", true)
        .await
        .unwrap();
    assert!(walk_in.walk_in);

    let events = harness
        .events::<pb::CheckinRecorded>("centres.checkin.recorded")
        .await;
    assert_eq!(events.len(), 2, "one event per attendee");
    let member = &events[0];
    assert_eq!(member.checkin, registered.name);
    assert_eq!(member.activity, activity.name);
    assert_eq!(member.centre, "centres/m1-centre");
    assert_eq!(member.organiser, "organisations/branch-1");
    assert_eq!(member.activity_type, pb::ActivityType::CoBuilding as i32);
    assert_eq!(member.agreement, "agreements/a-7");
    assert_eq!(member.member, "members/m1");
    assert_eq!(
        (member.cell.as_str(), member.compound.as_str()),
        ("cells/s1-m1", "")
    );
    assert!(!member.walk_in);
    assert_eq!(member.volunteer_minutes, 60);
    let meta = member.meta.as_ref().unwrap();
    assert_eq!(meta.aggregate_id, activity.name);
    assert_eq!(meta.event_type, "centres.checkin.recorded");
    // A resident who is not a party member carries no member name.
    assert_eq!(events[1].member, "");
    assert!(events[1].walk_in);
}

#[tokio::test]
async fn closing_an_activity_marks_no_shows_publishes_activity_held_and_ends_check_ins() {
    let harness = Harness::new().await;
    let activity = harness
        .schedule(
            &organiser(),
            activity(3, pb::ActivityType::VolunteerService, ""),
        )
        .await
        .unwrap();
    for attendee in ["members/m1", "members/m2", "residents/r1", "residents/r2"] {
        harness.register(&activity.name, attendee).await.unwrap();
    }
    harness
        .check_in(&organiser(), &activity.name, "members/m1", false)
        .await
        .unwrap();
    harness
        .check_in(&organiser(), &activity.name, "residents/r9", true)
        .await
        .unwrap();
    let status = harness
        .app
        .client
        .clone()
        .close_activity(with_token(
            pb::CloseActivityRequest {
                name: activity.name.clone(),
            },
            &bystander(),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::PermissionDenied, "{status:?}");
    let closed = harness
        .app
        .client
        .clone()
        .close_activity(with_token(
            pb::CloseActivityRequest {
                name: activity.name.clone(),
            },
            &organiser(),
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(closed.no_shows, 2);
    assert_eq!(
        closed.activity.unwrap().state,
        pb::ActivityState::Held as i32
    );
    let no_shows: Vec<String> = harness
        .registrations(&activity.name)
        .await
        .into_iter()
        .filter(|r| r.no_show)
        .map(|r| r.attendee)
        .collect();
    assert_eq!(no_shows, ["members/m2", "residents/r1"]);
    let held = harness
        .events::<pb::ActivityHeld>("centres.activity.held")
        .await;
    assert_eq!(held.len(), 1);
    let held = &held[0];
    assert_eq!(
        (
            held.registered,
            held.attended,
            held.no_shows,
            held.volunteer_minutes
        ),
        (3, 2, 2, 120)
    );
    assert_eq!(held.activity, activity.name);
    assert_eq!(held.cell, "cells/s1-m1");
    assert_eq!(held.start_time, Some(monday("09:00")));

    // A held activity takes no more check-ins or registrations.
    let status = harness
        .check_in(&organiser(), &activity.name, "members/m2", true)
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let status = harness
        .register(&activity.name, "members/m7")
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(
        harness
            .events::<pb::ActivityScheduled>("centres.activity.scheduled")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn an_activity_is_refused_naming_bad_fields_or_outside_opening_hours_and_nothing_is_written()
{
    let harness = Harness::new().await;
    let mut bad = activity(0, pb::ActivityType::CoBuilding, "");
    bad.organiser = "branch".into();
    bad.end_time = Some(monday("08:00"));
    let status = harness.schedule(&organiser(), bad).await.unwrap_err();
    assert_eq!(
        fields(&status),
        [
            "activity.organiser",
            "activity.agreement",
            "activity.end_time",
            "activity.capacity"
        ]
    );
    let mut late = activity(5, pb::ActivityType::Study, "");
    late.end_time = Some(monday("13:00"));
    let status = harness.schedule(&organiser(), late).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let status = harness
        .schedule(
            &street_admin("s2"),
            activity(5, pb::ActivityType::Study, ""),
        )
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert_eq!(harness.count("SELECT count(*) FROM activities").await, 0);
    let scheduled = harness
        .schedule(&organiser(), activity(5, pb::ActivityType::Study, ""))
        .await
        .unwrap();
    let status = harness
        .register(&scheduled.name, "someone")
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["registration.attendee"]);
}

#[tokio::test]
async fn an_activity_scheduled_again_with_its_request_id_is_the_same_activity_and_publishes_nothing()
 {
    let harness = Harness::new().await;
    let request_id = uuid::Uuid::new_v4().to_string();
    let schedule = |request_id: String| {
        let mut client = harness.app.client.clone();
        async move {
            client
                .create_activity(with_token(
                    pb::CreateActivityRequest {
                        parent: "centres/m1-centre".into(),
                        activity: Some(activity(5, pb::ActivityType::VolunteerService, "")),
                        request_id,
                    },
                    &organiser(),
                ))
                .await
                .map(|r| r.into_inner().activity.unwrap())
        }
    };
    let first = schedule(request_id.clone()).await.unwrap();
    let events = harness.count("SELECT count(*) FROM outbox").await;
    let again = schedule(request_id.clone()).await.unwrap();
    assert_eq!(again.name, first.name);
    assert_eq!(harness.count("SELECT count(*) FROM outbox").await, events);
    assert_eq!(harness.count("SELECT count(*) FROM activities").await, 1);
    // Another key is another activity; a key that is no UUID is refused.
    let other = schedule(uuid::Uuid::new_v4().to_string()).await.unwrap();
    assert_ne!(other.name, first.name);
    let status = schedule("not-a-uuid".into()).await.unwrap_err();
    assert_eq!(fields(&status), ["request_id"]);
}
