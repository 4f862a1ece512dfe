//! An open target: its storage, repository config and keys, and the blob index of what it holds.

use std::collections::HashMap;

use kura_core::Result;

use crate::crypto::Keys;
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
    pub fn open(target: &Target, create: bool, now: i64) -> Result<Session> {
        let store = Store::open(target)?;
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
        Ok(self
            .store
            .list("index/")?
            .into_iter()
            .map(|l| l.name)
            .filter(|n| n.len() == 64 && n.bytes().all(|b| b.is_ascii_hexdigit()))
            .collect())
    }

    /// Every blob the target holds and where.
    pub fn blob_map(&self) -> Result<HashMap<[u8; 32], BlobPlace>> {
        let mut map = HashMap::new();
        for pack in self.indexed_packs()? {
            let index = self.read_index(&pack)?;
            for entry in index.blobs {
                map.insert(
                    entry.id,
                    BlobPlace {
                        pack: pack.clone(),
                        entry,
                    },
                );
            }
        }
        Ok(map)
    }
}
