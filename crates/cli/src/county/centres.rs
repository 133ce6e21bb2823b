//! Loading the county's centres side through the centres API: the centres
//! (once centres' replica knows their cells and compounds), then each
//! activity with its registrations, its check-ins and its close or
//! cancellation. Every call is idempotent, so an interrupted load rerun
//! completes without duplicates: a centre's code is planned (ALREADY_EXISTS),
//! an activity carries a request id from the seed (a retry returns the
//! activity as it is now), a registration is one per attendee
//! (ALREADY_EXISTS) and a repeated check-in returns the first.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use civicgrid_proto::centres::v1 as cpb;
use civicgrid_proto::centres::v1::centres_service_client::CentresServiceClient;
use civicgrid_proto::membership::v1 as mpb;
use civicgrid_proto::membership::v1::membership_service_client::MembershipServiceClient;
use futures::stream::{self, StreamExt};
use tonic::transport::Channel;
use tonic::{Code, Status};

use super::load::{Count, Loader, REPLICA_WAIT, internal, retrying, units, wait_for_replica};
use super::plan::{self, Attendee, Fate, PlannedActivity, PlannedCentre, Shape};
use crate::endpoints::authorised;

/// What one activity came to.
#[derive(Debug, Default)]
struct Tally {
    created: bool,
    registrations: (u64, u64),
    checkins: (u64, u64),
}

impl Loader {
    /// Waits (bounded) until centres' replica knows every unit of the
    /// county's last building, as membership's is waited for.
    pub async fn wait_for_centres_replica(
        &self,
        centres: &Channel,
        root: &str,
        shape: &Shape,
    ) -> anyhow::Result<()> {
        let client = CentresServiceClient::new(centres.clone());
        wait_for_replica("centres'", root, shape, |cell| {
            let mut client = client.clone();
            let request = authorised(
                cpb::ListKnownCellsRequest {
                    ancestor: cell,
                    page_size: 1000,
                    page_token: String::new(),
                },
                &self.token,
            );
            async move {
                let cells = client.list_known_cells(request?).await?.into_inner().cells;
                Ok(units(cells.iter().map(|c| c.level)))
            }
        })
        .await
    }

    /// Registers the centres in parallel. A compound may reach centres'
    /// replica after the cells waited for: INVALID_ARGUMENT (an unknown
    /// place) is retried for a bounded time.
    pub async fn centres(
        &self,
        centres: &Channel,
        planned: &[PlannedCentre],
    ) -> anyhow::Result<Count> {
        let bar = self.bar("centres", planned.len() as u64);
        let mut count = Count {
            kind: "centres",
            planned: planned.len() as u64,
            ..Count::default()
        };
        let client = CentresServiceClient::new(centres.clone());
        self.create_each(
            planned,
            &bar,
            &mut count,
            |centre| format!("centre `{}`", centre.id),
            |centre| {
                let client = client.clone();
                async move {
                    let started = Instant::now();
                    loop {
                        let request = authorised(
                            cpb::CreateCentreRequest {
                                centre_id: centre.id.clone(),
                                centre: Some(centre.centre.clone()),
                                request_id: String::new(),
                            },
                            &self.token,
                        )
                        .map_err(internal)?;
                        match client.clone().create_centre(request).await {
                            Err(status)
                                if status.code() == Code::InvalidArgument
                                    && started.elapsed() < REPLICA_WAIT =>
                            {
                                tokio::time::sleep(Duration::from_millis(500)).await;
                            }
                            other => return other,
                        }
                    }
                }
            },
        )
        .await?;
        bar.finish();
        Ok(count)
    }

    /// The resource names of the members `indexes`, looked up by their
    /// planned ID numbers.
    pub async fn member_names(
        &self,
        membership: &Channel,
        seed: u64,
        indexes: &[u64],
    ) -> anyhow::Result<HashMap<u64, String>> {
        let client = MembershipServiceClient::new(membership.clone());
        let found = stream::iter(indexes.iter().map(|&index| {
            let client = client.clone();
            async move {
                let id_number = plan::id_number(seed, index);
                let member = retrying(|| {
                    let request = authorised(
                        mpb::LookupMemberRequest {
                            id_number: id_number.clone(),
                        },
                        &self.token,
                    );
                    let mut client = client.clone();
                    async move { client.lookup_member(request.map_err(internal)?).await }
                })
                .await
                .map_err(|status| {
                    anyhow::anyhow!("looking up member {index}: {}", status.message())
                })?
                .into_inner()
                .member
                .ok_or_else(|| anyhow::anyhow!("membership answered no member {index}"))?;
                Ok::<_, anyhow::Error>((index, member.name))
            }
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        found.into_iter().collect()
    }

    /// Schedules every centre's activities, `concurrency` at a time, each
    /// planned when its turn comes; returns the counts of activities,
    /// registrations and check-ins. Something the service made before this
    /// run began (by its own clock, on the same host under `make up`)
    /// counts as already there.
    pub async fn activities(
        &self,
        centres: &Channel,
        seed: u64,
        shape: &Shape,
        planned: &[PlannedCentre],
        members: &HashMap<u64, String>,
    ) -> anyhow::Result<Vec<Count>> {
        let per_centre = plan::activities_per_centre(shape);
        let total = planned.len() as u64 * per_centre;
        let bar = self.bar("activities", total);
        let now = Utc::now();
        let client = CentresServiceClient::new(centres.clone());
        let jobs = planned
            .iter()
            .enumerate()
            .flat_map(|(index, centre)| (0..per_centre).map(move |k| (index as u64, k, centre)));
        let tallies = stream::iter(jobs.map(|(index, k, centre)| {
            let client = client.clone();
            let bar = bar.clone();
            async move {
                let planned = plan::activity(seed, index, k, centre, shape, now);
                let tally = self
                    .activity(client, &planned, members, now)
                    .await
                    .map_err(|status| {
                        anyhow::anyhow!(
                            "activity {k} of centre `{}`: {:?}: {}",
                            centre.id,
                            status.code(),
                            status.message()
                        )
                    })?;
                bar.inc(1);
                Ok::<_, anyhow::Error>((planned, tally))
            }
        }))
        .buffer_unordered(self.concurrency)
        .collect::<Vec<_>>()
        .await;
        let mut counts = vec![
            Count {
                kind: "activities",
                planned: total,
                ..Count::default()
            },
            Count {
                kind: "registrations",
                ..Count::default()
            },
            Count {
                kind: "check-ins",
                ..Count::default()
            },
        ];
        for result in tallies {
            let (planned, tally) = result?;
            if tally.created {
                counts[0].created += 1;
            } else {
                counts[0].existing += 1;
            }
            counts[1].planned += planned.registrations.len() as u64;
            counts[1].created += tally.registrations.0;
            counts[1].existing += tally.registrations.1;
            counts[2].planned += planned.checkins.len() as u64;
            counts[2].created += tally.checkins.0;
            counts[2].existing += tally.checkins.1;
        }
        bar.finish();
        Ok(counts)
    }

    /// One activity through its life: scheduled (or found by its request
    /// id), registered for, checked in and closed, or called off.
    async fn activity(
        &self,
        client: CentresServiceClient<Channel>,
        planned: &PlannedActivity,
        members: &HashMap<u64, String>,
        started: DateTime<Utc>,
    ) -> Result<Tally, Status> {
        // To the nanosecond: a rerun that reaches its activities within the
        // second the killed run made one would otherwise count it as its own.
        let before = |at: Option<&prost_types::Timestamp>| {
            at.is_some_and(|at| {
                (at.seconds, at.nanos)
                    < (started.timestamp(), started.timestamp_subsec_nanos() as i32)
            })
        };
        let activity = retrying(|| {
            let request = request(
                &self.token,
                cpb::CreateActivityRequest {
                    parent: format!("centres/{}", planned.centre),
                    activity: Some(planned.activity.clone()),
                    request_id: planned.request_id.clone(),
                },
            );
            let mut client = client.clone();
            async move { client.create_activity(request?).await }
        })
        .await?
        .into_inner()
        .activity
        .ok_or_else(|| Status::internal("CreateActivity answered no activity"))?;
        let mut tally = Tally {
            created: !before(activity.create_time.as_ref()),
            ..Tally::default()
        };
        if activity.state != cpb::ActivityState::Scheduled as i32 {
            // Closed or called off by an earlier run, after everything
            // planned for it was done.
            tally.registrations.1 = planned.registrations.len() as u64;
            tally.checkins.1 = planned.checkins.len() as u64;
            return Ok(tally);
        }
        let member = |index: &u64| {
            members
                .get(index)
                .cloned()
                .ok_or_else(|| Status::internal(format!("member {index} was not looked up")))
        };
        for index in &planned.registrations {
            let attendee = member(index)?;
            let registered = retrying(|| {
                let request = request(
                    &self.token,
                    cpb::CreateRegistrationRequest {
                        parent: activity.name.clone(),
                        registration: Some(cpb::Registration {
                            attendee: attendee.clone(),
                            ..Default::default()
                        }),
                    },
                );
                let mut client = client.clone();
                async move { client.create_registration(request?).await }
            })
            .await;
            match registered {
                Ok(_) => tally.registrations.0 += 1,
                Err(status) if status.code() == Code::AlreadyExists => tally.registrations.1 += 1,
                Err(status) => return Err(status),
            }
        }
        for attendee in &planned.checkins {
            let (name, walk_in) = match attendee {
                Attendee::Member(index) => (member(index)?, false),
                Attendee::Resident(name) => (name.clone(), true),
            };
            let checkin = retrying(|| {
                let request = request(
                    &self.token,
                    cpb::RecordCheckinRequest {
                        parent: activity.name.clone(),
                        attendee: name.clone(),
                        walk_in,
                    },
                );
                let mut client = client.clone();
                async move { client.record_checkin(request?).await }
            })
            .await?
            .into_inner()
            .checkin
            .unwrap_or_default();
            if before(checkin.checked_in_at.as_ref()) {
                tally.checkins.1 += 1;
            } else {
                tally.checkins.0 += 1;
            }
        }
        match planned.fate {
            Fate::Held => {
                retrying(|| {
                    let request = request(
                        &self.token,
                        cpb::CloseActivityRequest {
                            name: activity.name.clone(),
                        },
                    );
                    let mut client = client.clone();
                    async move { client.close_activity(request?).await }
                })
                .await?;
            }
            Fate::Cancelled => {
                retrying(|| {
                    let request = request(
                        &self.token,
                        cpb::CancelActivityRequest {
                            name: activity.name.clone(),
                        },
                    );
                    let mut client = client.clone();
                    async move { client.cancel_activity(request?).await }
                })
                .await?;
            }
            Fate::Scheduled => {}
        }
        Ok(tally)
    }
}

/// `message` with the bearer `token`, or the reason it cannot carry it.
fn request<T>(token: &str, message: T) -> Result<tonic::Request<T>, Status> {
    authorised(message, token).map_err(internal)
}
