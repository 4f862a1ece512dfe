//! The cold tier: archives of idle projects moved to a backup target (`archive.cold_target`,
//! an S3 bucket or a folder on another drive). Each archive is uploaded under `archives/` in
//! the target's prefix and read back to check its SHA-256 before the catalog records the copy;
//! the local file goes `archive.keep_local_days` after it was made or last fetched (or sooner,
//! oldest first, past `archive.local_cap`). Unarchive, extract and verify fetch the file back
//! first, resuming a download that was cut off; a fetched archive stays local again for
//! `keep_local_days`. The catalog keeps every archived project, so it stays listed and
//! searchable wherever its file is.

use std::fs::{File, OpenOptions};
use std::io::Write;

use kura_core::{ArchiveInfo, ColdCopy, Error, ErrorKind, Job, Progress, Project, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::store::Store;
use crate::Backups;

/// What one pass of the cold tier did.
#[derive(Clone, Debug, Default, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ColdReport {
    /// The target archives go to; empty when the cold tier is off.
    pub target: String,
    /// Archives uploaded and verified this time (ids).
    pub uploaded: Vec<String>,
    /// Archives whose local file was dropped (ids).
    pub dropped: Vec<String>,
    /// Bytes freed on this disk.
    pub bytes_freed: u64,
}

/// A writer that only hashes what it is given.
struct Hasher(Sha256);

impl Write for Hasher {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn bytes<'j>(job: &'j Job, phase: &'static str, item: &str) -> impl Fn(u64, u64) + 'j {
    let item = item.to_string();
    move |done, total| {
        job.report(Progress {
            phase,
            done,
            total: Some(total),
            unit: "bytes",
            item: Some(item.clone()),
        })
    }
}

impl Backups<'_> {
    /// One pass of the cold tier: uploads and verifies the local archives that have no copy
    /// at `archive.cold_target` yet, then drops the local files that may go. Nothing happens
    /// while `archive.cold_target` is empty. An archive whose copy reads back different is not
    /// recorded (and its copy is deleted): its file stays here.
    pub fn cold_pass(&self, job: &Job) -> Result<ColdReport> {
        let cfg = self.vault.config().archive.clone();
        let name = cfg.cold_target.trim().to_string();
        let mut report = ColdReport {
            target: name.clone(),
            ..Default::default()
        };
        if name.is_empty() {
            return Ok(report);
        }
        let target = self.target(&name)?;
        let store = Store::open(&target, self.timeouts())?;
        for a in self.vault.list_archives()? {
            if !a.present || a.cold_target.is_some() {
                continue;
            }
            job.check()?;
            let file_name = a
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_else(|| format!("{}.tar.zst", a.id));
            let key = format!("archives/{}/{file_name}", a.id);
            let mut f = File::open(&a.path).map_err(|e| Error::from_io("open", &a.path, e))?;
            let total = a.size;
            let up = bytes(job, "uploading", &file_name);
            store.upload(&key, &mut f, &|done| up(done, total), &|| job.check())?;
            let mut h = Hasher(Sha256::new());
            store.download(&key, &mut h, &bytes(job, "verifying", &file_name), &|| {
                job.check()
            })?;
            let got = hex::encode(h.0.finalize());
            if got != a.sha256 {
                let _ = store.delete(&key);
                return Err(Error::new(
                    ErrorKind::Corrupt,
                    format!("the copy of archive {} at target '{name}' reads back with SHA-256 {got}, not {}; it was deleted and the file stays here", a.id, a.sha256),
                ));
            }
            self.vault.record_cold_copy(
                &a.id,
                &ColdCopy {
                    target: name.clone(),
                    key,
                },
            )?;
            report.uploaded.push(a.id);
        }
        for a in self
            .vault
            .archives_to_drop_locally(cfg.keep_local_days, cfg.local_cap.0)?
        {
            // Only copies at the target in use now are checked (and so trusted) here.
            let Some(copy) = self.vault.archive_cold_copy(&a.id)? else {
                continue;
            };
            if copy.target != name {
                continue;
            }
            match store.size_of(&copy.key) {
                Ok(size) if size == a.size => {}
                Ok(size) => {
                    tracing::warn!("archive {} at target '{name}' holds {size} bytes, not {}; its file stays here", a.id, a.size);
                    continue;
                }
                Err(e) => {
                    tracing::warn!("archive {} at target '{name}' cannot be checked ({e}); its file stays here", a.id);
                    continue;
                }
            }
            report.bytes_freed += self.vault.drop_local_archive(&a.id)?;
            report.dropped.push(a.id);
        }
        Ok(report)
    }

    /// Makes sure the file of archive `reference` (an archive id or an archived project) is on
    /// this disk: one kept only in the cold tier is fetched back, resuming a download cut off
    /// before, checked against its SHA-256, and kept here `archive.keep_local_days` again. An
    /// archive with no copy anywhere is returned as it is (the caller says it is missing).
    pub fn ensure_archive_local(&self, reference: &str, job: &Job) -> Result<ArchiveInfo> {
        let info = self.vault.find_archive(reference)?;
        if info.present {
            return Ok(info);
        }
        let Some(copy) = self.vault.archive_cold_copy(&info.id)? else {
            return Ok(info);
        };
        let target = self.target(&copy.target)?;
        let store = Store::open(&target, self.timeouts())?;
        let mut part_name = info.path.as_os_str().to_owned();
        part_name.push(".part");
        let part = std::path::PathBuf::from(part_name);
        if let Some(dir) = part.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::from_io("create folder", dir, e))?;
        }
        let mut start = std::fs::metadata(&part).map(|m| m.len()).unwrap_or(0);
        if start > store.size_of(&copy.key)? {
            // Not the start of this object (it was replaced since): fetched again from the top.
            std::fs::remove_file(&part).map_err(|e| Error::from_io("remove", &part, e))?;
            start = 0;
        }
        let mut out = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&part)
            .map_err(|e| Error::from_io("open", &part, e))?;
        let item = info
            .path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        store.download_from(
            &copy.key,
            start,
            &mut out,
            &bytes(job, "fetching", &item),
            &|| job.check(),
        )?;
        out.sync_all()
            .map_err(|e| Error::from_io("sync", &part, e))?;
        drop(out);
        let got = kura_core::sha256_file(&part, job)?;
        if got != info.sha256 {
            let _ = std::fs::remove_file(&part);
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!("archive {} fetched from target '{}' has SHA-256 {got}, not {}; the copy there is damaged (the download was removed)", info.id, copy.target, info.sha256),
            ));
        }
        kura_core::rename_durably(&part, &info.path)?;
        self.vault.archive_fetched(&info.id)?;
        self.vault.find_archive(&info.id)
    }

    /// Brings an archived project back, fetching its archive from the cold tier first when
    /// needed; once it is back, the archive's copy in the cold tier is deleted too (a failure
    /// to delete it is logged: the project is back either way).
    pub fn unarchive_project(&self, reference: &str, job: &Job) -> Result<Project> {
        let info = self.ensure_archive_local(reference, job)?;
        let copy = self.vault.archive_cold_copy(&info.id)?;
        let p = self.vault.unarchive_project(&info.id, job)?;
        if let Some(c) = copy {
            let deleted = self
                .target(&c.target)
                .and_then(|t| Store::open(&t, self.timeouts()))
                .and_then(|s| s.delete(&c.key));
            if let Err(e) = deleted {
                tracing::warn!(
                    "the copy of archive {} at target '{}' was not deleted: {e}",
                    info.id,
                    c.target
                );
            }
        }
        Ok(p)
    }
}
