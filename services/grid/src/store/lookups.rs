//! Read-mostly lookups on every report and transition, cached in memory.
//!
//! Categories, deadline policies and the working calendar change a few
//! times a year; reading them from PostgreSQL on every task cost three
//! round trips of the report path. They are kept for [`TTL`] (so another
//! replica's change shows within that time) and dropped at once when this
//! replica changes the directory: the directory commands call
//! [`Lookups::invalidate`]. They run on their caller's transaction, so the
//! change may not have committed yet when they invalidate; for [`SETTLE`]
//! afterwards directory reads therefore go to the database and are not
//! kept, so a read racing with the commit cannot pin the old entry. Cell paths never change once created, so
//! they are kept until the map is full. A grid worker's duty cells are kept
//! for [`TTL`] too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use civicgrid_runtime::auth::{Caller, Role};
use sqlx::pool::PoolConnection;
use sqlx::{PgConnection, PgPool, Postgres};

use crate::domain::access::TaskScope;

use crate::domain::calendar::WorkCalendar;
use crate::domain::deadlines::PolicyClock;
use crate::domain::directory::{Category, DeadlinePolicy, Urgency};
use crate::store::directory;

/// Where a cache miss reads: the pool (a connection is taken only on a
/// miss, so a hit costs no round trip) or the caller's transaction.
pub enum Source<'a> {
    /// Any connection of the pool.
    Pool(&'a PgPool),
    /// The caller's connection (inside its transaction).
    Conn(&'a mut PgConnection),
}

/// The connection a [`Source`] gave.
enum Held<'a> {
    Pooled(PoolConnection<Postgres>),
    Borrowed(&'a mut PgConnection),
}

impl<'a> Source<'a> {
    async fn connection(self) -> sqlx::Result<Held<'a>> {
        Ok(match self {
            Source::Pool(pool) => Held::Pooled(pool.acquire().await?),
            Source::Conn(conn) => Held::Borrowed(conn),
        })
    }
}

impl std::ops::Deref for Held<'_> {
    type Target = PgConnection;
    fn deref(&self) -> &PgConnection {
        match self {
            Held::Pooled(conn) => conn,
            Held::Borrowed(conn) => conn,
        }
    }
}

impl std::ops::DerefMut for Held<'_> {
    fn deref_mut(&mut self) -> &mut PgConnection {
        match self {
            Held::Pooled(conn) => conn,
            Held::Borrowed(conn) => conn,
        }
    }
}

/// How long directory entries are trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// After an invalidation, directory entries are read but not kept for this
/// long: longer than the changing transaction takes to commit.
pub const SETTLE: Duration = Duration::from_secs(1);
/// Cell paths kept at most (then the map starts over).
const MAX_CELLS: usize = 200_000;

#[derive(Default)]
struct Directory {
    loaded_at: Option<Instant>,
    invalidated_at: Option<Instant>,
    categories: HashMap<String, Option<Category>>,
    policies: HashMap<(String, Urgency), Option<DeadlinePolicy>>,
    calendar: Option<WorkCalendar>,
}

/// The cache, shared by the task and directory APIs of one process.
#[derive(Default)]
pub struct Lookups {
    directory: Mutex<Directory>,
    cell_paths: Mutex<HashMap<String, String>>,
    duties: Mutex<HashMap<String, (Instant, Vec<String>)>>,
}

impl Lookups {
    /// An empty cache.
    pub fn new() -> Lookups {
        Lookups::default()
    }

    /// Forgets every directory entry and keeps none for [`SETTLE`] (this
    /// process is changing the directory).
    pub fn invalidate(&self) {
        if let Ok(mut directory) = self.directory.lock() {
            *directory = Directory {
                invalidated_at: Some(Instant::now()),
                ..Directory::default()
            };
        }
    }

    /// Runs `read` on the directory entries, dropping them first when stale.
    /// While settling after an invalidation, `read` sees an empty directory
    /// each time, so nothing read then is kept.
    fn with_directory<T>(&self, read: impl FnOnce(&mut Directory) -> T) -> Option<T> {
        let mut directory = self.directory.lock().ok()?;
        let invalidated_at = directory.invalidated_at.filter(|at| at.elapsed() <= SETTLE);
        if invalidated_at.is_some() {
            *directory = Directory {
                invalidated_at,
                ..Directory::default()
            };
        } else if directory.loaded_at.is_none_or(|at| at.elapsed() > TTL) {
            *directory = Directory {
                loaded_at: Some(Instant::now()),
                ..Directory::default()
            };
        }
        Some(read(&mut directory))
    }

    /// The category `id`, if it exists; read through `db` on a miss.
    pub async fn category(&self, db: Source<'_>, id: &str) -> sqlx::Result<Option<Category>> {
        if let Some(Some(hit)) = self.with_directory(|d| d.categories.get(id).cloned()) {
            return Ok(hit);
        }
        let category = directory::category(&mut *db.connection().await?, id).await?;
        self.with_directory(|d| d.categories.insert(id.to_owned(), category.clone()));
        Ok(category)
    }

    /// The deadline rules of a category and urgency on the working calendar;
    /// read through `db` on a miss.
    pub async fn deadline_rules(
        &self,
        db: Source<'_>,
        category: &str,
        urgency: Urgency,
    ) -> sqlx::Result<PolicyClock> {
        let key = (category.to_owned(), urgency);
        let cached = self.with_directory(|d| (d.policies.get(&key).cloned(), d.calendar.clone()));
        let (policy, calendar) = match cached {
            Some((Some(policy), Some(calendar))) => {
                return Ok(PolicyClock::new(policy.as_ref(), calendar));
            }
            Some(cached) => cached,
            None => (None, None),
        };
        let mut conn = db.connection().await?;
        let policy = match policy {
            Some(policy) => policy,
            None => {
                let policy = directory::deadline_policy(&mut conn, category, urgency).await?;
                self.with_directory(|d| d.policies.insert(key.clone(), policy.clone()));
                policy
            }
        };
        let calendar = match calendar {
            Some(calendar) => calendar,
            None => {
                let calendar = directory::work_calendar(&mut conn).await?;
                self.with_directory(|d| d.calendar = Some(calendar.clone()));
                calendar
            }
        };
        Ok(PolicyClock::new(policy.as_ref(), calendar))
    }

    /// What `caller` sees of the tasks: grid workers' duties come from the
    /// staff assignments valid now (at most [`TTL`] old).
    pub async fn task_scope(&self, db: Source<'_>, caller: &Caller) -> sqlx::Result<TaskScope> {
        let duty_cells = if caller.has_role(Role::GridWorker) {
            self.duty_cells(db, &caller.subject).await?
        } else {
            Vec::new()
        };
        Ok(TaskScope::of(caller, duty_cells))
    }

    /// The cells of `person`'s current duties, at most [`TTL`] old: a duty
    /// begun or ended shows within that time.
    pub async fn duty_cells(&self, db: Source<'_>, person: &str) -> sqlx::Result<Vec<String>> {
        let cached = self.duties.lock().ok().and_then(|duties| {
            duties
                .get(person)
                .filter(|(at, _)| at.elapsed() <= TTL)
                .map(|(_, cells)| cells.clone())
        });
        if let Some(cells) = cached {
            return Ok(cells);
        }
        let cells = crate::store::staff::cells_of_person(
            &mut *db.connection().await?,
            person,
            chrono::Utc::now(),
        )
        .await?;
        if let Ok(mut duties) = self.duties.lock() {
            if duties.len() >= MAX_CELLS {
                duties.clear();
            }
            duties.insert(person.to_owned(), (Instant::now(), cells.clone()));
        }
        Ok(cells)
    }

    /// The path of cell `id`, if it exists (misses are not remembered); read
    /// through `db` on a miss.
    pub async fn cell_path(&self, db: Source<'_>, id: &str) -> sqlx::Result<Option<String>> {
        if let Some(path) = self
            .cell_paths
            .lock()
            .ok()
            .and_then(|paths| paths.get(id).cloned())
        {
            return Ok(Some(path));
        }
        let Some(cell) = civicgrid_cell_tree::get(&mut *db.connection().await?, id).await? else {
            return Ok(None);
        };
        if let Ok(mut paths) = self.cell_paths.lock() {
            if paths.len() >= MAX_CELLS {
                paths.clear();
            }
            paths.insert(id.to_owned(), cell.path.clone());
        }
        Ok(Some(cell.path))
    }
}
