//! The zlib decoder through the plugin ABI (see virt_manager_fuzz::run_decoder).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    virt_manager_fuzz::run_decoder(virt_manager_rfb::ZLIB, data);
});
