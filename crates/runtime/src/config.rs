//! Layered configuration: built-in defaults, then an optional TOML file named
//! by `CIVICGRID_CONFIG`, then `CIVICGRID_*` environment variables. Every
//! value is checked before anything starts, and an error names its key.
//!
//! The keys every service reads are [`Settings`]; a service's own keys are a
//! [`Section`] it declares (the grid's `GridSettings`). Both are flat keys of
//! the same file and the same `CIVICGRID_` prefix, so a key keeps its name
//! whichever struct owns it. A key neither owns is refused by name: a typo,
//! or another service's key (`data_key_path` given to membership).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use figment::value::Dict;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// `CIVICGRID_*` variables that belong to the scripts and the CLI, not to a
/// service; any other unknown `CIVICGRID_*` variable is refused as a typo.
const NOT_SERVICE_SETTINGS: &[&str] = &[
    "CONFIG",
    "STATE_DIR",
    "TOKEN",
    "SIGNING_KEY_PATH",
    "TARGET_DIR",
    "PROFILE",
];

/// A configuration problem. Its message always names the offending key.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The value could not be parsed into the expected type.
    #[error("configuration error: {0}")]
    Parse(String),
    /// A key that neither the shared settings nor the service's section has.
    #[error(
        "configuration error: unknown key `{key}` (from {origin}); this service reads no such setting"
    )]
    Unknown {
        /// The key as figment sees it (lower case, without `CIVICGRID_`).
        key: String,
        /// Where it was given (the file or the environment), as figment names it.
        origin: String,
    },
    /// The value parsed but is not acceptable.
    #[error("configuration error: key `{key}`: {reason}")]
    Invalid {
        /// The configuration key (as in the file; upper-case with `CIVICGRID_` in the environment).
        key: &'static str,
        /// Why it was refused.
        reason: String,
    },
}

/// A service's own configuration keys, declared by the service
/// (`civicgrid_host::Service::Config`) and loaded from the same layers as
/// [`Settings`]. Its serialized default must be a map holding every key (an
/// `Option` serializes as an empty value, which counts): those keys are
/// what the loader accepts for it.
pub trait Section: Serialize + DeserializeOwned + Default + Send + Sync + 'static {
    /// Checks values that parse but are not acceptable; the error names the key.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }
}

/// The section of a service that has no keys of its own.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoSection {}

impl Section for NoSection {}

/// Settings every civicgrid service reads. Unknown keys are refused by the
/// loader ([`Settings::from_figment`]) rather than by serde, because the same
/// layers also carry the service's [`Section`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Settings {
    /// The service's short name ("grid", "membership", ...): the producer in events and the queue prefix.
    pub service_name: String,
    /// Where gRPC listens. Port 0 picks a free port (tests).
    pub grpc_addr: SocketAddr,
    /// Where Prometheus `/metrics` is served; empty disables it.
    pub metrics_addr: Option<SocketAddr>,
    /// PostgreSQL URL of the service's own database, user name included.
    pub database_url: String,
    /// Upper bound of pooled connections.
    pub database_max_connections: u32,
    /// How long a caller waits for a pooled connection before UNAVAILABLE.
    pub database_acquire_timeout_ms: u64,
    /// AMQP URL of the broker, e.g. `amqp://guest:guest@127.0.0.1:5672/%2f`.
    pub amqp_url: String,
    /// The durable topic exchange every service publishes its events to.
    pub events_exchange: String,
    /// Prefix of every queue and dead-letter name this deployment owns.
    pub queue_prefix: String,
    /// Deliveries of one message before the broker dead-letters it.
    pub delivery_limit: u32,
    /// PEM file of the Ed25519 public key that verifies bearer tokens.
    pub auth_public_key_path: PathBuf,
    /// Expected `iss` claim of tokens.
    pub auth_issuer: String,
    /// Longest time one RPC may run before DEADLINE_EXCEEDED.
    pub request_timeout_ms: u64,
    /// RPCs handled at once across all connections; the rest wait.
    pub concurrency_limit: usize,
    /// How long shutdown waits for in-flight RPCs and workers.
    pub shutdown_grace_ms: u64,
    /// Log filter in `tracing_subscriber::EnvFilter` syntax.
    pub log_filter: String,
    /// Run the outbox relay and consumers in the background. Tests turn this
    /// off and drive them one step at a time.
    pub background_workers: bool,
    /// Days a published outbox row (an event in this service's log) is kept;
    /// unset (the default) keeps the log forever, so consumers deployed later
    /// can catch up and read models can be rebuilt.
    pub outbox_retention_days: Option<u32>,
    /// gRPC address of each producer whose event log this service's catch-up
    /// subscriptions read, e.g. `{ grid = "http://127.0.0.1:50052" }`.
    pub event_sources: BTreeMap<String, String>,
    /// File holding the bearer token (role `service`, scope `*`) this
    /// service presents to the producers' `EventLogService`; read at each
    /// catch-up, so it can be rotated without a restart.
    pub event_source_token_path: Option<PathBuf>,
}

impl Settings {
    /// Defaults for `service`, listening on `grpc_port` and serving metrics on `metrics_port`.
    pub fn defaults(service: &str, grpc_port: u16, metrics_port: u16) -> Self {
        Settings {
            service_name: service.to_owned(),
            grpc_addr: SocketAddr::from(([127, 0, 0, 1], grpc_port)),
            metrics_addr: Some(SocketAddr::from(([127, 0, 0, 1], metrics_port))),
            database_url: format!(
                "postgres://civicgrid_{service}@127.0.0.1:5432/civicgrid_{service}"
            ),
            database_max_connections: 16,
            database_acquire_timeout_ms: 3_000,
            amqp_url: "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned(),
            events_exchange: "civicgrid.events".to_owned(),
            queue_prefix: "civicgrid".to_owned(),
            delivery_limit: 5,
            auth_public_key_path: PathBuf::from(".state/keys/auth_public.pem"),
            auth_issuer: "civicgrid".to_owned(),
            request_timeout_ms: 10_000,
            concurrency_limit: 256,
            shutdown_grace_ms: 10_000,
            log_filter: "info".to_owned(),
            background_workers: true,
            outbox_retention_days: None,
            event_sources: BTreeMap::new(),
            event_source_token_path: None,
        }
    }

    /// Loads the shared settings over `defaults` and the service's section
    /// `C` over its default, from the file in `CIVICGRID_CONFIG` (if set) and
    /// `CIVICGRID_*` variables, then validates both.
    pub fn load<C: Section>(defaults: Settings) -> Result<(Settings, C), ConfigError> {
        let mut figment =
            Figment::from(Serialized::defaults(defaults)).merge(Serialized::defaults(C::default()));
        if let Some(path) = std::env::var_os("CIVICGRID_CONFIG") {
            let path = PathBuf::from(path);
            if !path.is_file() {
                return Err(ConfigError::Invalid {
                    key: "CIVICGRID_CONFIG",
                    reason: format!("no such file: {}", path.display()),
                });
            }
            figment = figment.merge(Toml::file(path));
        }
        figment = figment.merge(Env::prefixed("CIVICGRID_").ignore(NOT_SERVICE_SETTINGS));
        Self::from_figment(&figment)
    }

    /// Extracts and validates the shared settings and section `C` from an
    /// already layered figment (which holds the defaults of both). Every key
    /// must belong to one of them; the first that does not is refused by name.
    pub fn from_figment<C: Section>(figment: &Figment) -> Result<(Settings, C), ConfigError> {
        let shared = keys_of(&Settings::defaults("keys", 0, 0))?;
        let own = keys_of(&C::default())?;
        if let Some(key) = shared.intersection(&own).next() {
            // A programming error in the section, caught by its first test.
            return Err(ConfigError::Parse(format!(
                "the service's section redeclares the shared key `{key}`"
            )));
        }
        let given: Dict = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe(e)))?;
        if let Some(key) = given
            .keys()
            .find(|k| !shared.contains(*k) && !own.contains(*k))
        {
            let source = figment
                .find_metadata(key)
                .map_or_else(|| "an unknown source".to_owned(), |m| m.name.to_string());
            return Err(ConfigError::Unknown {
                key: key.clone(),
                origin: source,
            });
        }
        let settings: Settings = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe(e)))?;
        settings.validate()?;
        let section: C = figment
            .extract()
            .map_err(|e| ConfigError::Parse(describe(e)))?;
        section.validate()?;
        Ok((settings, section))
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |key, reason: &str| {
            Err(ConfigError::Invalid {
                key,
                reason: reason.to_owned(),
            })
        };
        if self.service_name.trim().is_empty() {
            return invalid("service_name", "must not be empty");
        }
        if !(self.database_url.starts_with("postgres://")
            || self.database_url.starts_with("postgresql://"))
        {
            return invalid("database_url", "must be a postgres:// URL");
        }
        if !(self.amqp_url.starts_with("amqp://") || self.amqp_url.starts_with("amqps://")) {
            return invalid("amqp_url", "must be an amqp:// or amqps:// URL");
        }
        if self.database_max_connections == 0 {
            return invalid("database_max_connections", "must be at least 1");
        }
        if self.delivery_limit == 0 {
            return invalid("delivery_limit", "must be at least 1");
        }
        if self.concurrency_limit == 0 {
            return invalid("concurrency_limit", "must be at least 1");
        }
        if self.request_timeout_ms == 0 {
            return invalid("request_timeout_ms", "must be at least 1");
        }
        if self.events_exchange.is_empty() || self.queue_prefix.is_empty() {
            return invalid(
                "events_exchange",
                "exchange and queue_prefix must not be empty",
            );
        }
        if self.outbox_retention_days == Some(0) {
            return invalid(
                "outbox_retention_days",
                "must be at least 1 (unset keeps every event)",
            );
        }
        if self
            .event_sources
            .values()
            .any(|url| !(url.starts_with("http://") || url.starts_with("https://")))
        {
            return invalid(
                "event_sources",
                "every address must be an http:// or https:// URL",
            );
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log_filter).is_err() {
            return invalid("log_filter", "not a valid tracing filter");
        }
        Ok(())
    }

    /// `database_acquire_timeout_ms` as a duration.
    pub fn database_acquire_timeout(&self) -> Duration {
        Duration::from_millis(self.database_acquire_timeout_ms)
    }

    /// `request_timeout_ms` as a duration.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }

    /// `shutdown_grace_ms` as a duration.
    pub fn shutdown_grace(&self) -> Duration {
        Duration::from_millis(self.shutdown_grace_ms)
    }
}

/// The top-level keys `value` serializes to: the keys its owner accepts.
fn keys_of<T: Serialize>(value: &T) -> Result<BTreeSet<String>, ConfigError> {
    let dict: Dict = Figment::from(Serialized::defaults(value))
        .extract()
        .map_err(|e| ConfigError::Parse(describe(e)))?;
    Ok(dict.into_keys().collect())
}

/// Figment's own message names the key and the source; keep every error of a
/// multi-error report, one per line.
fn describe(error: figment::Error) -> String {
    error
        .into_iter()
        .map(|e| e.to_string())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use figment::providers::Serialized;

    /// A section like a service's own.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    struct Own {
        sweep_interval_ms: u64,
        key_path: PathBuf,
    }

    impl Default for Own {
        fn default() -> Self {
            Own {
                sweep_interval_ms: 30_000,
                key_path: PathBuf::from("a.key"),
            }
        }
    }

    impl Section for Own {
        fn validate(&self) -> Result<(), ConfigError> {
            if self.sweep_interval_ms == 0 {
                return Err(ConfigError::Invalid {
                    key: "sweep_interval_ms",
                    reason: "must be at least 1".to_owned(),
                });
            }
            Ok(())
        }
    }

    fn layers<C: Section>() -> Figment {
        Figment::from(Serialized::defaults(Settings::defaults(
            "grid", 50052, 9102,
        )))
        .merge(Serialized::defaults(C::default()))
    }

    fn figment_with(key: &str, value: &str) -> Figment {
        layers::<NoSection>().merge(Serialized::default(key, value))
    }

    #[test]
    fn defaults_are_valid() {
        assert!(Settings::from_figment::<NoSection>(&layers::<NoSection>()).is_ok());
        assert!(Settings::from_figment::<Own>(&layers::<Own>()).is_ok());
    }

    #[test]
    fn an_unparsable_address_names_its_key() {
        let error =
            Settings::from_figment::<NoSection>(&figment_with("grpc_addr", "not-an-address"))
                .unwrap_err();
        assert!(error.to_string().contains("grpc_addr"), "{error}");
    }

    #[test]
    fn a_non_postgres_database_url_names_its_key() {
        let error = Settings::from_figment::<NoSection>(&figment_with("database_url", "mysql://x"))
            .unwrap_err();
        assert!(error.to_string().contains("database_url"), "{error}");
    }

    #[test]
    fn event_history_settings_default_to_keeping_every_event_and_refuse_bad_values() {
        let defaults = Settings::defaults("centres", 50053, 9103);
        assert_eq!(defaults.outbox_retention_days, None);
        assert!(defaults.event_sources.is_empty());
        let (settings, _) = Settings::from_figment::<NoSection>(
            &Figment::from(Serialized::defaults(defaults.clone())).merge(Toml::string(
                "outbox_retention_days = 400\nevent_sources = { grid = \"http://127.0.0.1:50052\" }",
            )),
        )
        .unwrap();
        assert_eq!(
            settings.event_sources.get("grid").map(String::as_str),
            Some("http://127.0.0.1:50052")
        );
        assert_eq!(settings.outbox_retention_days, Some(400));
        let error = Settings::from_figment::<NoSection>(
            &Figment::from(Serialized::defaults(defaults.clone()))
                .merge(Serialized::default("event_sources.grid", "grid:50052")),
        )
        .unwrap_err();
        assert!(error.to_string().contains("event_sources"), "{error}");
        let error = Settings::from_figment::<NoSection>(
            &Figment::from(Serialized::defaults(defaults))
                .merge(Serialized::default("outbox_retention_days", 0)),
        )
        .unwrap_err();
        assert!(
            error.to_string().contains("outbox_retention_days"),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_key_is_refused() {
        let error = Settings::from_figment::<NoSection>(&figment_with("grpc_adr", "127.0.0.1:1"))
            .unwrap_err();
        assert!(error.to_string().contains("grpc_adr"), "{error}");
    }

    #[test]
    fn an_optional_shared_key_is_known_even_when_its_default_is_unset() {
        let mut defaults = Settings::defaults("grid", 50052, 9102);
        defaults.metrics_addr = None;
        let figment = Figment::from(Serialized::defaults(defaults))
            .merge(Serialized::default("metrics_addr", "127.0.0.1:9999"));
        let (settings, _) = Settings::from_figment::<NoSection>(&figment).unwrap();
        assert_eq!(
            settings.metrics_addr,
            Some("127.0.0.1:9999".parse().unwrap())
        );
    }

    #[test]
    fn a_sections_key_is_read_by_the_service_that_declares_it() {
        let figment = layers::<Own>().merge(Serialized::default("key_path", "/keys/b.key"));
        let (_, own) = Settings::from_figment::<Own>(&figment).unwrap();
        assert_eq!(own.key_path, PathBuf::from("/keys/b.key"));
    }

    #[test]
    fn a_sections_key_given_to_a_service_without_it_is_refused_naming_the_key() {
        let figment = layers::<NoSection>().merge(Serialized::default("key_path", "/keys/b.key"));
        let error = Settings::from_figment::<NoSection>(&figment).unwrap_err();
        assert!(
            matches!(&error, ConfigError::Unknown { key, .. } if key == "key_path"),
            "{error}"
        );
    }

    #[test]
    fn a_mistyped_section_value_names_its_key() {
        let figment = layers::<Own>().merge(Serialized::default("sweep_interval_ms", "soon"));
        let error = Settings::from_figment::<Own>(&figment).unwrap_err();
        assert!(error.to_string().contains("sweep_interval_ms"), "{error}");
    }

    #[test]
    fn an_unacceptable_section_value_names_its_key() {
        let figment = layers::<Own>().merge(Serialized::default("sweep_interval_ms", 0));
        let error = Settings::from_figment::<Own>(&figment).unwrap_err();
        assert!(error.to_string().contains("sweep_interval_ms"), "{error}");
    }
}
