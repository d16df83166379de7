//! The version `--version`, `man` and reports print: the crate version, the commit it was built
//! from and the build date (stamped by build.rs), so a report names the exact build that made it.

/// `0.1.0`.
pub const SHORT: &str = env!("CARGO_PKG_VERSION");

/// `0.1.0 (commit 1a2b3c4d5e6f, built 2026-12-01)`.
pub const LONG: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("ETCD_AUTOPSY_COMMIT"),
    ", built ",
    env!("ETCD_AUTOPSY_BUILD_DATE"),
    ")"
);
