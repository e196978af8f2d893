//! The host's RFB parser: the handshake and the server messages of the
//! normal phase (updates with Raw and every pseudo-encoding, cut text
//! and Extended Clipboard, fences, colour maps), straight from bytes.
//!
//! Input: byte 0 picks the part and the framebuffer size; an even byte
//! runs the client handshake against the rest as the server's side, an
//! odd one decodes the rest as server messages after ServerInit into a
//! framebuffer of 1 + (bits 1-3) * 9 by 1 + (bits 4-7) * 5 pixels. No
//! decoder plugin is loaded, so other encodings end in a clean error.
//! Crashes are panics, hangs and unbounded memory.
#![no_main]

use std::sync::{Arc, OnceLock};

use virt_manager::plugin_host::PluginRegistry;
use virt_manager::vnc::replay;

fn no_plugins() -> Arc<PluginRegistry> {
    static REGISTRY: OnceLock<Arc<PluginRegistry>> = OnceLock::new();
    REGISTRY
        .get_or_init(|| Arc::new(PluginRegistry::default()))
        .clone()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        let _ = replay::run_handshake(rest.to_vec());
    } else {
        let width = 1 + u32::from(mode >> 1 & 7) * 9;
        let height = 1 + u32::from(mode >> 4) * 5;
        // Resizes up to 1024x1024: a 16384x16384 screen is allowed, but
        // its 1 GiB is over the fuzzer's memory limit.
        let _ = replay::decode_stream_bounded(rest.to_vec(), width, height, no_plugins(), 1024);
    }
});
