//! SignAgreement: a co-building agreement with its commitments, compared
//! with every earlier agreement's text when signed.

use chrono::{DateTime, Utc};
use civicgrid_messaging::outbox;
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::error::Outcomes as _;
use sqlx::PgConnection;
use uuid::Uuid;

use super::{CommandError, now};
use crate::domain::access::may_edit;
use crate::domain::organisation::{OrganisationId, level, visible};
use crate::domain::similarity::{jaccard, normalise, shingles};
use crate::events::publish;
use crate::store::agreements::{self, AgreementRow, CommitmentRow};
use crate::store::organisations;

/// A commitment to sign.
#[derive(Debug, Clone)]
pub struct NewCommitment {
    /// What.
    pub description: String,
    /// Who owes it: one of the parties.
    pub owner: OrganisationId,
    /// By when.
    pub due_time: DateTime<Utc>,
}

/// A parsed SignAgreement request.
#[derive(Debug, Clone)]
pub struct SignAgreement {
    /// The community's cell code.
    pub community: String,
    /// The parties, distinct.
    pub parties: Vec<OrganisationId>,
    /// Title.
    pub title: String,
    /// Text.
    pub body: String,
    /// Term start.
    pub term_start: DateTime<Utc>,
    /// Term end.
    pub term_end: DateTime<Utc>,
    /// Commitments.
    pub commitments: Vec<NewCommitment>,
    /// From configuration: the similarity from which texts are near duplicates.
    pub threshold: f64,
}

/// The agreement as signed: its commitments and the near duplicates found.
#[derive(Debug, Clone)]
pub struct Signed {
    /// The agreement.
    pub agreement: AgreementRow,
    /// Its commitments.
    pub commitments: Vec<CommitmentRow>,
    /// Earlier agreements it nearly duplicates, most similar first.
    pub near_duplicates: Vec<(Uuid, f64)>,
}

/// Stores the agreement, flags its near duplicates and writes `membership.agreement.signed`.
#[tracing::instrument(skip_all, fields(community = %input.community))]
pub async fn sign_agreement(
    conn: &mut PgConnection,
    caller: &Caller,
    input: SignAgreement,
) -> Result<Signed, CommandError> {
    if !may_edit(caller) {
        return Err(CommandError::permission_denied(
            "your roles do not allow signing agreements",
        ));
    }
    let community_name = civicgrid_cell_tree::resource_name(&input.community);
    let community = civicgrid_cell_tree::get(&mut *conn, &input.community)
        .await?
        .filter(|cell| visible(&cell.path, caller.scope_roots("cells").as_deref()))
        .filter(|cell| cell.level == level::COMMUNITY)
        .ok_or_else(|| {
            CommandError::invalid_field(
                "agreement.community",
                format!("{community_name} is no community in your scope"),
            )
        })?;
    let ids: Vec<String> = input
        .parties
        .iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let parties = organisations::find_all(&mut *conn, &ids).await?;
    if let Some(missing) = ids.iter().find(|id| !parties.iter().any(|p| &p.id == *id)) {
        return Err(CommandError::invalid_field(
            "agreement.parties",
            format!("organisations/{missing} does not exist"),
        ));
    }
    let names: Vec<&str> = parties.iter().map(|p| p.display_name.as_str()).collect();
    let normalised = normalise(&input.body, &names);
    let mine = shingles(&normalised);
    let mut near = Vec::new();
    for (other, body) in agreements::normalised_bodies(&mut *conn).await? {
        let similarity = jaccard(&mine, &shingles(&body));
        if similarity >= input.threshold {
            near.push((other, similarity));
        }
    }
    near.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));

    let at = now();
    let row = AgreementRow {
        id: Uuid::now_v7(),
        community_id: community.id.clone(),
        community_path: community.path.clone(),
        parties: ids,
        title: input.title,
        body: input.body,
        normalised_body: normalised,
        term_start: input.term_start,
        term_end: input.term_end,
        sign_time: at,
        last_activity_time: None,
    };
    let commitments: Vec<CommitmentRow> = input
        .commitments
        .into_iter()
        .enumerate()
        .map(|(i, c)| CommitmentRow {
            id: Uuid::now_v7(),
            agreement_id: row.id,
            position: i16::try_from(i).unwrap_or(i16::MAX),
            description: c.description,
            owner_id: c.owner.as_str().to_owned(),
            due_time: c.due_time,
            status: 1,
            fulfil_time: None,
        })
        .collect();
    agreements::insert(&mut *conn, &row, &commitments).await?;
    for (other, similarity) in &near {
        agreements::insert_near_duplicate(&mut *conn, row.id, *other, *similarity).await?;
    }
    outbox::enqueue(
        &mut *conn,
        &publish::agreement_signed(&row, commitments.len(), &caller.subject),
    )
    .await?;
    tracing::info!(agreement = %row.id, near_duplicates = near.len(), "agreement signed");
    Ok(Signed {
        agreement: row,
        commitments,
        near_duplicates: near,
    })
}
