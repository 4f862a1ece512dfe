//! An open target: its storage, repository config and keys, and the blob index of what it holds.

use std::collections::{HashMap, HashSet};

use kura_core::Result;

use crate::crypto::Keys;
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

    /// Reads one pack index object.
    pub fn read_index(&self, pack: &str) -> Result<PackIndex> {
        let bytes = self.store.read(&repo::index_path(pack))?;
        repo::open_json(&self.keys, &bytes, &format!("the index of pack {pack}"))
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
