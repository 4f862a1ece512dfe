//! Keeping the vault sound and small: `cleanup.rs` purges the trash, archives idle projects, thins
//! automatic versions and clears temporary leftovers; `verify.rs` checks the catalog, histories
//! and chunks, and collects unreferenced chunks (`gc`); `discard.rs` moves trees the vault no
//! longer needs aside and removes them in the background.

pub(crate) mod cleanup;
pub(crate) mod discard;
pub(crate) mod verify;
