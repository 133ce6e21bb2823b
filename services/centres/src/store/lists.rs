//! Demands, resources and projects.

use chrono::{DateTime, Utc};
use sqlx::postgres::types::PgRange;
use sqlx::types::Json;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::bad;
use crate::domain::centre::Location;
use crate::domain::lists::{
    Demand, DemandState, Milestone, Placed, Project, Resource, ResourceState,
};
use crate::domain::matching::GridPlace;

fn placed(
    cell_id: Option<String>,
    compound_id: Option<String>,
    street_id: String,
    community_id: String,
    path: String,
    table: &str,
) -> sqlx::Result<Placed> {
    let location = match (cell_id, compound_id.clone()) {
        (Some(cell), None) => Location::Cell(cell),
        (None, Some(compound)) => Location::Compound(compound),
        _ => return Err(bad(&format!("{table}.cell_id/compound_id"))),
    };
    Ok(Placed {
        location,
        grid: GridPlace {
            street: street_id,
            community: community_id,
            compound: compound_id,
        },
        path,
    })
}

fn columns(place: &Placed) -> (Option<&str>, Option<&str>) {
    match &place.location {
        Location::Cell(id) => (Some(id.as_str()), None),
        Location::Compound(id) => (None, Some(id.as_str())),
    }
}

#[derive(sqlx::FromRow)]
struct DemandRow {
    id: Uuid,
    category: String,
    cell_id: Option<String>,
    compound_id: Option<String>,
    street_id: String,
    community_id: String,
    location_path: String,
    quantity: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    small_wish: bool,
    description: String,
    requested_by: String,
    source_task: Option<String>,
    state: String,
    create_time: DateTime<Utc>,
}

impl TryFrom<DemandRow> for Demand {
    type Error = sqlx::Error;

    fn try_from(row: DemandRow) -> sqlx::Result<Demand> {
        Ok(Demand {
            state: match row.state.as_str() {
                "open" => DemandState::Open,
                "matched" => DemandState::Matched,
                _ => return Err(bad("demands.state")),
            },
            place: placed(
                row.cell_id,
                row.compound_id,
                row.street_id,
                row.community_id,
                row.location_path,
                "demands",
            )?,
            id: row.id,
            category: row.category,
            quantity: row.quantity,
            start: row.start_time,
            end: row.end_time,
            small_wish: row.small_wish,
            description: row.description,
            requested_by: row.requested_by,
            task: row.source_task,
            create_time: row.create_time,
        })
    }
}

const DEMAND_COLUMNS: &str = "id, category, cell_id, compound_id, street_id, community_id, location_path, \
     quantity, lower(during) AS start_time, upper(during) AS end_time, small_wish, description, \
     requested_by, source_task, state, create_time";

/// Inserts a new demand; `false` (nothing written) when its source task
/// has a demand already, so a task enters the list once however often its
/// report is delivered or replayed.
pub async fn insert_demand(conn: &mut PgConnection, demand: &Demand) -> sqlx::Result<bool> {
    let (cell, compound) = columns(&demand.place);
    let inserted = sqlx::query(
        "INSERT INTO demands (id, category, cell_id, compound_id, street_id, community_id, location_path, \
           quantity, during, small_wish, description, requested_by, state, create_time, source_task) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $14) \
         ON CONFLICT (source_task) DO NOTHING",
    )
    .bind(demand.id)
    .bind(&demand.category)
    .bind(cell)
    .bind(compound)
    .bind(&demand.place.grid.street)
    .bind(&demand.place.grid.community)
    .bind(&demand.place.path)
    .bind(demand.quantity)
    .bind(PgRange::from(demand.start..demand.end))
    .bind(demand.small_wish)
    .bind(&demand.description)
    .bind(&demand.requested_by)
    .bind(demand.create_time)
    .bind(&demand.task)
    .execute(conn)
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// Demands within the scope patterns (`None`: all), oldest first, after `after`.
pub async fn demands<'e>(
    executor: impl PgExecutor<'e>,
    scope: Option<&[String]>,
    open_only: bool,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Demand>> {
    let rows: Vec<DemandRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEMAND_COLUMNS} FROM demands WHERE ($1::text[] IS NULL OR location_path LIKE ANY($1)) \
         AND (NOT $2 OR state = 'open') AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $4"
    )))
    .bind(scope)
    .bind(open_only)
    .bind(after)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Demand::try_from).collect()
}

/// Demand `id`, locked until the transaction ends.
pub async fn lock_demand(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Demand>> {
    let row: Option<DemandRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEMAND_COLUMNS} FROM demands WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Demand::try_from).transpose()
}

/// Marks demand `id` matched.
pub async fn match_demand(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<()> {
    sqlx::query("UPDATE demands SET state = 'matched' WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct ResourceRow {
    id: Uuid,
    category: String,
    cell_id: Option<String>,
    compound_id: Option<String>,
    street_id: String,
    community_id: String,
    location_path: String,
    capacity: i32,
    start_time: DateTime<Utc>,
    end_time: DateTime<Utc>,
    description: String,
    provider: String,
    source: String,
    state: String,
    create_time: DateTime<Utc>,
}

impl TryFrom<ResourceRow> for Resource {
    type Error = sqlx::Error;

    fn try_from(row: ResourceRow) -> sqlx::Result<Resource> {
        Ok(Resource {
            state: match row.state.as_str() {
                "idle" => ResourceState::Idle,
                "committed" => ResourceState::Committed,
                "withdrawn" => ResourceState::Withdrawn,
                _ => return Err(bad("resources.state")),
            },
            place: placed(
                row.cell_id,
                row.compound_id,
                row.street_id,
                row.community_id,
                row.location_path,
                "resources",
            )?,
            id: row.id,
            category: row.category,
            capacity: row.capacity,
            start: row.start_time,
            end: row.end_time,
            description: row.description,
            provider: row.provider,
            source: row.source,
            create_time: row.create_time,
        })
    }
}

const RESOURCE_COLUMNS: &str = "id, category, cell_id, compound_id, street_id, community_id, location_path, \
     capacity, lower(during) AS start_time, upper(during) AS end_time, description, provider, source, \
     state, create_time";

/// Inserts a new resource.
pub async fn insert_resource(conn: &mut PgConnection, resource: &Resource) -> sqlx::Result<()> {
    let (cell, compound) = columns(&resource.place);
    sqlx::query(
        "INSERT INTO resources (id, category, cell_id, compound_id, street_id, community_id, location_path, \
           capacity, during, description, provider, source, state, create_time) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'idle', $13)",
    )
    .bind(resource.id)
    .bind(&resource.category)
    .bind(cell)
    .bind(compound)
    .bind(&resource.place.grid.street)
    .bind(&resource.place.grid.community)
    .bind(&resource.place.path)
    .bind(resource.capacity)
    .bind(PgRange::from(resource.start..resource.end))
    .bind(&resource.description)
    .bind(&resource.provider)
    .bind(&resource.source)
    .bind(resource.create_time)
    .execute(conn)
    .await?;
    Ok(())
}

/// Resources within the scope patterns (`None`: all), oldest first, after `after`.
pub async fn resources<'e>(
    executor: impl PgExecutor<'e>,
    scope: Option<&[String]>,
    idle_only: bool,
    after: Option<Uuid>,
    limit: i64,
) -> sqlx::Result<Vec<Resource>> {
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources WHERE ($1::text[] IS NULL OR location_path LIKE ANY($1)) \
         AND (NOT $2 OR state = 'idle') AND ($3::uuid IS NULL OR id > $3) ORDER BY id LIMIT $4"
    )))
    .bind(scope)
    .bind(idle_only)
    .bind(after)
    .bind(limit)
    .fetch_all(executor)
    .await?;
    rows.into_iter().map(Resource::try_from).collect()
}

/// Resource `id`, locked until the transaction ends.
pub async fn lock_resource(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Resource>> {
    let row: Option<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources WHERE id = $1 FOR UPDATE"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Resource::try_from).transpose()
}

/// Sets resource `id`'s state.
pub async fn set_resource_state(
    conn: &mut PgConnection,
    id: Uuid,
    state: ResourceState,
) -> sqlx::Result<()> {
    let state = match state {
        ResourceState::Idle => "idle",
        ResourceState::Committed => "committed",
        ResourceState::Withdrawn => "withdrawn",
    };
    sqlx::query("UPDATE resources SET state = $2 WHERE id = $1")
        .bind(id)
        .bind(state)
        .execute(conn)
        .await?;
    Ok(())
}

/// The idle resources that came from report `source`, locked.
pub async fn idle_from(conn: &mut PgConnection, source: &str) -> sqlx::Result<Vec<Resource>> {
    let rows: Vec<ResourceRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources WHERE source = $1 AND state = 'idle' ORDER BY id FOR UPDATE"
    )))
    .bind(source)
    .fetch_all(conn)
    .await?;
    rows.into_iter().map(Resource::try_from).collect()
}

#[derive(sqlx::FromRow)]
struct ProjectRow {
    id: Uuid,
    demand_id: Uuid,
    resource_id: Uuid,
    category: String,
    state: String,
    milestones: Json<Vec<Milestone>>,
    rating: i32,
    started_by: String,
    start_time: DateTime<Utc>,
    complete_time: Option<DateTime<Utc>>,
    version: i64,
}

impl TryFrom<ProjectRow> for Project {
    type Error = sqlx::Error;

    fn try_from(row: ProjectRow) -> sqlx::Result<Project> {
        Ok(Project {
            completed: match row.state.as_str() {
                "started" => false,
                "completed" => true,
                _ => return Err(bad("projects.state")),
            },
            id: row.id,
            demand_id: row.demand_id,
            resource_id: row.resource_id,
            category: row.category,
            milestones: row.milestones.0,
            rating: row.rating,
            started_by: row.started_by,
            start_time: row.start_time,
            complete_time: row.complete_time,
            version: row.version,
        })
    }
}

/// The constraints whose violation means "already claimed".
pub const ONE_PROJECT_PER_DEMAND: &str = "projects_demand_id_key";
/// See [`ONE_PROJECT_PER_DEMAND`].
pub const ONE_PROJECT_PER_RESOURCE: &str = "projects_resource_id_key";

/// Inserts or updates `project` whole.
pub async fn save_project(conn: &mut PgConnection, project: &Project) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO projects (id, demand_id, resource_id, category, state, milestones, rating, started_by, \
           start_time, complete_time, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, milestones = EXCLUDED.milestones, \
           rating = EXCLUDED.rating, complete_time = EXCLUDED.complete_time, version = EXCLUDED.version",
    )
    .bind(project.id)
    .bind(project.demand_id)
    .bind(project.resource_id)
    .bind(&project.category)
    .bind(if project.completed { "completed" } else { "started" })
    .bind(Json(&project.milestones))
    .bind(project.rating)
    .bind(&project.started_by)
    .bind(project.start_time)
    .bind(project.complete_time)
    .bind(project.version)
    .execute(conn)
    .await?;
    Ok(())
}

/// Project `id`, locked until the transaction ends.
pub async fn lock_project(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Project>> {
    let row: Option<ProjectRow> = sqlx::query_as(
        "SELECT id, demand_id, resource_id, category, state, milestones, rating, started_by, start_time, \
           complete_time, version FROM projects WHERE id = $1 FOR UPDATE",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?;
    row.map(Project::try_from).transpose()
}

/// The place of demand `id` (for a project's events).
pub async fn demand_place(conn: &mut PgConnection, id: Uuid) -> sqlx::Result<Option<Placed>> {
    let row: Option<DemandRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {DEMAND_COLUMNS} FROM demands WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map(Demand::try_from).transpose()?.map(|d| d.place))
}
