//! The service catalogue: slots within opening hours, no overbooking of a
//! slot under concurrency, idempotent slot bookings, cancellation, and the
//! paged list of a centre's zone bookings.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use civicgrid_centres::commands::sweep_offers::sweep_once;
use civicgrid_centres::config::CentresSettings;
use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::spawn_app;
use crate::support::*;

fn monday(clock: &str) -> prost_types::Timestamp {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&format!("2026-12-07T{clock}:00+08:00"))
        .unwrap()
        .with_timezone(&Utc);
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

async fn with_service() -> crate::TestApp {
    let app = spawn_app().await;
    small_county(&app).await;
    create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
        .await
        .unwrap();
    app.client
        .clone()
        .create_centre_service(with_token(
            pb::CreateCentreServiceRequest {
                parent: "centres/m1-centre".into(),
                service_id: "legal-aid".into(),
                service: Some(pb::CentreService {
                    display_name: "Legal aid".into(),
                    description: "A lawyer answers residents' questions".into(),
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .unwrap();
    app
}

async fn open_slot(
    app: &crate::TestApp,
    start: &str,
    end: &str,
    capacity: i32,
) -> Result<pb::ServiceSlot, Status> {
    app.client
        .clone()
        .create_service_slot(with_token(
            pb::CreateServiceSlotRequest {
                parent: "centres/m1-centre/services/legal-aid".into(),
                slot: Some(pb::ServiceSlot {
                    start_time: Some(monday(start)),
                    end_time: Some(monday(end)),
                    capacity,
                    ..Default::default()
                }),
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().slot.unwrap())
}

async fn book(
    app: &crate::TestApp,
    slot: &str,
    attendee: &str,
    key: &str,
) -> Result<pb::SlotBooking, Status> {
    book_or_wait(app, slot, attendee, key, false).await
}

async fn book_or_wait(
    app: &crate::TestApp,
    slot: &str,
    attendee: &str,
    key: &str,
    join_waitlist: bool,
) -> Result<pb::SlotBooking, Status> {
    app.client
        .clone()
        .create_slot_booking(with_token(
            pb::CreateSlotBookingRequest {
                parent: slot.to_owned(),
                booking: Some(pb::SlotBooking {
                    attendee: attendee.to_owned(),
                    ..Default::default()
                }),
                request_id: key.to_owned(),
                join_waitlist,
            },
            &admin(),
        ))
        .await
        .map(|r| r.into_inner().booking.unwrap())
}

async fn booked(app: &crate::TestApp) -> (i32, i64) {
    let slot: i32 = sqlx::query_scalar("SELECT booked FROM service_slots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM slot_bookings WHERE state = 'confirmed'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    (slot, rows)
}

#[tokio::test]
async fn thirty_concurrent_bookings_of_a_five_place_slot_confirm_exactly_five() {
    let app = Arc::new(with_service().await);
    let slot = open_slot(&app, "09:00", "10:00", 5).await.unwrap();
    let callers = 30;
    let barrier = Arc::new(Barrier::new(callers));
    let mut tasks = Vec::new();
    for caller in 0..callers {
        let (app, barrier, slot) = (app.clone(), barrier.clone(), slot.name.clone());
        tasks.push(tokio::spawn(async move {
            let attendee = format!("residents/r{caller}");
            barrier.wait().await;
            book(&app, &slot, &attendee, "").await
        }));
    }
    let (mut won, mut full) = (0, 0);
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(status) if status.code() == Code::FailedPrecondition => {
                assert!(status.message().contains("full"), "{}", status.message());
                full += 1
            }
            Err(status) => panic!("unexpected refusal: {status:?}"),
        }
    }
    assert_eq!((won, full), (5, 25));
    assert_eq!(booked(&app).await, (5, 5));
    assert_eq!(
        outbox_keys(&app)
            .await
            .iter()
            .filter(|k| *k == "centres.slot_booking.confirmed")
            .count(),
        5
    );
}

#[tokio::test]
async fn a_retried_slot_booking_is_stored_once_and_a_cancellation_frees_its_place() {
    let app = with_service().await;
    let slot = open_slot(&app, "09:00", "10:00", 1).await.unwrap();
    let key = uuid::Uuid::now_v7().to_string();
    let first = book(&app, &slot.name, "members/m1", &key).await.unwrap();
    let retry = book(&app, &slot.name, "members/m1", &key).await.unwrap();
    assert_eq!(first.name, retry.name);
    assert_eq!(booked(&app).await, (1, 1));
    let status = book(&app, &slot.name, "members/m2", "").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let cancel = |name: String| {
        let mut client = app.client.clone();
        async move {
            client
                .cancel_slot_booking(with_token(pb::CancelSlotBookingRequest { name }, &admin()))
                .await
                .map(|r| r.into_inner().booking.unwrap())
        }
    };
    let cancelled = cancel(first.name.clone()).await.unwrap();
    assert_eq!(cancelled.state, pb::BookingState::Cancelled as i32);
    assert_eq!(cancelled.name, first.name);
    let status = cancel(first.name.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert_eq!(booked(&app).await, (0, 0));
    book(&app, &slot.name, "members/m2", "").await.unwrap();
    assert_eq!(booked(&app).await, (1, 1));
}

#[tokio::test]
async fn a_slot_outside_opening_hours_is_refused_as_a_failed_precondition_and_writes_nothing() {
    let app = with_service().await;
    let before = outbox_keys(&app).await.len();
    let status = open_slot(&app, "11:30", "12:30", 5).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("Asia/Shanghai"),
        "{}",
        status.message()
    );
    let status = open_slot(&app, "10:00", "09:00", 0).await.unwrap_err();
    assert_eq!(fields(&status), ["slot.end_time", "slot.capacity"]);
    assert_eq!(outbox_keys(&app).await.len(), before);
    let slots: i64 = sqlx::query_scalar("SELECT count(*) FROM service_slots")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(slots, 0);
    let services = app
        .client
        .clone()
        .list_centre_services(with_token(
            pb::ListCentreServicesRequest {
                parent: "centres/m1-centre".into(),
                ..Default::default()
            },
            &admin(),
        ))
        .await
        .unwrap()
        .into_inner()
        .services;
    assert_eq!(
        services.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
        ["centres/m1-centre/services/legal-aid"]
    );
}

#[tokio::test]
async fn a_centres_zone_bookings_are_listed_a_page_at_a_time_in_the_order_made() {
    let app = with_service().await;
    let mut made = Vec::new();
    for (start, end) in [("08:00", "09:00"), ("09:00", "10:00"), ("10:00", "11:00")] {
        let booking = app
            .client
            .clone()
            .create_booking(with_token(
                pb::CreateBookingRequest {
                    parent: "centres/m1-centre".into(),
                    booking: Some(pb::Booking {
                        zone_id: "hall".into(),
                        start_time: Some(monday(start)),
                        end_time: Some(monday(end)),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                &admin(),
            ))
            .await
            .unwrap()
            .into_inner()
            .booking
            .unwrap();
        made.push(booking.name);
    }
    let list = |page_token: String| {
        let mut client = app.client.clone();
        async move {
            client
                .list_bookings(with_token(
                    pb::ListBookingsRequest {
                        parent: "centres/m1-centre".into(),
                        page_size: 2,
                        page_token,
                    },
                    &admin(),
                ))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = list(String::new()).await;
    assert_eq!(first.bookings.len(), 2);
    assert!(!first.next_page_token.is_empty());
    let second = list(first.next_page_token).await;
    assert_eq!(second.next_page_token, "");
    let listed: Vec<String> = first
        .bookings
        .into_iter()
        .chain(second.bookings)
        .map(|b| b.name)
        .collect();
    assert_eq!(listed, made);
    let status = app
        .client
        .clone()
        .list_bookings(with_token(
            pb::ListBookingsRequest {
                parent: "centres/m1-centre".into(),
                ..Default::default()
            },
            &street_admin("s2"),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}

#[tokio::test]
async fn a_full_slots_waitlist_gets_the_freed_place_and_a_lapsed_offer_passes_on_once_across_two_sweepers()
 {
    let app = with_service().await;
    let ttl = CentresSettings::default().offer_ttl();
    let slot = open_slot(&app, "09:00", "10:00", 1).await.unwrap();
    let first = book(&app, &slot.name, "members/m1", "").await.unwrap();
    let second = book_or_wait(&app, &slot.name, "members/m2", "", true)
        .await
        .unwrap();
    assert_eq!(second.state, pb::SlotBookingState::Waitlisted as i32);
    let status = book(&app, &slot.name, "members/m3", "").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    assert!(
        status.message().contains("join_waitlist"),
        "{}",
        status.message()
    );
    let third = book_or_wait(&app, &slot.name, "members/m4", "", true)
        .await
        .unwrap();
    assert!(third.waitlist_position > second.waitlist_position);

    app.client
        .clone()
        .cancel_slot_booking(with_token(
            pb::CancelSlotBookingRequest {
                name: first.name.clone(),
            },
            &admin(),
        ))
        .await
        .unwrap();
    let state_of = |name: String| {
        let pool = app.pool.clone();
        async move {
            let id = name
                .rsplit('/')
                .next()
                .unwrap()
                .parse::<uuid::Uuid>()
                .unwrap();
            sqlx::query_scalar::<_, String>("SELECT state FROM slot_bookings WHERE id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(state_of(second.name.clone()).await, "offered");
    // The offered place stays taken: a newcomer still waits.
    let status = book(&app, &slot.name, "members/m5", "").await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");

    let later = chrono::Utc::now() + ttl + chrono::Duration::minutes(1);
    let barrier = Arc::new(Barrier::new(2));
    let sweep = |barrier: Arc<Barrier>| {
        let pool = app.pool.clone();
        async move {
            barrier.wait().await;
            sweep_once(&pool, ttl, later).await.unwrap()
        }
    };
    let (a, b) = tokio::join!(sweep(barrier.clone()), sweep(barrier.clone()));
    assert_eq!(a + b, 1, "the lapsed offer passed on once between them");
    assert_eq!(sweep_once(&app.pool, ttl, later).await.unwrap(), 0);
    assert_eq!(state_of(second.name.clone()).await, "expired");
    assert_eq!(state_of(third.name.clone()).await, "offered");
    assert_eq!(
        outbox_keys(&app)
            .await
            .iter()
            .filter(|k| *k == "centres.slot_booking.expired")
            .count(),
        1
    );

    let accept = |name: String| {
        let mut client = app.client.clone();
        async move {
            client
                .accept_slot_offer(with_token(pb::AcceptSlotOfferRequest { name }, &admin()))
                .await
                .map(|r| r.into_inner().booking.unwrap())
        }
    };
    let status = accept(second.name.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    let confirmed = accept(third.name.clone()).await.unwrap();
    assert_eq!(confirmed.state, pb::SlotBookingState::Confirmed as i32);
    assert_eq!(booked(&app).await, (1, 1));
}
