//! A version packed as a `tar.zst` for someone else: written to a temporary folder in the vault
//! first (so every error is known before a byte goes out), then packed as it is sent, whether to
//! an HTTP response or to a shared link's object.

use std::io::Write;

use crate::error::{Error, Result};
use crate::job::Job;
use crate::vault::VaultReader;

/// zstd level of packed exports: fast, since they are made while sent.
pub const EXPORT_ZSTD_LEVEL: i32 = 3;

/// A version's files in a temporary folder of the vault (removed when this is dropped).
pub struct ExportedVersion {
    dir: tempfile::TempDir,
    /// The project's name.
    pub project_name: String,
    /// The project's id.
    pub project_id: String,
    /// The version's id.
    pub version: String,
}

impl ExportedVersion {
    /// Packs the files as a `tar.zst` into `out` (links are kept as links) and returns `out`.
    pub fn pack<W: Write>(&self, out: W) -> std::io::Result<W> {
        let enc = zstd::Encoder::new(out, EXPORT_ZSTD_LEVEL)?;
        let mut tar = tar::Builder::new(enc);
        tar.follow_symlinks(false);
        tar.append_dir_all(".", self.files())?;
        tar.into_inner()?.finish()
    }

    fn files(&self) -> std::path::PathBuf {
        self.dir.path().join("out")
    }

    /// A file name for the packed version: `<project>-<version's first 10 digits>.tar.zst`, with
    /// anything a file name or a header cannot hold replaced.
    pub fn file_name(&self) -> String {
        let name: String = self
            .project_name
            .chars()
            .map(|c| {
                if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let short = &self.version[..self.version.len().min(10)];
        format!("{}-{short}.tar.zst", name.trim_start_matches('.'))
    }
}

impl VaultReader {
    /// Writes version `version` (the latest when `None`) of a project, with its records when
    /// `with_records` (see [`Vault::export_version_with`]), to a temporary folder in the vault,
    /// ready to be packed by [`ExportedVersion::pack`].
    pub fn export_version_to_pack(
        &self,
        reference: &str,
        version: Option<&str>,
        with_records: bool,
        job: &Job,
    ) -> Result<ExportedVersion> {
        let p = self.project(reference)?;
        let dir = tempfile::Builder::new()
            .prefix(".export-")
            .tempdir_in(self.root())
            .map_err(|e| Error::from_io("create a temporary folder in", self.root(), e))?;
        let report =
            self.export_version_with(&p.id, version, &dir.path().join("out"), with_records, job)?;
        Ok(ExportedVersion {
            dir,
            project_name: p.name,
            project_id: p.id,
            version: report.version,
        })
    }
}
