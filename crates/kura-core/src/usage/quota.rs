//! Quotas: `quota.max_project_size` (a project's files) and `quota.total_quota` (the vault),
//! with warnings at 80% and 90% and a refusal, before anything is written, of a write that
//! would pass either limit.
//!
//! A project's usage is the bytes of its files (its latest version, plus what a write adds);
//! the vault's usage is every active project's files plus what every project's versions and
//! archives take on disk (the catalog's `logical_size` and `stored_size`). Writes that are
//! checked: saving and uploading files, creating a project (template), importing a folder or an
//! archive, unarchiving. A snapshot is never refused: it records what is already on disk, and
//! refusing it could lose work.

use serde::Serialize;

use crate::archive::unpack::Budget;
use crate::catalog::usage;
use crate::config::ByteSize;
use crate::error::{Error, ErrorKind, Result};
use crate::model::Project;
use crate::vault::VaultReader;

/// How close a usage is to its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum QuotaLevel {
    /// Under 80%, or no limit.
    Ok,
    /// At least 80%.
    Warning80,
    /// At least 90%.
    Warning90,
    /// Over the limit.
    Exceeded,
}

impl QuotaLevel {
    fn of(used: u64, limit: u64) -> QuotaLevel {
        if limit == 0 {
            QuotaLevel::Ok
        } else if used > limit {
            QuotaLevel::Exceeded
        } else if used * 10 >= limit * 9 {
            QuotaLevel::Warning90
        } else if used * 10 >= limit * 8 {
            QuotaLevel::Warning80
        } else {
            QuotaLevel::Ok
        }
    }
}

/// One usage against one limit.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuotaUsage {
    /// The project's id, for a project's usage; `None` for the vault's.
    pub project_id: Option<String>,
    /// The project's name (or "vault").
    pub name: String,
    /// Bytes used.
    pub used: u64,
    /// The limit in bytes; 0 for none.
    pub limit: u64,
    /// `used / limit` (0 without a limit).
    pub fraction: f64,
    /// Ok, warning at 80% or 90%, exceeded.
    pub level: QuotaLevel,
}

impl QuotaUsage {
    fn new(project_id: Option<String>, name: String, used: u64, limit: u64) -> QuotaUsage {
        QuotaUsage {
            project_id,
            name,
            used,
            limit,
            fraction: if limit == 0 {
                0.0
            } else {
                ((used as f64 / limit as f64) * 1000.0).round() / 1000.0
            },
            level: QuotaLevel::of(used, limit),
        }
    }
}

/// Usage against the quotas: the vault's, and every active project's.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct QuotaStatus {
    /// The vault against `quota.total_quota`.
    pub total: QuotaUsage,
    /// Each active project against `quota.max_project_size`, largest first.
    pub projects: Vec<QuotaUsage>,
    /// A sentence for every usage at 80% or more, for people.
    pub warnings: Vec<String>,
}

fn percent(u: &QuotaUsage) -> String {
    format!("{:.0}%", u.fraction * 100.0)
}

/// The free space of the disk that holds the vault, against the space Kura keeps free there.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct DiskSpace {
    /// Bytes free for this user.
    pub free: u64,
    /// The disk's size in bytes.
    pub total: u64,
    /// The space imports and unarchives leave free (`archive.unpack_free_reserve`).
    pub reserve: u64,
    /// Less is free than the reserve: imports and unarchives are refused.
    pub low: bool,
}

impl VaultReader {
    /// Usage against `quota.max_project_size` and `quota.total_quota`, with warnings at 80%
    /// and 90%.
    pub fn quota_status(&self) -> Result<QuotaStatus> {
        let q = self.config().quota.clone();
        let total = QuotaUsage::new(None, "vault".into(), self.total_usage()?, q.total_quota.0);
        let rows = usage::active_sizes(&self.db())?;
        let projects: Vec<QuotaUsage> = rows
            .into_iter()
            .map(|(id, name, size)| QuotaUsage::new(Some(id), name, size, q.max_project_size.0))
            .collect();
        let mut warnings = Vec::new();
        let mut warn = |u: &QuotaUsage, what: &str, key: &str| match u.level {
            QuotaLevel::Ok => {}
            QuotaLevel::Exceeded => warnings.push(format!(
                "{what} is over its limit: {} of {} ({}); raise {key} in config.toml or free space",
                ByteSize(u.used).approx(),
                ByteSize(u.limit).approx(),
                percent(u)
            )),
            _ => warnings.push(format!(
                "{what} uses {} of its {} limit ({}); raise {key} in config.toml or free space",
                ByteSize(u.used).approx(),
                ByteSize(u.limit).approx(),
                percent(u)
            )),
        };
        warn(&total, "the vault", "quota.total_quota");
        for p in &projects {
            warn(
                p,
                &format!("project '{}'", p.name),
                "quota.max_project_size",
            );
        }
        Ok(QuotaStatus {
            total,
            projects,
            warnings,
        })
    }

    /// The free space of the disk that holds the vault, against `archive.unpack_free_reserve`.
    pub fn disk_space(&self) -> Result<DiskSpace> {
        let root = self.root();
        let free =
            fs4::available_space(root).map_err(|e| Error::io("read the free space of", root, e))?;
        let total = fs4::total_space(root).map_err(|e| Error::io("read the size of", root, e))?;
        let reserve = self.config().archive.unpack_free_reserve.0;
        Ok(DiskSpace {
            free,
            total,
            reserve,
            low: free < reserve,
        })
    }

    /// Bytes the vault counts against `quota.total_quota`.
    fn total_usage(&self) -> Result<u64> {
        usage::quota_usage(&self.db())
    }

    /// Whether a quota is set at all; without one, a write need not measure what it adds.
    pub(crate) fn quota_set(&self) -> bool {
        let q = &self.config().quota;
        q.max_project_size.0 > 0 || q.total_quota.0 > 0
    }

    /// Refuses a write that would take project `p` (`None`: a new project named `name`) from
    /// its current size by `adding` bytes while `removing` bytes go, past a limit.
    pub(crate) fn check_quota(
        &self,
        p: Option<&Project>,
        name: &str,
        adding: u64,
        removing: u64,
    ) -> Result<()> {
        if !self.quota_set() {
            return Ok(());
        }
        let q = self.config().quota.clone();
        let current = p.map_or(0, |p| p.logical_size);
        let after = (current + adding).saturating_sub(removing);
        if q.max_project_size.0 > 0 && after > q.max_project_size.0 && after > current {
            return Err(quota_error(
                format!(
                    "project '{name}' would grow to {}",
                    ByteSize(after).approx()
                ),
                "quota.max_project_size",
                q.max_project_size,
                "delete files",
            ));
        }
        if q.total_quota.0 > 0 && adding > removing {
            let total = self.total_usage()? + adding - removing;
            if total > q.total_quota.0 {
                return Err(quota_error(
                    format!("the vault would grow to {}", ByteSize(total).approx()),
                    "quota.total_quota",
                    q.total_quota,
                    "run `kura cleanup`, archive or delete projects",
                ));
            }
        }
        Ok(())
    }

    /// How many bytes a write into project `p` (or a new one, `None`) may add before a quota
    /// refuses it; `None` without limits.
    pub(crate) fn quota_room(&self, p: Option<&Project>) -> Result<Option<u64>> {
        let q = self.config().quota.clone();
        let mut room: Option<u64> = None;
        if q.max_project_size.0 > 0 {
            let current = p.map_or(0, |p| p.logical_size);
            room = Some(q.max_project_size.0.saturating_sub(current));
        }
        if q.total_quota.0 > 0 {
            let left = q.total_quota.0.saturating_sub(self.total_usage()?);
            room = Some(room.map_or(left, |r| r.min(left)));
        }
        Ok(room)
    }

    /// A cap for unpacking a project named `name` of at most the room the quotas leave.
    pub(crate) fn quota_budget(&self, name: &str) -> Result<Option<Budget>> {
        let Some(room) = self.quota_room(None)? else {
            return Ok(None);
        };
        let q = self.config().quota.clone();
        let name = name.to_string();
        Ok(Some(Budget {
            max_bytes: room,
            refuse: Box::new(move |seen| {
                let (key, limit) = if q.max_project_size.0 > 0 && seen > q.max_project_size.0 {
                    ("quota.max_project_size", q.max_project_size)
                } else {
                    ("quota.total_quota", q.total_quota)
                };
                quota_error(
                    format!(
                        "project '{name}' would hold more than {}",
                        ByteSize(seen).approx()
                    ),
                    key,
                    limit,
                    "free space",
                )
            }),
        }))
    }
}

/// The refusal: what would happen, the limit, and how to raise it.
pub(crate) fn quota_error(what: String, key: &str, limit: ByteSize, or: &str) -> Error {
    Error::new(
        ErrorKind::QuotaExceeded,
        format!("{what}, over {key} ({limit}); nothing was written. Raise {key} in config.toml (`kura config set {key} SIZE`) or {or}"),
    )
}
