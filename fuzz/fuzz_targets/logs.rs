//! Log scanning (every container and payload format, hard-wrap rejoining, classification) on
//! arbitrary bytes.
#![no_main]
use etcd_autopsy::logs::{scan_bytes, ScanOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = scan_bytes("fuzz.log", "fuzz", data, &ScanOptions::default());
});
