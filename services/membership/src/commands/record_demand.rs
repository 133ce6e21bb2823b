//! RecordDemand: a demand of a community's demand list, applied from
//! `centres.demand.registered` on the consumer's inbox transaction, kept
//! so that reported members of the community can be offered it.

use sqlx::PgConnection;

use super::CommandError;
use crate::domain::post::community_of;
use crate::store::demands::{self, DemandRow};

/// Why a demand could not be recorded.
#[derive(Debug)]
pub enum RecordDemandError {
    /// Its cell or compound is not (yet) in the replica: retry.
    NotYet(String),
    /// It lies in no community: retrying cannot help.
    Invalid(String),
    /// The database failed.
    Command(CommandError),
}

impl From<sqlx::Error> for RecordDemandError {
    fn from(error: sqlx::Error) -> Self {
        RecordDemandError::Command(error.into())
    }
}

/// Where a demand was entered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A cell (a community or below).
    Cell(String),
    /// A residential compound.
    Compound(String),
}

/// Stores the demand once, in the community its cell or compound lies in
/// (as the replicated grid knows it); `false` when it was stored already.
#[tracing::instrument(skip_all, fields(demand = %row.id))]
pub async fn record_demand(
    conn: &mut PgConnection,
    place: Place,
    mut row: DemandRow,
) -> Result<bool, RecordDemandError> {
    let path = match &place {
        Place::Cell(id) => civicgrid_cell_tree::get(&mut *conn, id)
            .await?
            .map(|cell| cell.path),
        Place::Compound(id) => civicgrid_cell_tree::get_compound(&mut *conn, id)
            .await?
            .map(|compound| compound.community_path),
    };
    let Some(path) = path else {
        return Err(RecordDemandError::NotYet(format!(
            "{place:?} is not in the grid replica yet"
        )));
    };
    let (community_id, community_path) = community_of(&path).ok_or_else(|| {
        RecordDemandError::Invalid(format!("{place:?} lies in no community ({path})"))
    })?;
    row.community_id = community_id;
    row.community_path = community_path;
    let stored = demands::insert(&mut *conn, &row).await?;
    if !stored {
        tracing::debug!("demand recorded before under another event id");
    }
    Ok(stored)
}
