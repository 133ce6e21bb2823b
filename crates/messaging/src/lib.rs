//! civicgrid's event plumbing: a supervised broker connection, topology
//! declared in code, the transactional outbox with its relay, and the inbox
//! consumer that applies each event exactly once in effect.
//!
//! Delivery is at least once; effects are exactly once: the outbox row is
//! committed with the change, the relay marks it published only after the
//! broker's confirm, and a consumer records `(event_id, handler)` in the same
//! transaction as the effect and acks only after that commit.

pub mod admin;
pub mod backoff;
pub mod batch;
pub mod broker;
pub mod catch_up;
pub mod consumer;
pub mod dead_letters;
pub mod event;
pub mod event_log;
pub mod event_status;
pub mod outbox;
pub mod topology;

/// The outbox, `processed_events` and relay wake-up tables, which every
/// service that publishes or consumes needs. A service lists this set in its
/// `civicgrid_host::Service::MIGRATIONS`; the host applies it with the
/// service's own, so the files exist only here.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub use broker::Broker;
pub use catch_up::{CatchUpError, EventSource, Progress, TokenSource};
pub use consumer::{Consumer, Handler, HandlerError, InboundEvent, Outcome, Subscription};
pub use event::NewEvent;
pub use outbox::Relay;
pub use topology::Topology;
