//! A stored cell and its proto form.

use chrono::{DateTime, Utc};
use civicgrid_proto::grid::v1 as pb;

use crate::resource_name;

/// One row of the `cells` table.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct CellRow {
    /// The cell's code.
    pub id: String,
    /// The parent's code; `None` for a county.
    pub parent_id: Option<String>,
    /// 1 (county) to 6 (unit), as in `CellLevel`.
    pub level: i16,
    /// Human-readable name.
    pub display_name: String,
    /// A newly built compound still to be fitted out.
    pub newly_built: bool,
    /// `/county/.../id/`.
    pub path: String,
    /// Incremented on every change.
    pub version: i64,
    /// Created at.
    pub create_time: DateTime<Utc>,
    /// Last changed at.
    pub update_time: DateTime<Utc>,
}

impl CellRow {
    /// The codes of the ancestors, county first, from the path.
    pub fn ancestor_ids(&self) -> Vec<&str> {
        let mut ids: Vec<&str> = self.path.split('/').filter(|s| !s.is_empty()).collect();
        ids.pop();
        ids
    }

    /// The path of a cell `id` under a parent at `parent_path` (or at the top).
    pub fn child_path(parent_path: Option<&str>, id: &str) -> String {
        format!("{}{id}/", parent_path.unwrap_or("/"))
    }

    /// The `civicgrid.grid.v1.Cell` for this row.
    // `Cell.newly_built` is deprecated in favour of `Compound.newly_built`,
    // but the contract keeps carrying it for the integrators that read it.
    #[allow(deprecated)]
    pub fn to_proto(&self) -> pb::Cell {
        pb::Cell {
            name: resource_name(&self.id),
            parent: self
                .parent_id
                .as_deref()
                .map(resource_name)
                .unwrap_or_default(),
            level: i32::from(self.level),
            display_name: self.display_name.clone(),
            newly_built: self.newly_built,
            ancestors: self.ancestor_ids().into_iter().map(resource_name).collect(),
            version: self.version,
            etag: etag(self.version),
            create_time: Some(timestamp(self.create_time)),
            update_time: Some(timestamp(self.update_time)),
        }
    }
}

/// The etag of a version: the version in quotes, as in HTTP.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// A protobuf timestamp.
pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

/// A chrono time from a protobuf timestamp (the epoch when absent or invalid).
pub fn from_timestamp(at: Option<&prost_types::Timestamp>) -> DateTime<Utc> {
    at.and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0)))
        .unwrap_or_default()
}
