//! Streaming objects into a pack file and installing it with its index.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::hash::{BuildHasher, Hasher};
use std::io::{self, BufWriter, ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use sha1::{Digest, Sha1};

use crate::index::{build_index, IndexEntry};
use crate::{EncodedDelta, EncodedObject, Error, ObjectKind, Oid};

/// Buffer between `add` and the pack file; big entries bypass it.
const WRITE_BUFFER: usize = 2 << 20;
/// Read size when hashing the finished pack for its trailer.
const HASH_BUFFER: usize = 1 << 20;
/// Git ignores (and `git gc` eventually deletes) files in objects/pack starting with `tmp_`.
// Kura's temp-file prefix (`kura_durable::TEMP_PREFIX`), which backups skip and cleanup removes.
pub(crate) const TEMP_PACK_PREFIX: &str = ".kura-tmp-pack-";
pub(crate) const TEMP_INDEX_PREFIX: &str = ".kura-tmp-idx-";
/// "PACK", version 2, object count (patched on finish).
const PACK_HEADER_LEN: u64 = 12;
/// The longest chain of deltas an object of a pack written here sits at the end of: reading it
/// applies that many deltas. Git's default (`pack.depth`).
pub const MAX_DELTA_DEPTH: u16 = 50;

/// What [`PackWriter::add_delta`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeltaAdded {
    /// The delta was appended.
    Added,
    /// An object with the same id is in the pack already.
    AlreadyInPack,
    /// The base is not in this pack, or the object would sit deeper than
    /// [`MAX_DELTA_DEPTH`]: the object must be added whole.
    NeedsWhole,
}

/// A pack that has been written and installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackInfo {
    /// `"pack-<hex of the pack checksum>"`, the name git knows the pack by.
    pub name: String,
    /// The installed `.pack` file.
    pub pack_path: PathBuf,
    /// The installed `.idx` file.
    pub index_path: PathBuf,
    /// How many objects the pack holds.
    pub objects: u32,
    /// Size of the `.pack` file in bytes.
    pub bytes: u64,
}

/// Streams objects into a temporary pack in `pack_dir`; [`PackWriter::finish`] installs it as
/// `pack-<checksum>.pack` plus `.idx`. Dropping the writer unfinished removes the temporary file.
///
/// Objects are stored whole, or as deltas against objects before them in the pack; each once.
#[derive(Debug)]
pub struct PackWriter {
    pack_dir: PathBuf,
    temp_path: PathBuf,
    /// `None` once finished, or after a failed write left the file in an unknown state.
    file: Option<BufWriter<File>>,
    /// Whether `temp_path` is still ours to delete.
    temp_exists: bool,
    /// Bytes written so far, i.e. the offset of the next entry.
    offset: u64,
    /// The file's writeback, started behind the writes.
    writeback: kura_durable::Writeback,
    entries: Vec<IndexEntry>,
    /// Where each object of the pack starts, and how many deltas reading it applies.
    placed: HashMap<Oid, Placed>,
}

#[derive(Clone, Copy, Debug)]
struct Placed {
    offset: u64,
    depth: u16,
}

impl PackWriter {
    /// Starts a pack in `pack_dir` (e.g. `<repo.git>/objects/pack`, which must exist).
    pub fn create(pack_dir: &Path) -> Result<PackWriter, Error> {
        let (file, temp_path) = create_temp(pack_dir, TEMP_PACK_PREFIX)?;
        let mut writer = PackWriter {
            pack_dir: pack_dir.to_path_buf(),
            temp_path,
            file: Some(BufWriter::with_capacity(WRITE_BUFFER, file)),
            temp_exists: true,
            offset: 0,
            writeback: kura_durable::Writeback::default(),
            entries: Vec::new(),
            placed: HashMap::new(),
        };
        let mut header = [0u8; PACK_HEADER_LEN as usize];
        header[..4].copy_from_slice(b"PACK");
        header[4..8].copy_from_slice(&2u32.to_be_bytes());
        writer.write(&header)?;
        Ok(writer)
    }

    /// Appends `obj`, unless an object with the same id is already in this pack; then returns false.
    pub fn add(&mut self, obj: &EncodedObject) -> Result<bool, Error> {
        if self.placed.contains_key(&obj.oid) {
            return Ok(false);
        }
        self.room_for_one_more()?;
        let offset = self.offset;
        self.write(obj.entry())?;
        self.placed(obj.oid, offset, obj.crc32(), 0);
        Ok(true)
    }

    /// Appends `delta`, whose base must be in this pack already, at most [`MAX_DELTA_DEPTH`] - 1
    /// deltas deep; otherwise the caller adds the object whole.
    pub fn add_delta(&mut self, delta: &EncodedDelta) -> Result<DeltaAdded, Error> {
        if self.placed.contains_key(&delta.oid) {
            return Ok(DeltaAdded::AlreadyInPack);
        }
        let Some(base) = self.placed.get(&delta.base).copied() else {
            return Ok(DeltaAdded::NeedsWhole);
        };
        if base.depth >= MAX_DELTA_DEPTH {
            return Ok(DeltaAdded::NeedsWhole);
        }
        self.room_for_one_more()?;
        let offset = self.offset;
        let (head, crc32) = delta.entry_head(offset - base.offset);
        self.write(&head)?;
        self.write(delta.deflated())?;
        self.placed(delta.oid, offset, crc32, base.depth + 1);
        Ok(DeltaAdded::Added)
    }

    fn room_for_one_more(&self) -> Result<(), Error> {
        if self.entries.len() >= u32::MAX as usize {
            return Err(Error::TooManyObjects {
                path: self.temp_path.clone(),
            });
        }
        Ok(())
    }

    fn placed(&mut self, oid: Oid, offset: u64, crc32: u32, depth: u16) {
        self.entries.push(IndexEntry { oid, offset, crc32 });
        self.placed.insert(oid, Placed { offset, depth });
    }

    /// Encodes `data` and adds it; returns its id whether or not it was already in the pack.
    pub fn add_data(
        &mut self,
        kind: ObjectKind,
        data: &[u8],
        zlib_level: u32,
    ) -> Result<Oid, Error> {
        let obj = EncodedObject::encode(kind, data, zlib_level);
        self.add(&obj)?;
        Ok(obj.oid)
    }

    /// Whether an object with this id was added to this pack.
    pub fn contains(&self, oid: &Oid) -> bool {
        self.placed.contains_key(oid)
    }

    /// Whether an object with this id was added to this pack whole (not as a delta).
    pub fn holds_whole(&self, oid: &Oid) -> bool {
        self.placed.get(oid).is_some_and(|p| p.depth == 0)
    }

    /// How many objects were added so far.
    pub fn object_count(&self) -> u32 {
        self.entries.len() as u32
    }

    /// Completes the pack durably: patches the object count, appends the checksum, fsyncs, renames
    /// the `.pack` into place, then writes, fsyncs and renames the `.idx` (git only uses a pack once
    /// its index exists), fsyncing the directory after each rename.
    ///
    /// Returns `Ok(None)`, leaving nothing behind, if no object was added.
    pub fn finish(self) -> Result<Option<PackInfo>, Error> {
        match self.seal()? {
            Some(sealed) => sealed.install().map(Some),
            None => Ok(None),
        }
    }

    /// The first half of [`PackWriter::finish`]: patches the object count, appends the checksum
    /// and fsyncs the temporary file, which nothing sees yet (a caller that must make other
    /// files durable before the pack may do that meanwhile, then [`SealedPack::install`] it).
    ///
    /// Returns `Ok(None)`, leaving nothing behind, if no object was added.
    pub fn seal(mut self) -> Result<Option<SealedPack>, Error> {
        let file = self.take_file()?;
        if self.entries.is_empty() {
            drop(file.into_parts());
            self.temp_exists = false;
            fs::remove_file(&self.temp_path).map_err(Error::io(&self.temp_path))?;
            return Ok(None);
        }

        let mut file = file.into_inner().map_err(|e| Error::Io {
            path: self.temp_path.clone(),
            source: e.into_error(),
        })?;
        let checksum = seal_pack(&mut file, self.object_count(), self.offset)
            .map_err(Error::io(&self.temp_path))?;
        kura_durable::write_all(&mut file, &checksum, &self.temp_path).map_err(durable_failed)?;
        kura_durable::sync_file(&file, &self.temp_path).map_err(durable_failed)?;
        drop(file);
        // From here on the sealed pack owns the temporary file.
        self.temp_exists = false;
        Ok(Some(SealedPack {
            pack_dir: std::mem::take(&mut self.pack_dir),
            temp_path: Some(std::mem::take(&mut self.temp_path)),
            checksum,
            entries: std::mem::take(&mut self.entries),
            bytes: self.offset + 20,
        }))
    }

    /// Writes to the pack; after a failure the writer refuses further writes, as the file's
    /// content is then unknown.
    fn write(&mut self, bytes: &[u8]) -> Result<(), Error> {
        let file = self.file.as_mut().ok_or_else(|| broken(&self.temp_path))?;
        if let Err(source) = file.write_all(bytes) {
            self.file = None;
            return Err(Error::Io {
                path: self.temp_path.clone(),
                source,
            });
        }
        self.offset += bytes.len() as u64;
        // What the buffer handed to the file so far.
        let in_file = self.offset - file.buffer().len() as u64;
        self.writeback.written_to(file.get_ref(), in_file);
        Ok(())
    }

    fn take_file(&mut self) -> Result<BufWriter<File>, Error> {
        self.file.take().ok_or_else(|| broken(&self.temp_path))
    }
}

impl Drop for PackWriter {
    fn drop(&mut self) {
        if let Some(file) = self.file.take() {
            // Discard the buffer rather than flush it into a file about to be deleted.
            drop(file.into_parts());
        }
        if self.temp_exists {
            let _ = fs::remove_file(&self.temp_path);
        }
    }
}

/// A pack written and fsynced under its temporary name ([`PackWriter::seal`]), not yet installed.
/// Dropping it uninstalled removes the temporary file.
#[derive(Debug)]
pub struct SealedPack {
    pack_dir: PathBuf,
    /// `None` once installed.
    temp_path: Option<PathBuf>,
    checksum: Oid,
    entries: Vec<IndexEntry>,
    bytes: u64,
}

impl SealedPack {
    /// The second half of [`PackWriter::finish`]: renames the `.pack` into place, then writes,
    /// fsyncs and renames the `.idx`, fsyncing the directory after each rename.
    pub fn install(mut self) -> Result<PackInfo, Error> {
        let temp_path = self
            .temp_path
            .take()
            .expect("a sealed pack is installed once");
        let name = format!("pack-{}", hex::encode(self.checksum));
        let pack_path = self.pack_dir.join(format!("{name}.pack"));
        let index_path = self.pack_dir.join(format!("{name}.idx"));
        // Same checksum means same content: an existing pack of that name is this pack.
        let placed = if pack_path.exists() {
            fs::remove_file(&temp_path).map_err(Error::io(&temp_path))
        } else {
            kura_durable::rename_only(&temp_path, &pack_path).map_err(durable_failed)
        };
        if let Err(e) = placed {
            self.temp_path = Some(temp_path);
            return Err(e);
        }
        sync_dir(&self.pack_dir)?;

        if !index_path.exists() {
            let index = build_index(&mut self.entries, &self.checksum);
            write_durably(&self.pack_dir, TEMP_INDEX_PREFIX, &index, &index_path)?;
        }

        Ok(PackInfo {
            name,
            pack_path,
            index_path,
            objects: self.entries.len() as u32,
            bytes: self.bytes,
        })
    }
}

impl Drop for SealedPack {
    fn drop(&mut self) {
        if let Some(temp_path) = self.temp_path.take() {
            let _ = fs::remove_file(temp_path);
        }
    }
}

fn broken(temp_path: &Path) -> Error {
    Error::Io {
        path: temp_path.to_path_buf(),
        source: io::Error::other(
            "an earlier write to this pack failed; drop the writer and start a new pack",
        ),
    }
}

/// Patches the object count into the header, hashes the whole file and leaves the file at its end,
/// where the caller appends the hash.
/// `len` is the expected size before the trailer, as a guard against a short file.
fn seal_pack(file: &mut File, count: u32, len: u64) -> io::Result<Oid> {
    file.seek(SeekFrom::Start(8))?;
    file.write_all(&count.to_be_bytes())?;
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; HASH_BUFFER];
    let mut read = 0u64;
    loop {
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                read += n as u64;
            }
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    if read != len || len < PACK_HEADER_LEN {
        return Err(io::Error::new(
            ErrorKind::InvalidData,
            format!("pack file holds {read} bytes, expected {len}"),
        ));
    }
    let checksum: Oid = hasher.finalize().into();
    file.seek(SeekFrom::End(0))?;
    Ok(checksum)
}

/// Creates a new, uniquely named file `<dir>/<prefix><random>`.
pub(crate) fn create_temp(dir: &Path, prefix: &str) -> Result<(File, PathBuf), Error> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut attempt = 0;
    loop {
        // RandomState is seeded randomly per process; the counter and pid tell apart the rest.
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        hasher.write_u32(std::process::id());
        let path = dir.join(format!("{prefix}{:016x}", hasher.finish()));
        match OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(file) => return Ok((file, path)),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && attempt < 16 => attempt += 1,
            Err(source) => return Err(Error::Io { path, source }),
        }
    }
}

/// Writes `bytes` to a temp file `<dir>/<prefix><random>`, fsyncs it, renames it to `path` and
/// fsyncs `dir` (`path` is in `dir`).
pub(crate) fn write_durably(
    dir: &Path,
    prefix: &str,
    bytes: &[u8],
    path: &Path,
) -> Result<(), Error> {
    debug_assert_eq!(path.parent(), Some(dir));
    kura_durable::write_with_prefix(path, prefix, |w| w.write_all(bytes)).map_err(durable_failed)
}

/// Makes renames in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), Error> {
    kura_durable::sync_dir(dir).map_err(durable_failed)
}

/// A failed step of `kura_durable`'s seam as this crate's error.
pub(crate) fn durable_failed(f: kura_durable::Failure) -> Error {
    Error::Io {
        path: f.path,
        source: f.source,
    }
}
