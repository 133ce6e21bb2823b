//! What the coverage report reads: communities, compounds and centres of
//! the replicated grid, each with whether a centre covers it.

use sqlx::{PgConnection, PgExecutor, PgPool};

use crate::domain::centre::Category;

/// Community and street levels of the cell tree.
const STREET: i16 = 2;
const COMMUNITY: i16 = 3;

/// A place of the grid and whether a centre covers it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Place {
    /// Cell or compound code.
    pub id: String,
    /// Its path (a compound's: its community's).
    pub path: String,
    /// A newly built compound (always false for communities).
    pub newly_built: bool,
    /// Whether a centre covers it.
    pub covered: bool,
}

/// Filters every coverage read shares.
#[derive(Debug, Clone, Default)]
pub struct Area {
    /// Only at or below this path.
    pub within_path: Option<String>,
    /// LIKE patterns of the caller's scope roots; `None`: everywhere.
    pub scope_patterns: Option<Vec<String>>,
}

impl Area {
    /// The area below `within_path` the caller with scope `roots` sees.
    pub fn new(within_path: Option<String>, roots: Option<Vec<String>>) -> Area {
        Area {
            within_path,
            scope_patterns: roots.map(|roots| roots.iter().map(|r| format!("%/{r}/%")).collect()),
        }
    }
}

/// Streets in the area (ids and paths), by id.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn streets(pool: &PgPool, area: &Area) -> sqlx::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT id, path FROM cells \
         WHERE level = $1 AND ($2::text IS NULL OR path LIKE $2 || '%') \
           AND ($3::text[] IS NULL OR path LIKE ANY($3)) ORDER BY id",
    )
    .bind(STREET)
    .bind(area.within_path.as_deref())
    .bind(area.scope_patterns.as_deref())
    .fetch_all(pool)
    .await
}

/// Communities in the area, by id; covered when a community centre sits at the cell.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn communities(pool: &PgPool, area: &Area) -> sqlx::Result<Vec<Place>> {
    sqlx::query_as(
        "SELECT c.id, c.path, false AS newly_built, \
           EXISTS (SELECT 1 FROM centres WHERE cell_id = c.id AND category = $4) AS covered \
         FROM cells c \
         WHERE c.level = $1 AND ($2::text IS NULL OR c.path LIKE $2 || '%') \
           AND ($3::text[] IS NULL OR c.path LIKE ANY($3)) ORDER BY c.id",
    )
    .bind(COMMUNITY)
    .bind(area.within_path.as_deref())
    .bind(area.scope_patterns.as_deref())
    .bind(Category::Community.as_str())
    .fetch_all(pool)
    .await
}

/// Compounds in the area, newly built first, then by id; covered when a
/// centre sits at the compound or is linked to it, or a community centre
/// of its community lies within `radius_metres` of it (both with
/// coordinates; great-circle distance on a sphere of the earth's mean
/// radius, which is within 0.5% at these distances).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn compounds<'e>(
    executor: impl PgExecutor<'e>,
    area: &Area,
    radius_metres: f64,
) -> sqlx::Result<Vec<Place>> {
    sqlx::query_as(
        "SELECT k.id, k.community_path AS path, k.newly_built, \
           (EXISTS (SELECT 1 FROM centres WHERE compound_id = k.id OR k.id = ANY(linked_compounds)) \
            OR EXISTS (SELECT 1 FROM centres c JOIN compound_coordinates p ON p.compound_id = k.id \
              WHERE c.category = $4 AND c.cell_id = k.community_id AND c.latitude IS NOT NULL \
                AND 2 * 6371008.8 * asin(sqrt( \
                  power(sin(radians(p.latitude - c.latitude) / 2), 2) \
                  + cos(radians(c.latitude)) * cos(radians(p.latitude)) \
                    * power(sin(radians(p.longitude - c.longitude) / 2), 2))) <= $3)) AS covered \
         FROM compounds k \
         WHERE ($1::text IS NULL OR k.community_path LIKE $1 || '%') \
           AND ($2::text[] IS NULL OR k.community_path LIKE ANY($2)) \
         ORDER BY k.newly_built DESC, k.id",
    )
    .bind(area.within_path.as_deref())
    .bind(area.scope_patterns.as_deref())
    .bind(radius_metres)
    .bind(Category::Community.as_str())
    .fetch_all(executor)
    .await
}

/// The next version of community `community_id`'s coverage, its counter
/// row locked until the caller commits: a concurrent publisher for the same
/// community waits here and then reads what this one wrote.
pub async fn next_version(conn: &mut PgConnection, community_id: &str) -> sqlx::Result<i64> {
    sqlx::query_scalar(
        "INSERT INTO coverage_versions (community_id, version) VALUES ($1, 1) \
         ON CONFLICT (community_id) DO UPDATE SET version = coverage_versions.version + 1 \
         RETURNING version",
    )
    .bind(community_id)
    .fetch_one(conn)
    .await
}

/// The path of community `id`: its cell's, or, before the cell is
/// replicated, the one its compounds carry.
pub async fn community_path(conn: &mut PgConnection, id: &str) -> sqlx::Result<Option<String>> {
    sqlx::query_scalar(
        "(SELECT path FROM cells WHERE id = $1) \
         UNION ALL (SELECT community_path FROM compounds WHERE community_id = $1 LIMIT 1) LIMIT 1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// Records where compound `id` is.
pub async fn set_compound_coordinates(
    conn: &mut sqlx::PgConnection,
    id: &str,
    latitude: f64,
    longitude: f64,
    set_by: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO compound_coordinates (compound_id, latitude, longitude, set_by, update_time) \
         VALUES ($1, $2, $3, $4, now()) ON CONFLICT (compound_id) DO UPDATE \
         SET latitude = EXCLUDED.latitude, longitude = EXCLUDED.longitude, \
             set_by = EXCLUDED.set_by, update_time = EXCLUDED.update_time",
    )
    .bind(id)
    .bind(latitude)
    .bind(longitude)
    .bind(set_by)
    .execute(conn)
    .await?;
    Ok(())
}

/// (category, location path) of every centre in the area.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn centres(pool: &PgPool, area: &Area) -> sqlx::Result<Vec<(Category, String)>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT category, location_path FROM centres \
         WHERE ($1::text IS NULL OR location_path LIKE $1 || '%') \
           AND ($2::text[] IS NULL OR location_path LIKE ANY($2))",
    )
    .bind(area.within_path.as_deref())
    .bind(area.scope_patterns.as_deref())
    .fetch_all(pool)
    .await?;
    rows.into_iter()
        .map(|(category, path)| {
            Category::parse(&category)
                .map(|c| (c, path))
                .ok_or_else(|| super::bad("centres.category"))
        })
        .collect()
}
