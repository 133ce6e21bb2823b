//! Demonstration sites.

use chrono::{DateTime, Utc};
use sqlx::PgConnection;
use sqlx::types::Json;

use crate::domain::sites::{Criterion, Stage};

/// A stored site.
#[derive(Debug, Clone)]
pub struct SiteRow {
    /// Its id.
    pub id: String,
    /// Its title.
    pub display_name: String,
    /// "cells/{id}".
    pub subject: String,
    /// The scheme's id.
    pub scheme_id: String,
    /// "street" or "community".
    pub level: String,
    /// Indicator thresholds.
    pub criteria: Vec<Criterion>,
    /// Overall score needed.
    pub min_score: f64,
    /// Where it is.
    pub stage: Stage,
    /// What the last evaluation found failing.
    pub failing_criteria: Vec<String>,
    /// The period of the last evaluation.
    pub evaluated_period: String,
    /// 1, 2, ... per change.
    pub version: i64,
    /// When nominated.
    pub create_time: DateTime<Utc>,
    /// When last changed.
    pub update_time: DateTime<Utc>,
}

type Row = (
    String,
    String,
    String,
    String,
    String,
    Json<Vec<Criterion>>,
    f64,
    String,
    Vec<String>,
    String,
    i64,
    DateTime<Utc>,
    DateTime<Utc>,
);

fn from_row(row: Row) -> sqlx::Result<SiteRow> {
    let (
        id,
        display_name,
        subject,
        scheme_id,
        level,
        criteria,
        min_score,
        stage,
        failing,
        period,
        version,
        create_time,
        update_time,
    ) = row;
    let stage = Stage::parse(&stage).ok_or_else(|| {
        sqlx::Error::Decode(format!("demonstration_sites.stage: unknown {stage}").into())
    })?;
    Ok(SiteRow {
        id,
        display_name,
        subject,
        scheme_id,
        level,
        criteria: criteria.0,
        min_score,
        stage,
        failing_criteria: failing,
        evaluated_period: period,
        version,
        create_time,
        update_time,
    })
}

/// Stores a new site; false when the id is taken.
pub async fn insert(conn: &mut PgConnection, site: &SiteRow) -> sqlx::Result<bool> {
    let inserted = sqlx::query(
        "INSERT INTO demonstration_sites (id, display_name, subject, scheme_id, level, criteria, min_score, \
         stage, version, create_time, update_time) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&site.id)
    .bind(&site.display_name)
    .bind(&site.subject)
    .bind(&site.scheme_id)
    .bind(&site.level)
    .bind(Json(&site.criteria))
    .bind(site.min_score)
    .bind(site.stage.as_str())
    .bind(site.version)
    .bind(site.create_time)
    .bind(site.update_time)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted > 0)
}

/// One site, locked for the change.
pub async fn get_for_update(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<SiteRow>> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, display_name, subject, scheme_id, level, criteria, min_score, stage, failing_criteria, \
         evaluated_period, version, create_time, update_time FROM demonstration_sites WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(from_row).transpose()
}

/// Stores a site's stage and last evaluation.
pub async fn update(conn: &mut PgConnection, site: &SiteRow) -> sqlx::Result<()> {
    sqlx::query(
        "UPDATE demonstration_sites SET stage = $2, failing_criteria = $3, evaluated_period = $4, \
         version = $5, update_time = $6 WHERE id = $1",
    )
    .bind(&site.id)
    .bind(site.stage.as_str())
    .bind(&site.failing_criteria)
    .bind(&site.evaluated_period)
    .bind(site.version)
    .bind(site.update_time)
    .execute(conn)
    .await?;
    Ok(())
}
