//! The list of services in `infra/services.tsv`, compiled in: the one
//! place that names each service's ports, database and binary. The local
//! scripts, the Makefile, the deployment generator and the end-to-end tests
//! read the same file.

/// The file as compiled into the host.
pub const SERVICES_TSV: &str = include_str!("../../../infra/services.tsv");

/// One row of the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    /// Short name: "grid", "membership", ...
    pub name: &'static str,
    /// Default gRPC port.
    pub grpc_port: u16,
    /// Default metrics port.
    pub metrics_port: u16,
    /// The service's own PostgreSQL database.
    pub database: &'static str,
    /// The binary's name.
    pub binary: &'static str,
    /// Its main gRPC service (health and smoke checks ask for it).
    pub api: &'static str,
}

/// Every service in the list, in its order.
///
/// # Errors
/// A row that does not have six tab-separated columns with numeric ports,
/// naming the row.
pub fn services() -> Result<Vec<Entry>, String> {
    SERVICES_TSV
        .lines()
        .filter(|line| !line.trim().is_empty() && !line.starts_with('#'))
        .map(|line| {
            let columns: Vec<&'static str> = line.split('\t').collect();
            let port = |text: &str| {
                text.parse::<u16>()
                    .map_err(|e| format!("infra/services.tsv: `{line}`: port `{text}`: {e}"))
            };
            match columns.as_slice() {
                [name, grpc, metrics, database, binary, api] => Ok(Entry {
                    name,
                    grpc_port: port(grpc)?,
                    metrics_port: port(metrics)?,
                    database,
                    binary,
                    api,
                }),
                _ => Err(format!(
                    "infra/services.tsv: `{line}` does not have 6 tab-separated columns"
                )),
            }
        })
        .collect()
}

/// The row of `name`.
///
/// # Errors
/// The list is malformed, or has no such service.
pub fn service(name: &str) -> Result<Entry, String> {
    services()?
        .into_iter()
        .find(|entry| entry.name == name)
        .ok_or_else(|| format!("`{name}` is not in infra/services.tsv"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_parses_and_names_each_service_port_and_database_once() {
        let services = services().unwrap();
        assert!(services.iter().any(|s| s.name == "grid"));
        for (i, a) in services.iter().enumerate() {
            assert_eq!(a.database, format!("civicgrid_{}", a.name));
            assert_eq!(a.binary, format!("civicgrid-{}", a.name));
            for b in &services[i + 1..] {
                assert_ne!(a.name, b.name);
                assert_ne!(a.grpc_port, b.grpc_port, "{} and {}", a.name, b.name);
                assert_ne!(a.metrics_port, b.metrics_port, "{} and {}", a.name, b.name);
            }
        }
    }
}
