//! A backup's manifest: what it holds (every file with its chunks) and a summary of the vault's
//! projects, so a restore can list them without downloading data.

use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// A backup, as listed.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BackupInfo {
    /// The backup's id (`20261121T020000Z-0000-1a2b`: its start time, a sequence number, random digits).
    pub id: String,
    /// When the run started and ended (seconds since the epoch).
    pub started: i64,
    /// When the run ended.
    pub finished: i64,
    /// The machine it was taken on.
    pub host: String,
    /// The vault folder it was taken from.
    pub vault: String,
    /// Files (and links) in it.
    pub files: u64,
    /// Their total size.
    pub bytes: u64,
    /// Projects in it.
    pub projects: u64,
}

/// A project inside a backup.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BackupProject {
    /// The project's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its workspace.
    pub workspace: String,
    /// Whether its folder was linked in place (outside the vault).
    pub linked: bool,
    /// active, archived or deleted (in the trash).
    pub status: String,
    /// Its latest version (git commit), if any.
    pub head: Option<String>,
    /// Bytes of its latest version.
    pub logical_size: u64,
    /// Files in its latest version.
    pub file_count: u64,
    /// Its working folder when the backup was taken.
    pub path: String,
    /// Where its working folder is inside the backup (`vault/projects/site`, `folders/<id>`).
    pub prefix: String,
}

/// What kind of entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum EntryKind {
    File,
    Dir,
    Symlink,
}

/// One file, folder or link.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    pub path: String,
    pub kind: EntryKind,
    #[serde(default)]
    pub size: u64,
    pub mode: u32,
    pub mtime_ns: i64,
    /// Chunk ids, hex, concatenated.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub chunks: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
}

impl Entry {
    /// The ids of the file's chunks (a manifest read through [`Manifest::check`] has only chunk
    /// lists that decode).
    pub fn chunk_ids(&self) -> Result<Vec<[u8; 32]>> {
        let raw = self.decoded_chunks().ok_or_else(|| {
            Error::new(
                ErrorKind::Corrupt,
                format!("the chunk list of {} in the manifest is damaged", self.path),
            )
        })?;
        Ok(raw
            .chunks_exact(32)
            .map(|c| {
                let mut id = [0u8; 32];
                id.copy_from_slice(c);
                id
            })
            .collect())
    }

    fn decoded_chunks(&self) -> Option<Vec<u8>> {
        hex::decode(&self.chunks)
            .ok()
            .filter(|raw| raw.len().is_multiple_of(32))
    }
}

/// The `backups/<id>` object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Manifest {
    pub info: BackupInfo,
    pub projects: Vec<BackupProject>,
    pub entries: Vec<Entry>,
}

impl Manifest {
    /// Checks what a checksum cannot: that this is the manifest of backup `id` (not another
    /// backup's stored under its name) and that every chunk list decodes. Says what is wrong.
    pub fn check(&self, id: &str) -> std::result::Result<(), String> {
        if self.info.id != id {
            return Err(format!("it is the manifest of backup {}", self.info.id));
        }
        match self.entries.iter().find(|e| e.decoded_chunks().is_none()) {
            Some(e) => Err(format!("the chunk list of {} does not decode", e.path)),
            None => Ok(()),
        }
    }
}
