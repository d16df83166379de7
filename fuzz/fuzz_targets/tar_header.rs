//! The tar header path that printed 41 of 44 characters of an aescbc key (#18 item 1), fed
//! arbitrary bytes as the inflated tar stream (no gzip in front, so every input reaches the
//! header parser). Besides never panicking or hanging, it checks that an error says where and
//! never what: its text, digits aside, is the text of the same error at offset 0, so nothing in
//! it can come from the input; and it holds no control character.
//!
//! (A first version compared 8-byte input windows with the message; libFuzzer's comparison
//! tracing then copied message text into the input within seconds. The typed check is exact.)
#![no_main]
use etcd_autopsy::keyring::tar::{TarError, TarReader};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut r = TarReader::new(data);
    for _ in 0..10_000 {
        match r.next_member() {
            Ok(Ok(m)) => {
                if let Err(e) = r.read_data(&m, 1 << 16) {
                    check(&e);
                    return;
                }
            }
            Ok(Err(_)) => return,
            Err(e) => {
                check(&e);
                return;
            }
        }
    }
});

fn check(e: &TarError) {
    let msg = e.to_string();
    assert!(!msg.chars().any(|c| c.is_control()), "control character in {msg:?}");
    let twin = match e {
        TarError::Header { field, problem, .. } => TarError::Header {
            offset: 0,
            field,
            problem,
        },
        TarError::CutOff { .. } => TarError::CutOff { offset: 0 },
        // A slice never fails to read.
        TarError::Read { .. } => panic!("read error from a slice: {msg}"),
    };
    let strip = |s: &str| s.chars().filter(|c| !c.is_ascii_digit()).collect::<String>();
    assert_eq!(strip(&msg), strip(&twin.to_string()));
}
