//! What assessment publishes, through the outbox.

use civicgrid_messaging::NewEvent;
use civicgrid_messaging::event::meta;
use civicgrid_proto::assessment::v1 as pb;

use crate::convert;
use crate::domain::scheme::SchemeSpec;
use crate::store::burden::WorkRequestRow;
use crate::store::schemes::RankingRow;

const PRODUCER: &str = "assessment";

/// Routing key of [`scores_published`].
pub const SCORES_PUBLISHED: &str = "assessment.scores.published";
/// Routing key of [`work_request_refused`].
pub const WORK_REQUEST_REFUSED: &str = "assessment.work_request.refused";

/// `assessment.scores.published` with every card.
pub fn scores_published(ranking: &RankingRow, spec: &SchemeSpec, actor: &str) -> NewEvent {
    let ranking = convert::ranking(ranking, spec, |_| true);
    let (event_id, meta) = meta(
        PRODUCER,
        SCORES_PUBLISHED,
        &ranking.name,
        ranking.revision,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        SCORES_PUBLISHED,
        &pb::ScoresPublished {
            meta: Some(meta),
            ranking: Some(ranking),
        },
    )
}

/// `assessment.work_request.refused`.
pub fn work_request_refused(request: &WorkRequestRow, actor: &str) -> NewEvent {
    let request = convert::work_request(request);
    let (event_id, meta) = meta(PRODUCER, WORK_REQUEST_REFUSED, &request.name, 1, actor, "");
    NewEvent::encode(
        event_id,
        WORK_REQUEST_REFUSED,
        &pb::WorkRequestRefused {
            meta: Some(meta),
            request: Some(request),
        },
    )
}
