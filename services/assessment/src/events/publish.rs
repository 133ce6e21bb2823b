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
/// Routing key of [`site_stage_changed`].
pub const SITE_STAGE_CHANGED: &str = "assessment.site.stage_changed";
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

/// `assessment.site.stage_changed`.
pub fn site_stage_changed(
    site: &crate::store::sites::SiteRow,
    from: crate::domain::sites::Stage,
    actor: &str,
) -> NewEvent {
    let site = convert::site(site);
    let (event_id, meta) = meta(
        PRODUCER,
        SITE_STAGE_CHANGED,
        &site.name,
        site.version,
        actor,
        "",
    );
    NewEvent::encode(
        event_id,
        SITE_STAGE_CHANGED,
        &pb::SiteStageChanged {
            meta: Some(meta),
            demonstration_site: Some(site),
            from_stage: convert::site_stage(from) as i32,
        },
    )
}
