//! The tar header path that printed 41 of 44 characters of an aescbc key (#18 item 1), fed
//! arbitrary bytes as the inflated tar stream (no gzip in front, so every input reaches the
//! header parser). Besides not panicking, it checks the property the fix is about: an error
//! quotes no input bytes. A message may hold digits (offsets) and our own words; no window of 8
//! input bytes other than digits and spaces may appear in it, and no control character.
#![no_main]
use etcd_autopsy::keyring::tar::TarReader;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = TarReader::new(data);
    for _ in 0..10_000 {
        match r.next_member() {
            Ok(Ok(m)) => {
                if let Err(e) = r.read_data(&m, 1 << 16) {
                    check(&e.to_string(), data);
                    return;
                }
            }
            Ok(Err(_)) => return,
            Err(e) => {
                check(&e.to_string(), data);
                return;
            }
        }
    }
});

fn check(msg: &str, data: &[u8]) {
    assert!(
        !msg.chars().any(|c| c.is_control()),
        "control character in {msg:?}"
    );
    let echoed: std::collections::HashSet<&[u8]> = msg.as_bytes().windows(8).collect();
    for w in data.windows(8) {
        if w.iter().all(|b| b.is_ascii_digit() || *b == b' ') {
            continue;
        }
        assert!(!echoed.contains(w), "input bytes {w:?} echoed in {msg:?}");
    }
}
