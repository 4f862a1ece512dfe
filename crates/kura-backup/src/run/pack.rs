//! Packing new blobs and uploading full packs, a few at a time: small files' blobs share packs,
//! each large file's go into packs of their own. A pack goes up with its index (pack first), and
//! enters the blob cache only once both are stored; when an upload fails, every pack not yet sent
//! waits in the outbox for the next run.

use std::collections::{HashMap, HashSet, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::Receiver;
use std::time::Instant;

use bytes::Bytes;
use kura_core::Result;

use super::throttle::Throttle;
use super::tunables::MAX_BLOB_LEN;
use crate::outbox;
use crate::repo::{self, BlobEntry, PackIndex, PACK_MAGIC, PACK_TARGET_SIZE};
use crate::session::Session;
use crate::state::State;
use crate::store::Upload;

/// A chunk the target does not hold, compressed and sealed.
pub(super) struct NewBlob {
    pub(super) id: [u8; 32],
    pub(super) stored: Vec<u8>,
    pub(super) raw_len: u32,
}

/// What the chunking threads send the packer.
pub(super) enum ToPacker {
    /// A new blob; `file` (the item's index) is set for a large file's, which get own packs.
    Blob { blob: NewBlob, file: Option<usize> },
    /// Large file `file` is read: its last pack, however full, can go.
    FileDone(usize),
}

/// Hands the packer what the chunking threads send until they are done. After the first failure
/// it sets `stop` and takes the rest without packing it, so that no thread waits on a full queue.
pub(super) fn pack_all(
    packer: &mut Packer,
    state: &mut State,
    rx: &Receiver<ToPacker>,
    stop: &AtomicBool,
) -> Result<()> {
    let mut result = Ok(());
    for message in rx.iter() {
        if result.is_ok() {
            let done = match message {
                ToPacker::Blob { blob, file } => packer.add(blob, file, state),
                ToPacker::FileDone(file) => packer.file_done(file, state),
            };
            if let Err(e) = done {
                stop.store(true, Ordering::Relaxed);
                result = Err(e);
            }
        }
    }
    result
}

/// A buffer for a pack, room for a full pack and the blob that fills it made up front (growing
/// it by doubling would hold up to twice the pack in memory, for every pack in flight).
fn new_pack_buffer() -> Vec<u8> {
    let mut buf = Vec::with_capacity(PACK_TARGET_SIZE + MAX_BLOB_LEN);
    buf.extend_from_slice(PACK_MAGIC);
    buf
}

/// A pack being filled.
struct OpenPack {
    buf: Vec<u8>,
    blobs: Vec<BlobEntry>,
}

impl OpenPack {
    fn new() -> OpenPack {
        OpenPack {
            buf: new_pack_buffer(),
            blobs: Vec::new(),
        }
    }
}

/// Packs new blobs and uploads full packs, a few at a time: small files' blobs share packs,
/// each large file's go into packs of its own.
pub(super) struct Packer<'a> {
    session: &'a Session,
    outbox: &'a Path,
    /// The blobs the target held at the start of the run.
    known: &'a HashSet<[u8; 32]>,
    /// The blobs packed in this run.
    packed: HashSet<[u8; 32]>,
    shared: OpenPack,
    /// The open packs of large files being read, by item index.
    own: HashMap<usize, OpenPack>,
    inflight: VecDeque<Pending>,
    throttle: Option<Throttle>,
    pub(super) bytes_sent: u64,
    pub(super) new_blobs: u64,
}

struct Pending {
    pack: String,
    ids: Vec<[u8; 32]>,
    /// Shared with the upload: kept for the outbox, should the upload fail.
    bytes: Bytes,
    index: Bytes,
    upload: Upload,
}

impl<'a> Packer<'a> {
    pub(super) fn new(
        session: &'a Session,
        outbox: &'a Path,
        known: &'a HashSet<[u8; 32]>,
    ) -> Result<Packer<'a>> {
        Ok(Packer {
            session,
            outbox,
            known,
            packed: HashSet::new(),
            shared: OpenPack::new(),
            own: HashMap::new(),
            inflight: VecDeque::new(),
            throttle: session.target.upload_limit()?.map(Throttle::new),
            bytes_sent: 0,
            new_blobs: 0,
        })
    }

    /// Adds a blob to the shared pack, or to large file `file`'s; sends the pack when full.
    pub(super) fn add(
        &mut self,
        blob: NewBlob,
        file: Option<usize>,
        state: &mut State,
    ) -> Result<()> {
        if self.known.contains(&blob.id) || !self.packed.insert(blob.id) {
            return Ok(());
        }
        let pack = match file {
            None => &mut self.shared,
            Some(f) => self.own.entry(f).or_insert_with(OpenPack::new),
        };
        pack.blobs.push(BlobEntry {
            id: blob.id,
            offset: pack.buf.len() as u64,
            length: blob.stored.len() as u32,
            raw_length: blob.raw_len,
        });
        pack.buf.extend_from_slice(&blob.stored);
        self.new_blobs += 1;
        if pack.buf.len() >= PACK_TARGET_SIZE {
            let full = match file {
                None => std::mem::replace(&mut self.shared, OpenPack::new()),
                Some(f) => self.own.remove(&f).expect("just filled"),
            };
            self.close_pack(full, state)?;
        }
        Ok(())
    }

    /// Sends what large file `file` left in its open pack.
    pub(super) fn file_done(&mut self, file: usize, state: &mut State) -> Result<()> {
        match self.own.remove(&file) {
            Some(pack) => self.close_pack(pack, state),
            None => Ok(()),
        }
    }

    fn close_pack(&mut self, pack: OpenPack, state: &mut State) -> Result<()> {
        if pack.blobs.is_empty() {
            return Ok(());
        }
        let OpenPack { buf, blobs } = pack;
        let bytes = Bytes::from(buf);
        let pack = blake3::hash(&bytes).to_hex().to_string();
        let index = Bytes::from(repo::seal_object(
            &self.session.keys,
            &repo::index_path(&pack),
            &PackIndex {
                pack: pack.clone(),
                size: bytes.len() as u64,
                blobs: blobs.clone(),
            },
        )?);
        if let Some(t) = &mut self.throttle {
            std::thread::sleep(t.delay_for(Instant::now(), (bytes.len() + index.len()) as u64));
        }
        self.bytes_sent += (bytes.len() + index.len()) as u64;
        let upload = self.session.store.write_in_background(vec![
            (repo::pack_path(&pack), bytes.clone()),
            (repo::index_path(&pack), index.clone()),
        ]);
        self.inflight.push_back(Pending {
            pack,
            ids: blobs.iter().map(|b| b.id).collect(),
            bytes,
            index,
            upload,
        });
        while self.inflight.len() > self.session.store.uploads_in_flight() {
            self.wait_oldest(state)?;
        }
        Ok(())
    }

    /// Waits for the oldest upload; when it failed, every pack not yet sent goes to the outbox.
    fn wait_oldest(&mut self, state: &mut State) -> Result<()> {
        let Some(p) = self.inflight.pop_front() else {
            return Ok(());
        };
        match self.session.store.wait(p.upload) {
            Ok(()) => state.add_pack(&self.session.target.name, &p.pack, p.ids.into_iter()),
            Err(e) => {
                outbox::put_pack(self.outbox, &p.pack, &p.bytes, &p.index)?;
                while let Some(rest) = self.inflight.pop_front() {
                    match self.session.store.wait(rest.upload) {
                        Ok(()) => state.add_pack(
                            &self.session.target.name,
                            &rest.pack,
                            rest.ids.into_iter(),
                        )?,
                        Err(_) => {
                            outbox::put_pack(self.outbox, &rest.pack, &rest.bytes, &rest.index)?
                        }
                    }
                }
                Err(e)
            }
        }
    }

    pub(super) fn finish(&mut self, state: &mut State) -> Result<()> {
        let shared = std::mem::replace(&mut self.shared, OpenPack::new());
        self.close_pack(shared, state)?;
        // Files whose reading failed never said they were done.
        let mut own: Vec<(usize, OpenPack)> = self.own.drain().collect();
        own.sort_by_key(|(file, _)| *file);
        for (_, pack) in own {
            self.close_pack(pack, state)?;
        }
        while !self.inflight.is_empty() {
            self.wait_oldest(state)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Blobs of two large files read at the same time and of small files, interleaved as the
    /// chunking threads send them: each large file's land in packs of their own. A blob the
    /// target holds, or one sent twice, is packed no more.
    #[test]
    fn a_large_files_blobs_get_packs_of_their_own() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("target")).unwrap();
        let target = crate::Target::folder("t", &dir.path().join("target"));
        let session = Session::open(&target, true, 0, Default::default()).unwrap();
        let mut state = State::open(&dir.path().join("vault")).unwrap();
        let outbox = dir.path().join("outbox");
        let known = HashSet::from([[4; 32]]);
        let mut packer = Packer::new(&session, &outbox, &known).unwrap();
        let blob = |n: u8| NewBlob {
            id: [n; 32],
            stored: vec![n; 1000],
            raw_len: 1000,
        };
        let sent: [(u8, Option<usize>); 9] = [
            (1, None),
            (10, Some(7)),
            (20, Some(9)),
            (2, None),
            (4, None),
            (11, Some(7)),
            (21, Some(9)),
            (3, None),
            (2, None),
        ];
        for (n, file) in sent {
            packer.add(blob(n), file, &mut state).unwrap();
            if n == 11 {
                packer.file_done(7, &mut state).unwrap();
            }
        }
        packer.finish(&mut state).unwrap();

        let mut packs: Vec<Vec<u8>> = session
            .indexed_packs()
            .unwrap()
            .iter()
            .map(|p| {
                let index = session.read_index(p).unwrap();
                let mut ids: Vec<u8> = index.blobs.iter().map(|b| b.id[0]).collect();
                ids.sort();
                ids
            })
            .collect();
        packs.sort();
        assert_eq!(packs, [vec![1, 2, 3], vec![10, 11], vec![20, 21]]);
        assert_eq!(packer.new_blobs, 7);
    }
}
