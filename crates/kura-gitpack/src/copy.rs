//! Joins a repository's packs into one pack stream without inflating a single object: the
//! pack inside a git bundle, written at the speed of a file copy.
//!
//! Each entry's bytes (type and size header, then its zlib stream) are position-independent
//! except an `OFS_DELTA`, whose base is named by its distance back in the same pack; those are
//! rewritten as `REF_DELTA` (the base named by its id, which the new pack also holds). An object
//! stored in two packs is written once. Loose objects are passed in already encoded.

use std::collections::HashSet;
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use sha1::{Digest, Sha1};

use crate::object::{EncodedObject, Oid};
use crate::Error;

const OBJ_OFS_DELTA: u8 = 6;
const OBJ_REF_DELTA: u8 = 7;

/// One entry of a source pack.
struct Entry {
    oid: Oid,
    offset: u64,
    end: u64,
}

/// A source pack and its entries, in file order.
struct SourcePack {
    path: PathBuf,
    entries: Vec<Entry>,
}

/// What [`copy_packs`] wrote.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CopiedPack {
    /// Objects in the new pack.
    pub objects: u32,
    /// Bytes written, trailer included.
    pub bytes: u64,
}

/// Writes one pack holding every object of the packs in `pack_dir` and the `loose` objects, to
/// `out`. Returns the object count and bytes written.
pub fn copy_packs(
    pack_dir: &Path,
    loose: &[EncodedObject],
    out: &mut dyn Write,
) -> Result<CopiedPack, Error> {
    let mut packs = Vec::new();
    let mut names: Vec<PathBuf> = std::fs::read_dir(pack_dir)
        .map_err(Error::io(pack_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    names.sort();
    for idx in names {
        let pack = idx.with_extension("pack");
        if pack.exists() {
            packs.push(read_index(&idx, &pack)?);
        }
    }
    let mut seen: HashSet<Oid> = HashSet::new();
    let mut count: u64 = 0;
    for p in &packs {
        for e in &p.entries {
            if seen.insert(e.oid) {
                count += 1;
            }
        }
    }
    for o in loose {
        if seen.insert(o.oid) {
            count += 1;
        }
    }
    let count = u32::try_from(count).map_err(|_| Error::TooManyObjects {
        path: pack_dir.to_path_buf(),
    })?;

    let mut w = HashingWriter {
        inner: out,
        hasher: Sha1::new(),
        bytes: 0,
    };
    let wio = |e: io::Error| Error::Io {
        path: PathBuf::from("<pack output>"),
        source: e,
    };
    w.write_all(b"PACK").map_err(wio)?;
    w.write_all(&2u32.to_be_bytes()).map_err(wio)?;
    w.write_all(&count.to_be_bytes()).map_err(wio)?;

    let mut written: HashSet<Oid> = HashSet::new();
    let mut buf = Vec::new();
    for p in &packs {
        let mut file = File::open(&p.path).map_err(Error::io(&p.path))?;
        // Offsets to ids, for rewriting OFS_DELTA bases.
        let by_offset: std::collections::HashMap<u64, Oid> =
            p.entries.iter().map(|e| (e.offset, e.oid)).collect();
        let mut pos = 0u64;
        for e in &p.entries {
            if !written.insert(e.oid) {
                continue;
            }
            if pos != e.offset {
                file.seek(SeekFrom::Start(e.offset))
                    .map_err(Error::io(&p.path))?;
            }
            buf.resize((e.end - e.offset) as usize, 0);
            file.read_exact(&mut buf).map_err(Error::io(&p.path))?;
            pos = e.end;
            let (kind, header_len) = entry_header(&buf).ok_or_else(|| damaged(&p.path))?;
            if kind == OBJ_OFS_DELTA {
                let (distance, n) =
                    ofs_distance(&buf[header_len..]).ok_or_else(|| damaged(&p.path))?;
                let base = e
                    .offset
                    .checked_sub(distance)
                    .and_then(|o| by_offset.get(&o))
                    .ok_or_else(|| damaged(&p.path))?;
                // Same size field, type 7, then the base id instead of the distance.
                let mut header = buf[..header_len].to_vec();
                header[0] = (header[0] & 0x8f) | (OBJ_REF_DELTA << 4);
                w.write_all(&header).map_err(wio)?;
                w.write_all(base).map_err(wio)?;
                w.write_all(&buf[header_len + n..]).map_err(wio)?;
            } else {
                w.write_all(&buf).map_err(wio)?;
            }
        }
    }
    for o in loose {
        if written.insert(o.oid) {
            w.write_all(o.entry()).map_err(wio)?;
        }
    }
    let digest = w.hasher.finalize_reset();
    w.inner.write_all(&digest).map_err(wio)?;
    Ok(CopiedPack {
        objects: count,
        bytes: w.bytes + 20,
    })
}

fn damaged(pack: &Path) -> Error {
    Error::Io {
        path: pack.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "damaged pack entry"),
    }
}

/// Reads a `.idx` (version 2): every object's id and offset; extents from the pack's length.
fn read_index(idx: &Path, pack: &Path) -> Result<SourcePack, Error> {
    let data = std::fs::read(idx).map_err(Error::io(idx))?;
    let bad = || Error::Io {
        path: idx.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "not a version 2 pack index"),
    };
    if data.len() < 8 + 256 * 4 || &data[..4] != b"\xfftOc" || data[4..8] != [0, 0, 0, 2] {
        return Err(bad());
    }
    let be32 = |at: usize| -> Option<u32> {
        data.get(at..at + 4)
            .map(|b| u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    };
    let n = be32(8 + 255 * 4).ok_or_else(bad)? as usize;
    let ids = 8 + 256 * 4;
    let offsets = ids + n * 20 + n * 4;
    let large = offsets + n * 4;
    let mut entries = Vec::with_capacity(n);
    for i in 0..n {
        let oid: Oid = data
            .get(ids + i * 20..ids + i * 20 + 20)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(bad)?;
        let raw = be32(offsets + i * 4).ok_or_else(bad)?;
        let offset = if raw & 0x8000_0000 != 0 {
            let at = large + (raw & 0x7fff_ffff) as usize * 8;
            data.get(at..at + 8)
                .map(|b| u64::from_be_bytes(b.try_into().unwrap_or([0; 8])))
                .ok_or_else(bad)?
        } else {
            raw as u64
        };
        entries.push(Entry {
            oid,
            offset,
            end: 0,
        });
    }
    entries.sort_by_key(|e| e.offset);
    let len = std::fs::metadata(pack).map_err(Error::io(pack))?.len();
    let trailer_start = len.checked_sub(20).ok_or_else(|| damaged(pack))?;
    for i in 0..entries.len() {
        let end = entries.get(i + 1).map_or(trailer_start, |e| e.offset);
        if end <= entries[i].offset || entries[i].offset < 12 {
            return Err(damaged(pack));
        }
        entries[i].end = end;
    }
    Ok(SourcePack {
        path: pack.to_path_buf(),
        entries,
    })
}

/// The entry's type and the length of its type-and-size header.
fn entry_header(b: &[u8]) -> Option<(u8, usize)> {
    let first = *b.first()?;
    let kind = (first >> 4) & 7;
    let mut i = 1;
    let mut c = first;
    while c & 0x80 != 0 {
        c = *b.get(i)?;
        i += 1;
    }
    Some((kind, i))
}

/// The base distance of an `OFS_DELTA` and the bytes it takes.
fn ofs_distance(b: &[u8]) -> Option<(u64, usize)> {
    let mut c = *b.first()?;
    let mut v = (c & 0x7f) as u64;
    let mut i = 1;
    while c & 0x80 != 0 {
        c = *b.get(i)?;
        i += 1;
        v = ((v + 1) << 7) | (c & 0x7f) as u64;
    }
    Some((v, i))
}

struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: Sha1,
    bytes: u64,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
