//! Generated code for all civicgrid contracts. Package `civicgrid.<area>.v1`
//! lives at `civicgrid_proto::<area>::v1`.

#![allow(clippy::all, missing_docs)]

/// The serialized `FileDescriptorSet` of every contract, for gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/civicgrid_descriptor.bin"));

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
