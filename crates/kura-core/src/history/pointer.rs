//! The small text that git stores in place of a file kept in the chunk store.
//!
//! ```text
//! kura-chunked-file v1
//! size 52428800
//! blake3 <64 hex digits: hash of the whole content>
//! <64 hex digits: chunk id> <chunk length>
//! ...
//! ```
//!
//! Any file whose content starts with the first line is itself sent to the chunk store, so a git
//! blob that starts with it is always a pointer.

use kura_chunkstore::ChunkRef;

use crate::error::{Error, Result};

/// The first line of every pointer.
pub(crate) const MAGIC: &[u8] = b"kura-chunked-file v1\n";

/// A parsed pointer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Pointer {
    pub size: u64,
    pub hash: [u8; 32],
    pub chunks: Vec<ChunkRef>,
}

impl Pointer {
    pub(crate) fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(MAGIC.len() + 100 + self.chunks.len() * 76);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(
            format!("size {}\nblake3 {}\n", self.size, hex::encode(self.hash)).as_bytes(),
        );
        for c in &self.chunks {
            out.extend_from_slice(format!("{} {}\n", hex::encode(c.id), c.len).as_bytes());
        }
        out
    }

    pub(crate) fn is_pointer(data: &[u8]) -> bool {
        data.starts_with(MAGIC)
    }

    pub(crate) fn decode(data: &[u8]) -> Result<Pointer> {
        let bad =
            |why: &str| Error::corrupt(format!("a chunk pointer in the history is damaged: {why}"));
        let text = std::str::from_utf8(data.strip_prefix(MAGIC).ok_or_else(|| bad("no header"))?)
            .map_err(|_| bad("not text"))?;
        let mut lines = text.lines();
        let size = lines
            .next()
            .and_then(|l| l.strip_prefix("size "))
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("no size"))?;
        let hash = lines
            .next()
            .and_then(|l| l.strip_prefix("blake3 "))
            .and_then(hex32)
            .ok_or_else(|| bad("no hash"))?;
        let mut chunks = Vec::new();
        let mut total = 0u64;
        for line in lines {
            let (id, len) = line.split_once(' ').ok_or_else(|| bad("bad chunk line"))?;
            let id = hex32(id).ok_or_else(|| bad("bad chunk id"))?;
            let len: u32 = len.parse().map_err(|_| bad("bad chunk length"))?;
            total += len as u64;
            chunks.push(ChunkRef { id, len });
        }
        if total != size {
            return Err(bad("the chunk lengths do not add up to the size"));
        }
        Ok(Pointer { size, hash, chunks })
    }
}

fn hex32(s: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_damage() {
        let p = Pointer {
            size: 7,
            hash: [3; 32],
            chunks: vec![
                ChunkRef {
                    id: [1; 32],
                    len: 3,
                },
                ChunkRef {
                    id: [2; 32],
                    len: 4,
                },
            ],
        };
        let bytes = p.encode();
        assert!(Pointer::is_pointer(&bytes));
        assert_eq!(Pointer::decode(&bytes).unwrap(), p);
        let mut bad = bytes.clone();
        bad.truncate(bad.len() - 3);
        assert!(Pointer::decode(&bad).is_err());
    }
}
