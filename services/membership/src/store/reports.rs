//! Unit and member reports (双报到), check-ins, and the participation reads.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::report::{Quarter, Resource};

/// One stored unit report.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UnitReportRow {
    /// Its id.
    pub id: Uuid,
    /// The reporting unit.
    pub unit_id: String,
    /// The community.
    pub community_id: String,
    /// Its path.
    pub community_path: String,
    /// The year.
    pub period_year: i32,
    /// What was pledged.
    #[sqlx(json)]
    pub resources: Vec<Resource>,
    /// When.
    pub registered_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why.
    pub end_reason: String,
}

/// One stored member report.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct MemberReportRow {
    /// Its id.
    pub id: Uuid,
    /// The member.
    pub member_id: Uuid,
    /// The community.
    pub community_id: String,
    /// Its path.
    pub community_path: String,
    /// The member's work unit when registering.
    pub work_unit_id: Option<String>,
    /// The year.
    pub period_year: i32,
    /// Skills offered.
    pub skills: Vec<String>,
    /// Volunteer posts chosen.
    pub volunteer_posts: Vec<String>,
    /// When.
    pub registered_at: DateTime<Utc>,
    /// When it ended.
    pub ended_at: Option<DateTime<Utc>>,
    /// Why.
    pub end_reason: String,
}

const UNIT_COLUMNS: &str = "id, unit_id, community_id, community_path, period_year, resources, \
     registered_at, ended_at, end_reason";
const MEMBER_COLUMNS: &str = "id, member_id, community_id, community_path, work_unit_id, \
     period_year, skills, volunteer_posts, registered_at, ended_at, end_reason";

/// Inserts `row`; `false` when the unit has an active report there for the year.
pub async fn insert_unit(conn: &mut PgConnection, row: &UnitReportRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO unit_reports (id, unit_id, community_id, community_path, period_year, resources, registered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (unit_id, community_id, period_year) WHERE ended_at IS NULL DO NOTHING",
    )
    .bind(row.id)
    .bind(&row.unit_id)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(row.period_year)
    .bind(sqlx::types::Json(&row.resources))
    .bind(row.registered_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Inserts `row`; `false` when the member has an active report for the year
/// (a concurrent insert waits for the other transaction, then counts too).
pub async fn insert_member(conn: &mut PgConnection, row: &MemberReportRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO member_reports (id, member_id, community_id, community_path, work_unit_id, \
           period_year, skills, volunteer_posts, registered_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (member_id, period_year) WHERE ended_at IS NULL DO NOTHING",
    )
    .bind(row.id)
    .bind(row.member_id)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(&row.work_unit_id)
    .bind(row.period_year)
    .bind(&row.skills)
    .bind(&row.volunteer_posts)
    .bind(row.registered_at)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// The active reports of `unit` to `community` for years before `year`, locked.
pub async fn earlier_unit_reports(
    conn: &mut PgConnection,
    unit: &str,
    community: &str,
    year: i32,
) -> sqlx::Result<Vec<UnitReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM unit_reports \
         WHERE unit_id = $1 AND community_id = $2 AND period_year < $3 AND ended_at IS NULL \
         ORDER BY id FOR UPDATE"
    )))
    .bind(unit)
    .bind(community)
    .bind(year)
    .fetch_all(conn)
    .await
}

/// The active reports of `member` for years before `year`, locked.
pub async fn earlier_member_reports(
    conn: &mut PgConnection,
    member: Uuid,
    year: i32,
) -> sqlx::Result<Vec<MemberReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM member_reports \
         WHERE member_id = $1 AND period_year < $2 AND ended_at IS NULL ORDER BY id FOR UPDATE"
    )))
    .bind(member)
    .bind(year)
    .fetch_all(conn)
    .await
}

/// The unit report `id`, locked when `lock`.
pub async fn get_unit(
    conn: &mut PgConnection,
    id: Uuid,
    lock: bool,
) -> sqlx::Result<Option<UnitReportRow>> {
    let suffix = if lock { " FOR UPDATE" } else { "" };
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM unit_reports WHERE id = $1{suffix}"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The member report `id`, locked.
pub async fn lock_member(
    conn: &mut PgConnection,
    id: Uuid,
) -> sqlx::Result<Option<MemberReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM member_reports WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The member report `id`.
pub async fn get_member<'e>(
    executor: impl PgExecutor<'e>,
    id: Uuid,
) -> sqlx::Result<Option<MemberReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM member_reports WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(executor)
    .await
}

/// The active member reports of `member`, any year, by id.
pub async fn active_of_member<'e>(
    executor: impl PgExecutor<'e>,
    member: Uuid,
) -> sqlx::Result<Vec<MemberReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM member_reports \
         WHERE member_id = $1 AND ended_at IS NULL ORDER BY id"
    )))
    .bind(member)
    .fetch_all(executor)
    .await
}

/// Ends a unit report (`unit`) or member report.
pub async fn end(
    conn: &mut PgConnection,
    unit: bool,
    id: Uuid,
    at: DateTime<Utc>,
    reason: &str,
) -> sqlx::Result<()> {
    let table = if unit {
        "unit_reports"
    } else {
        "member_reports"
    };
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE {table} SET ended_at = $2, end_reason = $3 WHERE id = $1"
    )))
    .bind(id)
    .bind(at)
    .bind(reason)
    .execute(conn)
    .await?;
    Ok(())
}

/// The active unit reports of `community` for `year`, by id.
pub async fn active_unit_reports<'e>(
    executor: impl PgExecutor<'e>,
    community: &str,
    year: i32,
) -> sqlx::Result<Vec<UnitReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {UNIT_COLUMNS} FROM unit_reports \
         WHERE community_id = $1 AND period_year = $2 AND ended_at IS NULL ORDER BY id"
    )))
    .bind(community)
    .bind(year)
    .fetch_all(executor)
    .await
}

/// The active member reports of `community` for `year` (of `work_unit`'s
/// members only, when given), by id.
pub async fn active_member_reports<'e>(
    executor: impl PgExecutor<'e>,
    community: &str,
    year: i32,
    work_unit: Option<&str>,
) -> sqlx::Result<Vec<MemberReportRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {MEMBER_COLUMNS} FROM member_reports \
         WHERE community_id = $1 AND period_year = $2 AND ended_at IS NULL \
           AND ($3::text IS NULL OR work_unit_id = $3) ORDER BY id"
    )))
    .bind(community)
    .bind(year)
    .bind(work_unit)
    .fetch_all(executor)
    .await
}

/// A check-in as applied from `centres.checkin.recorded`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckinRow {
    /// `activities/{a}/checkins/{c}`.
    pub checkin: String,
    /// `activities/{a}`.
    pub activity: String,
    /// The organiser's code.
    pub organiser_id: Option<String>,
    /// The agreement's id, for co-building activities.
    pub agreement_id: Option<String>,
    /// The party member who attended.
    pub member_id: Option<Uuid>,
    /// The centre's cell.
    pub cell_id: String,
    /// The centre's compound.
    pub compound_id: Option<String>,
    /// The community of the cell.
    pub community_id: Option<String>,
    /// Volunteer minutes credited.
    pub volunteer_minutes: i32,
    /// When.
    pub checked_in_at: DateTime<Utc>,
}

/// Stores `row`; `false` when the check-in was applied already.
pub async fn insert_checkin(conn: &mut PgConnection, row: &CheckinRow) -> sqlx::Result<bool> {
    let quarter = Quarter::of(row.checked_in_at);
    let inserted = sqlx::query(
        "INSERT INTO checkins (checkin, activity, organiser_id, agreement_id, member_id, cell_id, \
           compound_id, community_id, volunteer_minutes, checked_in_at, quarter_year, quarter) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (checkin) DO NOTHING",
    )
    .bind(&row.checkin)
    .bind(&row.activity)
    .bind(&row.organiser_id)
    .bind(&row.agreement_id)
    .bind(row.member_id)
    .bind(&row.cell_id)
    .bind(&row.compound_id)
    .bind(&row.community_id)
    .bind(row.volunteer_minutes)
    .bind(row.checked_in_at)
    .bind(i16::try_from(quarter.year).unwrap_or(i16::MAX))
    .bind(i16::try_from(quarter.quarter).unwrap_or(i16::MAX))
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// One member's attendance in a community.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attendance {
    /// In the quarter.
    pub in_quarter: i64,
    /// Since the given time.
    pub since: i64,
    /// Volunteer minutes in the quarter.
    pub minutes_in_quarter: i64,
}

/// Attendance in `community` of each of `members`: in `quarter`, and since
/// each member's own `since` time.
pub async fn attendance<'e>(
    executor: impl PgExecutor<'e>,
    community: &str,
    quarter: Quarter,
    members: &[(Uuid, DateTime<Utc>)],
) -> sqlx::Result<Vec<(Uuid, Attendance)>> {
    let ids: Vec<Uuid> = members.iter().map(|(id, _)| *id).collect();
    let since: Vec<DateTime<Utc>> = members.iter().map(|(_, at)| *at).collect();
    let rows: Vec<(Uuid, i64, i64, i64)> = sqlx::query_as(
        "SELECT m.id, \
           count(c.checkin) FILTER (WHERE c.quarter_year = $2 AND c.quarter = $3), \
           count(c.checkin) FILTER (WHERE c.checked_in_at >= m.since), \
           coalesce(sum(c.volunteer_minutes) FILTER (WHERE c.quarter_year = $2 AND c.quarter = $3), 0) \
         FROM unnest($4::uuid[], $5::timestamptz[]) AS m(id, since) \
         LEFT JOIN checkins c ON c.member_id = m.id AND c.community_id = $1 \
         GROUP BY m.id",
    )
    .bind(community)
    .bind(i16::try_from(quarter.year).unwrap_or(i16::MAX))
    .bind(i16::try_from(quarter.quarter).unwrap_or(i16::MAX))
    .bind(&ids)
    .bind(&since)
    .fetch_all(executor)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, in_quarter, since, minutes)| {
            (
                id,
                Attendance {
                    in_quarter,
                    since,
                    minutes_in_quarter: minutes,
                },
            )
        })
        .collect())
}

/// Check-ins of anyone in `community` in `quarter`.
pub async fn community_attendance<'e>(
    executor: impl PgExecutor<'e>,
    community: &str,
    quarter: Quarter,
) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "SELECT count(*) FROM checkins WHERE community_id = $1 AND quarter_year = $2 AND quarter = $3",
    )
    .bind(community)
    .bind(i16::try_from(quarter.year).unwrap_or(i16::MAX))
    .bind(i16::try_from(quarter.quarter).unwrap_or(i16::MAX))
    .fetch_one(executor)
    .await
}

/// The members (ids) whose work unit is `unit`.
pub async fn members_of_unit<'e>(
    executor: impl PgExecutor<'e>,
    unit: &str,
) -> sqlx::Result<Vec<Uuid>> {
    sqlx::query_scalar("SELECT id FROM members WHERE work_unit_id = $1 ORDER BY id")
        .bind(unit)
        .fetch_all(executor)
        .await
}
