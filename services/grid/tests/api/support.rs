//! The grid under test: its own database and broker names, gRPC on port
//! 0, and a client of each of its services.

use std::net::SocketAddr;

use civicgrid_grid::Application;
use civicgrid_host::Service;
use civicgrid_messaging::Relay;
use civicgrid_proto::grid::v1 as pb;
use civicgrid_proto::grid::v1::directory_service_client::DirectoryServiceClient;
use civicgrid_proto::grid::v1::grid_service_client::GridServiceClient;
use civicgrid_proto::grid::v1::task_service_client::TaskServiceClient;
use civicgrid_runtime::CancellationToken;
use civicgrid_runtime::grpc::MAX_MESSAGE_BYTES;
use civicgrid_runtime::status::field_violations;
use civicgrid_testkit::{TestBroker, TestDatabase, TestKeys, endpoint, test_settings, with_token};
use sqlx::PgPool;
use tonic::Status;
use tonic::transport::Channel;

/// The grid's own section for tests: the test data key.
pub fn test_config() -> civicgrid_grid::config::GridSettings {
    civicgrid_grid::config::GridSettings {
        data_key_path: TestKeys::get().data_key_path.clone(),
        ..Default::default()
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub pool: PgPool,
    pub ladder: civicgrid_grid::domain::supervision::Ladder,
    /// The service's broker names (for tests that consume its events).
    pub broker: TestBroker,
    grid: GridServiceClient<Channel>,
    directory: DirectoryServiceClient<Channel>,
    tasks: TaskServiceClient<Channel>,
    relay: Relay,
    shutdown: CancellationToken,
    _db: TestDatabase,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        civicgrid_runtime::telemetry::init_for_tests();
        let db = TestDatabase::create_empty().await.unwrap();
        let broker = TestBroker::new();
        let app = Application::build(test_settings("grid", &db, &broker), test_config())
            .await
            .unwrap();
        let (addr, pool, relay, ladder) = (
            app.grpc_addr(),
            app.pool().clone(),
            app.relay(),
            app.ladder(),
        );
        let shutdown = CancellationToken::new();
        tokio::spawn(app.run(shutdown.clone()));
        let channel = Channel::from_shared(endpoint(addr))
            .unwrap()
            .connect()
            .await
            .unwrap();
        TestApp {
            addr,
            pool,
            ladder,
            broker,
            grid: GridServiceClient::new(channel.clone())
                .max_decoding_message_size(MAX_MESSAGE_BYTES)
                .max_encoding_message_size(MAX_MESSAGE_BYTES),
            directory: DirectoryServiceClient::new(channel.clone()),
            tasks: TaskServiceClient::new(channel),
            relay,
            shutdown,
            _db: db,
        }
    }

    /// The GridService (cells, layouts, staff).
    pub async fn client(&self) -> GridServiceClient<Channel> {
        self.grid.clone()
    }

    /// The DirectoryService.
    pub async fn directory(&self) -> DirectoryServiceClient<Channel> {
        self.directory.clone()
    }

    /// The TaskService.
    pub async fn tasks(&self) -> TaskServiceClient<Channel> {
        self.tasks.clone()
    }

    /// (cells, outbox rows)
    pub async fn counts(&self) -> (i64, i64) {
        let cells = sqlx::query_scalar("SELECT count(*) FROM cells")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        let events = sqlx::query_scalar("SELECT count(*) FROM outbox")
            .fetch_one(&self.pool)
            .await
            .unwrap();
        (cells, events)
    }

    /// Imports `csv` as the county admin.
    pub async fn import_csv(&self, csv: &str) -> Result<i32, Status> {
        self.import(
            &TestKeys::get().county_admin(),
            pb::LayoutFormat::Csv,
            csv,
            false,
        )
        .await
    }

    pub async fn import(
        &self,
        token: &str,
        format: pb::LayoutFormat,
        content: &str,
        validate_only: bool,
    ) -> Result<i32, Status> {
        self.client()
            .await
            .import_cells(with_token(
                pb::ImportCellsRequest {
                    format: format as i32,
                    content: content.as_bytes().to_vec(),
                    validate_only,
                },
                token,
            ))
            .await
            .map(|response| response.into_inner().created_count)
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The fields an INVALID_ARGUMENT names.
pub fn fields(status: &Status) -> Vec<String> {
    assert_eq!(status.code(), tonic::Code::InvalidArgument, "{status:?}");
    field_violations(status)
        .into_iter()
        .map(|(field, _)| field)
        .collect()
}

/// county c / streets s1, s2 / communities s1-m, s2-m / grids s1-g, s2-g /
/// building s1-b / unit s1-u
pub const SMALL_COUNTY: &str = "cell_id,parent_id,level,display_name,newly_built\n\
    c,,county,County,\n\
    s1,c,street,Street 1,\n\
    s2,c,street,Street 2,\n\
    s1-m,s1,community,Community 1,\n\
    s2-m,s2,community,Community 2,\n\
    s1-g,s1-m,grid,Grid 1,true\n\
    s2-g,s2-m,grid,Grid 2,\n\
    s1-b,s1-g,building,Building 1,\n\
    s1-u,s1-b,unit,Unit 1,\n";

impl TestApp {
    /// Relays the outbox to the broker until it is empty (background
    /// workers are off in tests); how many events were published.
    pub async fn relay_all(&self) -> usize {
        self.relay.drain().await.unwrap()
    }
}
