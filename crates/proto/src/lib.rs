//! Generated code for all civicgrid contracts. Package `civicgrid.<area>.v1`
//! lives at `civicgrid_proto::<area>::v1` (and at its full path
//! `civicgrid_proto::civicgrid::<area>::v1`, which generated code refers to).

#![allow(clippy::all, missing_docs)]

/// The serialized `FileDescriptorSet` of every contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/civicgrid_descriptor.bin"));

/// A generated gRPC server whose message-size limits can be set. tonic's
/// servers share no trait for it, so build.rs implements this one for every
/// service in `proto/`; the host calls it on each server it serves.
pub trait MessageLimits {
    /// The server with both the decoding and the encoding limit set to `max_bytes`.
    fn with_message_limits(self, max_bytes: usize) -> Self;
}

include!(concat!(env!("OUT_DIR"), "/message_limits.rs"));

/// Vendored Google types: `google.type.Date`, and `google.rpc.Status` and
/// its error details, which are compiled only so that reflection can
/// describe the `google.rpc.BadRequest` a client finds in a status.
pub mod google {
    pub mod r#type {
        // prost names this file with the raw identifier.
        include!(concat!(env!("OUT_DIR"), "/google.r#type.rs"));
    }
    pub mod rpc {
        include!(concat!(env!("OUT_DIR"), "/google.rpc.rs"));
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
