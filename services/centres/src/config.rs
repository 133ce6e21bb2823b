//! The centres' own configuration keys, beside the shared ones
//! (`civicgrid_runtime::Settings`) in the same file and `CIVICGRID_*`
//! variables (`CIVICGRID_WAITLIST_OFFER_MINUTES`,
//! `CIVICGRID_WAITLIST_SWEEP_INTERVAL_MS`, `CIVICGRID_WALKING_RADIUS_METRES`,
//! `CIVICGRID_TASK_DEMAND_CATEGORIES`, `CIVICGRID_TASK_DEMAND_DAYS`).

use std::collections::BTreeMap;
use std::time::Duration;

use civicgrid_runtime::Section;
use civicgrid_runtime::config::ConfigError;
use serde::{Deserialize, Serialize};

/// Settings only the centres service reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CentresSettings {
    /// How long a freed place is held for the next in line before it
    /// passes on.
    pub waitlist_offer_minutes: u32,
    /// How often the offer sweeper looks for lapsed offers.
    pub waitlist_sweep_interval_ms: u64,
    /// A community centre covers the compounds of its community within
    /// this walking distance (straight line between the coordinates).
    pub walking_radius_metres: u32,
    /// Which residents' requests enter the demand list (需求清单): the
    /// grid's category name (`"categories/pipe-leak"`) to the demand
    /// category code (`"plumbing"`). Tasks of other categories are not
    /// demands. Empty: none are.
    pub task_demand_categories: BTreeMap<String, String>,
    /// How long a demand from a task is open, from the task's report
    /// time, when the task carries no deadline of its own.
    pub task_demand_days: u32,
}

impl Default for CentresSettings {
    fn default() -> Self {
        CentresSettings {
            waitlist_offer_minutes: 120,
            waitlist_sweep_interval_ms: 30_000,
            walking_radius_metres: 1_000,
            task_demand_categories: BTreeMap::new(),
            task_demand_days: 30,
        }
    }
}

impl Section for CentresSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.waitlist_offer_minutes == 0 {
            return Err(ConfigError::Invalid {
                key: "waitlist_offer_minutes",
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.waitlist_sweep_interval_ms == 0 {
            return Err(ConfigError::Invalid {
                key: "waitlist_sweep_interval_ms",
                reason: "must be at least 1".to_owned(),
            });
        }
        if self.task_demand_days == 0 {
            return Err(ConfigError::Invalid {
                key: "task_demand_days",
                reason: "must be at least 1".to_owned(),
            });
        }
        for (task_category, code) in &self.task_demand_categories {
            let named = task_category
                .strip_prefix("categories/")
                .is_some_and(|id| !id.is_empty());
            if !named || !crate::domain::lists::is_category(code) {
                return Err(ConfigError::Invalid {
                    key: "task_demand_categories",
                    reason: format!(
                        "{task_category:?} = {code:?}: each key must be a grid category name \
                         `categories/{{category_id}}` and each value a category code (1-63 of a-z, 0-9, _)"
                    ),
                });
            }
        }
        Ok(())
    }
}

impl CentresSettings {
    /// How long an offer stays open.
    pub fn offer_ttl(&self) -> chrono::Duration {
        chrono::Duration::minutes(i64::from(self.waitlist_offer_minutes))
    }

    /// `walking_radius_metres` as a distance.
    pub fn walking_radius(&self) -> f64 {
        f64::from(self.walking_radius_metres)
    }

    /// What turns a grid task into a demand.
    pub fn task_demands(&self) -> TaskDemandRules {
        TaskDemandRules {
            categories: self.task_demand_categories.clone(),
            open_for: chrono::Duration::days(i64::from(self.task_demand_days)),
        }
    }

    /// `waitlist_sweep_interval_ms` as a duration.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.waitlist_sweep_interval_ms)
    }
}

/// `task_demand_categories` and `task_demand_days`, as the task handler
/// uses them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskDemandRules {
    /// Grid category name to demand category code.
    pub categories: BTreeMap<String, String>,
    /// How long a demand is open when the task has no deadline.
    pub open_for: chrono::Duration,
}
