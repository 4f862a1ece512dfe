//! Pack files: the format (header, blobs, trailer), writing them durably, reading blobs back.

use std::collections::BTreeMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::SystemTime;

use crate::error::io_at;
use crate::{ChunkId, Error, MAX_CHUNK_LEN, PACK_TARGET_SIZE, PACK_WRITE_BUFFER};

/// First 8 bytes of every pack.
pub(crate) const PACK_MAGIC: &[u8; 8] = b"KURAPACK";
/// Pack format version, the u32 LE after the magic.
pub(crate) const PACK_VERSION: u32 = 1;
/// Length of magic + version; the first blob starts here.
pub(crate) const HEADER_LEN: u64 = 12;
/// Last 8 bytes of every complete pack.
pub(crate) const END_MAGIC: &[u8; 8] = b"KPACKEND";
/// One trailer entry: id (32), offset (8), stored_len (4), raw_len (4).
pub(crate) const ENTRY_LEN: usize = 48;
/// Entry count (4) + trailer hash (32) + end magic (8).
pub(crate) const FOOTER_LEN: u64 = 44;
/// Prefix of temporary pack files in `packs/`.
pub(crate) const TMP_PREFIX: &str = "tmp-";

/// Where one chunk's blob sits in its pack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct PackEntry {
    pub id: ChunkId,
    pub offset: u64,
    pub stored_len: u32,
    pub raw_len: u32,
}

/// Largest blob a valid pack holds: zstd's bound for the largest chunk.
pub(crate) fn max_stored_len() -> u64 {
    zstd::zstd_safe::compress_bound(MAX_CHUNK_LEN as usize) as u64
}

/// `packs/<first 2 hex>/<hex>.pack`.
pub(crate) fn pack_path(packs_dir: &Path, pack: &str) -> PathBuf {
    packs_dir
        .join(&pack[..2.min(pack.len())])
        .join(format!("{pack}.pack"))
}

fn is_pack_id(s: &str) -> bool {
    s.len() == 64
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// A file found under `packs/`.
#[derive(Clone, Debug)]
pub(crate) struct FoundFile {
    pub path: PathBuf,
    pub len: u64,
    pub modified: SystemTime,
}

/// Pack files on disk by pack id, and leftover temporary files.
pub(crate) struct PackListing {
    pub packs: BTreeMap<String, FoundFile>,
    pub tmp: Vec<FoundFile>,
}

/// Lists `packs/`: every `<xx>/<id>.pack` with a well-formed id, and every `tmp-*` file.
pub(crate) fn list_packs(packs_dir: &Path) -> Result<PackListing, Error> {
    let mut listing = PackListing {
        packs: BTreeMap::new(),
        tmp: Vec::new(),
    };
    for entry in fs::read_dir(packs_dir).map_err(io_at(packs_dir))? {
        let entry = entry.map_err(io_at(packs_dir))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let file_type = entry.file_type().map_err(io_at(&path))?;
        if file_type.is_file() && name.starts_with(TMP_PREFIX) {
            if let Some(found) = found_file(&path)? {
                listing.tmp.push(found);
            }
        } else if file_type.is_dir() && name.len() == 2 {
            for sub in fs::read_dir(&path).map_err(io_at(&path))? {
                let sub = sub.map_err(io_at(&path))?;
                let sub_name = sub.file_name().to_string_lossy().into_owned();
                let Some(id) = sub_name.strip_suffix(".pack") else {
                    continue;
                };
                if !is_pack_id(id) || !id.starts_with(&name) {
                    continue;
                }
                if let Some(found) = found_file(&sub.path())? {
                    listing.packs.insert(id.to_string(), found);
                }
            }
        }
    }
    Ok(listing)
}

/// Size and mtime of a file; `None` when it vanished meanwhile (a concurrent gc or writer).
fn found_file(path: &Path) -> Result<Option<FoundFile>, Error> {
    match fs::metadata(path) {
        Ok(meta) => Ok(Some(FoundFile {
            path: path.to_path_buf(),
            len: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        })),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io_at(path)(e)),
    }
}

/// Serialises the trailer: entries, count, hash of the entries, end magic.
pub(crate) fn encode_trailer(entries: &[PackEntry]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * ENTRY_LEN + FOOTER_LEN as usize);
    for e in entries {
        out.extend_from_slice(&e.id);
        out.extend_from_slice(&e.offset.to_le_bytes());
        out.extend_from_slice(&e.stored_len.to_le_bytes());
        out.extend_from_slice(&e.raw_len.to_le_bytes());
    }
    let hash = blake3::hash(&out);
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    out.extend_from_slice(hash.as_bytes());
    out.extend_from_slice(END_MAGIC);
    out
}

/// Reads and checks the header and trailer of a pack. `Err` holds why the pack is unreadable.
pub(crate) fn read_trailer(file: &File, file_len: u64) -> Result<Vec<PackEntry>, String> {
    if file_len < HEADER_LEN + FOOTER_LEN {
        return Err(format!("only {file_len} bytes, too short for a pack"));
    }
    let mut header = [0u8; HEADER_LEN as usize];
    read_at(file, 0, &mut header).map_err(|e| format!("reading the header: {e}"))?;
    if &header[..8] != PACK_MAGIC {
        return Err("no KURAPACK header".into());
    }
    let version = u32::from_le_bytes(header[8..12].try_into().expect("4 bytes"));
    if version != PACK_VERSION {
        return Err(format!("unknown pack version {version}"));
    }
    let mut footer = [0u8; FOOTER_LEN as usize];
    read_at(file, file_len - FOOTER_LEN, &mut footer)
        .map_err(|e| format!("reading the trailer: {e}"))?;
    if &footer[36..44] != END_MAGIC {
        return Err("no KPACKEND trailer (truncated or unfinished pack)".into());
    }
    let count = u64::from(u32::from_le_bytes(footer[..4].try_into().expect("4 bytes")));
    let entries_len = count * ENTRY_LEN as u64;
    if entries_len > file_len - HEADER_LEN - FOOTER_LEN {
        return Err(format!(
            "trailer claims {count} entries, more than the file holds"
        ));
    }
    let trailer_start = file_len - FOOTER_LEN - entries_len;
    let mut raw = vec![0u8; entries_len as usize];
    read_at(file, trailer_start, &mut raw).map_err(|e| format!("reading the trailer: {e}"))?;
    if blake3::hash(&raw).as_bytes() != &footer[4..36] {
        return Err("trailer checksum mismatch".into());
    }
    let max_stored = max_stored_len();
    let mut entries = Vec::with_capacity(count as usize);
    for bytes in raw.chunks_exact(ENTRY_LEN) {
        let entry = PackEntry {
            id: bytes[..32].try_into().expect("32 bytes"),
            offset: u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes")),
            stored_len: u32::from_le_bytes(bytes[40..44].try_into().expect("4 bytes")),
            raw_len: u32::from_le_bytes(bytes[44..48].try_into().expect("4 bytes")),
        };
        let end = entry.offset.checked_add(u64::from(entry.stored_len));
        if entry.offset < HEADER_LEN
            || end.is_none_or(|end| end > trailer_start)
            || u64::from(entry.stored_len) > max_stored
            || entry.raw_len > MAX_CHUNK_LEN
        {
            return Err(format!(
                "trailer entry for chunk {} is out of bounds",
                hex::encode(entry.id)
            ));
        }
        entries.push(entry);
    }
    Ok(entries)
}

fn read_at(file: &File, offset: u64, buf: &mut [u8]) -> io::Result<()> {
    file.read_exact_at(buf, offset)
}

/// Reads the blob of `entry` from an open pack of length `file_len`, decompresses it and checks
/// its BLAKE3 id.
pub(crate) fn read_chunk(
    file: &File,
    file_len: u64,
    entry: &PackEntry,
) -> Result<Vec<u8>, ChunkFault> {
    let blob = read_blob(file, file_len, entry)?;
    decode_blob(&blob, entry).map_err(ChunkFault::Bad)
}

/// What checking or reading chunks one after another reuses: a zstd context and the buffers of
/// the last blob and its content, so that a check allocates (and faults in) no memory of its
/// own. A reader takes the content out and gives a written one's buffer back in its place.
#[derive(Default)]
pub(crate) struct Scratch {
    dctx: Option<zstd::bulk::Decompressor<'static>>,
    blob: Vec<u8>,
    pub(crate) data: Vec<u8>,
}

/// Reads the blob of `entry` from an open pack of length `file_len`, decompresses it and checks
/// its length and BLAKE3 id, as [`read_chunk`] does, in `scratch`'s buffers.
pub(crate) fn check_chunk(
    file: &File,
    file_len: u64,
    entry: &PackEntry,
    scratch: &mut Scratch,
) -> Result<(), ChunkFault> {
    read_blob_into(file, file_len, entry, &mut scratch.blob)?;
    let dctx = match &mut scratch.dctx {
        Some(dctx) => dctx,
        None => scratch
            .dctx
            .insert(zstd::bulk::Decompressor::new().map_err(ChunkFault::Io)?),
    };
    // Into the buffer's room, which zstd fills without it being zeroed first.
    scratch.data.clear();
    scratch.data.reserve(entry.raw_len as usize);
    dctx.decompress_to_buffer(&scratch.blob, &mut scratch.data)
        .map_err(|e| ChunkFault::Bad(format!("it does not decompress ({e})")))?;
    check_content(&scratch.data, entry).map_err(ChunkFault::Bad)
}

/// Reads the compressed blob of `entry`, checking it lies inside the file.
pub(crate) fn read_blob(
    file: &File,
    file_len: u64,
    entry: &PackEntry,
) -> Result<Vec<u8>, ChunkFault> {
    let mut blob = Vec::new();
    read_blob_into(file, file_len, entry, &mut blob)?;
    Ok(blob)
}

/// [`read_blob`] into `blob`, whose earlier content it replaces.
fn read_blob_into(
    file: &File,
    file_len: u64,
    entry: &PackEntry,
    blob: &mut Vec<u8>,
) -> Result<(), ChunkFault> {
    let end = entry.offset.checked_add(u64::from(entry.stored_len));
    if entry.offset < HEADER_LEN || end.is_none_or(|end| end > file_len) {
        return Err(ChunkFault::Bad(format!(
            "its blob at {}+{} lies beyond the end of the pack ({file_len} bytes)",
            entry.offset, entry.stored_len
        )));
    }
    if u64::from(entry.stored_len) > max_stored_len() || entry.raw_len > MAX_CHUNK_LEN {
        return Err(ChunkFault::Bad("its recorded sizes are impossible".into()));
    }
    blob.clear();
    blob.resize(entry.stored_len as usize, 0);
    read_at(file, entry.offset, blob).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => ChunkFault::Bad("its blob is cut short".into()),
        _ => ChunkFault::Io(e),
    })
}

/// Why a chunk could not be read: damaged data, or an I/O failure of the disk.
#[derive(Debug)]
pub(crate) enum ChunkFault {
    Bad(String),
    Io(io::Error),
}

impl std::fmt::Display for ChunkFault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChunkFault::Bad(why) => f.write_str(why),
            ChunkFault::Io(e) => write!(f, "reading it failed: {e}"),
        }
    }
}

/// Decompresses one blob and checks its length and BLAKE3 id.
pub(crate) fn decode_blob(blob: &[u8], entry: &PackEntry) -> Result<Vec<u8>, String> {
    let data = zstd::bulk::decompress(blob, entry.raw_len as usize)
        .map_err(|e| format!("it does not decompress ({e})"))?;
    check_content(&data, entry)?;
    Ok(data)
}

/// Checks a chunk's decompressed content against its recorded length and BLAKE3 id.
fn check_content(data: &[u8], entry: &PackEntry) -> Result<(), String> {
    if data.len() != entry.raw_len as usize {
        return Err(format!(
            "it decompresses to {} bytes instead of {}",
            data.len(),
            entry.raw_len
        ));
    }
    if blake3::hash(data).as_bytes() != &entry.id {
        return Err("its content does not match its id".into());
    }
    Ok(())
}

/// Syncs a directory so that entries created or renamed in it survive a crash.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    kura_durable::sync_dir(dir).map_err(durable_failed)
}

/// A failed step of `kura_durable`'s seam as this crate's error.
fn durable_failed(f: kura_durable::Failure) -> Error {
    Error::Io {
        path: f.path,
        source: f.source,
    }
}

fn random_hex(bytes: usize) -> Result<String, Error> {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).map_err(|e| Error::Internal(format!("no randomness: {e}")))?;
    Ok(hex::encode(buf))
}

/// A pack being written: a temporary file in `packs/`.
struct OpenPack {
    tmp_path: PathBuf,
    out: BufWriter<File>,
    len: u64,
    entries: Vec<PackEntry>,
    tags: Vec<u32>,
    /// The file's writeback, started behind the writes.
    writeback: kura_durable::Writeback,
}

/// A pack made durable under its final name, not yet indexed.
pub(crate) struct SealedPack {
    pub id: String,
    pub path: PathBuf,
    pub len: u64,
    pub entries: Vec<PackEntry>,
    /// Per entry, the tag given to [`PackWriter::append`] (the writer's `store` call number).
    pub tags: Vec<u32>,
}

/// Appends blobs into packs of about [`PACK_TARGET_SIZE`], sealing each one durably.
///
/// A pack that fills is sealed on a thread of its own while the next one is written: its fsync
/// waits on the disk (20–60 ms for a pack here), and the threads compressing and appending
/// chunks need not wait with it. One pack is sealed at a time; [`PackWriter::seal_open`] waits
/// for it, so every pack is durable once that returns, as before.
///
/// Dropped without [`PackWriter::keep`], it deletes everything it wrote: nothing it wrote is
/// indexed yet, so nobody can refer to it. After a failed write or seal it refuses all further
/// work: chunks already handed out as written may be lost, so the session must be discarded.
pub(crate) struct PackWriter {
    packs_dir: PathBuf,
    open: Option<OpenPack>,
    /// The full pack being sealed, if any.
    sealing: Option<JoinHandle<Result<SealedPack, Error>>>,
    pub sealed: Vec<SealedPack>,
    broken: Option<String>,
}

impl PackWriter {
    pub fn new(packs_dir: &Path) -> PackWriter {
        PackWriter {
            packs_dir: packs_dir.to_path_buf(),
            open: None,
            sealing: None,
            sealed: Vec::new(),
            broken: None,
        }
    }

    /// Fails when an earlier write or seal failed.
    pub fn check(&self) -> Result<(), Error> {
        match &self.broken {
            None => Ok(()),
            Some(why) => Err(Error::Internal(format!(
                "an earlier pack write of this writer failed ({why}); start a new writer"
            ))),
        }
    }

    /// Refuses all further work after a failure outside the writer (a chunk that could not be
    /// compressed); the first reason is kept.
    pub fn poison(&mut self, why: &Error) {
        self.broken.get_or_insert_with(|| why.to_string());
    }

    fn mark_broken<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(e) = &result {
            self.broken = Some(e.to_string());
        }
        result
    }

    /// Appends one compressed chunk; seals the pack when it reaches the target size.
    pub fn append(
        &mut self,
        id: ChunkId,
        raw_len: u32,
        blob: &[u8],
        tag: u32,
    ) -> Result<(), Error> {
        self.check()?;
        let result = self.try_append(id, raw_len, blob, tag);
        self.mark_broken(result)
    }

    fn try_append(
        &mut self,
        id: ChunkId,
        raw_len: u32,
        blob: &[u8],
        tag: u32,
    ) -> Result<(), Error> {
        // A seal that failed meanwhile stops the session now rather than at the next one.
        if self.sealing.as_ref().is_some_and(|s| s.is_finished()) {
            self.wait_for_seal()?;
        }
        if self.open.is_none() {
            self.open = Some(self.create()?);
        }
        let pack = self.open.as_mut().expect("just opened");
        let stored_len = u32::try_from(blob.len())
            .map_err(|_| Error::Internal(format!("blob of {} bytes is too large", blob.len())))?;
        pack.out.write_all(blob).map_err(io_at(&pack.tmp_path))?;
        pack.entries.push(PackEntry {
            id,
            offset: pack.len,
            stored_len,
            raw_len,
        });
        pack.tags.push(tag);
        pack.len += u64::from(stored_len);
        let in_file = pack.len - pack.out.buffer().len() as u64;
        pack.writeback.written_to(pack.out.get_ref(), in_file);
        if pack.len >= PACK_TARGET_SIZE {
            let full = self.open.take().expect("just written to");
            self.seal_in_background(full)?;
        }
        Ok(())
    }

    /// Seals `pack` on a thread of its own, once the pack sealed before it is.
    fn seal_in_background(&mut self, pack: OpenPack) -> Result<(), Error> {
        if let Err(e) = self.wait_for_seal() {
            let _ = fs::remove_file(&pack.tmp_path);
            return Err(e);
        }
        let (dir, tmp) = (self.packs_dir.clone(), pack.tmp_path.clone());
        let sealing = std::thread::Builder::new()
            .name("kura-pack-seal".into())
            .spawn(move || seal(&dir, pack));
        match sealing {
            Ok(sealing) => {
                self.sealing = Some(sealing);
                Ok(())
            }
            Err(e) => {
                // The pack went with the closure, unsealed.
                let _ = fs::remove_file(&tmp);
                Err(Error::Internal(format!(
                    "cannot start a thread to seal a pack: {e}"
                )))
            }
        }
    }

    /// Waits for the pack being sealed, if any, and adds it to `sealed`.
    fn wait_for_seal(&mut self) -> Result<(), Error> {
        let Some(sealing) = self.sealing.take() else {
            return Ok(());
        };
        let sealed = sealing
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
        self.sealed.push(sealed);
        Ok(())
    }

    fn create(&self) -> Result<OpenPack, Error> {
        let tmp_path = self
            .packs_dir
            .join(format!("{TMP_PREFIX}{}", random_hex(12)?));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp_path)
            .map_err(io_at(&tmp_path))?;
        let mut out = BufWriter::with_capacity(PACK_WRITE_BUFFER, file);
        out.write_all(PACK_MAGIC)
            .and_then(|_| out.write_all(&PACK_VERSION.to_le_bytes()))
            .map_err(io_at(&tmp_path))?;
        Ok(OpenPack {
            tmp_path,
            out,
            len: HEADER_LEN,
            entries: Vec::new(),
            tags: Vec::new(),
            writeback: kura_durable::Writeback::default(),
        })
    }

    /// Waits for the pack being sealed, then seals the open one: every pack written is then
    /// durable and in `sealed`.
    pub fn seal_open(&mut self) -> Result<(), Error> {
        self.check()?;
        let waited = self.wait_for_seal();
        self.mark_broken(waited)?;
        let Some(pack) = self.open.take() else {
            return Ok(());
        };
        let sealed = seal(&self.packs_dir, pack);
        let sealed = self.mark_broken(sealed)?;
        self.sealed.push(sealed);
        Ok(())
    }

    /// Keeps what was sealed: the caller indexed it (or deleted what it does not need). A pack
    /// still being sealed (there is none after [`PackWriter::seal_open`]) is not kept.
    pub fn keep(&mut self) {
        self.sealed.clear();
        if let Some(pack) = self.open.take() {
            let _ = fs::remove_file(&pack.tmp_path);
        }
    }
}

/// Writes the trailer of `pack`, fsyncs it, renames it to `packs/xx/<id>.pack` in `packs_dir`
/// and fsyncs the folder. The pack id is 32 random bytes in hex. On failure, nothing of it is
/// left.
fn seal(packs_dir: &Path, pack: OpenPack) -> Result<SealedPack, Error> {
    let tmp = pack.tmp_path.clone();
    let sealed = seal_as_is(packs_dir, pack);
    if sealed.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    sealed
}

fn seal_as_is(packs_dir: &Path, pack: OpenPack) -> Result<SealedPack, Error> {
    let OpenPack {
        tmp_path: tmp,
        mut out,
        len,
        entries,
        tags,
        writeback: _,
    } = pack;
    let trailer = encode_trailer(&entries);
    kura_durable::write_all(&mut out, &trailer, &tmp).map_err(durable_failed)?;
    let file = out.into_inner().map_err(|e| io_at(&tmp)(e.into_error()))?;
    kura_durable::sync_file(&file, &tmp).map_err(durable_failed)?;
    // Closed before the rename, which some platforms refuse on an open file.
    drop(file);
    let len = len + trailer.len() as u64;
    let (id, path) = loop {
        let id = random_hex(32)?;
        let path = pack_path(packs_dir, &id);
        if !path.exists() {
            break (id, path);
        }
    };
    let sub = path.parent().expect("pack path has a parent");
    if !sub.is_dir() {
        kura_durable::create_dir(sub).map_err(durable_failed)?;
    }
    kura_durable::rename_only(&tmp, &path).map_err(durable_failed)?;
    if let Err(e) = sync_dir(sub) {
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    Ok(SealedPack {
        id,
        path,
        len,
        entries,
        tags,
    })
}

impl Drop for PackWriter {
    fn drop(&mut self) {
        // A pack being sealed is deleted with the others once it is.
        if let Some(Ok(Ok(pack))) = self.sealing.take().map(JoinHandle::join) {
            self.sealed.push(pack);
        }
        if let Some(pack) = self.open.take() {
            drop(pack.out);
            if let Err(e) = fs::remove_file(&pack.tmp_path) {
                tracing::warn!(path = %pack.tmp_path.display(), "could not remove unfinished pack: {e}");
            }
        }
        for pack in self.sealed.drain(..) {
            if let Err(e) = fs::remove_file(&pack.path) {
                tracing::warn!(path = %pack.path.display(), "could not remove unindexed pack: {e}");
            }
        }
    }
}
