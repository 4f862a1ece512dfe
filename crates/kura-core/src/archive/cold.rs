//! The cold tier's half in the catalog: which archives have a verified copy at a backup target
//! (`archive.cold_target`), which local files may go (`archive.keep_local_days`,
//! `archive.local_cap`), and dropping or taking back a local file. Moving the bytes is
//! `kura-backup`'s (it owns the targets); nothing here talks to a network.

use crate::catalog::archives;
use crate::error::{Error, Result};
use crate::fs::durable;
use crate::model::ArchiveInfo;
use crate::vault::Vault;
use crate::vault::VaultReader;

/// Where an archive's copy in the cold tier is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColdCopy {
    /// The backup target.
    pub target: String,
    /// The object's key under the target's prefix.
    pub key: String,
}

impl Vault {
    /// The verified copy of archive `id` at a backup target, if it has one.
    pub fn archive_cold_copy(&self, id: &str) -> Result<Option<ColdCopy>> {
        match archives::cold_copy(&self.db(), id)? {
            None => Err(Error::not_found(format!("there is no archive {id}"))),
            Some((Some(target), Some(key))) => Ok(Some(ColdCopy { target, key })),
            Some(_) => Ok(None),
        }
    }

    /// Records that archive `id` has a verified copy at `target` under `key`.
    pub fn record_cold_copy(&self, id: &str, copy: &ColdCopy) -> Result<()> {
        if !archives::set_cold_copy(&self.db(), id, &copy.target, &copy.key)? {
            return Err(Error::not_found(format!("there is no archive {id}")));
        }
        Ok(())
    }
}

impl VaultReader {
    /// The local archive files that may go now: those with a verified copy in the cold tier,
    /// made or fetched back more than `keep_days` ago; then, while all local archives together
    /// hold more than `cap` bytes (0: no cap), more of them, the longest here first.
    pub fn archives_to_drop_locally(&self, keep_days: u32, cap: u64) -> Result<Vec<ArchiveInfo>> {
        let now = self.now();
        let rows = archives::by_local_age(&self.db(), self.root())?;
        let mut local: u64 = rows
            .iter()
            .filter(|(a, _)| a.present)
            .map(|(a, _)| a.size)
            .sum();
        let mut out = Vec::new();
        for (a, since) in rows {
            if !a.present || a.cold_target.is_none() {
                continue;
            }
            let old = now - since >= i64::from(keep_days) * 86_400;
            let over = cap > 0 && local > cap;
            if old || over {
                local -= a.size;
                out.push(a);
            }
        }
        Ok(out)
    }
}

impl Vault {
    /// Removes the local file of archive `id`, which must have a verified copy in the cold
    /// tier; returns the bytes freed. The catalog keeps the project and the archive, so it is
    /// still listed and searchable.
    pub fn drop_local_archive(&self, id: &str) -> Result<u64> {
        let info = self.find_archive(id)?;
        if self.archive_cold_copy(&info.id)?.is_none() {
            return Err(Error::conflict(format!(
                "archive {} has no verified copy in the cold tier; its only file is not removed",
                info.id
            )));
        }
        if !info.present {
            return Ok(0);
        }
        durable::remove_file(&info.path)?;
        Ok(info.size)
    }

    /// Records that archive `id`'s file was fetched back from the cold tier just now: it stays
    /// here `archive.keep_local_days` again (a project opened often stays local).
    pub fn archive_fetched(&self, id: &str) -> Result<()> {
        archives::set_fetched(&self.db(), id, self.now())
    }
}
