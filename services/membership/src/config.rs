//! Membership's own configuration keys, beside the shared ones
//! (`civicgrid_runtime::Settings`) in the same file and `CIVICGRID_*`
//! variables (`CIVICGRID_MEMBERSHIP_DATA_KEY_PATH`). Any other service
//! refuses them by name. The key is not the grid's `data_key_path`: each
//! service seals its personal data with its own key, so one leaked key
//! opens one service's data.

use std::path::PathBuf;

use civicgrid_runtime::Section;
use civicgrid_runtime::config::ConfigError;
use serde::{Deserialize, Serialize};

/// Settings only membership reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MembershipSettings {
    /// File with the base64 AES-256 key that seals members' personal data
    /// at rest; the blind-index key of ID numbers is derived from it.
    pub membership_data_key_path: PathBuf,
    /// Agreements whose texts are at least this similar (Jaccard of their
    /// character 3-grams, party names and dates taken out) are flagged as
    /// near duplicates.
    pub agreement_similarity_threshold: f64,
    /// Agreements in force with no co-building activity for this many days
    /// are listed as idle.
    pub agreement_idle_days: u32,
}

impl Default for MembershipSettings {
    fn default() -> Self {
        MembershipSettings {
            membership_data_key_path: PathBuf::from(".state/keys/membership-data.key"),
            agreement_similarity_threshold: 0.6,
            agreement_idle_days: 90,
        }
    }
}

impl Section for MembershipSettings {
    fn validate(&self) -> Result<(), ConfigError> {
        if self.membership_data_key_path.as_os_str().is_empty() {
            return Err(ConfigError::Invalid {
                key: "membership_data_key_path",
                reason: "must name the key file".to_owned(),
            });
        }
        if !(self.agreement_similarity_threshold > 0.0
            && self.agreement_similarity_threshold <= 1.0)
        {
            return Err(ConfigError::Invalid {
                key: "agreement_similarity_threshold",
                reason: "must be more than 0 and at most 1".to_owned(),
            });
        }
        if self.agreement_idle_days == 0 {
            return Err(ConfigError::Invalid {
                key: "agreement_idle_days",
                reason: "must be at least 1".to_owned(),
            });
        }
        Ok(())
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
        Figment::from(Serialized::defaults(Settings::defaults("membership", 0, 0)))
            .merge(Serialized::defaults(C::default()))
            .merge(Serialized::default(key, value))
    }

    #[test]
    fn membership_reads_its_own_data_key_path() {
        let figment = layers::<MembershipSettings>("membership_data_key_path", "/keys/m.key");
        let (_, own) = Settings::from_figment::<MembershipSettings>(&figment).unwrap();
        assert_eq!(own.membership_data_key_path, PathBuf::from("/keys/m.key"));
    }

    #[test]
    fn a_service_without_the_membership_section_refuses_its_key_by_name() {
        let figment = layers::<NoSection>("membership_data_key_path", "/keys/m.key");
        let error = Settings::from_figment::<NoSection>(&figment).unwrap_err();
        assert!(
            error.to_string().contains("membership_data_key_path"),
            "{error}"
        );
    }

    #[test]
    fn membership_refuses_the_grids_data_key_by_name() {
        let figment = layers::<MembershipSettings>("data_key_path", "/keys/data.key");
        let error = Settings::from_figment::<MembershipSettings>(&figment).unwrap_err();
        assert!(error.to_string().contains("data_key_path"), "{error}");
    }
}
