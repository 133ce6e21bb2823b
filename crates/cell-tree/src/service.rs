//! The shape membership, centres and assessment share while their domain is
//! only a replica of the grid: one API whose first RPC lists the cells the
//! replica knows, the outbox relay, and the replica consumer. A service
//! names itself, its API and its subscriptions ([`ReplicaService`]); the
//! rest ([`Replica`]) is written once here.

use std::marker::PhantomData;
use std::net::SocketAddr;

use civicgrid_host::{Apis, Host, Service, Workers};
use civicgrid_messaging::{Consumer, Subscription, Topology};
use civicgrid_runtime::auth::Caller;
use civicgrid_runtime::{CancellationToken, NoSection, Settings};
use sqlx::PgPool;
use sqlx::migrate::Migrator;
use tonic::Status;

use crate::{ListRequest, list_page};

/// What a replica service declares; [`Replica`] runs it.
pub trait ReplicaService: Send + Sync + 'static {
    /// Short name, as in `infra/services.tsv`.
    const NAME: &'static str;
    /// The queues it consumes, with their handlers (its `events::subscriptions`).
    const SUBSCRIPTIONS: fn(&Topology) -> Vec<Subscription>;
    /// Adds the service's generated server(s) to `apis`, over `known_cells`.
    fn apis(apis: Apis, known_cells: KnownCells) -> Apis;
}

/// A running replica service.
pub struct Replica<S> {
    host: Host,
    service: PhantomData<fn() -> S>,
}

impl<S: ReplicaService> Replica<S> {
    /// The address gRPC listens on.
    pub fn grpc_addr(&self) -> SocketAddr {
        self.host.grpc_addr()
    }

    /// The service's database.
    pub fn pool(&self) -> &PgPool {
        &self.host.pool
    }

    /// One consumer per subscription, for tests that drive delivery themselves.
    pub fn consumers(&self) -> Vec<Consumer> {
        self.host.consumers((S::SUBSCRIPTIONS)(&self.host.topology))
    }
}

impl<S: ReplicaService> Service for Replica<S> {
    const NAME: &'static str = S::NAME;
    type Config = NoSection;
    // A replica publishes and consumes (messaging) and stores the tree.
    const MIGRATIONS: &'static [&'static Migrator] =
        &[&civicgrid_messaging::MIGRATOR, &crate::MIGRATOR];

    async fn build(settings: Settings, _: NoSection) -> anyhow::Result<Self> {
        Ok(Replica {
            host: Host::build(settings, Self::MIGRATIONS).await?,
            service: PhantomData,
        })
    }

    async fn run(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let known_cells = KnownCells {
            pool: self.host.pool.clone(),
        };
        let apis = S::apis(Apis::new(&self.host.authenticator), known_cells);
        let workers = Workers {
            relay: true,
            subscriptions: (S::SUBSCRIPTIONS)(&self.host.topology),
            ..Default::default()
        };
        self.host.serve(apis, workers, shutdown).await
    }
}

/// The read side of a service's replica: the cells it knows, as its
/// caller may see them.
#[derive(Clone)]
pub struct KnownCells {
    pool: PgPool,
}

impl KnownCells {
    /// The read side over `pool`, for a service that runs its own
    /// Application instead of [`Replica`] and keeps `ListKnownCells`.
    pub fn new(pool: PgPool) -> KnownCells {
        KnownCells { pool }
    }

    /// One page of the cells under `ancestor` (empty: all) that `caller`
    /// may see, with the next page's token; the body of every
    /// `ListKnownCells` (see [`list_known_cells!`](crate::list_known_cells)).
    pub async fn list(
        &self,
        caller: &Caller,
        ancestor: &str,
        page_size: i32,
        page_token: &str,
    ) -> Result<(Vec<civicgrid_proto::grid::v1::Cell>, String), Status> {
        let list = ListRequest {
            ancestor,
            level: 0,
            page_size,
            page_token,
        };
        list_page(&self.pool, caller.scope_roots("cells"), list).await
    }
}

/// The `ListKnownCells` RPC of a replica service's API, written once:
/// `list_known_cells!(civicgrid_proto::<svc>::v1, <field>)` inside the
/// `#[tonic::async_trait] impl <Svc>Service for <Svc>Api` block, where
/// `<field>` is the API's [`KnownCells`]. It is the method async_trait
/// would produce from an `async fn`, because an attribute does not see
/// into the macros of the block it decorates.
#[macro_export]
macro_rules! list_known_cells {
    ($($package:ident)::+, $field:ident) => {
        fn list_known_cells<'life0, 'async_trait>(
            &'life0 self,
            request: ::tonic::Request<$($package)::+::ListKnownCellsRequest>,
        ) -> ::std::pin::Pin<
            ::std::boxed::Box<
                dyn ::std::future::Future<
                        Output = ::std::result::Result<
                            ::tonic::Response<$($package)::+::ListKnownCellsResponse>,
                            ::tonic::Status,
                        >,
                    > + ::std::marker::Send
                    + 'async_trait,
            >,
        >
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            ::std::boxed::Box::pin(async move {
                let caller = ::civicgrid_runtime::auth::Caller::of(&request)?;
                let body = request.get_ref();
                let (cells, next_page_token) = self
                    .$field
                    .list(&caller, &body.ancestor, body.page_size, &body.page_token)
                    .await?;
                Ok(::tonic::Response::new(
                    $($package)::+::ListKnownCellsResponse {
                        cells,
                        next_page_token,
                    },
                ))
            })
        }
    };
}
