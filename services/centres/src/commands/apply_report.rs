//! Membership's report events into the resource list: what a reported unit
//! pledges and the skills a reported member offers become idle resources
//! of the community for the report's year; an ended report withdraws the
//! ones still idle. Runs inside the consumer's inbox transaction, so each
//! event is applied once.

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use civicgrid_messaging::outbox;
use civicgrid_proto::membership::v1 as membership;
use sqlx::PgConnection;

use super::CommandError;
use super::create_resource::register_resource;
use crate::domain::centre::Location;
use crate::domain::lists::{MAX_AMOUNT, NewResource, ResourceState, is_category};
use crate::events::publish;
use crate::store::{lists, places};

/// Who the events these commands write name as their actor.
const ACTOR: &str = "centres/membership-reports";

/// Why a report could not be applied.
#[derive(Debug)]
pub enum ReportError {
    /// Malformed: retrying cannot help.
    Invalid(String),
    /// The community is not (yet) in the replica, or the database failed.
    NotYet(String),
}

impl From<CommandError> for ReportError {
    fn from(error: CommandError) -> Self {
        ReportError::NotYet(error.to_string())
    }
}

impl From<sqlx::Error> for ReportError {
    fn from(error: sqlx::Error) -> Self {
        ReportError::NotYet(error.to_string())
    }
}

/// January 1 of `year` and of the next, Shanghai time.
fn year_window(year: i32) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let shanghai = FixedOffset::east_opt(8 * 3600)?;
    let start = shanghai.with_ymd_and_hms(year, 1, 1, 0, 0, 0).single()?;
    let end = shanghai
        .with_ymd_and_hms(year + 1, 1, 1, 0, 0, 0)
        .single()?;
    Some((start.with_timezone(&Utc), end.with_timezone(&Utc)))
}

/// (category, capacity, description) pledged by one report.
type Pledge = (String, i32, String);

/// Replaces the idle resources of `report` with `pledges` in `community`.
async fn register(
    conn: &mut PgConnection,
    report: &str,
    provider: &str,
    community: &str,
    year: i32,
    pledges: Vec<Pledge>,
    causation: &str,
) -> Result<usize, ReportError> {
    let community_id = civicgrid_cell_tree::parse_name(community).ok_or_else(|| {
        ReportError::Invalid(format!("community {community:?} is not a cell name"))
    })?;
    let (start, end) = year_window(year)
        .ok_or_else(|| ReportError::Invalid(format!("period_year {year} is not a year")))?;
    let location = Location::Cell(community_id.to_owned());
    let place = places::resolve(&mut *conn, &location)
        .await?
        .ok_or_else(|| {
            ReportError::NotYet(format!("{community} is not in the grid replica yet"))
        })?;
    // A re-registered report replaces what it pledged before.
    withdraw(&mut *conn, report, causation).await?;
    let mut registered = 0;
    for (category, capacity, description) in pledges {
        if !is_category(&category) || !(1..=MAX_AMOUNT).contains(&capacity) {
            continue;
        }
        let new = NewResource {
            category,
            location: location.clone(),
            capacity,
            start,
            end,
            description,
            provider: provider.to_owned(),
            source: report.to_owned(),
        };
        register_resource(&mut *conn, new, place.clone(), ACTOR, causation).await?;
        registered += 1;
    }
    Ok(registered)
}

/// `membership.report.unit_registered`: one resource per pledge.
pub async fn unit_report_registered(
    conn: &mut PgConnection,
    event: &membership::UnitReportRegistered,
    causation: &str,
) -> Result<usize, ReportError> {
    let pledges = event
        .resources
        .iter()
        .map(|r| (r.category.clone(), r.capacity, r.description.clone()))
        .collect();
    register(
        conn,
        &event.report,
        &event.unit,
        &event.community,
        event.period_year,
        pledges,
        causation,
    )
    .await
}

/// `membership.report.member_registered`: one resource (one person) per skill.
pub async fn member_report_registered(
    conn: &mut PgConnection,
    event: &membership::MemberReportRegistered,
    causation: &str,
) -> Result<usize, ReportError> {
    let pledges = event
        .skills
        .iter()
        .map(|skill| {
            (
                skill.clone(),
                1,
                format!("a reported member's skill: {skill}"),
            )
        })
        .collect();
    register(
        conn,
        &event.report,
        &event.member,
        &event.community,
        event.period_year,
        pledges,
        causation,
    )
    .await
}

/// `membership.report.ended` (and a re-registration): the report's idle
/// resources are withdrawn; committed ones finish their projects.
pub async fn withdraw(
    conn: &mut PgConnection,
    report: &str,
    causation: &str,
) -> Result<usize, ReportError> {
    let idle = lists::idle_from(&mut *conn, report).await?;
    for mut resource in idle.iter().cloned() {
        lists::set_resource_state(&mut *conn, resource.id, ResourceState::Withdrawn).await?;
        resource.state = ResourceState::Withdrawn;
        outbox::enqueue(
            &mut *conn,
            &publish::resource_changed(&resource, "withdrawn", ACTOR, causation),
        )
        .await?;
    }
    Ok(idle.len())
}
