//! Members, sealed, and RegisterMember idempotency keys. Nothing here sees
//! personal data in clear: the command seals before it stores and the API
//! opens only to mask.

use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use civicgrid_messaging::event::NewEvent;
use civicgrid_messaging::outbox::OutboxRows;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::member::Standing;

/// One stored member, with the area of its organisation of record (for scope).
#[derive(Debug, Clone)]
pub struct MemberRow {
    /// Its id.
    pub id: Uuid,
    /// Sealed name.
    pub full_name_sealed: Vec<u8>,
    /// Sealed ID number.
    pub id_number_sealed: Vec<u8>,
    /// Sealed phone.
    pub phone_sealed: Vec<u8>,
    /// The organisation of record.
    pub organisation_id: String,
    /// Full or probationary.
    pub standing: Standing,
    /// A flow member.
    pub flow_member: bool,
    /// Where the member lives.
    pub residence_cell_id: Option<String>,
    /// The work unit's organisation.
    pub work_unit_id: Option<String>,
    /// Incremented on every change.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
    /// The organisation of record's area (read only).
    pub area_path: String,
}

const SELECT: &str = "SELECT m.id, m.full_name_sealed, m.id_number_sealed, m.phone_sealed, \
     m.organisation_id, m.standing, m.flow_member, m.residence_cell_id, m.work_unit_id, m.version, \
     m.create_time, m.update_time, o.area_path \
     FROM members m JOIN organisations o ON o.id = m.organisation_id";

impl<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> for MemberRow {
    fn from_row(row: &'r sqlx::postgres::PgRow) -> sqlx::Result<Self> {
        use sqlx::Row;
        let standing: i16 = row.try_get("standing")?;
        Ok(MemberRow {
            id: row.try_get("id")?,
            full_name_sealed: row.try_get("full_name_sealed")?,
            id_number_sealed: row.try_get("id_number_sealed")?,
            phone_sealed: row.try_get("phone_sealed")?,
            organisation_id: row.try_get("organisation_id")?,
            standing: Standing::from_number(i32::from(standing))
                .ok_or_else(|| sqlx::Error::Decode("invalid value in members.standing".into()))?,
            flow_member: row.try_get("flow_member")?,
            residence_cell_id: row.try_get("residence_cell_id")?,
            work_unit_id: row.try_get("work_unit_id")?,
            version: row.try_get("version")?,
            create_time: row.try_get("create_time")?,
            update_time: row.try_get("update_time")?,
            area_path: row.try_get("area_path")?,
        })
    }
}

/// The columns a new member row writes, in the order [`bind_new`] binds
/// them as `$1`..`$13`.
const NEW_COLUMNS: &str = "id, full_name_sealed, id_number_sealed, id_number_index, phone_sealed, \
    organisation_id, standing, flow_member, residence_cell_id, work_unit_id, version, \
    create_time, update_time";

/// Binds `row` and its index as `$1`..`$13` of [`NEW_COLUMNS`].
fn bind_new<'q>(
    query: sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>,
    row: &'q MemberRow,
    id_number_index: &'q [u8],
) -> sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments> {
    query
        .bind(row.id)
        .bind(&row.full_name_sealed)
        .bind(&row.id_number_sealed)
        .bind(id_number_index)
        .bind(&row.phone_sealed)
        .bind(&row.organisation_id)
        .bind(row.standing as i16)
        .bind(row.flow_member)
        .bind(&row.residence_cell_id)
        .bind(&row.work_unit_id)
        .bind(row.version)
        .bind(row.create_time)
        .bind(row.update_time)
}

/// Inserts `row` with the blind index of its ID number; `false` when a
/// member with that index exists (a concurrent insert of the same number
/// waits for the other transaction, then counts as existing).
#[tracing::instrument(level = "debug", skip_all, fields(member = %row.id))]
pub async fn insert(
    conn: &mut PgConnection,
    row: &MemberRow,
    id_number_index: &[u8],
) -> sqlx::Result<bool> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "INSERT INTO members ({NEW_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             ON CONFLICT (id_number_index) DO NOTHING"
        )
    });
    let inserted = bind_new(
        sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())),
        row,
        id_number_index,
    )
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// What [`insert_registered`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registered {
    /// The member, its request and its event are written.
    Written,
    /// Another member has the ID number: nothing written.
    DuplicateIdNumber,
    /// The organisation changed (or went) since the caller checked it at
    /// `organisation_version`: nothing written; check again.
    OrganisationChanged,
}

/// Writes a new member, the request that registered it (if it names one)
/// and its `event` in ONE statement, so the registration needs no BEGIN
/// and COMMIT round trips and is still all or nothing: the member only
/// while its organisation is still at `organisation_version` (checked by
/// the caller; held with a key-share lock for the statement), the request
/// and the event only when the member was written.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn insert_registered(
    conn: &mut PgConnection,
    row: &MemberRow,
    id_number_index: &[u8],
    organisation_version: i64,
    request_id: Option<Uuid>,
    event: &NewEvent,
) -> sqlx::Result<Registered> {
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "WITH organisation AS ( \
               SELECT 1 FROM organisations WHERE id = $6 AND version = $14 FOR KEY SHARE), \
             member AS ( \
               INSERT INTO members ({NEW_COLUMNS}) \
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM organisation \
               ON CONFLICT (id_number_index) DO NOTHING \
               RETURNING id), \
             request AS ( \
               INSERT INTO register_member_requests (request_id, member_id) \
               SELECT $15, id FROM member WHERE $15::uuid IS NOT NULL), \
             {} \
             SELECT (SELECT count(*) FROM organisation), (SELECT count(*) FROM member)",
            OutboxRows::insert_cte(16, Some("EXISTS (SELECT 1 FROM member)")),
        )
    });
    let query = bind_new(
        sqlx::query(sqlx::AssertSqlSafe(SQL.as_str())),
        row,
        id_number_index,
    )
    .bind(organisation_version)
    .bind(request_id);
    let (organisation, member): (i64, i64) = sqlx::FromRow::from_row(
        &OutboxRows::of(std::slice::from_ref(event))
            .bind(query)
            .fetch_one(conn)
            .await?,
    )?;
    Ok(match (organisation, member) {
        (0, _) => Registered::OrganisationChanged,
        (_, 0) => Registered::DuplicateIdNumber,
        _ => Registered::Written,
    })
}

/// The member `id`, if stored.
#[tracing::instrument(level = "debug", skip_all, fields(member = %id))]
pub async fn get<'e>(executor: impl PgExecutor<'e>, id: Uuid) -> sqlx::Result<Option<MemberRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE m.id = $1")))
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// The member whose ID number has `index`, if stored.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn find_by_index<'e>(
    executor: impl PgExecutor<'e>,
    index: &[u8],
) -> sqlx::Result<Option<MemberRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.id_number_index = $1"
    )))
    .bind(index)
    .fetch_optional(executor)
    .await
}

/// The member a RegisterMember request with `request_id` registered.
pub async fn registered_by_request(
    conn: &mut PgConnection,
    request_id: Uuid,
) -> sqlx::Result<Option<Uuid>> {
    sqlx::query_scalar("SELECT member_id FROM register_member_requests WHERE request_id = $1")
        .bind(request_id)
        .fetch_optional(conn)
        .await
}

/// Which of `indexes` belong to stored members.
pub async fn indexes_taken(
    conn: &mut PgConnection,
    indexes: &[Vec<u8>],
) -> sqlx::Result<Vec<Vec<u8>>> {
    sqlx::query_scalar("SELECT id_number_index FROM members WHERE id_number_index = ANY($1)")
        .bind(indexes)
        .fetch_all(conn)
        .await
}

/// The member `id`, locked until the transaction ends.
pub async fn lock(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<MemberRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE m.id = $1 FOR UPDATE OF m"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Stores the changeable fields, organisation and version of `row`.
pub async fn update(conn: &mut PgConnection, row: &MemberRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE members SET full_name_sealed = $2, phone_sealed = $3, organisation_id = $4, \
           standing = $5, flow_member = $6, residence_cell_id = $7, work_unit_id = $8, \
           version = $9, update_time = $10 WHERE id = $1",
    )
    .bind(row.id)
    .bind(&row.full_name_sealed)
    .bind(&row.phone_sealed)
    .bind(&row.organisation_id)
    .bind(row.standing as i16)
    .bind(row.flow_member)
    .bind(&row.residence_cell_id)
    .bind(&row.work_unit_id)
    .bind(row.version)
    .bind(row.update_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// A page of members.
#[derive(Debug, Clone, Default)]
pub struct MemberQuery {
    /// Only members of record of this organisation.
    pub organisation_id: Option<String>,
    /// Only under one of these cell roots; `None` means everywhere.
    pub scope_roots: Option<Vec<String>>,
    /// Only ids after this one.
    pub after: Option<Uuid>,
    /// At most this many.
    pub limit: i64,
}

/// Members matching `query`, by id.
pub async fn list<'e>(
    executor: impl PgExecutor<'e>,
    query: &MemberQuery,
) -> sqlx::Result<Vec<MemberRow>> {
    let patterns: Option<Vec<String>> = query
        .scope_roots
        .as_ref()
        .map(|roots| roots.iter().map(|root| format!("%/{root}/%")).collect());
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE ($1::text IS NULL OR m.organisation_id = $1) \
           AND ($2::text[] IS NULL OR o.area_path LIKE ANY($2)) \
           AND ($3::uuid IS NULL OR m.id > $3) ORDER BY m.id LIMIT $4"
    )))
    .bind(query.organisation_id.as_deref())
    .bind(patterns)
    .bind(query.after)
    .bind(query.limit)
    .fetch_all(executor)
    .await
}

/// One stored transfer.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferRow {
    /// Its id.
    pub id: Uuid,
    /// The member.
    pub member_id: Uuid,
    /// From.
    pub from_organisation: String,
    /// To.
    pub to_organisation: String,
    /// Why.
    pub reason: String,
    /// When.
    pub transfer_time: DateTime<Utc>,
}

/// Stores a transfer.
pub async fn insert_transfer(conn: &mut PgConnection, row: &TransferRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO member_transfers (id, member_id, from_organisation, to_organisation, reason, transfer_time) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(row.id)
    .bind(row.member_id)
    .bind(&row.from_organisation)
    .bind(&row.to_organisation)
    .bind(&row.reason)
    .bind(row.transfer_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// A member's transfers, oldest first.
pub async fn transfers<'e>(
    executor: impl PgExecutor<'e>,
    member: Uuid,
) -> sqlx::Result<Vec<TransferRow>> {
    sqlx::query_as(
        "SELECT id, member_id, from_organisation, to_organisation, reason, transfer_time \
         FROM member_transfers WHERE member_id = $1 ORDER BY transfer_time, id",
    )
    .bind(member)
    .fetch_all(executor)
    .await
}
