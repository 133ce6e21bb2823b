//! The community-work whitelist, work requests, campaign quotas and
//! campaigns.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

use crate::domain::burden::WhitelistItem;

/// A whitelist item with what only display needs.
#[derive(Debug, Clone)]
pub struct WhitelistItemRow {
    /// What the rules use.
    pub item: WhitelistItem,
    /// Its title.
    pub display_name: String,
    /// Its legal basis.
    pub legal_basis: String,
    /// When created.
    pub create_time: DateTime<Utc>,
}

type ItemRow = (
    String,
    String,
    String,
    String,
    i64,
    String,
    NaiveDate,
    NaiveDate,
    DateTime<Utc>,
);

/// Stores a new item; false when the id is taken.
pub async fn insert_item(conn: &mut PgConnection, row: &WhitelistItemRow) -> sqlx::Result<bool> {
    let item = &row.item;
    let inserted = sqlx::query(
        "INSERT INTO whitelist_items (id, display_name, legal_basis, department, yearly_funds, \
         working_conditions, valid_from, valid_until, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING",
    )
    .bind(&item.id)
    .bind(&row.display_name)
    .bind(&row.legal_basis)
    .bind(&item.department)
    .bind(item.yearly_funds)
    .bind(&item.working_conditions)
    .bind(item.valid_from)
    .bind(item.valid_until)
    .bind(row.create_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// One item.
pub async fn item(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<WhitelistItemRow>> {
    let row: Option<ItemRow> = sqlx::query_as(
        "SELECT id, display_name, legal_basis, department, yearly_funds, working_conditions, \
         valid_from, valid_until, create_time FROM whitelist_items WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(
        |(
            id,
            display_name,
            legal_basis,
            department,
            yearly_funds,
            working_conditions,
            valid_from,
            valid_until,
            create_time,
        )| {
            WhitelistItemRow {
                item: WhitelistItem {
                    id,
                    department,
                    yearly_funds,
                    working_conditions,
                    valid_from,
                    valid_until,
                },
                display_name,
                legal_basis,
                create_time,
            }
        },
    ))
}

/// A work request, accepted or refused.
#[derive(Debug, Clone)]
pub struct WorkRequestRow {
    /// Its id.
    pub id: Uuid,
    /// "departments/{id}".
    pub department: String,
    /// "cells/{id}".
    pub community: String,
    /// "whitelistItems/{id}".
    pub whitelist_item: String,
    /// What is asked.
    pub description: String,
    /// Whether it may be handed over.
    pub accepted: bool,
    /// What it lacked.
    pub missing: Vec<String>,
    /// The year it counts in.
    pub year: i32,
    /// When made.
    pub create_time: DateTime<Utc>,
}

/// Records a request.
pub async fn insert_request(conn: &mut PgConnection, row: &WorkRequestRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO work_requests (id, department, community, whitelist_item, description, accepted, \
         missing, year, create_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(row.id)
    .bind(&row.department)
    .bind(&row.community)
    .bind(&row.whitelist_item)
    .bind(&row.description)
    .bind(row.accepted)
    .bind(&row.missing)
    .bind(row.year)
    .bind(row.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Sets a quota.
pub async fn set_quota(
    conn: &mut PgConnection,
    department: &str,
    year: i32,
    quota: i32,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaign_quotas (department, year, quota) VALUES ($1, $2, $3) \
         ON CONFLICT (department, year) DO UPDATE SET quota = EXCLUDED.quota",
    )
    .bind(department)
    .bind(year)
    .bind(quota)
    .execute(conn)
    .await?;
    Ok(())
}

/// The quota, its row locked so that concurrent registrations count one
/// after the other and never exceed it together.
pub async fn quota_for_update(
    conn: &mut PgConnection,
    department: &str,
    year: i32,
) -> sqlx::Result<Option<i32>> {
    sqlx::query_scalar(
        "SELECT quota FROM campaign_quotas WHERE department = $1 AND year = $2 FOR UPDATE",
    )
    .bind(department)
    .bind(year)
    .fetch_optional(conn)
    .await
}

/// Campaigns registered by a department in a year.
pub async fn campaigns_used(
    conn: &mut PgConnection,
    department: &str,
    year: i32,
) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT count(*) FROM campaigns WHERE department = $1 AND year = $2")
        .bind(department)
        .bind(year)
        .fetch_one(conn)
        .await
}

/// A registered campaign.
#[derive(Debug, Clone)]
pub struct CampaignRow {
    /// Its id.
    pub id: Uuid,
    /// "departments/{id}".
    pub department: String,
    /// "assessment", "inspection", "evaluation", "demonstration".
    pub kind: String,
    /// Its title.
    pub display_name: String,
    /// The quota year.
    pub year: i32,
    /// "cells/{id}" reached.
    pub communities: Vec<String>,
    /// When registered.
    pub create_time: DateTime<Utc>,
}

/// Registers a campaign.
pub async fn insert_campaign(conn: &mut PgConnection, row: &CampaignRow) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO campaigns (id, department, kind, display_name, year, communities, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(row.id)
    .bind(&row.department)
    .bind(&row.kind)
    .bind(&row.display_name)
    .bind(row.year)
    .bind(&row.communities)
    .bind(row.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Per department: (requests accepted, refused, campaigns) reaching a
/// community in a year, by department name.
pub async fn burden(
    pool: &PgPool,
    community: &str,
    year: i32,
) -> sqlx::Result<Vec<(String, i64, i64, i64)>> {
    sqlx::query_as(
        "SELECT department, SUM(accepted)::bigint, SUM(refused)::bigint, SUM(campaigns)::bigint FROM ( \
           SELECT department, (accepted)::int AS accepted, (NOT accepted)::int AS refused, 0 AS campaigns \
             FROM work_requests WHERE community = $1 AND year = $2 \
           UNION ALL \
           SELECT department, 0, 0, 1 FROM campaigns WHERE $1 = ANY(communities) AND year = $2 \
         ) b GROUP BY department ORDER BY department",
    )
    .bind(community)
    .bind(year)
    .fetch_all(pool)
    .await
}
