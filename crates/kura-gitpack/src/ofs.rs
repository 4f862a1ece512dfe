//! Rewrites a pack's `REF_DELTA` entries as `OFS_DELTA`, as git writes them: a delta's base named
//! by its distance back in the same pack (one to four bytes here) instead of its 20-byte id.
//! libgit2's pack builder writes only `REF_DELTA`; on the Rust docs this is a fifth of what its
//! pack is larger than `git gc`'s.
//!
//! Entries are copied as they are (no object is inflated); only the headers of the deltas whose
//! base comes earlier in the pack change, and with them the offsets, CRCs and checksum.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use sha1::{Digest, Sha1};

use crate::copy::{damaged, entry_header, read_index, SourcePack, OBJ_OFS_DELTA, OBJ_REF_DELTA};
use crate::index::{build_index, IndexEntry};
use crate::writer::{
    create_temp, durable_failed, sync_dir, write_durably, PackInfo, TEMP_INDEX_PREFIX,
    TEMP_PACK_PREFIX,
};
use crate::{Error, Oid};

/// Writes the pack at `pack` (a `.pack` beside its `.idx` version 2) again with every
/// `REF_DELTA` whose base comes earlier in it as an `OFS_DELTA`, and installs the result durably
/// as `pack-<checksum>.pack` and `.idx` beside it (the same objects: the caller removes the old
/// pack). `None`, with nothing written, when no entry needed it.
pub fn with_offset_deltas(pack: &Path) -> Result<Option<PackInfo>, Error> {
    let mut old = OldPack::open(pack)?;
    let pack_dir = pack.parent().unwrap_or_else(|| Path::new("."));
    let mut buf = Vec::new();
    if !old.any_delta_changes(&mut buf)? {
        return Ok(None);
    }

    let (file, temp_path) = create_temp(pack_dir, TEMP_PACK_PREFIX)?;
    let mut temp = TempPack {
        path: &temp_path,
        keep: false,
    };
    let mut out = Out {
        file: BufWriter::with_capacity(1 << 20, file),
        hasher: Sha1::new(),
        written: 0,
        path: &temp_path,
    };
    out.put(&old.header)?;
    let index = old.copy_entries(&mut out, &mut buf)?;
    let written = out.finish()?;
    install(pack_dir, &mut temp, written, index, old.count).map(Some)
}

/// The pack being rewritten: its index, where each object is in it, the file and its header.
struct OldPack<'a> {
    path: &'a Path,
    source: SourcePack,
    /// Each object's offset in the pack.
    at: HashMap<Oid, u64>,
    input: File,
    header: [u8; 12],
    /// Objects in the pack, as its header counts them.
    count: u32,
}

impl<'a> OldPack<'a> {
    /// Reads the index of the pack at `pack` and checks the pack's header against it.
    fn open(pack: &'a Path) -> Result<OldPack<'a>, Error> {
        let source = read_index(&pack.with_extension("idx"), pack)?;
        let at: HashMap<Oid, u64> = source.entries.iter().map(|e| (e.oid, e.offset)).collect();
        let mut input = File::open(pack).map_err(Error::io(pack))?;
        let mut header = [0u8; 12];
        input.read_exact(&mut header).map_err(Error::io(pack))?;
        let count = u32::from_be_bytes([header[8], header[9], header[10], header[11]]);
        if &header[..4] != b"PACK" || count as usize != source.entries.len() {
            return Err(damaged(pack));
        }
        Ok(OldPack {
            path: pack,
            source,
            at,
            input,
            header,
            count,
        })
    }

    /// Whether any delta would change, before writing anything.
    fn any_delta_changes(&mut self, buf: &mut Vec<u8>) -> Result<bool, Error> {
        let pack = self.path;
        let mut any = false;
        for e in &self.source.entries {
            read_entry(&mut self.input, pack, e.offset, e.end, buf)?;
            let (kind, _, h) = entry_header(buf).ok_or_else(|| damaged(pack))?;
            if kind == OBJ_REF_DELTA && base_before(buf, h, &self.at, e.offset).is_some() {
                any = true;
                break;
            }
        }
        Ok(any)
    }

    /// Copies every entry to `out`, each `REF_DELTA` whose base is already written as an
    /// `OFS_DELTA`; the new index's rows.
    fn copy_entries(
        &mut self,
        out: &mut Out<'_>,
        buf: &mut Vec<u8>,
    ) -> Result<Vec<IndexEntry>, Error> {
        let pack = self.path;
        // Old offsets to new ones, of the entries written so far.
        let mut moved: HashMap<u64, u64> = HashMap::with_capacity(self.source.entries.len());
        let mut index = Vec::with_capacity(self.source.entries.len());
        for e in &self.source.entries {
            read_entry(&mut self.input, pack, e.offset, e.end, buf)?;
            let (kind, _, h) = entry_header(buf).ok_or_else(|| damaged(pack))?;
            let offset = out.written;
            moved.insert(e.offset, offset);
            let base = if kind == OBJ_REF_DELTA {
                base_before(buf, h, &self.at, e.offset).and_then(|old| moved.get(&old).copied())
            } else {
                None
            };
            let mut crc = crc32fast::Hasher::new();
            match base {
                Some(base) => {
                    // Same type-and-size field but for the type, then the distance for the id.
                    let mut head = buf[..h].to_vec();
                    head[0] = (head[0] & 0x8f) | (OBJ_OFS_DELTA << 4);
                    head.extend_from_slice(&crate::object::encode_distance(offset - base));
                    crc.update(&head);
                    crc.update(&buf[h + 20..]);
                    out.put(&head)?;
                    out.put(&buf[h + 20..])?;
                }
                None => {
                    crc.update(buf);
                    out.put(buf)?;
                }
            }
            index.push(IndexEntry {
                oid: e.oid,
                offset,
                crc32: crc.finalize(),
            });
        }
        Ok(index)
    }
}

/// The new pack as written to its temporary file.
struct Written {
    checksum: Oid,
    /// Its length, trailer included.
    bytes: u64,
}

/// Installs the written pack as `pack-<checksum>.pack` and writes its index beside it, each unless
/// it is there already.
fn install(
    pack_dir: &Path,
    temp: &mut TempPack<'_>,
    written: Written,
    mut index: Vec<IndexEntry>,
    objects: u32,
) -> Result<PackInfo, Error> {
    let Written { checksum, bytes } = written;
    let name = format!("pack-{}", hex::encode(checksum));
    let pack_path = pack_dir.join(format!("{name}.pack"));
    let index_path = pack_dir.join(format!("{name}.idx"));
    if !pack_path.exists() {
        kura_durable::rename_only(temp.path, &pack_path).map_err(durable_failed)?;
        temp.keep = true;
    }
    sync_dir(pack_dir)?;
    if !index_path.exists() {
        let idx = build_index(&mut index, &checksum);
        write_durably(pack_dir, TEMP_INDEX_PREFIX, &idx, &index_path)?;
    }
    Ok(PackInfo {
        name,
        pack_path,
        index_path,
        objects,
        bytes,
    })
}

/// The pack being written, hashed as it goes.
struct Out<'a> {
    file: BufWriter<File>,
    hasher: Sha1,
    written: u64,
    path: &'a Path,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> Result<(), Error> {
        self.file.write_all(bytes).map_err(Error::io(self.path))?;
        self.hasher.update(bytes);
        self.written += bytes.len() as u64;
        Ok(())
    }

    /// Ends the pack with its checksum and makes it durable.
    fn finish(mut self) -> Result<Written, Error> {
        let checksum: Oid = self.hasher.finalize_reset().into();
        let bytes = self.written + 20;
        let mut file = self
            .file
            .into_inner()
            .map_err(|e| Error::io(self.path)(e.into_error()))?;
        file.write_all(&checksum).map_err(Error::io(self.path))?;
        kura_durable::sync_file(&file, self.path).map_err(durable_failed)?;
        drop(file);
        Ok(Written { checksum, bytes })
    }
}

/// Removes the temporary pack unless it was installed.
struct TempPack<'a> {
    path: &'a Path,
    keep: bool,
}

impl Drop for TempPack<'_> {
    fn drop(&mut self) {
        if !self.keep {
            let _ = fs::remove_file(self.path);
        }
    }
}

/// Reads the entry at `[offset, end)` of the pack into `buf`.
fn read_entry(
    input: &mut File,
    pack: &Path,
    offset: u64,
    end: u64,
    buf: &mut Vec<u8>,
) -> Result<(), Error> {
    buf.resize((end - offset) as usize, 0);
    input
        .seek(SeekFrom::Start(offset))
        .and_then(|_| input.read_exact(buf))
        .map_err(Error::io(pack))
}

/// The offset of a `REF_DELTA`'s base when the base comes before the delta in the pack.
fn base_before(
    entry: &[u8],
    header_len: usize,
    at: &HashMap<Oid, u64>,
    offset: u64,
) -> Option<u64> {
    let id: Oid = entry.get(header_len..header_len + 20)?.try_into().ok()?;
    at.get(&id).copied().filter(|&base| base < offset)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use kura_test_support::git;

    use super::*;
    use crate::copy::ofs_distance;
    use crate::object::encode_distance;

    #[test]
    fn distances_read_back_as_written() {
        for d in [
            1u64,
            127,
            128,
            129,
            16_383,
            16_384,
            16_511,
            16_512,
            1 << 30,
            u64::from(u32::MAX) * 7,
        ] {
            let bytes = encode_distance(d);
            assert_eq!(ofs_distance(&bytes), Some((d, bytes.len())), "{d}");
        }
        assert_eq!(encode_distance(127).len(), 1);
        assert_eq!(encode_distance(128).len(), 2);
    }

    /// Counts entries by type (6 OFS_DELTA, 7 REF_DELTA, ...) as `git verify-pack` lists them.
    fn kinds(idx: &Path) -> HashMap<u8, usize> {
        let pack = fs::read(idx.with_extension("pack")).unwrap();
        let listing = git(
            Path::new("."),
            &["verify-pack", "-v", idx.to_str().unwrap()],
        );
        let mut kinds = HashMap::new();
        for line in listing.lines() {
            let f: Vec<&str> = line.split_whitespace().collect();
            if f.len() >= 5 && ["blob", "tree", "commit", "tag"].contains(&f[1]) {
                let offset: usize = f[4].parse().unwrap();
                *kinds.entry((pack[offset] >> 4) & 7).or_insert(0) += 1;
            }
        }
        kinds
    }

    #[test]
    fn a_pack_of_ref_deltas_becomes_a_smaller_one_git_reads_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path();
        git(repo, &["init", "-q"]);
        // Versions of a few files that differ a little: deltas against one another.
        let mut text = String::new();
        for i in 0..400 {
            text.push_str(&format!(
                "line {i} of a file that changes a little in each version
"
            ));
        }
        for v in 0..12 {
            for f in 0..4 {
                let body = text.replace(&format!("line {}", v * 7 + f), &format!("edit {v}"));
                fs::write(repo.join(format!("f{f}.txt")), body).unwrap();
            }
            git(repo, &["add", "-A"]);
            git(
                repo,
                &[
                    "-c",
                    "user.name=t",
                    "-c",
                    "user.email=t@t",
                    "commit",
                    "-qm",
                    &format!("v{v}"),
                ],
            );
        }
        // What libgit2's builder writes: deltas named by their base's id.
        let pack_dir = repo.join(".git/objects/pack");
        git(
            repo,
            &[
                "-c",
                "repack.useDeltaBaseOffset=false",
                "repack",
                "-a",
                "-d",
                "-q",
                "-F",
            ],
        );
        let idx: PathBuf = fs::read_dir(&pack_dir)
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "idx"))
            .unwrap();
        let before = kinds(&idx);
        assert!(
            before.get(&OBJ_REF_DELTA).copied().unwrap_or(0) > 30,
            "{before:?}"
        );
        assert_eq!(before.get(&OBJ_OFS_DELTA), None);
        let old_pack = idx.with_extension("pack");
        let old_len = fs::metadata(&old_pack).unwrap().len();

        let info = with_offset_deltas(&old_pack)
            .unwrap()
            .expect("deltas to rewrite");
        assert_ne!(info.pack_path, old_pack);
        assert_eq!(info.bytes, fs::metadata(&info.pack_path).unwrap().len());
        assert!(info.bytes < old_len, "{} then {}", old_len, info.bytes);
        let after = kinds(&info.index_path);
        assert_eq!(after.get(&OBJ_REF_DELTA), None, "{after:?}");
        assert_eq!(after.get(&OBJ_OFS_DELTA), before.get(&OBJ_REF_DELTA));
        assert_eq!(info.objects as usize, after.values().sum::<usize>());
        // git checks every object's id and each entry's CRC against the new index.
        git(
            Path::new("."),
            &["verify-pack", info.index_path.to_str().unwrap()],
        );
        // With the old pack gone, the history reads the same.
        let log = git(repo, &["log", "-p", "--format=%H %s"]);
        for old in [idx.clone(), old_pack.clone(), idx.with_extension("rev")] {
            let _ = fs::remove_file(old);
        }
        git(repo, &["fsck", "--strict", "--no-dangling"]);
        assert_eq!(git(repo, &["log", "-p", "--format=%H %s"]), log);
        // Nothing left to rewrite the second time; nothing temporary left behind.
        assert_eq!(with_offset_deltas(&info.pack_path).unwrap(), None);
        let names: Vec<String> = fs::read_dir(&pack_dir)
            .unwrap()
            .flatten()
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn a_damaged_index_is_an_error_and_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let pack = dir.path().join("pack-x.pack");
        fs::write(&pack, b"PACK\0\0\0\x02\0\0\0\x01junk").unwrap();
        fs::write(pack.with_extension("idx"), b"not an index").unwrap();
        assert!(with_offset_deltas(&pack).is_err());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
