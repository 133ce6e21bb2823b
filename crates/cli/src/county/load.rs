//! Loading a planned county through the grid's public API: every rule and
//! event applies. Bounded concurrency, a progress bar per kind, retries of
//! what a restarting service answers, and idempotency everywhere (a cell or
//! compound that exists is ALREADY_EXISTS, a task that exists is skipped by
//! ImportTasks), so an interrupted load rerun completes without duplicates.

use std::future::Future;
use std::time::{Duration, Instant};

use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use futures::stream::{self, StreamExt};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::plan::{self, PlannedCell, PlannedCompound, Shape};
use crate::endpoints::authorised;

/// Historical tasks per ImportTasks request: one transaction of a few
/// hundred statements, well inside a service's request timeout.
const TASK_BATCH: u64 = 50;

/// How many of a kind the load planned, created and found already there.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub kind: &'static str,
    pub planned: u64,
    pub created: u64,
    pub existing: u64,
}

/// What the loader needs: where the grid is, who it is, how hard to push.
pub struct Loader {
    pub channel: Channel,
    pub token: String,
    pub concurrency: usize,
    pub progress: MultiProgress,
}

impl Loader {
    pub(super) fn bar(&self, kind: &str, length: u64) -> ProgressBar {
        let bar = self.progress.add(ProgressBar::new(length));
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>10} [{bar:40}] {pos}/{len} ({per_sec}, {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(kind.to_owned());
        bar
    }

    /// Creates the cells level by level (parents first), each level in parallel.
    pub async fn cells(&self, levels: &[Vec<PlannedCell>]) -> anyhow::Result<Count> {
        let planned: u64 = levels.iter().map(|l| l.len() as u64).sum();
        let bar = self.bar("cells", planned);
        let mut count = Count {
            kind: "cells",
            planned,
            ..Count::default()
        };
        let client = GridServiceClient::new(self.channel.clone());
        for level in levels {
            self.create_each(
                level,
                &bar,
                &mut count,
                |cell| format!("cell `{}`", cell.id),
                |cell| {
                    let request = authorised(cell_request(cell), &self.token);
                    let mut client = client.clone();
                    async move { client.create_cell(request.map_err(internal)?).await }
                },
            )
            .await?;
        }
        bar.finish();
        Ok(count)
    }

    /// Creates the compounds in parallel.
    pub async fn compounds(&self, compounds: &[PlannedCompound]) -> anyhow::Result<Count> {
        let bar = self.bar("compounds", compounds.len() as u64);
        let mut count = Count {
            kind: "compounds",
            planned: compounds.len() as u64,
            ..Count::default()
        };
        let client = GridServiceClient::new(self.channel.clone());
        self.create_each(
            compounds,
            &bar,
            &mut count,
            |compound| format!("compound `{}`", compound.id),
            |compound| {
                let request = authorised(compound_request(compound), &self.token);
                let mut client = client.clone();
                async move { client.create_compound(request.map_err(internal)?).await }
            },
        )
        .await?;
        bar.finish();
        Ok(count)
    }

    /// Creates each of `items` through `create` (retried as [`retrying`]
    /// says), `concurrency` at a time, a tick of `bar` each, counting in
    /// `count` which were created and which were there already; `what`
    /// names an item in an error.
    pub(super) async fn create_each<'a, I, T, Fut>(
        &self,
        items: &'a [I],
        bar: &ProgressBar,
        count: &mut Count,
        what: impl Fn(&I) -> String,
        create: impl Fn(&'a I) -> Fut,
    ) -> anyhow::Result<()>
    where
        Fut: Future<Output = Result<T, Status>>,
    {
        let (create, what) = (&create, &what);
        let outcomes = stream::iter(items.iter().map(|item| async move {
            let created = created_or_existing(retrying(|| create(item)).await)
                .map_err(|status| anyhow::anyhow!("creating {}: {}", what(item), status.message()));
            bar.inc(1);
            created
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        for created in outcomes {
            if created? {
                count.created += 1
            } else {
                count.existing += 1
            }
        }
        Ok(())
    }

    /// Imports the tasks in batches, `concurrency` batches at a time. Each
    /// batch is generated when its turn comes, so a million tasks never sit
    /// in memory at once.
    pub async fn tasks(&self, seed: u64, root: &str, shape: &Shape) -> anyhow::Result<Count> {
        let bar = self.bar("tasks", shape.tasks);
        let now = chrono::Utc::now();
        let batches = shape.tasks.div_ceil(TASK_BATCH);
        let client = TaskServiceClient::new(self.channel.clone());
        let results = stream::iter((0..batches).map(|batch| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let first = batch * TASK_BATCH;
                let last = (first + TASK_BATCH).min(shape.tasks);
                let tasks: Vec<pb::HistoricalTask> = (first..last)
                    .map(|i| plan::task(seed, i, root, shape, now))
                    .collect();
                let response = retrying(|| {
                    let request = authorised(
                        pb::ImportTasksRequest {
                            tasks: tasks.clone(),
                        },
                        &self.token,
                    );
                    let mut client = client.clone();
                    async move { client.import_tasks(request.map_err(internal)?).await }
                })
                .await
                .map_err(|status| {
                    anyhow::anyhow!(
                        "importing tasks {first}..{last}: {:?}: {}",
                        status.code(),
                        status.message()
                    )
                })?
                .into_inner();
                bar.inc(last - first);
                Ok::<_, anyhow::Error>((response.imported_count, response.skipped_count))
            }
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        let mut count = Count {
            kind: "tasks",
            planned: shape.tasks,
            ..Count::default()
        };
        for result in results {
            let (imported, skipped) = result?;
            count.created += u64::try_from(imported).unwrap_or(0);
            count.existing += u64::try_from(skipped).unwrap_or(0);
        }
        bar.finish();
        Ok(count)
    }
}

pub(super) fn internal(error: anyhow::Error) -> Status {
    Status::internal(format!("{error:#}"))
}

/// true when created, false when it was there already.
pub(super) fn created_or_existing<T>(result: Result<T, Status>) -> Result<bool, Status> {
    match result {
        Ok(_) => Ok(true),
        Err(status) if status.code() == Code::AlreadyExists => Ok(false),
        Err(status) => Err(status),
    }
}

/// Runs `call` until it succeeds or fails for good: UNAVAILABLE (a service
/// restarting, a database failing over), ABORTED (a lost conflict),
/// CANCELLED and DEADLINE_EXCEEDED (a request the service timed out, which
/// rolled back) and RESOURCE_EXHAUSTED (load shedding) are retried with
/// backoff for about two minutes; anything else is returned at once.
pub(super) async fn retrying<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, Status>>,
{
    let mut delay = Duration::from_millis(100);
    let mut waited = Duration::ZERO;
    loop {
        match call().await {
            Ok(value) => return Ok(value),
            Err(status)
                if matches!(
                    status.code(),
                    Code::Unavailable
                        | Code::Aborted
                        | Code::Cancelled
                        | Code::DeadlineExceeded
                        | Code::ResourceExhausted
                ) && waited < Duration::from_secs(120) =>
            {
                tokio::time::sleep(delay).await;
                waited += delay;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(status) => return Err(status),
        }
    }
}

fn cell_request(cell: &PlannedCell) -> pb::CreateCellRequest {
    pb::CreateCellRequest {
        cell_id: cell.id.clone(),
        cell: Some(pb::Cell {
            parent: if cell.parent.is_empty() {
                String::new()
            } else {
                format!("cells/{}", cell.parent)
            },
            level: cell.level as i32,
            display_name: cell.display_name.clone(),
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

fn compound_request(compound: &PlannedCompound) -> pb::CreateCompoundRequest {
    pb::CreateCompoundRequest {
        compound_id: compound.id.clone(),
        compound: Some(pb::Compound {
            community: format!("cells/{}", compound.community),
            display_name: compound.display_name.clone(),
            buildings: compound
                .buildings
                .iter()
                .map(|b| format!("cells/{b}"))
                .collect(),
            year_built: compound.year_built,
            newly_built: compound.newly_built,
            lacks_required_facilities: compound.newly_built,
            ..Default::default()
        }),
        request_id: String::new(),
    }
}

/// How long a service's replica of the grid may take to learn the cells
/// and compounds just created (they arrive by events).
pub(super) const REPLICA_WAIT: Duration = Duration::from_secs(600);

/// Waits (bounded by [`REPLICA_WAIT`]) until `service`'s replica knows
/// every unit of the county's last building: cells are created level by
/// level and a replica applies them in the order they were logged, so the
/// rest are known by then. `units_known` asks the service how many units it
/// knows below a cell (an error counts as none yet). (A community of the
/// large scale holds 1,775 cells, more than a page; a building's few units
/// fit in one.)
pub(super) async fn wait_for_replica<F, Fut>(
    service: &str,
    root: &str,
    shape: &Shape,
    mut units_known: F,
) -> anyhow::Result<()>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = anyhow::Result<usize>>,
{
    let building = format!(
        "cells/{root}-s{:02}-c{:02}-g{:02}-b{:02}",
        shape.streets, shape.communities, shape.grids, shape.buildings
    );
    let wanted = usize::try_from(shape.units)?;
    let started = Instant::now();
    loop {
        if units_known(building.clone()).await.unwrap_or(0) >= wanted {
            return Ok(());
        }
        anyhow::ensure!(
            started.elapsed() < REPLICA_WAIT,
            "{service} replica still lacks the units of {building} after {}s",
            REPLICA_WAIT.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// How many of `levels` are units.
pub(super) fn units(levels: impl IntoIterator<Item = i32>) -> usize {
    levels
        .into_iter()
        .filter(|level| *level == pb::CellLevel::Unit as i32)
        .count()
}
