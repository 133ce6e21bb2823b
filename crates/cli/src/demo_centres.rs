//! The demo county's centres (services/centres/demo/fixture.rs: every
//! category, deliberate coverage gaps and non-compliant centres), and on the
//! first load a service catalogue with a slot, zone bookings, and activities
//! with registrations, a waitlist and check-ins, all through the centres API.
//! What it did goes to stderr, as the rest of the demo's, so a caller's
//! stdout stays its own.

use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as Days, FixedOffset, NaiveTime, TimeZone, Utc};
use civicgrid_proto::centres::v1 as pb;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use tonic::Code;
use tonic::transport::Channel;

use crate::demo::authorized;

mod fixture {
    include!("../../../services/centres/demo/fixture.rs");
}

/// How long to wait for the centres' replica of the grid to catch up with
/// the demo county just created in the grid (it arrives by events).
const REPLICA_WAIT: Duration = Duration::from_secs(60);

/// The centres service: `CIVICGRID_DEMO_CENTRES`, else 127.0.0.1 at
/// `CENTRES_PORT` (as infra/local sets it), else the default port.
fn centres_addr() -> String {
    std::env::var("CIVICGRID_DEMO_CENTRES").unwrap_or_else(|_| {
        let port = std::env::var("CENTRES_PORT").unwrap_or_else(|_| "50053".to_owned());
        format!("http://127.0.0.1:{port}")
    })
}

/// Loads the demo centres; re-running finds them there and adds nothing.
/// `attendees` ([`ATTENDEES`] member names) register for the activities.
pub async fn load(token: &str, attendees: &[String]) -> anyhow::Result<()> {
    load_into(centres_addr(), token, attendees).await
}

/// How many members register for each demo activity (three places: two wait).
pub const ATTENDEES: usize = 5;

/// [`load`] into the centres service at `addr` (the centres tests run it
/// against a test app: services/centres/tests/api/demo.rs).
/// `attendees` ([`ATTENDEES`] member names) register for the activities.
pub async fn load_into(addr: String, token: &str, attendees: &[String]) -> anyhow::Result<()> {
    anyhow::ensure!(attendees.len() == ATTENDEES, "{ATTENDEES} attendees needed");
    let mut client = CentresServiceClient::connect(addr).await?;
    let mut created = 0;
    for (id, centre) in fixture::demo_centres() {
        if create_centre(&mut client, token, id, centre).await? {
            created += 1;
        }
    }
    eprintln!(
        "demo centres: {created} created of {}",
        fixture::demo_centres().len()
    );
    let first_load = create_service(&mut client, token).await?;
    if first_load {
        load_bookings_and_activities(&mut client, token, attendees).await?;
    } else {
        eprintln!("demo centre catalogue, bookings and activities already there");
    }
    Ok(())
}

/// Creates one centre, waiting (bounded) while its cell or compound is not
/// yet in the centres' replica; `false` when it exists already.
async fn create_centre(
    client: &mut CentresServiceClient<Channel>,
    token: &str,
    id: &str,
    centre: pb::Centre,
) -> anyhow::Result<bool> {
    let deadline = tokio::time::Instant::now() + REPLICA_WAIT;
    loop {
        let request = pb::CreateCentreRequest {
            centre_id: id.to_owned(),
            centre: Some(centre.clone()),
            request_id: String::new(),
        };
        match client.create_centre(authorized(request, token)?).await {
            Ok(_) => return Ok(true),
            Err(status) if status.code() == Code::AlreadyExists => return Ok(false),
            // The replica has not applied the cell or compound yet.
            Err(status)
                if status.code() == Code::InvalidArgument
                    && tokio::time::Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
            Err(status) => anyhow::bail!("creating demo centre `{id}` failed: {status}"),
        }
    }
}

/// Adds legal aid to Qingshan 1st's catalogue; `true` the first time.
async fn create_service(
    client: &mut CentresServiceClient<Channel>,
    token: &str,
) -> anyhow::Result<bool> {
    let request = pb::CreateCentreServiceRequest {
        parent: "centres/qingshan-c1-centre".into(),
        service_id: "legal-aid".into(),
        service: Some(pb::CentreService {
            display_name: "法律援助 Legal aid".into(),
            description: "A volunteer lawyer answers residents' questions".into(),
            ..Default::default()
        }),
    };
    match client
        .create_centre_service(authorized(request, token)?)
        .await
    {
        Ok(_) => Ok(true),
        Err(status) if status.code() == Code::AlreadyExists => Ok(false),
        Err(status) => anyhow::bail!("creating the demo service failed: {status}"),
    }
}

/// A protobuf timestamp of `seconds`. The cli does not depend on
/// prost-types, so the type is reached through a generated field.
macro_rules! at {
    ($seconds:expr) => {{
        let mut timestamp = pb::Booking::default().start_time.unwrap_or_default();
        timestamp.seconds = $seconds;
        Some(timestamp)
    }};
}

/// `clock` ("HH:MM") on the next `weekday` (1 = Monday) after today,
/// Shanghai time, in seconds since the epoch.
fn next(weekday: u32, clock: &str) -> anyhow::Result<i64> {
    let shanghai = FixedOffset::east_opt(8 * 3600).ok_or_else(|| anyhow::anyhow!("offset"))?;
    let today = Utc::now().with_timezone(&shanghai).date_naive();
    let ahead = (7 + weekday - today.weekday().number_from_monday()) % 7;
    let day = today + Days::days(i64::from(if ahead == 0 { 7 } else { ahead }));
    let time = NaiveTime::parse_from_str(clock, "%H:%M")?;
    let at: DateTime<Utc> = shanghai
        .from_local_datetime(&day.and_time(time))
        .single()
        .ok_or_else(|| anyhow::anyhow!("no such local time"))?
        .with_timezone(&Utc);
    Ok(at.timestamp())
}

async fn load_bookings_and_activities(
    client: &mut CentresServiceClient<Channel>,
    token: &str,
    attendees: &[String],
) -> anyhow::Result<()> {
    let slot = client
        .create_service_slot(authorized(
            pb::CreateServiceSlotRequest {
                parent: "centres/qingshan-c1-centre/services/legal-aid".into(),
                slot: Some(pb::ServiceSlot {
                    start_time: at!(next(2, "09:00")?),
                    end_time: at!(next(2, "11:00")?),
                    capacity: 4,
                    ..Default::default()
                }),
            },
            token,
        )?)
        .await?
        .into_inner()
        .slot
        .ok_or_else(|| anyhow::anyhow!("no slot in the answer"))?;
    for resident in ["residents/demo-r1", "residents/demo-r2"] {
        client
            .create_slot_booking(authorized(
                pb::CreateSlotBookingRequest {
                    parent: slot.name.clone(),
                    booking: Some(pb::SlotBooking {
                        attendee: resident.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                    join_waitlist: false,
                },
                token,
            )?)
            .await?;
    }
    for (centre, zone, start, end, purpose) in [
        (
            "qingshan-c1-centre",
            "hall",
            "09:00",
            "11:00",
            "支部主题党日 Branch theme day",
        ),
        (
            "qingshan-c1-centre",
            "study",
            "19:00",
            "21:00",
            "居民议事会 Residents' council",
        ),
        (
            "hexi-c2-centre",
            "gym",
            "14:00",
            "16:00",
            "太极拳 Tai chi class",
        ),
    ] {
        client
            .create_booking(authorized(
                pb::CreateBookingRequest {
                    parent: format!("centres/{centre}"),
                    booking: Some(pb::Booking {
                        zone_id: zone.into(),
                        start_time: at!(next(1, start)?),
                        end_time: at!(next(1, end)?),
                        purpose: purpose.into(),
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                token,
            )?)
            .await?;
    }
    let activities = [
        (
            "qingshan-c1-centre",
            "清洁家园志愿服务 Clean-up volunteer service",
            "organisations/demo-county-qingshan-c1-committee",
            pb::ActivityType::VolunteerService,
            "",
            3,
            120,
        ),
        (
            "hexi-c2-centre",
            "共驻共建健康义诊 Co-building health check",
            "organisations/demo-county-hospital-branch",
            pb::ActivityType::CoBuilding,
            "agreements/demo-agreement-1",
            10,
            90,
        ),
    ];
    let mut checkins = 0;
    for (centre, name, organiser, kind, agreement, capacity, minutes) in activities {
        let activity = client
            .create_activity(authorized(
                pb::CreateActivityRequest {
                    parent: format!("centres/{centre}"),
                    activity: Some(pb::Activity {
                        display_name: name.into(),
                        organiser: organiser.into(),
                        activity_type: kind as i32,
                        agreement: agreement.into(),
                        start_time: at!(next(6, "09:00")?),
                        end_time: at!(next(6, "11:00")?),
                        capacity,
                        volunteer_minutes: minutes,
                        ..Default::default()
                    }),
                    request_id: String::new(),
                },
                token,
            )?)
            .await?
            .into_inner()
            .activity
            .ok_or_else(|| anyhow::anyhow!("no activity in the answer"))?;
        // Five demo members for three places: two wait.
        for attendee in attendees {
            client
                .create_registration(authorized(
                    pb::CreateRegistrationRequest {
                        parent: activity.name.clone(),
                        registration: Some(pb::Registration {
                            attendee: attendee.clone(),
                            ..Default::default()
                        }),
                    },
                    token,
                )?)
                .await?;
        }
        for (attendee, walk_in) in [
            (attendees[0].as_str(), false),
            (attendees[1].as_str(), false),
            ("residents/demo-r3", true),
        ] {
            client
                .record_checkin(authorized(
                    pb::RecordCheckinRequest {
                        parent: activity.name.clone(),
                        attendee: attendee.into(),
                        walk_in,
                    },
                    token,
                )?)
                .await?;
            checkins += 1;
        }
    }
    eprintln!(
        "demo centre catalogue: 1 service, 1 slot with 2 bookings; 3 zone bookings; {} activities with 5 registrations and {checkins} check-ins between them",
        activities.len()
    );
    load_lists(client, token).await
}

/// The three lists: demands (a small wish among them), resources, and the
/// best proposal claimed as a project with a milestone; the rest stay
/// unmatched or idle.
async fn load_lists(client: &mut CentresServiceClient<Channel>, token: &str) -> anyhow::Result<()> {
    let (start, end) = (next(1, "00:00")?, next(1, "00:00")? + 14 * 24 * 3600);
    let place = |at: &str| {
        if at.starts_with("compounds/") {
            (String::new(), at.to_owned())
        } else {
            (at.to_owned(), String::new())
        }
    };
    let demands = [
        (
            "elderly_care",
            "compounds/demo-county-xinyue",
            4,
            "老人助餐 Meals for four elders",
        ),
        (
            "small_wish",
            "cells/demo-county-hexi-c1",
            1,
            "微心愿: 一个新书包 A new school bag",
        ),
        (
            "legal_aid",
            "cells/demo-county-dongcheng-c1",
            2,
            "物业纠纷咨询 Property dispute advice",
        ),
    ];
    for (category, at, quantity, description) in demands {
        let (cell, compound) = place(at);
        client
            .create_demand(authorized(
                pb::CreateDemandRequest {
                    demand: Some(pb::Demand {
                        category: category.into(),
                        cell,
                        compound,
                        quantity,
                        start_time: at!(start),
                        end_time: at!(end),
                        small_wish: category == "small_wish",
                        description: description.into(),
                        ..Default::default()
                    }),
                },
                token,
            )?)
            .await?;
    }
    let resources = [
        (
            "elderly_care",
            "cells/demo-county-qingshan-c2",
            6,
            "organisations/demo-county-hospital-branch",
        ),
        (
            "small_wish",
            "cells/demo-county-hexi-c1",
            3,
            "members/demo-member-3",
        ),
        (
            "venue",
            "cells/demo-county-dongcheng-c2",
            1,
            "organisations/demo-dongcheng-park-committee",
        ),
    ];
    for (category, at, capacity, provider) in resources {
        let (cell, compound) = place(at);
        client
            .create_resource(authorized(
                pb::CreateResourceRequest {
                    resource: Some(pb::Resource {
                        category: category.into(),
                        cell,
                        compound,
                        capacity,
                        start_time: at!(start),
                        end_time: at!(end),
                        provider: provider.into(),
                        ..Default::default()
                    }),
                },
                token,
            )?)
            .await?;
    }
    let proposals = client
        .list_match_proposals(authorized(pb::ListMatchProposalsRequest::default(), token)?)
        .await?
        .into_inner()
        .proposals;
    if let Some(best) = proposals.first() {
        let project = client
            .claim_match(authorized(
                pb::ClaimMatchRequest {
                    demand: best.demand.clone(),
                    resource: best.resource.clone(),
                },
                token,
            )?)
            .await?
            .into_inner()
            .project
            .ok_or_else(|| anyhow::anyhow!("no project in the answer"))?;
        client
            .record_project_milestone(authorized(
                pb::RecordProjectMilestoneRequest {
                    project: project.name,
                    milestone: Some(pb::Milestone {
                        title: "需求确认 Need confirmed with the family".into(),
                        ..Default::default()
                    }),
                },
                token,
            )?)
            .await?;
    }
    eprintln!(
        "demo lists: {} demands, {} resources, {} proposals, 1 project",
        demands.len(),
        resources.len(),
        proposals.len()
    );
    Ok(())
}
