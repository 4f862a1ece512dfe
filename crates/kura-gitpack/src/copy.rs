//! Joins a repository's packs into one pack stream without inflating a single object: the
//! pack inside a git bundle, written at the speed of a file copy.
//!
//! Each entry's bytes (type and size header, then its zlib stream) are position-independent
//! except an `OFS_DELTA`, whose base is named by its distance back in the same pack; those are
//! rewritten as `REF_DELTA` (the base named by its id, which the new pack also holds). An object
//! stored in two packs is written once. Loose objects are passed in already encoded.
//!
//! Objects can be left out ([`JoinedPack::plan_without`]: the blobs an archive carries as files
//! anyway), except those a delta that stays needs as its base.
//!
//! While copying, each entry's first bytes are inflated (a few hundred bytes of input, not the
//! object) and compared with a marker: the caller learns which blobs start with it without
//! reading and hashing every object again. A delta's start is told from its first instruction:
//! literal bytes, or a copy of its base's start (whose answer is known, the base coming first).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use flate2::{Decompress, FlushDecompress};
use sha1::{Digest, Sha1};

use crate::object::{EncodedObject, Oid};
use crate::Error;

const OBJ_BLOB: u8 = 3;
pub(crate) const OBJ_OFS_DELTA: u8 = 6;
pub(crate) const OBJ_REF_DELTA: u8 = 7;

/// One entry of a source pack.
pub(crate) struct Entry {
    pub(crate) oid: Oid,
    pub(crate) offset: u64,
    pub(crate) end: u64,
    /// False when an earlier pack holds the same object (it is written once).
    keep: bool,
    /// Its length in the joined pack.
    out_len: u64,
}

/// A source pack and its entries, in file order.
pub(crate) struct SourcePack {
    pub(crate) path: PathBuf,
    pub(crate) entries: Vec<Entry>,
}

/// What [`JoinedPack::write`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CopiedPack {
    /// Objects in the new pack.
    pub objects: u32,
    /// Bytes written, trailer included.
    pub bytes: u64,
    /// Blobs of the packs whose content starts with the marker.
    pub marked: Vec<Oid>,
    /// Objects of the packs stored as deltas whose start could not be told from their first
    /// instruction (the caller reads them whole if it must know).
    pub deltas: Vec<Oid>,
}

/// A join of a repository's packs, planned: its length is known before a byte is written (a
/// tar header needs it first), then [`JoinedPack::write`] writes it.
pub struct JoinedPack {
    pack_dir: PathBuf,
    packs: Vec<SourcePack>,
    loose: Vec<EncodedObject>,
    count: u32,
    len: u64,
    whole_len: u64,
    left_out: HashSet<Oid>,
}

impl JoinedPack {
    /// Reads the packs' indexes and each entry's header.
    pub fn plan(pack_dir: &Path, loose: &[EncodedObject]) -> Result<JoinedPack, Error> {
        Self::plan_without(pack_dir, loose, &HashSet::new())
    }

    /// Plans the join without the objects of `leave_out`, except those a delta that stays
    /// needs as its base (directly or along its chain): [`JoinedPack::left_out`] says which
    /// were left out.
    pub fn plan_without(
        pack_dir: &Path,
        loose: &[EncodedObject],
        leave_out: &HashSet<Oid>,
    ) -> Result<JoinedPack, Error> {
        let mut packs = Vec::new();
        for pack in pack_files(pack_dir)? {
            packs.push(read_index(&pack.with_extension("idx"), &pack)?);
        }
        // Each object's first entry, and the base of those that are deltas.
        let mut seen: HashSet<Oid> = HashSet::new();
        let mut bases: HashMap<Oid, Oid> = HashMap::new();
        for p in &mut packs {
            let mut headers = Headers::new(File::open(&p.path).map_err(Error::io(&p.path))?);
            let by_offset: HashMap<u64, Oid> =
                p.entries.iter().map(|e| (e.offset, e.oid)).collect();
            for e in &mut p.entries {
                e.keep = seen.insert(e.oid);
                if !e.keep {
                    continue;
                }
                let n = ((e.end - e.offset) as usize).min(HEADER_BYTES);
                let head = headers.at(e.offset, n).map_err(Error::io(&p.path))?;
                let (kind, _, header_len) =
                    entry_header(&head[..n]).ok_or_else(|| damaged(&p.path))?;
                e.out_len = e.end - e.offset;
                if kind == OBJ_OFS_DELTA {
                    let (distance, ofs_len) =
                        ofs_distance(&head[header_len..n]).ok_or_else(|| damaged(&p.path))?;
                    e.out_len = e.out_len - ofs_len as u64 + 20;
                    let base = e
                        .offset
                        .checked_sub(distance)
                        .and_then(|o| by_offset.get(&o))
                        .ok_or_else(|| damaged(&p.path))?;
                    bases.insert(e.oid, *base);
                } else if kind == OBJ_REF_DELTA {
                    let base: Oid = head
                        .get(header_len..header_len + 20)
                        .filter(|_| header_len + 20 <= n)
                        .and_then(|b| b.try_into().ok())
                        .ok_or_else(|| damaged(&p.path))?;
                    bases.insert(e.oid, base);
                }
            }
        }
        // Left out: what was asked, less the bases of the deltas that stay.
        let mut left_out: HashSet<Oid> = leave_out
            .iter()
            .filter(|o| seen.contains(*o))
            .copied()
            .collect();
        if !left_out.is_empty() {
            for (delta, base) in &bases {
                if left_out.contains(delta) {
                    continue;
                }
                let mut base = *base;
                while left_out.remove(&base) {
                    match bases.get(&base) {
                        Some(next) => base = *next,
                        None => break,
                    }
                }
            }
        }
        let mut count: u64 = 0;
        let mut len: u64 = 12 + 20;
        let mut whole_len = len;
        for p in &mut packs {
            for e in &mut p.entries {
                if e.keep {
                    whole_len += e.out_len;
                }
                if e.keep && left_out.contains(&e.oid) {
                    e.keep = false;
                }
                if e.keep {
                    count += 1;
                    len += e.out_len;
                }
            }
        }
        // A loose object is left out unless a delta that stays names it as its base.
        let needed: HashSet<Oid> = bases
            .iter()
            .filter(|(delta, _)| !left_out.contains(*delta))
            .map(|(_, base)| *base)
            .collect();
        let mut kept = Vec::new();
        for o in loose {
            if !seen.insert(o.oid) {
                continue;
            }
            whole_len += o.entry().len() as u64;
            if leave_out.contains(&o.oid) && !needed.contains(&o.oid) {
                left_out.insert(o.oid);
            } else {
                count += 1;
                len += o.entry().len() as u64;
                kept.push(o.clone());
            }
        }
        let count = u32::try_from(count).map_err(|_| Error::TooManyObjects {
            path: pack_dir.to_path_buf(),
        })?;
        Ok(JoinedPack {
            pack_dir: pack_dir.to_path_buf(),
            packs,
            loose: kept,
            count,
            len,
            whole_len,
            left_out,
        })
    }

    /// Whether the packs it joins are still all the packs of its folder (packs are named by
    /// their content, so the same names are the same packs): a plan made before a repack or a
    /// new version is not.
    pub fn is_current(&self) -> Result<bool, Error> {
        let now = pack_files(&self.pack_dir)?;
        Ok(now.len() == self.packs.len() && now.iter().zip(&self.packs).all(|(a, b)| *a == b.path))
    }

    /// Bytes the joined pack would take with nothing left out.
    pub fn whole_len(&self) -> u64 {
        self.whole_len
    }

    /// The objects asked to be left out that are not in the joined pack.
    pub fn left_out(&self) -> &HashSet<Oid> {
        &self.left_out
    }

    /// Objects the joined pack holds.
    pub fn objects(&self) -> u32 {
        self.count
    }

    /// Bytes the joined pack takes, trailer included.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True for a pack of no objects.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// Writes the joined pack to `out`; reports which blobs start with `marker`. A pack that
    /// changed since [`JoinedPack::plan`] is an error, not a pack of another length.
    pub fn write(&self, marker: &[u8], out: &mut dyn Write) -> Result<CopiedPack, Error> {
        let count = self.count;
        let mut w = HashingWriter {
            inner: out,
            hasher: Sha1::new(),
            bytes: 0,
        };
        w.write_all(b"PACK").map_err(output_error)?;
        w.write_all(&2u32.to_be_bytes()).map_err(output_error)?;
        w.write_all(&count.to_be_bytes()).map_err(output_error)?;
        let mut buf = Vec::new();
        let mut check = MarkerCheck::new(marker);
        for p in &self.packs {
            copy_pack(p, &mut buf, &mut check, &mut w)?;
        }
        for o in &self.loose {
            w.write_all(o.entry()).map_err(output_error)?;
        }
        let digest = w.hasher.finalize_reset();
        w.inner.write_all(&digest).map_err(output_error)?;
        if w.bytes + 20 != self.len {
            return Err(Error::Io {
                path: PathBuf::from("<pack output>"),
                source: io::Error::new(
                    io::ErrorKind::InvalidData,
                    "the packs changed while they were copied",
                ),
            });
        }
        Ok(CopiedPack {
            objects: count,
            bytes: w.bytes + 20,
            marked: check.marked,
            deltas: check.deltas,
        })
    }
}

/// A failed write of the joined pack.
fn output_error(e: io::Error) -> Error {
    Error::Io {
        path: PathBuf::from("<pack output>"),
        source: e,
    }
}

/// Copies the kept entries of the source pack `p` to `w`, in file order, reading each into
/// `buf` and telling `check` about it. An `OFS_DELTA` is written as a `REF_DELTA`; every other
/// entry byte for byte.
fn copy_pack(
    p: &SourcePack,
    buf: &mut Vec<u8>,
    check: &mut MarkerCheck<'_>,
    w: &mut HashingWriter<'_>,
) -> Result<(), Error> {
    let mut file = File::open(&p.path).map_err(Error::io(&p.path))?;
    // Offsets to ids, for rewriting OFS_DELTA bases.
    let by_offset: HashMap<u64, Oid> = p.entries.iter().map(|e| (e.offset, e.oid)).collect();
    let mut pos = 0u64;
    for e in &p.entries {
        if !e.keep {
            continue;
        }
        if pos != e.offset {
            file.seek(SeekFrom::Start(e.offset))
                .map_err(Error::io(&p.path))?;
        }
        buf.resize((e.end - e.offset) as usize, 0);
        file.read_exact(buf).map_err(Error::io(&p.path))?;
        pos = e.end;
        let (kind, size, header_len) = entry_header(buf).ok_or_else(|| damaged(&p.path))?;
        let base = delta_base(p, e, &by_offset, buf, kind, header_len)?;
        check.entry(e.oid, kind, size, &buf[header_len..], base);
        if let (OBJ_OFS_DELTA, Some(base)) = (kind, base) {
            // Same size field, type 7, then the base id instead of the distance.
            let mut header = buf[..header_len].to_vec();
            header[0] = (header[0] & 0x8f) | (OBJ_REF_DELTA << 4);
            w.write_all(&header).map_err(output_error)?;
            w.write_all(&base.oid).map_err(output_error)?;
            w.write_all(&buf[header_len + base.named_by..])
                .map_err(output_error)?;
        } else {
            w.write_all(buf).map_err(output_error)?;
        }
    }
    Ok(())
}

/// The base of a delta entry, and how it is named in the entry.
#[derive(Clone, Copy)]
struct DeltaBase {
    oid: Oid,
    /// The bytes after the entry's header that name the base (its distance back, or its id).
    named_by: usize,
}

/// The base of entry `e` of pack `p`, read into `entry` (of type `kind`, its header
/// `header_len` bytes): for an `OFS_DELTA` the entry `by_offset` holds at its distance back,
/// for a `REF_DELTA` the id it names, and none for an entry that is not a delta. A base that
/// cannot be read or found is a damaged pack.
fn delta_base(
    p: &SourcePack,
    e: &Entry,
    by_offset: &HashMap<u64, Oid>,
    entry: &[u8],
    kind: u8,
    header_len: usize,
) -> Result<Option<DeltaBase>, Error> {
    Ok(match kind {
        OBJ_OFS_DELTA => {
            let (distance, n) =
                ofs_distance(&entry[header_len..]).ok_or_else(|| damaged(&p.path))?;
            let base = e
                .offset
                .checked_sub(distance)
                .and_then(|o| by_offset.get(&o))
                .ok_or_else(|| damaged(&p.path))?;
            Some(DeltaBase {
                oid: *base,
                named_by: n,
            })
        }
        OBJ_REF_DELTA => {
            let base: Oid = entry
                .get(header_len..header_len + 20)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| damaged(&p.path))?;
            Some(DeltaBase {
                oid: base,
                named_by: 20,
            })
        }
        _ => None,
    })
}

/// Tells, while the entries are copied, which objects start with the marker.
struct MarkerCheck<'m> {
    marker: &'m [u8],
    inflater: Decompress,
    /// The inflated start of the entry being checked.
    start: Vec<u8>,
    /// What is known of each object seen so far: a delta's answer may be its base's.
    starts: HashMap<Oid, Start>,
    /// The blobs that start with the marker.
    marked: Vec<Oid>,
    /// The deltas whose start could not be told.
    deltas: Vec<Oid>,
}

impl<'m> MarkerCheck<'m> {
    fn new(marker: &'m [u8]) -> MarkerCheck<'m> {
        MarkerCheck {
            marker,
            inflater: Decompress::new(true),
            start: vec![0u8; marker.len().max(DELTA_PREFIX)],
            starts: HashMap::new(),
            marked: Vec::new(),
            deltas: Vec::new(),
        }
    }

    /// Checks the object `oid` from its entry (of type `kind` and inflated `size`; `data` is
    /// what follows its header) and remembers the answer: a delta by its first instruction and
    /// its `base`'s answer, a blob by its inflated start, anything else does not start with it.
    fn entry(&mut self, oid: Oid, kind: u8, size: u64, data: &[u8], base: Option<DeltaBase>) {
        let marker = self.marker;
        let state = match (kind, base) {
            (_, Some(base)) => {
                let got = inflate_prefix(
                    &mut self.inflater,
                    &data[base.named_by..],
                    &mut self.start[..DELTA_PREFIX],
                );
                let base_start = self
                    .starts
                    .get(&base.oid)
                    .copied()
                    .unwrap_or(Start::Unknown);
                delta_start(&self.start[..got], marker, base_start)
            }
            (OBJ_BLOB, None) if size >= marker.len() as u64 => {
                let got = inflate_prefix(&mut self.inflater, data, &mut self.start[..marker.len()]);
                if self.start[..got] == *marker {
                    Start::Yes
                } else {
                    Start::No
                }
            }
            // Trees, commits and tags: a delta of one is never a blob.
            _ => Start::No,
        };
        match state {
            Start::Yes => self.marked.push(oid),
            Start::Unknown => self.deltas.push(oid),
            Start::No => {}
        }
        self.starts.insert(oid, state);
    }
}

/// What is known of whether an object's content starts with the marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Yes,
    No,
    /// Only resolving the delta would tell.
    Unknown,
}

/// The packs of `pack_dir` (those with their index beside them), by name.
fn pack_files(pack_dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let mut names: Vec<PathBuf> = std::fs::read_dir(pack_dir)
        .map_err(Error::io(pack_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "idx"))
        .collect();
    names.sort();
    Ok(names
        .into_iter()
        .map(|idx| idx.with_extension("pack"))
        .filter(|pack| pack.exists())
        .collect())
}

/// Inflated bytes of a delta enough for its two sizes and its first instruction.
const DELTA_PREFIX: usize = 64;

/// Inflates the start of the zlib stream `deflated` into `out`, no further than it holds; the
/// bytes it got (fewer for a short or damaged stream).
fn inflate_prefix(inflater: &mut Decompress, deflated: &[u8], out: &mut [u8]) -> usize {
    inflater.reset(true);
    let mut filled = 0;
    while filled < out.len() {
        let in_at = (inflater.total_in() as usize).min(deflated.len());
        let before = inflater.total_out();
        if inflater
            .decompress(
                &deflated[in_at..],
                &mut out[filled..],
                FlushDecompress::None,
            )
            .is_err()
        {
            break;
        }
        let got = (inflater.total_out() - before) as usize;
        if got == 0 {
            break;
        }
        filled += got;
    }
    filled
}

/// Whether the object a delta makes starts with `marker`, from the delta's first bytes
/// (`delta`: its base's size, its result's size, then instructions) and what is known of its
/// base. A first instruction that inserts bytes answers by them; one that copies the base's
/// start answers as the base does.
fn delta_start(delta: &[u8], marker: &[u8], base: Start) -> Start {
    let mut at = 0;
    let mut varint = || -> Option<u64> {
        let mut v = 0u64;
        let mut shift = 0;
        loop {
            let c = *delta.get(at)?;
            at += 1;
            if shift < 64 {
                v |= u64::from(c & 0x7f) << shift;
            }
            shift += 7;
            if c & 0x80 == 0 {
                return Some(v);
            }
        }
    };
    let (Some(_base_len), Some(len)) = (varint(), varint()) else {
        return Start::Unknown;
    };
    if len < marker.len() as u64 {
        return Start::No;
    }
    let Some(&cmd) = delta.get(at) else {
        return Start::Unknown;
    };
    at += 1;
    if cmd & 0x80 != 0 {
        // A copy: offset in up to four bytes (flags 0x01..0x08), length in up to three.
        let mut offset = 0u64;
        let mut size = 0u64;
        for (bit, shift) in [(0x01, 0), (0x02, 8), (0x04, 16), (0x08, 24)] {
            if cmd & bit != 0 {
                let Some(&b) = delta.get(at) else {
                    return Start::Unknown;
                };
                offset |= u64::from(b) << shift;
                at += 1;
            }
        }
        for (bit, shift) in [(0x10, 0), (0x20, 8), (0x40, 16)] {
            if cmd & bit != 0 {
                let Some(&b) = delta.get(at) else {
                    return Start::Unknown;
                };
                size |= u64::from(b) << shift;
                at += 1;
            }
        }
        if size == 0 {
            size = 0x10000;
        }
        if offset == 0 && size >= marker.len() as u64 {
            base
        } else {
            Start::Unknown
        }
    } else if cmd != 0 {
        // An insert of `cmd` literal bytes.
        let n = (cmd as usize).min(marker.len());
        let Some(literal) = delta.get(at..at + n) else {
            return Start::Unknown;
        };
        if literal != &marker[..n] {
            Start::No
        } else if n == marker.len() {
            Start::Yes
        } else {
            Start::Unknown
        }
    } else {
        Start::Unknown
    }
}

pub(crate) fn damaged(pack: &Path) -> Error {
    Error::Io {
        path: pack.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidData, "damaged pack entry"),
    }
}

/// Bytes of an entry's start that tell its kind, size and delta base.
const HEADER_BYTES: usize = 32;

/// Bytes read at once while entries' starts are read in file order.
const HEADER_WINDOW: usize = 64 << 10;

/// Reads the starts of a pack's entries in file order through a window of
/// [`HEADER_WINDOW`] bytes: one read for many small entries, not one each.
struct Headers {
    file: File,
    buf: Vec<u8>,
    start: u64,
}

impl Headers {
    fn new(file: File) -> Headers {
        Headers {
            file,
            buf: Vec::new(),
            start: 0,
        }
    }

    /// The `n` bytes at `offset` (which the file holds).
    fn at(&mut self, offset: u64, n: usize) -> io::Result<&[u8]> {
        let end = self.start + self.buf.len() as u64;
        if offset < self.start || offset + n as u64 > end {
            self.buf.resize(HEADER_WINDOW.max(n), 0);
            let mut got = 0;
            while got < self.buf.len() {
                match self.file.read_at(&mut self.buf[got..], offset + got as u64) {
                    Ok(0) => break,
                    Ok(k) => got += k,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            self.buf.truncate(got);
            self.start = offset;
            if got < n {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        let at = (offset - self.start) as usize;
        Ok(&self.buf[at..at + n])
    }
}

/// Reads a `.idx` (version 2): every object's id and offset; extents from the pack's length.
pub(crate) fn read_index(idx: &Path, pack: &Path) -> Result<SourcePack, Error> {
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
            keep: true,
            out_len: 0,
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

/// The entry's type, its (inflated) size and the length of its type-and-size header.
pub(crate) fn entry_header(b: &[u8]) -> Option<(u8, u64, usize)> {
    let first = *b.first()?;
    let kind = (first >> 4) & 7;
    let mut size = (first & 0x0f) as u64;
    let mut shift = 4;
    let mut i = 1;
    let mut c = first;
    while c & 0x80 != 0 {
        c = *b.get(i)?;
        i += 1;
        if shift < 64 {
            size |= ((c & 0x7f) as u64) << shift;
        }
        shift += 7;
    }
    Some((kind, size, i))
}

/// The base distance of an `OFS_DELTA` and the bytes it takes.
pub(crate) fn ofs_distance(b: &[u8]) -> Option<(u64, usize)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &[u8] = b"kura-chunked-file v1\n";

    /// A delta's header: its base's size and its result's size (small ones fit one byte).
    fn delta(base_len: u8, len: u8, instructions: &[u8]) -> Vec<u8> {
        let mut d = vec![base_len, len];
        d.extend_from_slice(instructions);
        d
    }

    #[test]
    fn a_delta_that_inserts_its_start_answers_by_the_bytes() {
        let mut ins = vec![MARK.len() as u8];
        ins.extend_from_slice(MARK);
        assert_eq!(
            delta_start(&delta(10, 40, &ins), MARK, Start::No),
            Start::Yes
        );
        let mut other = vec![MARK.len() as u8];
        other.extend_from_slice(b"<!DOCTYPE html>\n<head>");
        assert_eq!(
            delta_start(&delta(10, 40, &other), MARK, Start::Yes),
            Start::No
        );
        // Too few literal bytes to tell, but a mismatch in them is enough.
        assert_eq!(
            delta_start(
                &delta(10, 40, &[4, b'k', b'u', b'r', b'a']),
                MARK,
                Start::No
            ),
            Start::Unknown
        );
        assert_eq!(
            delta_start(
                &delta(10, 40, &[4, b'<', b'h', b't', b'm']),
                MARK,
                Start::Unknown
            ),
            Start::No
        );
    }

    #[test]
    fn a_delta_that_copies_its_base_start_answers_as_the_base() {
        // Copy offset 0 (no offset bytes), 30 bytes (flag 0x10).
        let copy = [0x80 | 0x10, 30];
        for base in [Start::Yes, Start::No, Start::Unknown] {
            assert_eq!(delta_start(&delta(40, 40, &copy), MARK, base), base);
        }
        // A copy from elsewhere in the base, or of fewer bytes than the marker, cannot tell.
        assert_eq!(
            delta_start(
                &delta(40, 40, &[0x80 | 0x01 | 0x10, 5, 30]),
                MARK,
                Start::Yes
            ),
            Start::Unknown
        );
        assert_eq!(
            delta_start(&delta(40, 40, &[0x80 | 0x10, 3]), MARK, Start::Yes),
            Start::Unknown
        );
        // Length 0 means 0x10000.
        assert_eq!(
            delta_start(&delta(40, 40, &[0x80]), MARK, Start::No),
            Start::No
        );
    }

    #[test]
    fn a_short_result_or_a_cut_delta() {
        assert_eq!(
            delta_start(&delta(40, 5, &[0x80 | 0x10, 5]), MARK, Start::Yes),
            Start::No
        );
        assert_eq!(delta_start(&[0x80], MARK, Start::Yes), Start::Unknown);
        assert_eq!(
            delta_start(&delta(40, 40, &[]), MARK, Start::Yes),
            Start::Unknown
        );
        assert_eq!(
            delta_start(&delta(40, 40, &[0x80 | 0x10]), MARK, Start::Yes),
            Start::Unknown
        );
        assert_eq!(
            delta_start(&delta(40, 40, &[0]), MARK, Start::Yes),
            Start::Unknown
        );
    }
}
