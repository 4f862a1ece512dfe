//! A project's file list (the files cache) as one record of the catalog.
//!
//! Every snapshot compares the folder with the list of what the latest version holds: path, size,
//! modification and change times, inode, mode, layer, object id and the version where the file
//! last changed. Like git's index, the list is written whole, as one zstd-compressed record per
//! project (`file_lists`), rather than as a row per file: for the 52,000 files of the Rust docs
//! it takes 1.7 MB instead of 14 MB of rows and index, and is written and read in a fraction of
//! the time. What statistics need of it is kept beside it: files and bytes per layer and type
//! (`file_usage`) and the project's largest files (`large_files`).
//!
//! The record, before compression (integers are LEB128 varints unless said otherwise):
//! - the format, one byte: `1`;
//! - the number of distinct last versions, then each one's commit id (20 bytes);
//! - the number of files, then for each, in path order: how many bytes its path shares with the
//!   previous one, the length and bytes of the rest, the size, the modification and change times
//!   in nanoseconds (zigzag: -1 marks a file to read again), the inode, the mode, the layer
//!   (0 git, 1 chunk store), the object id (20 bytes) and the index of its last version.

use rusqlite::{params, Connection, OptionalExtension};
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::model::file_type_of;
use crate::model::{CachedFile, Layer};

const FORMAT: u8 = 1;
/// zstd level of the record: about 15 ms for 52,000 files.
const LEVEL: i32 = 3;
/// How many of each project's largest files `large_files` keeps (statistics list the vault's 20
/// largest, which are among them).
pub(crate) const LARGEST: usize = 20;

/// The compressed record of `files`, which must be sorted by path.
pub(crate) fn encode(files: &[(&str, CachedFile)]) -> Vec<u8> {
    let mut versions: FxHashMap<[u8; 20], u64> = FxHashMap::default();
    let mut version_ids: Vec<[u8; 20]> = Vec::new();
    for (_, f) in files {
        versions.entry(f.last_version).or_insert_with(|| {
            version_ids.push(f.last_version);
            version_ids.len() as u64 - 1
        });
    }
    let mut out = Vec::with_capacity(64 + files.len() * 80);
    out.push(FORMAT);
    put(&mut out, version_ids.len() as u64);
    for v in &version_ids {
        out.extend_from_slice(v);
    }
    put(&mut out, files.len() as u64);
    let mut previous: &[u8] = b"";
    for (path, f) in files {
        let path = path.as_bytes();
        let shared = previous
            .iter()
            .zip(path)
            .take_while(|(a, b)| a == b)
            .count();
        put(&mut out, shared as u64);
        put(&mut out, (path.len() - shared) as u64);
        out.extend_from_slice(&path[shared..]);
        put(&mut out, f.size);
        put(&mut out, zigzag(f.mtime_ns));
        put(&mut out, zigzag(f.ctime_ns));
        put(&mut out, f.inode);
        put(&mut out, u64::from(f.mode));
        out.push(match f.layer {
            Layer::Git => 0,
            Layer::Chunks => 1,
        });
        out.extend_from_slice(&f.oid);
        put(&mut out, versions[&f.last_version]);
        previous = path;
    }
    zstd::bulk::compress(&out, LEVEL).expect("compressing into memory cannot fail")
}

/// The files of a record [`encode`] wrote, in path order.
pub(crate) fn decode(data: &[u8]) -> std::result::Result<Vec<(String, CachedFile)>, String> {
    let raw = zstd::stream::decode_all(data).map_err(|e| format!("cannot decompress it: {e}"))?;
    let mut r = Reader { data: &raw, at: 0 };
    let format = r.bytes(1)?[0];
    if format != FORMAT {
        return Err(format!("unknown format {format}"));
    }
    let version_count = r.count(20)?;
    let mut versions = Vec::with_capacity(version_count);
    for _ in 0..version_count {
        versions.push(r.id()?);
    }
    // Each file takes at least 27 bytes (20 of object id, one or more of each other field).
    let file_count = r.count(27)?;
    let mut files = Vec::with_capacity(file_count);
    let mut path: Vec<u8> = Vec::new();
    for _ in 0..file_count {
        let shared = r.varint()? as usize;
        if shared > path.len() {
            return Err("a path shares more than the previous one holds".into());
        }
        let rest = r.varint()? as usize;
        path.truncate(shared);
        path.extend_from_slice(r.bytes(rest)?);
        let size = r.varint()?;
        let mtime_ns = unzigzag(r.varint()?);
        let ctime_ns = unzigzag(r.varint()?);
        let inode = r.varint()?;
        let mode = u32::try_from(r.varint()?).map_err(|_| "a file mode is out of range")?;
        let layer = match r.bytes(1)?[0] {
            0 => Layer::Git,
            1 => Layer::Chunks,
            other => return Err(format!("unknown layer {other}")),
        };
        let oid = r.id()?;
        let version = r.varint()?;
        let last_version = *versions
            .get(version as usize)
            .ok_or("a file names a version the record does not hold")?;
        let name = String::from_utf8(path.clone()).map_err(|_| "a path is not UTF-8")?;
        files.push((
            name,
            CachedFile {
                size,
                mtime_ns,
                ctime_ns,
                inode,
                mode,
                layer,
                oid,
                last_version,
            },
        ));
    }
    if r.at != raw.len() {
        return Err("bytes follow the last file".into());
    }
    Ok(files)
}

/// The file list of a project (empty when it has none); `capacity`: how many files it probably
/// holds.
pub(crate) fn load(
    db: &Connection,
    project_id: &str,
    capacity: usize,
) -> Result<FxHashMap<String, CachedFile>> {
    let mut out = FxHashMap::with_capacity_and_hasher(capacity, Default::default());
    out.extend(load_sorted(db, project_id)?);
    Ok(out)
}

/// The file list of a project in path order (by bytes, as a scan sorts what it finds), for a
/// snapshot to walk beside its scan; empty when the project has none.
pub(crate) fn load_sorted(db: &Connection, project_id: &str) -> Result<Vec<(String, CachedFile)>> {
    let data: Option<Vec<u8>> = db
        .prepare_cached("SELECT data FROM file_lists WHERE project_id = ?1")?
        .query_row([project_id], |r| r.get(0))
        .optional()?;
    let Some(data) = data else {
        return Ok(Vec::new());
    };
    let mut files = decode(&data).map_err(|e| damaged(project_id, &e))?;
    // Stored in path order; a list written in another order is sorted rather than trusted.
    if !files.is_sorted_by(|a, b| a.0.as_bytes() < b.0.as_bytes()) {
        files.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    }
    Ok(files)
}

pub(crate) fn damaged(project_id: &str, problem: &str) -> Error {
    Error::corrupt(format!(
        "the catalog's file list of project {project_id} is damaged ({problem}); `kura snapshot` of the project rebuilds it"
    ))
}

/// A file list encoded for [`store_prepared`], with what statistics keep beside it: made
/// before the catalog is written to, so that a snapshot can prepare it while its packs are
/// made durable.
pub(crate) struct Prepared {
    files: usize,
    data: Vec<u8>,
    /// Files and bytes per layer and type.
    usage: Vec<(Layer, String, i64, i64)>,
    /// The largest files: path, size, layer.
    largest: Vec<(String, u64, Layer)>,
}

/// Encodes `files`, which must be sorted by path, for [`store_prepared`].
pub(crate) fn prepare(files: &[(&str, CachedFile)]) -> Prepared {
    let mut usage: FxHashMap<(Layer, String), (i64, i64)> = FxHashMap::default();
    for (path, f) in files {
        let slot = usage.entry((f.layer, file_type_of(path))).or_default();
        slot.0 += 1;
        slot.1 += f.size as i64;
    }
    let mut largest: Vec<&(&str, CachedFile)> = files.iter().collect();
    if largest.len() > LARGEST {
        largest.select_nth_unstable_by(LARGEST, |a, b| b.1.size.cmp(&a.1.size));
        largest.truncate(LARGEST);
    }
    Prepared {
        files: files.len(),
        data: encode(files),
        usage: usage
            .into_iter()
            .map(|((layer, ext), (count, bytes))| (layer, ext, count, bytes))
            .collect(),
        largest: largest
            .into_iter()
            .map(|(path, f)| (path.to_string(), f.size, f.layer))
            .collect(),
    }
}

/// Replaces the file list of a project with `files` (sorted by path), with its file usage and
/// largest files, inside the caller's transaction.
pub(crate) fn store(tx: &Connection, project_id: &str, files: &[(&str, CachedFile)]) -> Result<()> {
    store_prepared(tx, project_id, &prepare(files))
}

/// [`store`] of a list made by [`prepare`].
pub(crate) fn store_prepared(tx: &Connection, project_id: &str, list: &Prepared) -> Result<()> {
    tx.execute(
        "INSERT OR REPLACE INTO file_lists (project_id, files, data) VALUES (?1, ?2, ?3)",
        params![project_id, list.files as i64, list.data],
    )?;
    tx.execute("DELETE FROM file_usage WHERE project_id = ?1", [project_id])?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO file_usage (project_id, layer, ext, files, bytes) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    for (layer, ext, count, bytes) in &list.usage {
        ins.execute(params![project_id, layer.as_str(), ext, count, bytes])?;
    }
    tx.execute(
        "DELETE FROM large_files WHERE project_id = ?1",
        [project_id],
    )?;
    let mut ins = tx.prepare_cached(
        "INSERT INTO large_files (project_id, path, size, layer) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (path, size, layer) in &list.largest {
        ins.execute(params![project_id, path, *size as i64, layer.as_str()])?;
    }
    Ok(())
}

/// Gives the files of a project's list whose last version is a key of `renamed` that key's
/// value instead (thinning a history rewrites its commits).
pub(crate) fn rename_versions(
    tx: &Connection,
    project_id: &str,
    renamed: &FxHashMap<[u8; 20], [u8; 20]>,
) -> Result<()> {
    let data: Option<Vec<u8>> = tx
        .query_row(
            "SELECT data FROM file_lists WHERE project_id = ?1",
            [project_id],
            |r| r.get(0),
        )
        .optional()?;
    let Some(data) = data else {
        return Ok(());
    };
    let mut files = decode(&data).map_err(|e| damaged(project_id, &e))?;
    for (_, f) in &mut files {
        if let Some(new) = renamed.get(&f.last_version) {
            f.last_version = *new;
        }
    }
    let files: Vec<(&str, CachedFile)> = files.iter().map(|(p, f)| (p.as_str(), *f)).collect();
    store(tx, project_id, &files)
}

/// Forgets the file list of a project (archived: its folder is gone).
pub(crate) fn remove(tx: &Connection, project_id: &str) -> Result<()> {
    for table in ["file_lists", "file_usage", "large_files"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE project_id = ?1"),
            [project_id],
        )?;
    }
    Ok(())
}

/// A generated file for [`store_generated`].
#[doc(hidden)]
pub struct GeneratedFile {
    pub path: String,
    pub size: u64,
    pub chunks: bool,
    pub oid: [u8; 20],
    pub last_version: [u8; 20],
}

/// Writes a generated file list for a project, as a snapshot would (for benchmarks that build
/// large catalogs without large folders: `examples/catalog_queries.rs`).
#[doc(hidden)]
pub fn store_generated(
    tx: &Connection,
    project_id: &str,
    files: &mut [GeneratedFile],
) -> Result<()> {
    files.sort_by(|a, b| a.path.cmp(&b.path));
    let list: Vec<(&str, CachedFile)> = files
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let file = CachedFile {
                size: f.size,
                mtime_ns: 1_700_000_000_000_000_000,
                ctime_ns: 1_700_000_000_000_000_000,
                inode: i as u64,
                mode: 0o100644,
                layer: if f.chunks { Layer::Chunks } else { Layer::Git },
                oid: f.oid,
                last_version: f.last_version,
            };
            (f.path.as_str(), file)
        })
        .collect();
    store(tx, project_id, &list)
}

fn put(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    (v >> 1) as i64 ^ -((v & 1) as i64)
}

struct Reader<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn bytes(&mut self, n: usize) -> std::result::Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|&e| e <= self.data.len());
        let end = end.ok_or("it ends early")?;
        let out = &self.data[self.at..end];
        self.at = end;
        Ok(out)
    }

    fn id(&mut self) -> std::result::Result<[u8; 20], String> {
        let mut id = [0u8; 20];
        id.copy_from_slice(self.bytes(20)?);
        Ok(id)
    }

    fn varint(&mut self) -> std::result::Result<u64, String> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let b = self.bytes(1)?[0];
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err("a number is too long".into())
    }

    /// A count of items of at least `min_len` bytes each, checked against what is left (so a
    /// damaged count cannot ask for a huge allocation).
    fn count(&mut self, min_len: usize) -> std::result::Result<usize, String> {
        let n = self.varint()?;
        let left = (self.data.len() - self.at) as u64;
        if n.saturating_mul(min_len as u64) > left {
            return Err("it ends early".into());
        }
        Ok(n as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(size: u64, mtime_ns: i64, layer: Layer, version: u8) -> CachedFile {
        CachedFile {
            size,
            mtime_ns,
            ctime_ns: 1_700_000_000_123_456_789,
            inode: 1 << 40,
            mode: 0o100755,
            layer,
            oid: [size as u8; 20],
            last_version: [version; 20],
        }
    }

    #[test]
    fn a_list_round_trips_with_shared_prefixes_racy_times_and_versions() {
        let files = vec![
            ("", file(0, 0, Layer::Git, 1)),
            ("a/b/c.txt", file(5, -1, Layer::Git, 1)),
            ("a/b/d.txt", file(u64::MAX, i64::MIN, Layer::Chunks, 2)),
            ("a/bé/x", file(300, i64::MAX, Layer::Git, 3)),
            ("z", file(1, 1, Layer::Git, 2)),
        ];
        let back = decode(&encode(&files)).unwrap();
        assert_eq!(back.len(), files.len());
        for ((path, f), (bpath, b)) in files.iter().zip(&back) {
            assert_eq!(path, bpath);
            assert_eq!(
                (
                    f.size,
                    f.mtime_ns,
                    f.ctime_ns,
                    f.inode,
                    f.mode,
                    f.layer,
                    f.oid,
                    f.last_version
                ),
                (
                    b.size,
                    b.mtime_ns,
                    b.ctime_ns,
                    b.inode,
                    b.mode,
                    b.layer,
                    b.oid,
                    b.last_version
                )
            );
        }
        assert!(decode(&encode(&[])).unwrap().is_empty());
    }

    #[test]
    fn a_damaged_record_is_an_error_not_a_panic() {
        let files = vec![
            ("src/lib.rs", file(10, 5, Layer::Git, 1)),
            ("src/main.rs", file(20, 6, Layer::Chunks, 2)),
        ];
        let raw = zstd::stream::decode_all(&encode(&files)[..]).unwrap();
        // Every truncation, and every single-byte change, decodes to an error or to some list:
        // never a panic or a huge allocation.
        for len in 0..raw.len() {
            let cut = zstd::bulk::compress(&raw[..len], 1).unwrap();
            assert!(decode(&cut).is_err(), "cut at {len}");
        }
        for at in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.clone();
                bad[at] ^= 1 << bit;
                let _ = decode(&zstd::bulk::compress(&bad, 1).unwrap());
            }
        }
        assert!(decode(b"not zstd").is_err());
    }
}
