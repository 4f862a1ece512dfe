//! What the vault takes on disk and what it may take: `stats.rs` says where the space goes (the
//! figures every door shows), `quota.rs` holds the limits and refuses, before anything is
//! written, a write that would pass one.

pub(crate) mod quota;
pub(crate) mod stats;
