//! The mediamesh contracts (`proto/mediamesh/<app>/v1`) as Rust types, tonic clients and
//! servers, and the encoded descriptor set for server reflection and Envoy's transcoder.

/// Every file of every contract, encoded as a `FileDescriptorSet` with imports and source info.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin"));

// Generated code: its doc comments are the protos' own, not written for rustdoc.
#[allow(clippy::all)]
pub mod google {
    pub mod api {
        tonic::include_proto!("google.api");
    }
}

#[allow(clippy::all)]
pub mod vod {
    pub mod v1 {
        tonic::include_proto!("mediamesh.vod.v1");
    }
}

#[allow(clippy::all)]
pub mod cinema {
    pub mod v1 {
        tonic::include_proto!("mediamesh.cinema.v1");
    }
}

#[allow(clippy::all)]
pub mod music {
    pub mod v1 {
        tonic::include_proto!("mediamesh.music.v1");
    }
}
