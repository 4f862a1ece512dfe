//! An open target: its storage, repository config and keys, and the blob index of what it holds.

use std::collections::{HashMap, HashSet};

use kura_core::{Error, ErrorKind, Result};
use serde::Deserialize;

use crate::crypto::Keys;
use crate::manifest::Manifest;
use crate::net::Timeouts;
use crate::repo::{self, BlobEntry, PackIndex, RepoConfig};
use crate::store::Store;
use crate::target::{secret, SecretKind, Target};

pub(crate) struct Session {
    pub target: Target,
    pub store: Store,
    pub keys: Keys,
    pub config: RepoConfig,
}

/// Where a blob lives at the target.
#[derive(Clone, Debug)]
pub(crate) struct BlobPlace {
    pub pack: String,
    pub entry: BlobEntry,
}

impl Session {
    /// The ids of the backups at the target, oldest first.
    pub(crate) fn backup_ids(&self) -> Result<Vec<String>> {
        let mut ids: Vec<String> = self
            .store
            .list("backups/")?
            .into_iter()
            .map(|l| l.name)
            .filter(|n| !n.contains('/'))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Connects to `target` and opens its repository (creating it when `create`).
    pub fn open(target: &Target, create: bool, now: i64, timeouts: Timeouts) -> Result<Session> {
        let store = Store::open(target, timeouts)?;
        let name = target.name.clone();
        let (config, keys) = repo::open(
            &store,
            &target.name,
            target.encrypt,
            || secret(&name, SecretKind::Passphrase),
            create,
            now,
        )?;
        Ok(Session {
            target: target.clone(),
            store,
            keys,
            config,
        })
    }

    /// Reads one pack index object, checked (its checksum, and that it is this pack's).
    pub fn read_index(&self, pack: &str) -> Result<PackIndex> {
        let path = repo::index_path(pack);
        let bytes = self.store.read(&path)?;
        self.index_from(pack, &bytes)
    }

    fn index_from(&self, pack: &str, bytes: &[u8]) -> Result<PackIndex> {
        let path = repo::index_path(pack);
        let index: PackIndex =
            self.open_object(&path, &format!("the index of pack {pack}"), bytes)?;
        if index.pack != pack {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!(
                    "{path} (the index of pack {pack}) is damaged: it is the index of pack {}",
                    index.pack
                ),
            ));
        }
        Ok(index)
    }

    /// Reads the manifest of backup `id`, checked (its checksum, that it is this backup's, that
    /// its chunk lists decode).
    pub fn read_manifest(&self, id: &str) -> Result<Manifest> {
        let bytes = self.store.read(&repo::backup_path(id))?;
        self.manifest_from(id, &bytes, false)
    }

    /// The manifest of backup `id` stored as `bytes`; `unchecked_ok` takes one without a
    /// checksum whatever the repository's format (the local outbox).
    pub fn manifest_from(&self, id: &str, bytes: &[u8], unchecked_ok: bool) -> Result<Manifest> {
        let path = repo::backup_path(id);
        let what = format!("the manifest of backup {id}");
        let manifest: Manifest = repo::open_object(
            &self.keys,
            &path,
            &what,
            bytes,
            unchecked_ok || self.unchecked_ok(),
        )?;
        manifest.check(id).map_err(|why| {
            Error::new(
                ErrorKind::Corrupt,
                format!("{path} ({what}) is damaged: {why}"),
            )
        })?;
        Ok(manifest)
    }

    /// Opens stored object `path` ([`repo::open_object`]).
    fn open_object<T: for<'de> Deserialize<'de>>(
        &self,
        path: &str,
        what: &str,
        bytes: &[u8],
    ) -> Result<T> {
        repo::open_object(&self.keys, path, what, bytes, self.unchecked_ok())
    }

    /// Whether objects without a checksum are read: the repository is of format 1, not
    /// upgraded yet.
    fn unchecked_ok(&self) -> bool {
        self.config.version < repo::CHECKSUMMED_FORMAT
    }

    /// Brings a repository of format 1 to format 2: every pack index and manifest without a
    /// checksum is read and stored again with one, then the config says format 2 (with its own
    /// checksum), from when on an object without a checksum is damage. A backup run does it,
    /// under the target's lock, before it writes anything; one stopped half-way goes on at the
    /// next run (each object is replaced whole). An object that cannot be read is left as it
    /// is, for verify to report. Kura before format 2 then refuses the target ("upgrade Kura").
    pub fn upgrade(&self) -> Result<()> {
        if !self.unchecked_ok() {
            return Ok(());
        }
        let mut upgraded = 0;
        let unreadable = |path: &str, e: Error| -> Result<()> {
            if e.kind() == ErrorKind::Unavailable {
                return Err(e);
            }
            tracing::warn!(
                object = path,
                "left without a checksum: it cannot be read: {e}"
            );
            Ok(())
        };
        for pack in self.indexed_packs()? {
            let path = repo::index_path(&pack);
            let bytes = self.store.read(&path)?;
            if repo::has_checksum(&bytes) {
                continue;
            }
            match self.index_from(&pack, &bytes) {
                Ok(index) => {
                    self.store
                        .write(&path, repo::seal_object(&self.keys, &path, &index)?)?;
                    upgraded += 1;
                }
                Err(e) => unreadable(&path, e)?,
            }
        }
        for id in self.backup_ids()? {
            let path = repo::backup_path(&id);
            let bytes = self.store.read(&path)?;
            if repo::has_checksum(&bytes) {
                continue;
            }
            match self.manifest_from(&id, &bytes, false) {
                Ok(manifest) => {
                    self.store
                        .write(&path, repo::seal_object(&self.keys, &path, &manifest)?)?;
                    upgraded += 1;
                }
                Err(e) => unreadable(&path, e)?,
            }
        }
        let config = RepoConfig {
            version: repo::FORMAT_VERSION,
            checksum: None,
            ..self.config.clone()
        };
        self.store
            .write(repo::CONFIG, repo::config_bytes(&config)?)?;
        tracing::info!(
            target = %self.target.name,
            upgraded,
            "upgraded the repository to format {}: every manifest and pack index has a checksum",
            repo::FORMAT_VERSION
        );
        Ok(())
    }

    /// The pack ids the target has index objects for.
    pub fn indexed_packs(&self) -> Result<Vec<String>> {
        indexed_packs(&self.store)
    }

    /// The pack ids whose data objects (`data/<xx>/<id>`) are at the target.
    pub fn stored_packs(&self) -> Result<HashSet<String>> {
        stored_packs(&self.store)
    }

    /// Every blob the target holds and where. A blob stored in several packs (written by two
    /// machines, or sent again after its pack went missing) is taken from one whose data object
    /// is there.
    pub fn blob_map(&self) -> Result<HashMap<[u8; 32], BlobPlace>> {
        let stored = self.stored_packs()?;
        let mut map: HashMap<[u8; 32], BlobPlace> = HashMap::new();
        for pack in self.indexed_packs()? {
            let index = self.read_index(&pack)?;
            let here = stored.contains(&pack);
            for entry in index.blobs {
                let better = map
                    .get(&entry.id)
                    .is_none_or(|known| here && !stored.contains(&known.pack));
                if better {
                    map.insert(
                        entry.id,
                        BlobPlace {
                            pack: pack.clone(),
                            entry,
                        },
                    );
                }
            }
        }
        Ok(map)
    }
}

/// The pack ids `store` has index objects for.
pub(crate) fn indexed_packs(store: &Store) -> Result<Vec<String>> {
    Ok(store
        .list("index/")?
        .into_iter()
        .map(|l| l.name)
        .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect())
}

/// The pack ids whose data objects (`data/<xx>/<id>`) are in `store`.
pub(crate) fn stored_packs(store: &Store) -> Result<HashSet<String>> {
    Ok(store
        .list("data/")?
        .into_iter()
        .filter_map(|l| l.name.rsplit('/').next().map(str::to_string))
        .collect())
}
