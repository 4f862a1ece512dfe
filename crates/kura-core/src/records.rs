//! The vault's records ([`kura_records`]): opened on first use from `records.db`, scoped to a
//! project by its id (or to the vault), and kept in step with the project's life: they stay
//! while it is in the trash or archived, travel inside its archive as JSON lines, and go when it
//! is deleted for good.

use std::path::Path;

use kura_records::ScopeSettings;

use crate::error::{Error, ErrorKind, Result};
use crate::vault::Vault;
use crate::vault::VaultReader;

pub use kura_records::{
    CollectionInfo, CollectionSettings, Record, RecordDelete, RecordFilter, RecordOp,
    RecordOpResult, RecordPage, RecordPut, RecordQuery, Records, VAULT_SCOPE,
};

/// In an archive: the project's records, one JSON object per line.
pub(crate) const ARCHIVE_RECORDS: &str = "records.jsonl";
/// In an archive: what each collection indexes and checks.
pub(crate) const ARCHIVE_COLLECTIONS: &str = "record-collections.json";

impl From<kura_records::Error> for Error {
    fn from(err: kura_records::Error) -> Error {
        use kura_records::ErrorKind as K;
        let kind = match err.kind {
            K::NotFound => ErrorKind::NotFound,
            K::InvalidInput => ErrorKind::InvalidInput,
            K::Conflict => ErrorKind::Conflict,
            // Too much in one request (a record over 1 MiB, a batch over 10,000): the request is
            // refused as it stands, not for lack of space.
            K::TooLarge => ErrorKind::InvalidInput,
            K::DiskFull => ErrorKind::DiskFull,
            K::Corrupt => ErrorKind::Corrupt,
            K::Busy => ErrorKind::Busy,
            K::Io => ErrorKind::Io,
        };
        Error::new(kind, err.message)
    }
}

impl Vault {
    /// The vault's records (opened, or created, on first use), to read and write.
    pub fn records(&self) -> Result<&Records> {
        self.records_store()
    }
}

impl VaultReader {
    /// The records store, for this crate's reads (opened, or created, on first use).
    pub(crate) fn records_store(&self) -> Result<&Records> {
        if let Some(r) = self.records.get() {
            return Ok(r);
        }
        let _init = self.records_init.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(r) = self.records.get() {
            return Ok(r);
        }
        let opened = Records::open(&self.root().join("records.db"))?;
        Ok(self.records.get_or_init(|| opened))
    }
}

impl VaultReader {
    /// The scope of a project's records: its id, after checking it exists (`reference` is a name
    /// or an id); `None` gives the vault's own records.
    pub fn records_scope(&self, project: Option<&str>) -> Result<String> {
        match project {
            None => Ok(VAULT_SCOPE.to_string()),
            Some(reference) => Ok(self.project(reference)?.id),
        }
    }

    /// Copies the records database, consistent as of one moment, to `dest` (for backups).
    pub fn backup_records_to(&self, dest: &Path) -> Result<()> {
        self.records_store()?.backup_to(dest).map_err(|e| {
            Error::new(
                ErrorKind::Io,
                format!("cannot copy the records to {}: {e}", dest.display()),
            )
        })
    }

    /// A project's records as an archive holds them: the JSON lines and the collections'
    /// settings; `None` when it has none.
    pub(crate) fn records_for_archive(&self, id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>> {
        let mut lines = Vec::new();
        let (n, settings) = self.records_store()?.export_scope(id, &mut lines)?;
        if n == 0 && settings.collections.is_empty() {
            return Ok(None);
        }
        let json =
            serde_json::to_vec_pretty(&settings).map_err(|e| Error::internal(e.to_string()))?;
        Ok(Some((lines, json)))
    }

    /// Writes a version of a project to `dest` like [`Vault::export_version`], with the
    /// project's records beside its files when `with_records`: `.kura/records.jsonl` (one JSON
    /// object per line) and `.kura/record-collections.json`. A version that holds a `.kura`
    /// entry of its own is refused then (`conflict`), and `dest` is left empty.
    pub fn export_version_with(
        &self,
        reference: &str,
        version: Option<&str>,
        dest: &Path,
        with_records: bool,
        job: &crate::Job,
    ) -> Result<crate::RestoreReport> {
        let report = self.export_version(reference, version, dest, job)?;
        if !with_records {
            return Ok(report);
        }
        let written = self
            .project(reference)
            .and_then(|p| self.records_for_archive(&p.id))
            .and_then(|found| match found {
                None => Ok(()),
                Some((lines, collections)) => {
                    let dir = dest.join(".kura");
                    if std::fs::symlink_metadata(&dir).is_ok() {
                        return Err(Error::conflict(format!(
                            "version {} holds a '.kura' entry of its own, where the records would go; export it without records",
                            report.version
                        )));
                    }
                    crate::fs::durable::create_dir_all(&dir)?;
                    crate::fs::durable::write_file(&dir.join(ARCHIVE_RECORDS), &lines)?;
                    crate::fs::durable::write_file(&dir.join(ARCHIVE_COLLECTIONS), &collections)
                }
            });
        match written {
            Ok(()) => Ok(report),
            Err(e) => {
                crate::fs::durable::empty_out(dest, false);
                Err(e)
            }
        }
    }
}

impl Vault {
    /// Brings a project's records back from an unpacked archive folder `top`, when it holds
    /// any and the project has none here (an unarchive in the same vault keeps the records that
    /// never left it).
    pub(crate) fn import_records(&self, id: &str, top: &Path) -> Result<u64> {
        let path = top.join(ARCHIVE_RECORDS);
        if !path.is_file() {
            return Ok(0);
        }
        let records = self.records()?;
        if !records.collections(id)?.is_empty() {
            return Ok(0);
        }
        let settings: ScopeSettings = match std::fs::read(top.join(ARCHIVE_COLLECTIONS)) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                Error::corrupt(format!(
                    "the archive's {ARCHIVE_COLLECTIONS} is not readable: {e}"
                ))
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => ScopeSettings::default(),
            Err(e) => return Err(Error::io("read", &top.join(ARCHIVE_COLLECTIONS), e)),
        };
        let file = std::fs::File::open(&path).map_err(|e| Error::io("read", &path, e))?;
        Ok(records.import_scope(id, &mut std::io::BufReader::new(file), settings)?)
    }
}
