//! The centres' own configuration keys, beside the shared ones
//! (`civicgrid_runtime::Settings`) in the same file and `CIVICGRID_*`
//! variables (`CIVICGRID_WAITLIST_OFFER_MINUTES`,
//! `CIVICGRID_WAITLIST_SWEEP_INTERVAL_MS`, `CIVICGRID_WALKING_RADIUS_METRES`).

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
}

impl Default for CentresSettings {
    fn default() -> Self {
        CentresSettings {
            waitlist_offer_minutes: 120,
            waitlist_sweep_interval_ms: 30_000,
            walking_radius_metres: 1_000,
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

    /// `waitlist_sweep_interval_ms` as a duration.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.waitlist_sweep_interval_ms)
    }
}
