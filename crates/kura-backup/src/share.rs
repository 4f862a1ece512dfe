//! Shared links: a version of a project packed as a `tar.zst`, uploaded to an S3 target under
//! `shares/<id>/`, and handed out as a presigned download link that stops working when it
//! expires. Shares are listed from `backup/state.db`; revoking one deletes its object, so the
//! link stops working at once.
//!
//! The shared copy is the plain `tar.zst`, not encrypted, even on a target that encrypts its
//! backups: whoever has the link reads it. [`Share::target_encrypted`] says when that differs
//! from the target's backups, so every door can say so.

use std::io::{BufWriter, Seek, SeekFrom};
use std::time::Duration;

use kura_core::{Error, ErrorKind, Job, Progress, Result};
use serde::{Deserialize, Serialize};

use crate::state::State;
use crate::store::Store;
use crate::target::Location;
use crate::Backups;

/// The longest a link can live: S3 signatures are valid for at most seven days.
pub const MAX_SHARE_SECS: u64 = 7 * 24 * 3600;

/// What to share of a project, and for how long: the HTTP request body, the MCP tool's
/// arguments beside the project, and the desktop command's input.
#[derive(Clone, Debug, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct ShareOptions {
    /// The version (an id or a prefix of one); the latest when absent.
    #[serde(default)]
    pub version: Option<String>,
    /// The S3 target the shared copy goes to.
    pub target: String,
    /// How long the link works: "30m", "24h", "7d" (at most 7 days).
    pub expires: String,
}

/// Whether a link still works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum ShareState {
    /// It works until `expires`.
    Active,
    /// Its time is up.
    Expired,
    /// It was revoked: the shared copy is deleted.
    Revoked,
}

/// A shared link.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Share {
    /// Its id.
    pub id: String,
    /// The target holding the shared copy.
    pub target: String,
    /// The project's id.
    pub project_id: String,
    /// The project's name when it was shared.
    pub project_name: String,
    /// The version shared.
    pub version: String,
    /// The name the download is saved under (`site-1a2b3c4d5e.tar.zst`).
    pub file_name: String,
    /// Bytes of the shared copy.
    pub size: u64,
    /// The download link (works without credentials until `expires`).
    pub url: String,
    /// When it was shared (seconds since the epoch).
    pub created: i64,
    /// When the link stops working.
    pub expires: i64,
    /// When it was revoked.
    pub revoked: Option<i64>,
    /// Whether the link works now.
    pub state: ShareState,
    /// Whether the target encrypts its backups: the shared copy is not encrypted.
    pub target_encrypted: bool,
}

/// Reads "90s", "30m", "24h", "7d" (or plain seconds) as seconds, between 1 and
/// [`MAX_SHARE_SECS`].
pub fn parse_expiry(text: &str) -> Result<u64> {
    let t = text.trim();
    let bad = || {
        Error::new(
            ErrorKind::InvalidInput,
            format!("'{text}' is not a length of time; write e.g. '30m', '24h' or '7d' (at most 7 days)"),
        )
    };
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(split);
    let n: u64 = digits.parse().map_err(|_| bad())?;
    let unit_secs = match unit.trim() {
        "" | "s" | "sec" | "secs" => 1,
        "m" | "min" | "mins" => 60,
        "h" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        _ => return Err(bad()),
    };
    let secs = n.checked_mul(unit_secs).ok_or_else(bad)?;
    if secs == 0 || secs > MAX_SHARE_SECS {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("a link can work for 1 second to 7 days, not '{text}' (S3 signs links for at most 7 days)"),
        ));
    }
    Ok(secs)
}

const COLUMNS: &str = "id, target, object, project_id, project_name, version, file_name, size, url, created, expires, revoked, target_encrypted";

impl State {
    fn insert_share(&self, s: &Share, object: &str) -> Result<()> {
        self.conn().execute(
            &format!("INSERT INTO shares ({COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"),
            rusqlite::params![
                s.id,
                s.target,
                object,
                s.project_id,
                s.project_name,
                s.version,
                s.file_name,
                s.size as i64,
                s.url,
                s.created,
                s.expires,
                s.revoked,
                s.target_encrypted
            ],
        )?;
        Ok(())
    }

    /// Shares, newest first (one when `id` is given), with the object each one's copy is at.
    fn shares(&self, id: Option<&str>, now: i64) -> Result<Vec<(Share, String)>> {
        let mut stmt = self.conn().prepare(&format!(
            "SELECT {COLUMNS} FROM shares WHERE (?1 IS NULL OR id = ?1) ORDER BY created DESC, rowid DESC"
        ))?;
        let rows = stmt.query_map([id], |r| {
            let expires: i64 = r.get(10)?;
            let revoked: Option<i64> = r.get(11)?;
            let state = match revoked {
                Some(_) => ShareState::Revoked,
                None if expires <= now => ShareState::Expired,
                None => ShareState::Active,
            };
            Ok((
                Share {
                    id: r.get(0)?,
                    target: r.get(1)?,
                    project_id: r.get(3)?,
                    project_name: r.get(4)?,
                    version: r.get(5)?,
                    file_name: r.get(6)?,
                    size: r.get::<_, i64>(7)? as u64,
                    url: r.get(8)?,
                    created: r.get(9)?,
                    expires,
                    revoked,
                    state,
                    target_encrypted: r.get(12)?,
                },
                r.get::<_, String>(2)?,
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Shares whose link has expired and whose copy is still at the target: (id, target,
    /// object).
    fn expired_copies(&self, now: i64) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn().prepare(
            "SELECT id, target, object FROM shares WHERE revoked IS NULL AND expires <= ?1 AND object != '' ORDER BY target, id",
        )?;
        let rows = stmt.query_map([now], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Notes that the share's copy is gone from its target (its object is forgotten).
    fn mark_copy_deleted(&self, id: &str) -> Result<()> {
        self.conn()
            .execute("UPDATE shares SET object = '' WHERE id = ?1", [id])?;
        Ok(())
    }

    fn mark_revoked(&self, id: &str, at: i64) -> Result<()> {
        self.conn().execute(
            "UPDATE shares SET revoked = ?2 WHERE id = ?1",
            rusqlite::params![id, at],
        )?;
        Ok(())
    }
}

impl Backups<'_> {
    /// Packs a version of a project as a `tar.zst`, uploads it to an S3 target and returns the
    /// share with its presigned link. A folder target, an expiry over 7 days, an unknown
    /// project or version are refused before anything is written. Reports progress on `job`
    /// (the upload in bytes); cancelling aborts the upload.
    pub fn share(&self, project: &str, req: &ShareOptions, job: &Job) -> Result<Share> {
        let target = self.target(&req.target)?;
        if let Location::Folder { .. } = target.location {
            return Err(Error::new(
                ErrorKind::InvalidInput,
                format!("target '{}' is a folder, which has no link to hand out; share through an S3 target", target.name),
            ));
        }
        let secs = parse_expiry(&req.expires)?;
        let exported =
            self.vault
                .export_version_to_pack(project, req.version.as_deref(), false, job)?;
        job.report(Progress {
            phase: "packing",
            done: 0,
            total: None,
            unit: "bytes",
            item: Some(exported.file_name()),
        });
        let mut packed = tempfile::Builder::new()
            .prefix(".share-")
            .tempfile_in(self.vault.root())
            .map_err(|e| Error::from_io("create a temporary file in", self.vault.root(), e))?;
        let packed_path = packed.path().to_path_buf();
        let io = |e: std::io::Error| Error::from_io("pack the version into", &packed_path, e);
        exported
            .pack(BufWriter::new(packed.as_file_mut()))
            .and_then(|w| w.into_inner().map_err(|e| e.into_error()).map(|_| ()))
            .map_err(io)?;
        let size = packed.as_file().metadata().map_err(io)?.len();
        packed.as_file_mut().seek(SeekFrom::Start(0)).map_err(io)?;
        let id = hex::encode(crate::crypto::random::<12>()?);
        let file_name = exported.file_name();
        let object = format!("shares/{id}/{file_name}");
        let store = Store::open(&target, self.timeouts())?;
        store.upload(
            &object,
            packed.as_file_mut(),
            &|done| {
                job.report(Progress {
                    phase: "uploading",
                    done,
                    total: Some(size),
                    unit: "bytes",
                    item: Some(file_name.clone()),
                })
            },
            &|| job.check(),
        )?;
        let url = store.presign_read(&object, Duration::from_secs(secs), &file_name)?;
        let created = self.now();
        let share = Share {
            id,
            target: target.name.clone(),
            project_id: exported.project_id.clone(),
            project_name: exported.project_name.clone(),
            version: exported.version.clone(),
            file_name,
            size,
            url,
            created,
            expires: created + secs as i64,
            revoked: None,
            state: ShareState::Active,
            target_encrypted: target.encrypt,
        };
        if let Err(e) = State::open(self.root())?.insert_share(&share, &object) {
            let _ = store.delete(&object);
            return Err(e);
        }
        Ok(share)
    }

    /// Every share, newest first, with whether its link works now; only those of one project
    /// when `project` (a name or an id) is given.
    pub fn shares(&self, project: Option<&str>) -> Result<Vec<Share>> {
        let id = project
            .map(|p| self.vault.project(p))
            .transpose()?
            .map(|p| p.id);
        let now = self.now();
        Ok(State::open(self.root())?
            .shares(None, now)?
            .into_iter()
            .map(|(s, _)| s)
            .filter(|s| id.as_ref().is_none_or(|id| *id == s.project_id))
            .collect())
    }

    /// Revokes a share: deletes its copy at the target (the link stops working at once) and
    /// marks it revoked. Revoking a revoked share changes nothing; a target that cannot be
    /// reached leaves it as it was (`unavailable`).
    pub fn revoke_share(&self, id: &str) -> Result<Share> {
        let state = State::open(self.root())?;
        let (share, object) = state
            .shares(Some(id), self.now())?
            .pop()
            .ok_or_else(|| Error::new(ErrorKind::NotFound, format!("no share '{id}'")))?;
        if share.revoked.is_some() {
            return Ok(share);
        }
        // An expired share's copy may be gone already (see `delete_expired_shares`).
        if !object.is_empty() {
            let target = self.target(&share.target)?;
            let store = Store::open(&target, self.timeouts())?;
            store.delete(&object)?;
        }
        state.mark_revoked(id, self.now())?;
        Ok(state
            .shares(Some(id), self.now())?
            .pop()
            .map(|(s, _)| s)
            .unwrap_or(share))
    }
}

impl Backups<'_> {
    /// Deletes the copies of shares whose links have expired: nobody can download them any
    /// more, and they take room at the target. Returns the shares whose copies went. Shares
    /// stay listed as expired. A target that cannot be reached keeps its copies for the next
    /// time, and the first such error is returned once every other target was done. Copies at
    /// a target that was removed from the vault are left where they are: Kura no longer knows
    /// how to reach it.
    pub fn delete_expired_shares(&self) -> Result<Vec<String>> {
        let state = State::open(self.root())?;
        let mut deleted = Vec::new();
        let mut first_error = None;
        let copies = state.expired_copies(self.now())?;
        for group in copies.chunk_by(|a, b| a.1 == b.1) {
            let target = match self.target(&group[0].1) {
                Ok(target) => target,
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            let store = match Store::open(&target, self.timeouts()) {
                Ok(store) => store,
                Err(e) => {
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            for (id, _, object) in group {
                match store.delete(object) {
                    Ok(()) => {
                        state.mark_copy_deleted(id)?;
                        deleted.push(id.clone());
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                        // The target is not answering; its other copies wait too.
                        break;
                    }
                }
            }
        }
        match first_error {
            Some(e) => Err(e),
            None => Ok(deleted),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expiries_are_read_in_the_units_people_write_and_bounded_by_seven_days() {
        assert_eq!(parse_expiry("90s").unwrap(), 90);
        assert_eq!(parse_expiry("30m").unwrap(), 1800);
        assert_eq!(parse_expiry(" 24h ").unwrap(), 86_400);
        assert_eq!(parse_expiry("7d").unwrap(), MAX_SHARE_SECS);
        assert_eq!(parse_expiry("2 days").unwrap(), 172_800);
        assert_eq!(parse_expiry("45").unwrap(), 45);
        for bad in [
            "",
            "0h",
            "8d",
            "1w",
            "h",
            "-1h",
            "1.5h",
            "99999999999999999999d",
        ] {
            let err = parse_expiry(bad).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert!(parse_expiry("8d").unwrap_err().message().contains("7 days"));
    }
}
