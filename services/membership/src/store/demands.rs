//! The communities' demands (from `centres.demand.registered`) and the
//! member reads behind ListDemandOffers.

use chrono::{DateTime, Utc};
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use crate::domain::demand::CommunityDemand;

/// One stored demand.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct DemandRow {
    /// centres' demand id.
    pub id: Uuid,
    /// Category code.
    pub category: String,
    /// The community.
    pub community_id: String,
    /// Its path, for scope.
    pub community_path: String,
    /// The cell entered, if a cell.
    pub cell_id: Option<String>,
    /// The compound entered, if a compound.
    pub compound_id: Option<String>,
    /// Needed from.
    pub start_time: DateTime<Utc>,
    /// Needed until.
    pub end_time: DateTime<Utc>,
    /// What.
    pub description: String,
    /// `tasks/{task_id}` or empty.
    pub task: String,
    /// When centres registered it.
    pub registered_at: DateTime<Utc>,
}

impl DemandRow {
    /// What matching sees of it.
    pub fn to_domain(&self) -> CommunityDemand {
        CommunityDemand {
            id: self.id,
            category: self.category.clone(),
            community_id: self.community_id.clone(),
            end: self.end_time,
        }
    }
}

const COLUMNS: &str = "id, category, community_id, community_path, cell_id, compound_id, \
     start_time, end_time, description, task, registered_at";

/// Stores `row`; `false` when the demand is stored already (the same
/// demand under another event id).
pub async fn insert(conn: &mut PgConnection, row: &DemandRow) -> sqlx::Result<bool> {
    let done = sqlx::query(sqlx::AssertSqlSafe(format!(
        "INSERT INTO community_demands ({COLUMNS}) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING"
    )))
    .bind(row.id)
    .bind(&row.category)
    .bind(&row.community_id)
    .bind(&row.community_path)
    .bind(&row.cell_id)
    .bind(&row.compound_id)
    .bind(row.start_time)
    .bind(row.end_time)
    .bind(&row.description)
    .bind(&row.task)
    .bind(row.registered_at)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The demands of `communities` still needed at `now`, after `after`, by id.
/// Every one of them: offers are chosen from them in memory (the matching
/// is the domain's), and a community's open demands are few.
pub async fn open_in<'e>(
    executor: impl PgExecutor<'e>,
    communities: &[String],
    now: DateTime<Utc>,
    after: Option<Uuid>,
) -> sqlx::Result<Vec<DemandRow>> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM community_demands \
         WHERE community_id = ANY($1) AND end_time > $2 AND ($3::uuid IS NULL OR id > $3) \
         ORDER BY id"
    )))
    .bind(communities)
    .bind(now)
    .bind(after)
    .fetch_all(executor)
    .await
}
