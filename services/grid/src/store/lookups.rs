//! Read-mostly lookups on every report and transition, cached in memory.
//!
//! Categories, deadline policies and the working calendar change a few
//! times a year; reading them from PostgreSQL on every task cost three
//! round trips of the report path. They are kept for [`TTL`] (so another
//! replica's change shows within that time) and dropped at once when this
//! replica changes the directory. Cell paths never change once created, so
//! they are kept until the map is full. A grid worker's duty cells are kept
//! for [`TTL`] too.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sqlx::PgPool;

use crate::domain::calendar::WorkCalendar;
use crate::domain::deadlines::PolicyClock;
use crate::domain::directory::{Category, DeadlinePolicy, Urgency};
use crate::store::directory;

/// How long directory entries are trusted.
pub const TTL: Duration = Duration::from_secs(5);
/// Cell paths kept at most (then the map starts over).
const MAX_CELLS: usize = 200_000;

#[derive(Default)]
struct Directory {
    loaded_at: Option<Instant>,
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

    /// Forgets every directory entry (after this process changed the directory).
    pub fn invalidate(&self) {
        if let Ok(mut directory) = self.directory.lock() {
            *directory = Directory::default();
        }
    }

    /// Runs `read` on the directory entries, dropping them first when stale.
    fn with_directory<T>(&self, read: impl FnOnce(&mut Directory) -> T) -> Option<T> {
        let mut directory = self.directory.lock().ok()?;
        if directory.loaded_at.is_none_or(|at| at.elapsed() > TTL) {
            *directory = Directory {
                loaded_at: Some(Instant::now()),
                ..Directory::default()
            };
        }
        Some(read(&mut directory))
    }

    /// The category `id`, if it exists.
    pub async fn category(&self, pool: &PgPool, id: &str) -> sqlx::Result<Option<Category>> {
        if let Some(Some(hit)) = self.with_directory(|d| d.categories.get(id).cloned()) {
            return Ok(hit);
        }
        let category = directory::category(&mut *pool.acquire().await?, id).await?;
        self.with_directory(|d| d.categories.insert(id.to_owned(), category.clone()));
        Ok(category)
    }

    /// The deadline rules of a category and urgency on the working calendar.
    pub async fn deadline_rules(
        &self,
        pool: &PgPool,
        category: &str,
        urgency: Urgency,
    ) -> sqlx::Result<PolicyClock> {
        let key = (category.to_owned(), urgency);
        let cached = self.with_directory(|d| (d.policies.get(&key).cloned(), d.calendar.clone()));
        let (policy, calendar) = cached.unwrap_or((None, None));
        let policy = match policy {
            Some(policy) => policy,
            None => {
                let policy =
                    directory::deadline_policy(&mut *pool.acquire().await?, category, urgency)
                        .await?;
                self.with_directory(|d| d.policies.insert(key.clone(), policy.clone()));
                policy
            }
        };
        let calendar = match calendar {
            Some(calendar) => calendar,
            None => {
                let calendar = directory::work_calendar(&mut *pool.acquire().await?).await?;
                self.with_directory(|d| d.calendar = Some(calendar.clone()));
                calendar
            }
        };
        Ok(PolicyClock::new(policy.as_ref(), calendar))
    }

    /// The cells of `person`'s current duties, at most [`TTL`] old: a duty
    /// begun or ended shows within that time.
    pub async fn duty_cells(&self, pool: &PgPool, person: &str) -> sqlx::Result<Vec<String>> {
        let cached = self.duties.lock().ok().and_then(|duties| {
            duties
                .get(person)
                .filter(|(at, _)| at.elapsed() <= TTL)
                .map(|(_, cells)| cells.clone())
        });
        if let Some(cells) = cached {
            return Ok(cells);
        }
        let cells = crate::store::staff::cells_of_person(pool, person, chrono::Utc::now()).await?;
        if let Ok(mut duties) = self.duties.lock() {
            if duties.len() >= MAX_CELLS {
                duties.clear();
            }
            duties.insert(person.to_owned(), (Instant::now(), cells.clone()));
        }
        Ok(cells)
    }

    /// The path of cell `id`, if it exists (misses are not remembered).
    pub async fn cell_path(&self, pool: &PgPool, id: &str) -> sqlx::Result<Option<String>> {
        if let Some(path) = self
            .cell_paths
            .lock()
            .ok()
            .and_then(|paths| paths.get(id).cloned())
        {
            return Ok(Some(path));
        }
        let Some(cell) = civicgrid_cell_tree::get(pool, id).await? else {
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
