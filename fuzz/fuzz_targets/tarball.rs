//! OpenShift static_kuberesources tar.gz key extraction on arbitrary bytes (gzip bombs, broken
//! tar headers, hostile paths).
#![no_main]
use etcd_autopsy::keyring::tarball;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = tarball::read_bytes(data, "fuzz.tar.gz");
});
