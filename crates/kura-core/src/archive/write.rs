//! Writing an archive file: the history bundle planned (unless the plan made before the last
//! version still holds), the two frames written at once ([`frames`]) from it and from the
//! folder's listing, then fsync, rename, fsync the folder.

use std::path::{Path, PathBuf};

use git2::{Oid, Repository};
use tempfile::NamedTempFile;

use super::bundle::Bundle;
use super::folder;
use super::frames;
use super::tail::TailSource;
use super::thin;
use super::ArchiveMetadata;
use crate::config::Config;
use crate::error::{Error, Result};
use crate::fs::durable;
use crate::fs::regular::Beneath;
use crate::job::Job;
use crate::model::Project;
use crate::vault::Vault;

/// What an archive is written from: the history's latest version, what `files/` carries of it
/// if that was found already, and the working folder as it is being listed.
pub(super) struct Latest<'r> {
    pub(super) repo: &'r Repository,
    pub(super) head: Oid,
    pub(super) carried: Option<thin::Carried>,
    pub(super) listing: folder::Listing,
}

/// What writing an archive produced.
pub(super) struct Written {
    pub(super) size: u64,
    pub(super) content: u64,
    pub(super) sha256: String,
    pub(super) files: u64,
}

impl Vault {
    /// Streams the archive of `p` to `dest` (temp file, fsync, rename).
    ///
    /// Two threads write the file at once. The tar stream opens with `metadata.json` and the
    /// history bundle, whose lengths are known before a byte is written; they go into a first
    /// zstd frame of stored blocks (git has deflated the history already), whose size therefore
    /// is known too. A thread writes that frame at the start of the file while this one
    /// compresses the working folder (and the large files of earlier versions) into the frames
    /// after it; then the first thread reads back and hashes what this one wrote.
    pub(super) fn write_archive(
        &self,
        p: &Project,
        history: Latest<'_>,
        meta: &ArchiveMetadata,
        dest: &Path,
        job: &Job,
    ) -> Result<Written> {
        let dir = dest.parent().unwrap_or(self.root());
        let config = self.config();
        let top = PathBuf::from(crate::project::folder_name(&p.name));
        job.files("scanning", 0, None);
        let tmp = temp_file(dir)?;
        let Latest {
            repo,
            head,
            carried,
            listing,
        } = history;
        // The latest version's blobs that `files/` carries are left out of the bundle (see
        // [`thin`]); those it leaves out are checked as the files are read into the archive.
        // A bundle planned so before is taken as it is while its packs are the history's.
        let (mut carried, bundle) = match carried {
            Some(c) if c.bundle.is_current()? => (c.files, c.bundle),
            Some(c) => {
                let bundle = Bundle::without_carried(repo, head, &c.files)?;
                (c.files, bundle)
            }
            None => {
                let files = self.carried_by_files(p, repo, head)?;
                let bundle = Bundle::without_carried(repo, head, &files)?;
                (files, bundle)
            }
        };
        let left_out = bundle.left_out();
        carried.retain(|_, oid| left_out.contains(oid));
        let mut meta = meta.clone();
        if !carried.is_empty() {
            meta.format = thin::FORMAT_THIN.into();
        }
        let meta = &meta;
        job.check()?;
        let folder = Beneath::new(&p.path);
        let source = TailSource {
            project: p,
            folder: &folder,
            repo,
            head,
            meta,
            top: &top,
            threads: compress_threads(&config),
            carried: &carried,
            dest,
            job,
        };
        let first = self.first_frame(meta, &top, &bundle, dest)?;
        let frames = frames::write_frames(&tmp, &first, &bundle, dest, job, |out, candidates| {
            listing.entries().and_then(|entries| {
                tracing::debug!(entries = entries.len(), "archive: folder listed");
                self.write_archive_tail(&source, &entries, out, candidates)
            })
        })?;
        job.check()?;
        publish(tmp, dest, dir)?;
        Ok(Written {
            size: first.len + frames.tail.len,
            content: first.content + frames.tail.content,
            sha256: frames.sha256,
            files: frames.tail.files,
        })
    }
}

/// The temp file the archive is written into, in its destination folder.
fn temp_file(dir: &Path) -> Result<NamedTempFile> {
    tempfile::Builder::new()
        .prefix(".kura-tmp-")
        .tempfile_in(dir)
        .map_err(|e| Error::io("create a temporary file in", dir, e))
}

/// Threads compressing the tail: `archive.threads`, or one a core when it is 0.
fn compress_threads(config: &Config) -> u32 {
    (match config.archive.threads {
        0 => std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1),
        n => n as usize,
    }) as u32
}

/// Makes the written archive durable under its name: fsync, rename, fsync the folder.
fn publish(tmp: NamedTempFile, dest: &Path, dir: &Path) -> Result<()> {
    durable::sync_file(tmp.as_file(), dest)?;
    // The name holds a new random id: it exists only by a clash, which is refused.
    let tmp = tmp.into_temp_path();
    kura_durable::rename_new(&tmp, dest).map_err(durable::failed)?;
    let _ = tmp.keep();
    durable::sync_dir(dir)
}
