//! What can go wrong while decoding, and how it crosses to the host.

use virt_manager_plugin_api::{ErrorCode, OutOfBounds, PluginError};

/// A decoding failure. Every one means the server sent something this
/// decoder cannot trust; the connection's stream state is then undefined.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("the decoder tried to write outside its rectangle")]
    OutOfBounds,
    /// The data breaks the encoding's rules (the text names encoding and rule).
    #[error("{0}")]
    Malformed(&'static str),
    #[error("{0}: bad zlib data: {1}")]
    Zlib(&'static str, String),
    #[error("Tight: undecodable JPEG: {0}")]
    Jpeg(String),
    #[error("TightPNG: undecodable PNG: {0}")]
    Png(String),
    #[error("{0}: image is {1}x{2}, the rectangle {3}x{4}")]
    ImageSize(&'static str, usize, usize, usize, usize),
}

impl From<OutOfBounds> for DecodeError {
    fn from(_: OutOfBounds) -> Self {
        DecodeError::OutOfBounds
    }
}

impl From<DecodeError> for PluginError {
    fn from(e: DecodeError) -> Self {
        // Malformed server data is an argument the host passed us.
        PluginError::new(ErrorCode::InvalidArgument, e.to_string())
    }
}
