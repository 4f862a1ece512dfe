//! `config.toml`: every setting with its default, and `KURA_<SECTION>_<KEY>` environment overrides.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::fs::durable;

/// All of Kura's settings. Missing keys take their defaults.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where files live.
    pub paths: PathsConfig,
    /// The layer rules: which files go to git and which to the chunk store.
    pub storage: StorageConfig,
    /// What snapshots include.
    pub snapshots: SnapshotConfig,
    /// The archiver.
    pub archive: ArchiveConfig,
    /// Size limits.
    pub quota: QuotaConfig,
    /// Cleanup: when it runs and how long the trash is kept.
    pub cleanup: CleanupConfig,
    /// Which automatic versions cleanup keeps.
    pub versions: RetentionConfig,
    /// How long network calls (S3 backup targets) may wait before the target counts as down.
    pub network: NetworkConfig,
}

/// Time limits of every call to a backup target, so that a server that accepts connections and
/// then goes silent makes the command end `unavailable` instead of hanging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct NetworkConfig {
    /// Seconds to wait for a target to accept a connection (1–86400).
    pub connect_timeout_secs: u64,
    /// Seconds a request may go without a byte moving either way (sent or received) before the
    /// target counts as silent: a server that accepts connections and never answers, or stops
    /// in the middle of an upload (1–86400).
    pub io_timeout_secs: u64,
    /// Seconds one request may take in all (a whole pack upload or download, and an upload's
    /// retries after the first failure); raise it on very slow links. At least
    /// `io_timeout_secs`, at most 86400.
    pub operation_timeout_secs: u64,
}

impl Default for NetworkConfig {
    fn default() -> Self {
        NetworkConfig {
            connect_timeout_secs: 10,
            io_timeout_secs: 60,
            operation_timeout_secs: 600,
        }
    }
}

/// How and when projects are archived, and the cold tier archives move to.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct ArchiveConfig {
    /// Active projects not changed or opened for this many days are archived by cleanup
    /// (0: never).
    pub archive_after_days: u32,
    /// zstd level of archives (1–19).
    pub compression_level: i32,
    /// zstd threads that compress an archive (0: one per core; at most 256).
    pub threads: u32,
    /// An archive being imported or extracted may unpack to at most this many times its own
    /// size (sizes as its entries declare them, a sparse file at its full size; never less than
    /// 64 MiB); 0: no limit by ratio. Stops a small archive from filling the disk: an entry that
    /// would pass the limit is refused before a byte of it is written (`quota_exceeded`, exit
    /// status 6 from `kura`), and nothing of the unpack is kept.
    pub unpack_max_ratio: u32,
    /// An unpack must leave at least this much free space on the destination's disk; an entry
    /// that would not is refused before a byte of it is written (`disk_full`, exit status 7
    /// from `kura`), and nothing of the unpack is kept.
    pub unpack_free_reserve: ByteSize,
    /// The backup target (an S3 bucket, or a folder on another drive) that archives move to,
    /// the cold tier: each archive is uploaded and verified there, and the local file is dropped after
    /// `keep_local_days` (or sooner, oldest first, past `local_cap`). Empty: archives stay
    /// here only.
    pub cold_target: String,
    /// Days an archive stays on this disk once its copy at `cold_target` is verified, counted
    /// from when it was made or last fetched back.
    pub keep_local_days: u32,
    /// Local archives with a verified copy at `cold_target` are dropped, the one here longest
    /// (since it was made or last fetched back) first, while all local archives together hold
    /// more than this; 0: no cap.
    pub local_cap: ByteSize,
}

impl Default for ArchiveConfig {
    fn default() -> Self {
        ArchiveConfig {
            archive_after_days: 90,
            compression_level: 3,
            threads: 0,
            unpack_max_ratio: 200,
            unpack_free_reserve: ByteSize(256 << 20),
            cold_target: String::new(),
            keep_local_days: 30,
            local_cap: ByteSize(0),
        }
    }
}

/// Size limits; 0 means no limit.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct QuotaConfig {
    /// Largest a project's files may grow. Saving or uploading files, creating a project from a
    /// template, importing and unarchiving are refused before a byte is written when they would
    /// pass it (`quota_exceeded`, exit status 6 from `kura`); `kura quota` and the app warn at
    /// 80% and 90%.
    pub max_project_size: ByteSize,
    /// Most the whole vault may hold: the active projects' files plus what every project's
    /// versions and archives take on disk. Writes that would pass it are refused as for
    /// `max_project_size`; a snapshot never is, since it records what is already on disk.
    pub total_quota: ByteSize,
}

/// When cleanup runs and what it purges.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct CleanupConfig {
    /// When cleanup runs while the app is open, in local time, written as backup schedules are:
    /// "daily at 03:00", "weekly on sun at 04:00", "monthly on 1 at 03:00", "hourly at :15", or
    /// "cron <five fields>" ("cron 0 3 * * *"); empty or `off` for never.
    pub schedule: String,
    /// Projects stay in the trash this many days before cleanup deletes them (0: never).
    pub trash_days: u32,
}

impl Default for CleanupConfig {
    fn default() -> Self {
        CleanupConfig {
            schedule: "daily at 03:00".into(),
            trash_days: 30,
        }
    }
}

/// The retention rule for automatic versions: every one for `keep_all_days`, then the newest of
/// each hour until `hourly_days`, of each day until `daily_days`, of each week after that.
/// Manual versions (and those taken before a restore or an archive, or by the API) and each
/// project's latest version are always kept.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct RetentionConfig {
    /// Keep every automatic version this many days.
    pub keep_all_days: u32,
    /// Then the newest of each hour up to this age in days (at least `keep_all_days`).
    pub hourly_days: u32,
    /// Then the newest of each day up to this age in days (at least `hourly_days`); the newest
    /// of each week after.
    pub daily_days: u32,
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            keep_all_days: 1,
            hourly_days: 7,
            daily_days: 30,
        }
    }
}

impl CleanupConfig {
    /// The parsed schedule; `None` when cleanup is not scheduled ("off" or empty).
    pub fn parsed_schedule(&self) -> Result<Option<kura_schedule::Schedule>> {
        let s = self.schedule.trim();
        if s.is_empty() || s.eq_ignore_ascii_case("off") {
            return Ok(None);
        }
        s.parse().map(Some).map_err(|e| {
            Error::invalid(format!(
                "cleanup.schedule '{s}' is not a schedule: {e}; or write off"
            ))
        })
    }
}

/// Folders used by the vault.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct PathsConfig {
    /// Folder where the folders of managed projects are created; unset: `<vault>/projects`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    pub projects: Option<PathBuf>,
}

/// Which files go to git and which to the chunk store (the layer rules), and how each is
/// compressed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct StorageConfig {
    /// Files at least this big go to the chunk store. Smaller text stays in git, where a repack
    /// stores each version as a delta; 8 MiB holds every page of the Rust docs. At least 4 KiB.
    pub large_file_threshold: ByteSize,
    /// Binary files (a NUL byte in their first 8 KiB) at least this big go to the chunk store.
    pub binary_min_size: ByteSize,
    /// Files with these extensions (lower case, no dot) and at least 4 KiB go to the chunk store.
    pub chunk_extensions: Vec<String>,
    /// zstd level for the chunk store (1–19). 3, the default, is Kura's own, between zstd's 2
    /// and 3: zstd's fast match finder with a hash table of 2^17 entries and matches of 5 bytes
    /// or more, tuned on 1 MiB chunks of binaries (2% larger than zstd's 3 in about 20% less
    /// time); the other levels are zstd's. Applies to chunks written after the vault is next
    /// opened.
    pub compression_level: i32,
    /// Deflate level for objects in the git histories (1–9): libdeflate's levels, each smaller
    /// and faster than zlib's of the same number.
    pub history_compression_level: u32,
    /// Upper bound of the in-memory cache of hot chunks; applies from the vault's next open.
    pub cache_size: ByteSize,
}

impl Default for StorageConfig {
    fn default() -> Self {
        StorageConfig {
            large_file_threshold: ByteSize(8 << 20),
            binary_min_size: ByteSize(64 << 10),
            chunk_extensions: [
                "zip", "gz", "tgz", "xz", "zst", "bz2", "7z", "rar", "jar", "png", "jpg", "jpeg",
                "gif", "webp", "ico", "pdf", "mp3", "mp4", "mov", "avi", "mkv", "wav", "flac",
                "woff", "woff2", "ttf", "otf", "psd", "sqlite", "db", "bin", "iso", "dmg", "exe",
                "dll", "so", "dylib", "a", "rlib", "wasm",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
            compression_level: 3,
            history_compression_level: 1,
            cache_size: ByteSize(64 << 20),
        }
    }
}

/// What a snapshot takes in, and when the desktop app takes one by itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct SnapshotConfig {
    /// Extra exclude patterns (gitignore syntax) applied to every project, on top of each
    /// project's `.gitignore` and `.kuraignore`.
    pub excludes: Vec<String>,
    /// Whether `.gitignore` files are honoured.
    pub honor_gitignore: bool,
    /// Which projects the desktop app versions automatically when their folder changes: `off`
    /// (none), `managed` (projects whose folder Kura manages, not linked ones) or `all` (every
    /// active project).
    pub auto_snapshot: AutoSnapshot,
    /// Seconds a folder must stay quiet before an automatic version is taken (1–86400).
    pub quiet_period_secs: u64,
}

/// Which projects get automatic versions when their folder changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum AutoSnapshot {
    /// None.
    Off,
    /// Projects whose folder Kura manages (not linked ones).
    Managed,
    /// Every active project.
    All,
}

impl Default for SnapshotConfig {
    fn default() -> Self {
        SnapshotConfig {
            excludes: vec![".DS_Store".into(), "Thumbs.db".into(), "*.swp".into()],
            honor_gitignore: true,
            auto_snapshot: AutoSnapshot::Managed,
            quiet_period_secs: 10,
        }
    }
}

impl Config {
    /// Reads `config.toml` if present (defaults otherwise), then applies `KURA_*` overrides.
    pub fn load(path: &Path) -> Result<Config> {
        Config::read(path, true)
    }

    /// Reads `config.toml` alone, without environment overrides.
    pub fn load_file_only(path: &Path) -> Result<Config> {
        Config::read(path, false)
    }

    fn read(path: &Path, with_env: bool) -> Result<Config> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let mut value: toml::Table = toml::from_str(&text).map_err(|e| {
            Error::invalid(format!(
                "{} is not valid TOML: {}",
                path.display(),
                e.message()
            ))
        })?;
        if with_env {
            apply_env(&mut value, std::env::vars())?;
        }
        let config: Config = value.try_into().map_err(|e: toml::de::Error| {
            Error::invalid(format!("{}: {}", path.display(), e.message()))
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Writes the settings to `path` durably (after validating them).
    pub fn save(&self, path: &Path) -> Result<()> {
        self.validate()?;
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::internal(format!("cannot serialise config: {e}")))?;
        durable::write_file(path, text.as_bytes())
    }

    /// Checks ranges; the message names the setting and the allowed values.
    pub fn validate(&self) -> Result<()> {
        let s = &self.storage;
        if !(1..=19).contains(&s.compression_level) {
            return Err(Error::invalid(format!(
                "storage.compression_level is {}; it must be between 1 and 19",
                s.compression_level
            )));
        }
        if !(1..=9).contains(&s.history_compression_level) {
            return Err(Error::invalid(format!(
                "storage.history_compression_level is {}; it must be between 1 and 9",
                s.history_compression_level
            )));
        }
        if !(1..=86_400).contains(&self.snapshots.quiet_period_secs) {
            return Err(Error::invalid(
                "snapshots.quiet_period_secs must be between 1 and 86400 seconds",
            ));
        }
        let a = &self.archive;
        if !(1..=19).contains(&a.compression_level) {
            return Err(Error::invalid(format!(
                "archive.compression_level is {}; it must be between 1 and 19",
                a.compression_level
            )));
        }
        if a.threads > 256 {
            return Err(Error::invalid(
                "archive.threads must be between 0 (one per core) and 256",
            ));
        }
        self.cleanup.parsed_schedule()?;
        let v = &self.versions;
        if v.hourly_days < v.keep_all_days || v.daily_days < v.hourly_days {
            return Err(Error::invalid(format!(
                "versions.keep_all_days ({}) ≤ versions.hourly_days ({}) ≤ versions.daily_days ({}) must hold",
                v.keep_all_days, v.hourly_days, v.daily_days
            )));
        }
        let n = &self.network;
        for (key, value) in [
            ("network.connect_timeout_secs", n.connect_timeout_secs),
            ("network.io_timeout_secs", n.io_timeout_secs),
            ("network.operation_timeout_secs", n.operation_timeout_secs),
        ] {
            if !(1..=86_400).contains(&value) {
                return Err(Error::invalid(format!(
                    "{key} is {value}; it must be between 1 and 86400 seconds"
                )));
            }
        }
        if n.operation_timeout_secs < n.io_timeout_secs {
            return Err(Error::invalid(format!(
                "network.operation_timeout_secs ({}) must be at least network.io_timeout_secs ({})",
                n.operation_timeout_secs, n.io_timeout_secs
            )));
        }
        if s.large_file_threshold.0 < 4096 {
            return Err(Error::invalid(
                "storage.large_file_threshold must be at least 4 KiB",
            ));
        }
        Ok(())
    }

    /// Reads one setting as text, by dotted key (`storage.compression_level`); an unset optional
    /// setting reads as the empty string.
    pub fn get(&self, key: &str) -> Result<String> {
        if !Config::known_keys().contains(&key) {
            return Err(Error::not_found(format!("there is no setting '{key}'")));
        }
        let table = toml::Table::try_from(self)
            .map_err(|e| Error::internal(format!("cannot serialise config: {e}")))?;
        let (section, name) = split_key(key)?;
        Ok(match table.get(section).and_then(|s| s.get(name)) {
            None => String::new(),
            Some(toml::Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
        })
    }

    /// Changes one setting from text, by dotted key; validates the result.
    pub fn set(&mut self, key: &str, raw: &str) -> Result<()> {
        let mut table = toml::Table::try_from(&*self)
            .map_err(|e| Error::internal(format!("cannot serialise config: {e}")))?;
        let defaults = toml::Table::try_from(Config::default())
            .map_err(|e| Error::internal(format!("cannot serialise defaults: {e}")))?;
        if !Config::known_keys().contains(&key) {
            return Err(Error::not_found(format!(
                "there is no setting '{key}'; known settings: {}",
                Config::known_keys().join(", ")
            )));
        }
        let (section, name) = split_key(key)?;
        let template = defaults.get(section).and_then(|s| s.get(name));
        let value = parse_like(template, raw, key)?;
        table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .ok_or_else(|| Error::internal("config section is not a table"))?
            .insert(name.to_string(), value);
        let updated: Config = table
            .try_into()
            .map_err(|e: toml::de::Error| Error::invalid(format!("{key}: {}", e.message())))?;
        updated.validate()?;
        *self = updated;
        Ok(())
    }

    /// Every setting's dotted key.
    pub fn known_keys() -> &'static [&'static str] {
        &[
            "paths.projects",
            "storage.large_file_threshold",
            "storage.binary_min_size",
            "storage.chunk_extensions",
            "storage.compression_level",
            "storage.history_compression_level",
            "storage.cache_size",
            "snapshots.excludes",
            "snapshots.honor_gitignore",
            "snapshots.auto_snapshot",
            "snapshots.quiet_period_secs",
            "archive.archive_after_days",
            "archive.compression_level",
            "archive.threads",
            "archive.unpack_max_ratio",
            "archive.unpack_free_reserve",
            "archive.cold_target",
            "archive.keep_local_days",
            "archive.local_cap",
            "quota.max_project_size",
            "quota.total_quota",
            "cleanup.schedule",
            "cleanup.trash_days",
            "versions.keep_all_days",
            "versions.hourly_days",
            "versions.daily_days",
            "network.connect_timeout_secs",
            "network.io_timeout_secs",
            "network.operation_timeout_secs",
        ]
    }
}

fn split_key(key: &str) -> Result<(&str, &str)> {
    key.split_once('.')
        .ok_or_else(|| Error::invalid(format!("'{key}' is not a setting; use section.name")))
}

/// Parses `raw` into a TOML value of the same type as `template`.
fn parse_like(template: Option<&toml::Value>, raw: &str, key: &str) -> Result<toml::Value> {
    let bad = |what: &str| Error::invalid(format!("{key} must be {what}, not '{raw}'"));
    Ok(match template {
        Some(toml::Value::Integer(_)) => {
            toml::Value::Integer(raw.trim().parse().map_err(|_| bad("a whole number"))?)
        }
        Some(toml::Value::Boolean(_)) => match raw.trim() {
            "true" | "1" | "yes" | "on" => toml::Value::Boolean(true),
            "false" | "0" | "no" | "off" => toml::Value::Boolean(false),
            _ => return Err(bad("true or false")),
        },
        Some(toml::Value::Array(_)) => toml::Value::Array(
            raw.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| toml::Value::String(s.to_string()))
                .collect(),
        ),
        _ => toml::Value::String(raw.to_string()),
    })
}

/// Applies `KURA_<SECTION>_<KEY>` variables onto `table`. `KURA_HOME` and `KURA_LOG` are not
/// settings and are left alone.
fn apply_env(table: &mut toml::Table, vars: impl Iterator<Item = (String, String)>) -> Result<()> {
    // The defaults tell each value's type; made only when a variable names a setting (most
    // commands run with none).
    let mut defaults: Option<toml::Table> = None;
    for (name, raw) in vars {
        let Some(rest) = name.strip_prefix("KURA_") else {
            continue;
        };
        let rest = rest.to_ascii_lowercase();
        let Some(key) = Config::known_keys()
            .iter()
            .find(|k| k.replace('.', "_") == rest)
        else {
            continue;
        };
        let (section, field) = split_key(key)?;
        if defaults.is_none() {
            defaults = Some(
                toml::Table::try_from(Config::default())
                    .map_err(|e| Error::internal(format!("cannot serialise defaults: {e}")))?,
            );
        }
        let template = defaults
            .as_ref()
            .and_then(|d| d.get(section))
            .and_then(|s| s.get(field));
        let value = parse_like(template, &raw, &name)?;
        table
            .entry(section.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .ok_or_else(|| Error::invalid(format!("[{section}] in config.toml must be a table")))?
            .insert(field.to_string(), value);
    }
    Ok(())
}

/// A byte count, written in config files as `"64 MiB"` (or a plain number of bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct ByteSize(pub u64);

impl ByteSize {
    /// "10.4 GiB", "512 B": rounded, for messages people read (`Display` is exact, for
    /// `config.toml`).
    pub fn approx(self) -> String {
        crate::human::bytes(self.0)
    }
}

impl fmt::Display for ByteSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The largest unit that divides the size exactly, so "64 MiB" stays "64 MiB" and a
        // size a person wrote in 1000s ("5 MB") is written back as they wrote it.
        const UNITS: [(&str, u64); 8] = [
            ("TiB", 1 << 40),
            ("TB", 1_000_000_000_000),
            ("GiB", 1 << 30),
            ("GB", 1_000_000_000),
            ("MiB", 1 << 20),
            ("MB", 1_000_000),
            ("KiB", 1 << 10),
            ("KB", 1_000),
        ];
        for (unit, size) in UNITS {
            if self.0 >= size && self.0.is_multiple_of(size) {
                return write!(f, "{} {unit}", self.0 / size);
            }
        }
        write!(f, "{} B", self.0)
    }
}

/// Reads a size people type. Both kinds of unit mean what they say: "5 MB" is 5,000,000 bytes,
/// "5 MiB" 5,242,880. A bare letter ("5 M", "512k") is binary, as `du -h`, `ls -h` and rsync
/// write it. Case does not matter; a plain number is bytes.
impl std::str::FromStr for ByteSize {
    type Err = Error;
    fn from_str(s: &str) -> Result<ByteSize> {
        let t = s.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(t.len());
        let (num, unit) = t.split_at(split);
        let num: f64 = num.parse().map_err(|_| {
            Error::invalid(format!(
                "'{s}' is not a size; write e.g. 512 KiB, 64 MiB, 2 GiB or 5 MB"
            ))
        })?;
        let unit = unit.trim().to_ascii_lowercase();
        let mult: u64 = match unit.as_str() {
            "" | "b" => 1,
            "k" | "ki" | "kib" => 1 << 10,
            "m" | "mi" | "mib" => 1 << 20,
            "g" | "gi" | "gib" => 1 << 30,
            "t" | "ti" | "tib" => 1 << 40,
            "p" | "pi" | "pib" => 1 << 50,
            "kb" => 1_000,
            "mb" => 1_000_000,
            "gb" => 1_000_000_000,
            "tb" => 1_000_000_000_000,
            "pb" => 1_000_000_000_000_000,
            other => {
                return Err(Error::invalid(format!(
                    "unknown size unit '{other}' in '{s}'; write B, KiB, MiB, GiB, TiB (1024s) or KB, MB, GB, TB (1000s)"
                )))
            }
        };
        let bytes = (num * mult as f64).round();
        if bytes >= u64::MAX as f64 {
            return Err(Error::invalid(format!("'{s}' is too large a size")));
        }
        Ok(ByteSize(bytes as u64))
    }
}

/// Reads a rate people type ("5 MiB/s", "512 KiB", "2M"): bytes per second; empty text is none.
pub fn parse_rate(text: &str) -> Result<Option<u64>> {
    let t = text.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let lower = t.to_ascii_lowercase();
    let per_second = lower
        .strip_suffix("sec")
        .or_else(|| lower.strip_suffix('s'))
        .and_then(|s| s.trim_end().strip_suffix('/'));
    per_second
        .unwrap_or(&lower)
        .parse::<ByteSize>()
        .map(|b| Some(b.0))
        .map_err(|_| {
            Error::invalid(format!(
                "'{t}' is not a rate; write e.g. 5 MiB/s or 512 KiB/s, or leave it empty for no limit"
            ))
        })
}

impl Serialize for ByteSize {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<ByteSize, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Int(u64),
            Text(String),
        }
        match Raw::deserialize(d)? {
            Raw::Int(n) => Ok(ByteSize(n)),
            Raw::Text(t) => t.parse().map_err(serde::de::Error::custom),
        }
    }
}

// On the wire it is a string (see its Serialize); the OpenAPI description says so, and how
// the string is read (the configuration reference shows it for every size setting).
#[cfg(feature = "utoipa")]
impl utoipa::PartialSchema for ByteSize {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some(
                "A size in bytes, written as text: \"64 MiB\", \"5 MB\", \"512k\". KB, MB, GB and TB \
                 count in 1000s; KiB, MiB, GiB and TiB, and a bare letter (k, M, G, T), in 1024s; \
                 case does not matter, and a plain number is bytes. Kura writes a size back in \
                 the largest unit that holds it exactly.",
            ))
            .into()
    }
}

#[cfg(feature = "utoipa")]
impl utoipa::ToSchema for ByteSize {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn byte_sizes_parse_and_print() {
        assert_eq!("64 MiB".parse::<ByteSize>().unwrap(), ByteSize(64 << 20));
        assert_eq!("1.5k".parse::<ByteSize>().unwrap(), ByteSize(1536));
        // Both kinds of unit mean what they say; a bare letter is binary (as `du -h` writes).
        let cases = [
            ("5 MB", 5_000_000),
            ("5mb", 5_000_000),
            ("5 MiB", 5 << 20),
            ("5 mib", 5 << 20),
            ("5 M", 5 << 20),
            ("5 KB", 5_000),
            ("5 kB", 5_000),
            ("5 K", 5 << 10),
            ("5 k", 5 << 10),
            ("5 KiB", 5 << 10),
            ("2 GB", 2_000_000_000),
            ("2 GiB", 2 << 30),
            ("2G", 2 << 30),
            ("1 TB", 1_000_000_000_000),
            ("1 TiB", 1 << 40),
            ("1 PiB", 1 << 50),
            ("2.5 MB", 2_500_000),
            ("1000", 1000),
            ("1000 B", 1000),
            (" 64 MiB ", 64 << 20),
        ];
        for (text, bytes) in cases {
            assert_eq!(text.parse::<ByteSize>().unwrap(), ByteSize(bytes), "{text}");
        }
        for bad in [
            "",
            "MiB",
            "-1 MiB",
            "1e3",
            "5 mega",
            "5 Mbit",
            "5 MiB/s",
            "1.2.3 MB",
            "99999999 PiB",
        ] {
            let e = bad.parse::<ByteSize>().unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
        }
        assert_eq!(ByteSize(5_000_000).to_string(), "5 MB");
        assert_eq!(ByteSize(2_000_000_000).to_string(), "2 GB");
        assert_eq!(ByteSize(1_500_000).to_string(), "1500 KB");
        // What config.toml holds reads back as itself.
        for n in [
            0,
            1000,
            4096,
            5_000_000,
            64 << 20,
            256 << 20,
            10 << 30,
            3 << 40,
        ] {
            assert_eq!(
                ByteSize(n).to_string().parse::<ByteSize>().unwrap(),
                ByteSize(n)
            );
        }
        assert_eq!(ByteSize(1 << 20).to_string(), "1 MiB");
        assert_eq!(ByteSize(1000).to_string(), "1 KB");
        assert_eq!(ByteSize(1001).to_string(), "1001 B");
        // Messages round; config files stay exact.
        assert_eq!(ByteSize(16_201_046).approx(), "15.5 MiB");
        assert_eq!(ByteSize(300 << 20).approx(), "300 MiB");
        assert_eq!(ByteSize(11_166_914_969).approx(), "10.4 GiB");
        assert_eq!(ByteSize(512).approx(), "512 B");
        assert!("lots".parse::<ByteSize>().is_err());
    }

    #[test]
    fn rates_read_as_people_write_them() {
        assert_eq!(parse_rate("").unwrap(), None);
        assert_eq!(parse_rate("  ").unwrap(), None);
        assert_eq!(parse_rate("5 MiB/s").unwrap(), Some(5 << 20));
        assert_eq!(parse_rate("512kib").unwrap(), Some(512 << 10));
        assert_eq!(parse_rate("1.5 MB / sec").unwrap(), Some(1_500_000));
        assert_eq!(parse_rate("1.5 MiB/s").unwrap(), Some(1_572_864));
        assert_eq!(parse_rate("2M/S").unwrap(), Some(2 << 20));
        assert_eq!(parse_rate("100").unwrap(), Some(100));
        for bad in ["fast", "5 MiBs", "5 MiB/min", "/s", "-1 MiB/s", "1e3"] {
            let e = parse_rate(bad).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::InvalidInput, "{bad}");
            assert!(e.message().contains("is not a rate"), "{bad}: {e}");
        }
    }

    #[test]
    fn env_overrides_apply_to_known_keys_only() {
        let mut table = toml::Table::new();
        let vars = vec![
            (
                "KURA_STORAGE_COMPRESSION_LEVEL".to_string(),
                "7".to_string(),
            ),
            (
                "KURA_SNAPSHOTS_EXCLUDES".to_string(),
                "*.log, tmp/".to_string(),
            ),
            ("KURA_HOME".to_string(), "/x".to_string()),
        ];
        apply_env(&mut table, vars.into_iter()).unwrap();
        let cfg: Config = table.try_into().unwrap();
        assert_eq!(cfg.storage.compression_level, 7);
        assert_eq!(cfg.snapshots.excludes, vec!["*.log", "tmp/"]);
    }

    #[test]
    fn network_timeouts_have_defaults_env_overrides_and_limits() {
        let mut table = toml::Table::new();
        let vars = vec![("KURA_NETWORK_IO_TIMEOUT_SECS".to_string(), "5".to_string())];
        apply_env(&mut table, vars.into_iter()).unwrap();
        let cfg: Config = table.try_into().unwrap();
        assert_eq!(cfg.network.io_timeout_secs, 5);
        assert_eq!(cfg.network.connect_timeout_secs, 10);
        assert_eq!(cfg.network.operation_timeout_secs, 600);
        let mut cfg = Config::default();
        let err = cfg.set("network.connect_timeout_secs", "0").unwrap_err();
        assert!(err.message().contains("between 1 and 86400"), "{err}");
        let err = cfg.set("network.operation_timeout_secs", "30").unwrap_err();
        assert!(
            err.message().contains("at least network.io_timeout_secs"),
            "{err}"
        );
        cfg.set("network.io_timeout_secs", "20").unwrap();
        cfg.set("network.operation_timeout_secs", "30").unwrap();
        assert_eq!(cfg.network.operation_timeout_secs, 30);
    }

    #[test]
    fn set_validates() {
        let mut cfg = Config::default();
        cfg.set("storage.large_file_threshold", "16 MiB").unwrap();
        assert_eq!(cfg.storage.large_file_threshold, ByteSize(16 << 20));
        let err = cfg.set("storage.compression_level", "40").unwrap_err();
        assert!(err.message().contains("between 1 and 19"), "{err}");
        assert_eq!(cfg.storage.compression_level, 3);
        assert!(cfg.set("storage.nope", "1").is_err());
    }
}
