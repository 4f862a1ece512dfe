//! What the chunk store's test programs share.

pub const MB: usize = 1_000_000;

/// Deterministic incompressible bytes.
pub fn random(seed: u64, len: usize) -> Vec<u8> {
    let mut out = vec![0u8; len];
    let mut hasher = blake3::Hasher::new();
    hasher.update(&seed.to_le_bytes());
    hasher.finalize_xof().fill(&mut out);
    out
}
