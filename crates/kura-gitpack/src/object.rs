//! Git objects: kinds, ids, and their deflated pack entries.

use std::cell::RefCell;

use libdeflater::{CompressionLvl, Compressor};
use sha1::{Digest, Sha1};

/// A git object id (SHA-1).
pub type Oid = [u8; 20];

/// The four git object kinds a pack can hold without deltas.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A commit (pack type 1).
    Commit,
    /// A tree (pack type 2).
    Tree,
    /// A blob, i.e. file content (pack type 3).
    Blob,
    /// An annotated tag (pack type 4).
    Tag,
}

impl ObjectKind {
    /// The name git uses in object headers: "commit", "tree", "blob" or "tag".
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectKind::Commit => "commit",
            ObjectKind::Tree => "tree",
            ObjectKind::Blob => "blob",
            ObjectKind::Tag => "tag",
        }
    }

    /// The type number stored in a pack entry header.
    fn pack_type(self) -> u8 {
        match self {
            ObjectKind::Commit => 1,
            ObjectKind::Tree => 2,
            ObjectKind::Blob => 3,
            ObjectKind::Tag => 4,
        }
    }
}

/// Git's object id: SHA-1 of `"<kind> <len>\0"` followed by `data`.
pub fn object_id(kind: ObjectKind, data: &[u8]) -> Oid {
    let mut hasher = Sha1::new();
    hasher.update(format!("{} {}\0", kind.as_str(), data.len()).as_bytes());
    hasher.update(data);
    hasher.finalize().into()
}

/// An object hashed and deflated, ready to append to a pack.
///
/// Creating these is the CPU-heavy part (SHA-1, zlib, CRC32) and may run on many threads at once;
/// [`crate::PackWriter::add`] then only copies the bytes into the pack.
#[derive(Clone, Debug)]
pub struct EncodedObject {
    /// The object's git id.
    pub oid: Oid,
    /// The object's kind.
    pub kind: ObjectKind,
    /// The uncompressed size of the object's content.
    pub size: u64,
    /// The complete pack entry: the type+size header, then the zlib stream.
    entry: Vec<u8>,
    /// How many bytes of `entry` are the header.
    header_len: usize,
    /// CRC32 of `entry`, as the .idx records it.
    crc32: u32,
}

impl EncodedObject {
    /// Hashes and deflates `data` at `level` (0 = stored, 1 = fastest .. 12 = smallest; higher
    /// values count as 12). The levels are libdeflate's: 1–9 trade speed for size much as zlib's
    /// do, each faster and smaller than zlib's of the same number.
    pub fn encode(kind: ObjectKind, data: &[u8], level: u32) -> EncodedObject {
        let size = data.len() as u64;
        let mut header = Vec::with_capacity(MAX_ENTRY_HEADER_LEN);
        write_entry_header(kind, size, &mut header);
        let header_len = header.len();
        let entry = deflate_after(header, data, level.min(MAX_LEVEL));
        EncodedObject {
            oid: object_id(kind, data),
            kind,
            size,
            crc32: crc32fast::hash(&entry),
            entry,
            header_len,
        }
    }

    /// Length of the zlib stream alone (without the pack entry header).
    pub fn deflated_len(&self) -> usize {
        self.entry.len() - self.header_len
    }

    /// The bytes to append to the pack: entry header and zlib stream.
    pub(crate) fn entry(&self) -> &[u8] {
        &self.entry
    }

    /// CRC32 of [`Self::entry`].
    pub(crate) fn crc32(&self) -> u32 {
        self.crc32
    }
}

/// An object that others may be stored as deltas against: its id, its content, and the index of
/// its content that finding what they share needs (built once, for any number of deltas).
#[derive(Debug)]
pub struct DeltaBase {
    oid: Oid,
    data: Vec<u8>,
    index: crate::delta::Index,
}

impl DeltaBase {
    /// Indexes `data`, the content of the object `oid`.
    pub fn new(oid: Oid, data: Vec<u8>) -> DeltaBase {
        let index = crate::delta::Index::new(&data);
        DeltaBase { oid, data, index }
    }

    /// Makes this the base of the object `oid`, whose content is `data`: a copy of it and its
    /// index take the place of this one's, in the same memory when it is large enough.
    pub fn renew(&mut self, oid: Oid, data: &[u8]) {
        self.oid = oid;
        self.data.clear();
        self.data.extend_from_slice(data);
        self.index.rebuild(&self.data);
    }

    /// The base object's content.
    pub fn data(&self) -> &[u8] {
        &self.data
    }
}

/// An object encoded as a delta against another object of the same pack, ready to append with
/// [`crate::PackWriter::add_delta`].
///
/// The entry's header names the base by its distance back in the pack (`OFS_DELTA`), which
/// only the writer knows: this holds the deflated delta, and the writer puts the header before it.
#[derive(Clone, Debug)]
pub struct EncodedDelta {
    /// The object's git id (of its whole content, as for [`EncodedObject`]).
    pub oid: Oid,
    /// The id of the object the delta applies to.
    pub base: Oid,
    /// The uncompressed length of the delta.
    delta_len: u64,
    /// The delta's zlib stream.
    deflated: Vec<u8>,
    /// CRC32 of `deflated`, for combining with the header's.
    crc: crc32fast::Hasher,
}

impl EncodedDelta {
    /// Hashes `data` as a `kind` object and deflates its delta against `base`, if that delta
    /// is at most half as long as `data`: otherwise the delta would save too little to be worth
    /// reading through.
    pub fn encode(
        kind: ObjectKind,
        data: &[u8],
        base: &DeltaBase,
        level: u32,
    ) -> Option<EncodedDelta> {
        let delta = crate::delta::encode_with(&base.data, &base.index, data, data.len() / 2)?;
        let deflated = deflate_after(Vec::new(), &delta, level.min(MAX_LEVEL));
        let mut crc = crc32fast::Hasher::new();
        crc.update(&deflated);
        Some(EncodedDelta {
            oid: object_id(kind, data),
            base: base.oid,
            delta_len: delta.len() as u64,
            deflated,
            crc,
        })
    }

    /// The pack entry at `distance` bytes after its base's: header, distance, zlib stream; with
    /// its CRC32.
    pub(crate) fn entry_head(&self, distance: u64) -> (Vec<u8>, u32) {
        let mut head = Vec::with_capacity(MAX_ENTRY_HEADER_LEN + 10);
        write_type_and_size(OFS_DELTA, self.delta_len, &mut head);
        head.extend_from_slice(&encode_distance(distance));
        let mut crc = crc32fast::Hasher::new();
        crc.update(&head);
        crc.combine(&self.crc);
        (head, crc.finalize())
    }

    /// The delta's zlib stream, which follows [`Self::entry_head`].
    pub(crate) fn deflated(&self) -> &[u8] {
        &self.deflated
    }
}

/// A distance back to a delta's base as `OFS_DELTA` writes it (git's `pack-objects.c`): seven
/// bits a byte, most significant first, each byte but the last with its top bit set and its
/// value less one.
pub(crate) fn encode_distance(mut distance: u64) -> Vec<u8> {
    let mut bytes = [0u8; 10];
    let mut at = bytes.len() - 1;
    bytes[at] = (distance & 0x7f) as u8;
    distance >>= 7;
    while distance != 0 {
        distance -= 1;
        at -= 1;
        bytes[at] = 0x80 | (distance & 0x7f) as u8;
        distance >>= 7;
    }
    bytes[at..].to_vec()
}

/// The pack type of a delta whose base is named by its distance back.
const OFS_DELTA: u8 = 6;

/// A u64 size needs 4 bits in the first header byte, then ceil(60 / 7) = 9 more bytes.
const MAX_ENTRY_HEADER_LEN: usize = 10;

/// Writes a pack entry header: type in bits 4-6 of the first byte, the size's low 4 bits below it,
/// then the rest of the size in 7-bit groups, little end first; the high bit means "more follows".
fn write_entry_header(kind: ObjectKind, size: u64, out: &mut Vec<u8>) {
    write_type_and_size(kind.pack_type(), size, out);
}

fn write_type_and_size(pack_type: u8, size: u64, out: &mut Vec<u8>) {
    let mut byte = (pack_type << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
}

/// libdeflate's highest level.
const MAX_LEVEL: u32 = 12;

thread_local! {
    /// A compressor per thread, reused across objects (setting one up allocates its match
    /// finder), and the scratch buffer it compresses into.
    static DEFLATER: RefCell<Option<Deflater>> = const { RefCell::new(None) };
}

struct Deflater {
    level: u32,
    compressor: Compressor,
    scratch: Vec<u8>,
}

/// Returns `header` followed by the zlib stream of `data`, in a buffer of exactly that size.
fn deflate_after(mut header: Vec<u8>, data: &[u8], level: u32) -> Vec<u8> {
    if level == 1 && data.len() <= crate::fixed::MAX_INPUT {
        // At the fastest level a small object is written in deflate's fixed code by this crate:
        // libdeflate's fixed costs per call are most of its time on such inputs (`fixed.rs`).
        // The stream is read back first; were it ever wrong, libdeflate writes the object.
        let start = header.len();
        crate::fixed::zlib_fixed(data, &mut header);
        if crate::fixed::inflates_to(&header[start..], data) {
            header.shrink_to_fit();
            return header;
        }
        debug_assert!(
            false,
            "the fixed-code stream of {} bytes did not read back",
            data.len()
        );
        header.truncate(start);
    }
    DEFLATER.with(|cell| {
        let mut slot = cell.borrow_mut();
        let deflater = match &mut *slot {
            Some(d) if d.level == level => d,
            _ => slot.insert(Deflater {
                level,
                compressor: Compressor::new(
                    CompressionLvl::new(level as i32).expect("levels 0–12 are valid"),
                ),
                scratch: Vec::new(),
            }),
        };
        let bound = deflater.compressor.zlib_compress_bound(data.len());
        // At the fastest level an object of 16 KiB or more is deflated by igzip (`igzip.rs`),
        // in about half of libdeflate's time on large text; libdeflate's bound leaves it room
        // (stored blocks at worst), and were it ever short, libdeflate writes the object.
        let igzip = level == 1 && data.len() >= crate::igzip::MIN_INPUT;
        let compressor = &mut deflater.compressor;
        let mut compress = |out: &mut [u8]| {
            igzip
                .then(|| crate::igzip::zlib(data, out))
                .flatten()
                .unwrap_or_else(|| {
                    compressor
                        .zlib_compress(data, out)
                        .expect("the output buffer is at least libdeflate's bound")
                })
        };
        if bound > SCRATCH_KEPT {
            // A large object is deflated straight into its own buffer, then trimmed: a scratch
            // buffer of its size would stay with the thread (every reader of a snapshot that
            // once met an 8 MiB file) or be one more copy of it. The buffer is asked for zeroed
            // (`calloc`), which the allocator maps fresh and does not clear: only the pages the
            // stream fills are ever touched (an eighth of them on the Rust docs' large pages).
            // Zeroing the bound by hand touched them all (a first snapshot of the docs peaked
            // 15 MB higher).
            let start = header.len();
            let mut entry = vec![0u8; start + bound];
            entry[..start].copy_from_slice(&header);
            let len = compress(&mut entry[start..]);
            entry.truncate(start + len);
            entry.shrink_to_fit();
            return entry;
        }
        let scratch = &mut deflater.scratch;
        if scratch.len() < bound {
            scratch.resize(bound, 0);
        }
        let len = compress(scratch);
        header.reserve_exact(len);
        header.extend_from_slice(&scratch[..len]);
        header
    })
}

/// The largest scratch buffer a thread keeps between objects to deflate into.
const SCRATCH_KEPT: usize = 1 << 20;

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn inflate(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::ZlibDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn entry_header_matches_git_varint() {
        let mut out = Vec::new();
        write_entry_header(ObjectKind::Blob, 0, &mut out);
        assert_eq!(out, [0x30]);
        out.clear();
        write_entry_header(ObjectKind::Commit, 15, &mut out);
        assert_eq!(out, [0x1f]);
        out.clear();
        write_entry_header(ObjectKind::Tree, 16, &mut out);
        assert_eq!(out, [0xa0, 0x01]);
        out.clear();
        // 3_000_000 = 0x2DC6C0: low nibble 0, then 7-bit groups of 0x2DC6C.
        write_entry_header(ObjectKind::Blob, 3_000_000, &mut out);
        assert_eq!(out, [0xb0, 0xec, 0xb8, 0x0b]);
        out.clear();
        write_entry_header(ObjectKind::Tag, u64::MAX, &mut out);
        assert_eq!(out.len(), MAX_ENTRY_HEADER_LEN);
    }

    #[test]
    fn encode_round_trips_at_every_level_and_reuses_the_deflater() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        // Larger than the scratch a thread keeps, and not compressible: deflated straight into
        // its own buffer, kept no larger than the entry.
        let mut noise = vec![0u8; 3 * SCRATCH_KEPT];
        let mut x = 0x2545_f491_4f6c_dd1du64;
        for b in noise.iter_mut() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            *b = x as u8;
        }
        for level in [0, 1, 6, 9, 12, 42] {
            for input in [&data[..], b"", b"hello", &noise[..], &data[..]] {
                let obj = EncodedObject::encode(ObjectKind::Blob, input, level);
                assert_eq!(obj.size, input.len() as u64);
                let header_len = obj.entry.len() - obj.deflated_len();
                assert_eq!(inflate(&obj.entry[header_len..]), input);
                assert_eq!(obj.crc32(), crc32fast::hash(obj.entry()));
                assert_eq!(obj.oid, object_id(ObjectKind::Blob, input));
                if input.len() > SCRATCH_KEPT {
                    assert_eq!(obj.entry.capacity(), obj.entry.len());
                }
            }
        }
    }

    #[test]
    fn empty_blob_has_gits_well_known_id() {
        assert_eq!(
            hex::encode(object_id(ObjectKind::Blob, b"")),
            "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"
        );
        assert_eq!(
            hex::encode(object_id(ObjectKind::Tree, b"")),
            "4b825dc642cb6eb9a060e54bf8d69288fbee4904"
        );
    }
}
