//! EncryptionConfiguration parsing (YAML and JSON) on arbitrary bytes.
#![no_main]
use etcd_autopsy::keyring::config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = config::parse(data, "fuzz.yaml");
});
