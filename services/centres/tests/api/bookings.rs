//! Bookings: half-open ranges, no double booking under any concurrency,
//! opening hours, idempotency keys, cancellation.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_testkit::with_token;
use tokio::sync::Barrier;
use tonic::{Code, Status};

use crate::spawn_app;
use crate::support::*;

/// Monday 2026-12-07 at `hh:mm` in Shanghai (UTC+8).
fn monday(clock: &str) -> prost_types::Timestamp {
    local("2026-12-07", clock)
}

fn local(date: &str, clock: &str) -> prost_types::Timestamp {
    let at: DateTime<Utc> = DateTime::parse_from_rfc3339(&format!("{date}T{clock}:00+08:00"))
        .unwrap()
        .with_timezone(&Utc);
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

fn request(
    zone: &str,
    start: prost_types::Timestamp,
    end: prost_types::Timestamp,
    key: &str,
) -> pb::CreateBookingRequest {
    pb::CreateBookingRequest {
        parent: "centres/m1-centre".into(),
        booking: Some(pb::Booking {
            zone_id: zone.to_owned(),
            start_time: Some(start),
            end_time: Some(end),
            purpose: "Branch meeting".into(),
            ..Default::default()
        }),
        request_id: key.to_owned(),
    }
}

async fn book(
    app: &crate::TestApp,
    request: pb::CreateBookingRequest,
) -> Result<pb::Booking, Status> {
    app.client
        .clone()
        .create_booking(with_token(request, &admin()))
        .await
        .map(|r| r.into_inner().booking.unwrap())
}

async fn with_centre() -> crate::TestApp {
    let app = spawn_app().await;
    small_county(&app).await;
    create(&app, &admin(), "m1-centre", community_centre("s1-m1"))
        .await
        .unwrap();
    app
}

#[tokio::test]
async fn touching_half_open_bookings_both_succeed_and_an_overlap_is_already_exists() {
    let app = with_centre().await;
    let first = book(&app, request("hall", monday("09:00"), monday("10:00"), ""))
        .await
        .unwrap();
    let second = book(&app, request("hall", monday("10:00"), monday("11:00"), ""))
        .await
        .unwrap();
    assert_eq!(first.state, pb::BookingState::Confirmed as i32);
    assert_ne!(first.name, second.name);
    assert!(
        first.name.starts_with("centres/m1-centre/bookings/"),
        "{}",
        first.name
    );
    // Another zone at the same time is free.
    book(&app, request("study", monday("09:30"), monday("10:30"), ""))
        .await
        .unwrap();
    let before = counts(&app).await;
    let status = book(&app, request("hall", monday("09:59"), monday("10:01"), ""))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::AlreadyExists, "{status:?}");
    assert_eq!(counts(&app).await, before);
    assert_eq!(
        outbox_keys_like(&app, "centres.booking.").await,
        [
            "centres.booking.confirmed",
            "centres.booking.confirmed",
            "centres.booking.confirmed"
        ]
    );
}

#[tokio::test]
async fn fifty_concurrent_bookings_of_one_slot_have_exactly_one_winner() {
    let app = Arc::new(with_centre().await);
    let callers = 50;
    let barrier = Arc::new(Barrier::new(callers));
    let mut tasks = Vec::new();
    for _ in 0..callers {
        let (app, barrier) = (app.clone(), barrier.clone());
        tasks.push(tokio::spawn(async move {
            let request = request("hall", monday("09:00"), monday("10:00"), "");
            barrier.wait().await;
            book(&app, request).await
        }));
    }
    let mut won = 0;
    let mut refused = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => won += 1,
            Err(status)
                if matches!(
                    status.code(),
                    Code::AlreadyExists | Code::FailedPrecondition
                ) =>
            {
                refused += 1
            }
            Err(status) => panic!("unexpected refusal: {status:?}"),
        }
    }
    assert_eq!((won, refused), (1, callers - 1));
    let (_, bookings, _, _) = counts(&app).await;
    assert_eq!(bookings, 1);
    assert_eq!(
        outbox_keys(&app)
            .await
            .iter()
            .filter(|k| *k == "centres.booking.confirmed")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_retried_booking_with_the_same_idempotency_key_is_stored_once_even_when_retries_race() {
    let app = Arc::new(with_centre().await);
    let key = uuid::Uuid::now_v7().to_string();
    let barrier = Arc::new(Barrier::new(10));
    let mut tasks = Vec::new();
    for _ in 0..10 {
        let (app, barrier, key) = (app.clone(), barrier.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            let request = request("hall", monday("09:00"), monday("10:00"), &key);
            barrier.wait().await;
            book(&app, request).await
        }));
    }
    let mut names = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            Ok(booking) => names.push(booking.name),
            // The queue per zone lets a racing retry see the first one's
            // committed booking; an overlap refusal would mean a second row.
            Err(status) => panic!("a retry was refused: {status:?}"),
        }
    }
    names.dedup();
    assert_eq!(names.len(), 1, "{names:?}");
    let again = book(
        &app,
        request("hall", monday("09:00"), monday("10:00"), &key),
    )
    .await
    .unwrap();
    assert_eq!(again.name, names[0]);
    let (_, bookings, _, _) = counts(&app).await;
    assert_eq!(bookings, 1);
}

#[tokio::test]
async fn a_booking_outside_opening_hours_is_refused_as_a_failed_precondition_and_writes_nothing() {
    let app = with_centre().await;
    let before = counts(&app).await;
    for (start, end) in [
        // Runs past the 12:00 close.
        (monday("11:00"), monday("13:00")),
        // Before opening.
        (monday("07:30"), monday("08:30")),
        // Tuesday has no evening hours.
        (local("2026-12-08", "18:00"), local("2026-12-08", "19:00")),
    ] {
        let status = book(&app, request("hall", start, end, ""))
            .await
            .unwrap_err();
        assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
        assert!(
            status.message().contains("Asia/Shanghai"),
            "{}",
            status.message()
        );
    }
    let status = book(&app, request("pool", monday("09:00"), monday("10:00"), ""))
        .await
        .unwrap_err();
    assert_eq!(fields(&status), ["booking.zone_id"]);
    let status = book(
        &app,
        request("hall", monday("10:00"), monday("09:00"), "bad-key"),
    )
    .await
    .unwrap_err();
    assert_eq!(fields(&status), ["request_id", "booking.end_time"]);
    assert_eq!(counts(&app).await, before);
    // Monday's extended evening hours are bookable.
    book(&app, request("hall", monday("18:00"), monday("21:00"), ""))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_cancelled_booking_frees_its_range_and_cannot_be_cancelled_twice() {
    let app = with_centre().await;
    let booking = book(&app, request("hall", monday("09:00"), monday("10:00"), ""))
        .await
        .unwrap();
    let cancel = |name: String| {
        let mut client = app.client.clone();
        async move {
            client
                .cancel_booking(with_token(pb::CancelBookingRequest { name }, &admin()))
                .await
                .map(|r| r.into_inner().booking.unwrap())
        }
    };
    let cancelled = cancel(booking.name.clone()).await.unwrap();
    assert_eq!(cancelled.state, pb::BookingState::Cancelled as i32);
    let status = cancel(booking.name.clone()).await.unwrap_err();
    assert_eq!(status.code(), Code::FailedPrecondition, "{status:?}");
    book(&app, request("hall", monday("09:00"), monday("10:00"), ""))
        .await
        .unwrap();
    assert_eq!(
        outbox_keys_like(&app, "centres.booking.").await,
        [
            "centres.booking.confirmed",
            "centres.booking.cancelled",
            "centres.booking.confirmed"
        ]
    );
    // A street admin of another street does not see the centre's bookings.
    let status = app
        .client
        .clone()
        .cancel_booking(with_token(
            pb::CancelBookingRequest { name: booking.name },
            &street_admin("s2"),
        ))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
}
