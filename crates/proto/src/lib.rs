//! Generated code for all civicgrid contracts. Package `civicgrid.<area>.v1`
//! lives at `civicgrid_proto::<area>::v1` (and at its full path
//! `civicgrid_proto::civicgrid::<area>::v1`, which generated code refers to).

#![allow(clippy::all, missing_docs)]

/// The serialized `FileDescriptorSet` of every contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/civicgrid_descriptor.bin"));

/// Vendored Google common types (`google.type.Date`).
pub mod google {
    pub mod r#type {
        // prost names this file with the raw identifier.
        include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
    }
}

/// Every `civicgrid.*` package, at the paths prost's cross-references expect.
pub mod civicgrid {
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("civicgrid.common.v1");
        }
    }
    pub mod grid {
        pub mod v1 {
            tonic::include_proto!("civicgrid.grid.v1");
        }
    }
    pub mod membership {
        pub mod v1 {
            tonic::include_proto!("civicgrid.membership.v1");
        }
    }
    pub mod centres {
        pub mod v1 {
            tonic::include_proto!("civicgrid.centres.v1");
        }
    }
    pub mod assessment {
        pub mod v1 {
            tonic::include_proto!("civicgrid.assessment.v1");
        }
    }
    pub mod events {
        pub mod v1 {
            tonic::include_proto!("civicgrid.events.v1");
        }
    }
}

pub use civicgrid::{assessment, centres, common, events, grid, membership};
