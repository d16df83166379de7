//! A read-only reader for bbolt database files (the storage format under etcd), over a read-only
//! memory map, without copies.
//!
//! Vocabulary follows Go bbolt (internal/common/page.go, meta.go, bucket.go, tx_check.go) so that
//! every fact here can be cross-checked there: *page*, *element*, *inline bucket*, *meta*,
//! *high-water mark* (hwm), *overflow*. This layer knows nothing of etcd.
//!
//! Every value read from the file is untrusted: all offsets are bounds-checked, page links are
//! walked with a visited set (cycles and pages reached twice are reported, never followed), and
//! damage is returned as [`Problem`]s naming the page and bucket so callers can keep reading what
//! is intact.

pub mod bucket;
mod bytes;
pub mod check;
pub mod db;
pub mod error;
mod fill;
mod handoff;
pub mod intact;
pub mod meta;
pub mod page;
pub(crate) mod prefetch;
pub mod scan;
pub mod usage;
mod walk;

pub use bucket::{Bucket, Leaf};
pub use check::{check, CheckReport, FreelistState};
pub use db::{Data, Db, Mapping, MetaChoice, Populate};
pub use error::{Error, Problem, ProblemKind, Problems, MAX_PROBLEMS};
pub use meta::Meta;
pub use page::{LeafElement, LeafPage, Page, PageKind, Pgid};
pub use usage::{Packer, PageUsage};
pub use walk::{prefetched, streamed};
