//! The grid's own configuration keys, beside the shared ones
//! (`civicgrid_runtime::Settings`) in the same file and `CIVICGRID_*`
//! variables (`CIVICGRID_DATA_KEY_PATH`, `CIVICGRID_SUPERVISION_*`). Any
//! other service refuses them by name.

use std::path::PathBuf;
use std::time::Duration;

use civicgrid_runtime::Section;
use civicgrid_runtime::config::ConfigError;
use serde::{Deserialize, Serialize};

use crate::domain::supervision::Ladder;

/// Settings only the grid reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GridSettings {
    /// File with the base64 AES-256 key that seals personal data at rest.
    pub data_key_path: PathBuf,
    /// Supervision warns this many minutes before a deadline.
    pub supervision_warning_before_minutes: u32,
    /// Supervision escalates to red this many minutes after a deadline.
    pub supervision_red_after_minutes: u32,
    /// How often the supervision sweeper runs.
    pub supervision_sweep_interval_ms: u64,
    /// How often the statistics' tallies fold their deltas (the statistics
    /// are exact either way; folding keeps them few).
    pub statistics_fold_interval_ms: u64,
}

impl Default for GridSettings {
    fn default() -> Self {
        GridSettings {
            data_key_path: PathBuf::from(".state/keys/data.key"),
            supervision_warning_before_minutes: 60,
            supervision_red_after_minutes: 24 * 60,
            supervision_sweep_interval_ms: 30_000,
            statistics_fold_interval_ms: 5_000,
        }
    }
}

impl Section for GridSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        for (key, value) in [
            (
                "supervision_sweep_interval_ms",
                self.supervision_sweep_interval_ms,
            ),
            (
                "statistics_fold_interval_ms",
                self.statistics_fold_interval_ms,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::Invalid {
                    key,
                    reason: "must be at least 1".to_owned(),
                });
            }
        }
        Ok(())
    }
}

impl GridSettings {
    /// The supervision ladder these settings describe.
    pub fn ladder(&self) -> Ladder {
        Ladder {
            warning_before: chrono::Duration::minutes(i64::from(
                self.supervision_warning_before_minutes,
            )),
            red_after: chrono::Duration::minutes(i64::from(self.supervision_red_after_minutes)),
        }
    }

    /// `supervision_sweep_interval_ms` as a duration.
    pub fn sweep_interval(&self) -> Duration {
        Duration::from_millis(self.supervision_sweep_interval_ms)
    }

    /// `statistics_fold_interval_ms` as a duration.
    pub fn fold_interval(&self) -> Duration {
        Duration::from_millis(self.statistics_fold_interval_ms)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use civicgrid_runtime::{NoSection, Settings};
    use figment::Figment;
    use figment::providers::Serialized;

    fn layers<C: Section>(key: &str, value: &str) -> Figment {
        Figment::from(Serialized::defaults(Settings::defaults("grid", 0, 0)))
            .merge(Serialized::defaults(C::default()))
            .merge(Serialized::default(key, value))
    }

    #[test]
    fn the_grid_reads_its_data_key_path() {
        let figment = layers::<GridSettings>("data_key_path", "/keys/data.key");
        let (_, grid) = Settings::from_figment::<GridSettings>(&figment).unwrap();
        assert_eq!(grid.data_key_path, PathBuf::from("/keys/data.key"));
    }

    #[test]
    fn a_service_without_the_grids_section_refuses_its_key_by_name() {
        let figment = layers::<NoSection>("data_key_path", "/keys/data.key");
        let error = Settings::from_figment::<NoSection>(&figment).unwrap_err();
        assert!(error.to_string().contains("data_key_path"), "{error}");
    }

    #[test]
    fn a_mistyped_supervision_value_names_its_key() {
        for value in ["soon", "0"] {
            let figment = layers::<GridSettings>("supervision_sweep_interval_ms", value);
            let error = Settings::from_figment::<GridSettings>(&figment).unwrap_err();
            assert!(
                error.to_string().contains("supervision_sweep_interval_ms"),
                "{value}: {error}"
            );
        }
    }
}
