//! Backup targets: where backups go (a folder, an S3-compatible bucket), their schedule string,
//! retention and limits, kept in `<vault>/backup/targets.toml`; and their secrets, which live in
//! the OS keyring or the environment, never in that file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// Service name of Kura's entries in the OS keyring.
const KEYRING_SERVICE: &str = "kura-backup";

/// One backup target.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// The target's name (letters, digits, `-`, `_`).
    #[cfg_attr(feature = "utoipa", schema(pattern = r"^[A-Za-z0-9_-]{1,64}$"))]
    pub name: String,
    /// Where its repository is.
    pub location: Location,
    /// Whether data is encrypted with a passphrase before it leaves the machine.
    #[serde(default)]
    pub encrypt: bool,
    /// When it runs, as text for the scheduler (`"daily 02:00"`, `"cron 0 3 * * *"`); empty: on
    /// demand only.
    #[serde(default)]
    pub schedule: String,
    /// Which backups prune keeps.
    #[serde(default)]
    pub retention: Retention,
    /// Upload limit (none: as fast as the target takes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth_limit: Option<Rate>,
}

/// An upload limit: bytes per second, or the text a person typed ("5 MiB/s", "512 KiB"), which
/// the engine reads when it checks the target and keeps as bytes per second.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum Rate {
    /// Bytes per second.
    BytesPerSecond(u64),
    /// As people write it; empty is no limit.
    Text(String),
}

impl Rate {
    /// Bytes per second; `None` for empty text.
    pub fn bytes_per_second(&self) -> Result<Option<u64>> {
        match self {
            Rate::BytesPerSecond(n) => Ok(Some(*n)),
            Rate::Text(t) => kura_core::parse_rate(t),
        }
    }
}

impl Target {
    /// The upload limit in bytes per second, if any.
    pub fn upload_limit(&self) -> Result<Option<u64>> {
        match &self.bandwidth_limit {
            Some(rate) => rate.bytes_per_second(),
            None => Ok(None),
        }
    }
}

/// Where a target's repository lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Location {
    /// A local folder, an external drive included.
    Folder {
        /// The repository folder.
        #[cfg_attr(feature = "utoipa", schema(value_type = String))]
        path: PathBuf,
    },
    /// An S3-compatible bucket.
    S3 {
        /// The endpoint URL (`https://s3.eu-central-1.amazonaws.com`, `http://127.0.0.1:9000`).
        #[cfg_attr(feature = "utoipa", schema(pattern = r"^https?://"))]
        endpoint: String,
        /// The region (`us-east-1` when the service ignores it).
        region: String,
        /// The bucket.
        #[cfg_attr(feature = "utoipa", schema(min_length = 1))]
        bucket: String,
        /// A folder inside the bucket.
        #[serde(default)]
        prefix: String,
        /// Path-style addressing (`endpoint/bucket/key`) instead of virtual hosts
        /// (`bucket.endpoint/key`); most self-hosted servers need it.
        #[serde(default = "yes")]
        path_style: bool,
    },
}

fn yes() -> bool {
    true
}

/// The kind of place a target's repository lives in, which decides the secrets it needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum LocationKind {
    Folder,
    S3,
}

impl Location {
    /// Its kind: a folder or an S3 bucket.
    pub fn kind(&self) -> LocationKind {
        match self {
            Location::Folder { .. } => LocationKind::Folder,
            Location::S3 { .. } => LocationKind::S3,
        }
    }

    /// A short description for people: the folder, or `s3://bucket/prefix at endpoint`.
    pub fn describe(&self) -> String {
        match self {
            Location::Folder { path } => path.display().to_string(),
            Location::S3 {
                endpoint,
                bucket,
                prefix,
                ..
            } => format!("s3://{bucket}/{prefix} at {endpoint}"),
        }
    }
}

/// Which backups `prune` keeps. A backup is kept when any rule keeps it; all zero keeps all.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default, deny_unknown_fields)]
pub struct Retention {
    /// The newest N backups.
    pub keep_last: u32,
    /// The newest backup of each of the last N hours that have one.
    pub hourly: u32,
    /// ... of each of the last N days.
    pub daily: u32,
    /// ... of each of the last N ISO weeks.
    pub weekly: u32,
    /// ... of each of the last N months.
    pub monthly: u32,
    /// Backups older than this many days are removed whatever the other rules say (the newest
    /// backup is always kept); 0: no age limit.
    pub retention_days: u32,
}

impl Retention {
    /// True when no rule is set (prune then keeps every backup).
    pub fn keeps_all(&self) -> bool {
        *self == Retention::default()
    }
}

/// Secrets of a target, resolved from the environment or the keyring.
#[derive(Clone, Default)]
pub struct Secrets {
    /// S3 access key id.
    pub access_key_id: Option<String>,
    /// S3 secret access key.
    pub secret_access_key: Option<String>,
    /// Encryption passphrase.
    pub passphrase: Option<String>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("access_key_id", &self.access_key_id.is_some())
            .field("secret_access_key", &self.secret_access_key.is_some())
            .field("passphrase", &self.passphrase.is_some())
            .finish()
    }
}

/// The kinds of secret a target may need.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SecretKind {
    /// S3 access key id.
    AccessKeyId,
    /// S3 secret access key.
    SecretAccessKey,
    /// Encryption passphrase.
    Passphrase,
}

impl SecretKind {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            SecretKind::AccessKeyId => "ACCESS_KEY_ID",
            SecretKind::SecretAccessKey => "SECRET_ACCESS_KEY",
            SecretKind::Passphrase => "PASSPHRASE",
        }
    }

    fn aws_fallback(self) -> Option<&'static str> {
        match self {
            SecretKind::AccessKeyId => Some("AWS_ACCESS_KEY_ID"),
            SecretKind::SecretAccessKey => Some("AWS_SECRET_ACCESS_KEY"),
            SecretKind::Passphrase => None,
        }
    }

    fn what(self) -> &'static str {
        match self {
            SecretKind::AccessKeyId => "the S3 access key id",
            SecretKind::SecretAccessKey => "the S3 secret access key",
            SecretKind::Passphrase => "the encryption passphrase",
        }
    }

    /// The input field a missing or refused secret of this kind is about.
    fn field(self) -> &'static str {
        match self {
            SecretKind::Passphrase => "passphrase",
            SecretKind::AccessKeyId | SecretKind::SecretAccessKey => "secrets",
        }
    }
}

/// The environment variable holding a target's secret: `KURA_BACKUP_<TARGET>_<KIND>`, the name
/// upper-cased with `-` as `_`.
pub fn secret_env_var(target: &str, kind: SecretKind) -> String {
    let name: String = target
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("KURA_BACKUP_{name}_{}", kind.suffix())
}

/// An environment variable a target reads a secret from, when its secrets are not in the OS
/// keyring.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SecretVariable {
    /// Its name: `KURA_BACKUP_<TARGET>_<KIND>`.
    pub variable: String,
    /// The secret it holds, in words.
    pub what: String,
    /// The variable read when it is not set (`AWS_ACCESS_KEY_ID`, ...), if any.
    pub alternative: Option<String>,
}

/// Every variable a target with this name, kind of location and encryption reads its secrets
/// from (`name` need not be valid yet: the form shows them while it is typed).
pub fn secret_variables(name: &str, location: LocationKind, encrypt: bool) -> Vec<SecretVariable> {
    let mut kinds = Vec::new();
    if location == LocationKind::S3 {
        kinds.extend([SecretKind::AccessKeyId, SecretKind::SecretAccessKey]);
    }
    if encrypt {
        kinds.push(SecretKind::Passphrase);
    }
    kinds
        .into_iter()
        .map(|kind| SecretVariable {
            variable: secret_env_var(name, kind),
            what: kind.what().to_string(),
            alternative: kind.aws_fallback().map(str::to_string),
        })
        .collect()
}

/// Reads one secret: the target's environment variable, then (for S3 keys) `AWS_*`, then the OS
/// keyring. The error names the variable to set.
pub(crate) fn secret(target: &str, kind: SecretKind) -> Result<String> {
    let var = secret_env_var(target, kind);
    if let Some(v) = std::env::var(&var).ok().filter(|v| !v.is_empty()) {
        return Ok(v);
    }
    if let Some(v) = kind
        .aws_fallback()
        .and_then(|n| std::env::var(n).ok())
        .filter(|v| !v.is_empty())
    {
        return Ok(v);
    }
    let keyring_said = match keyring_entry(target, kind).and_then(|e| e.get_password()) {
        Ok(v) => return Ok(v),
        Err(keyring::Error::NoEntry) => "it is not in the OS keyring".to_string(),
        Err(e) => format!("there is no usable OS keyring here ({e})"),
    };
    Err(Error::new(
        ErrorKind::InvalidInput,
        format!(
            "target '{target}' needs {}, and {keyring_said}; set {var} (or store it with `kura backup target add ... --keyring`)",
            kind.what()
        ),
    )
    .with_field(kind.field()))
}

/// Stores one secret in the OS keyring. Fails with a message naming the environment variable to
/// use instead when there is no keyring (headless machines).
pub(crate) fn store_secret(target: &str, kind: SecretKind, value: &str) -> Result<()> {
    keyring_entry(target, kind)
        .and_then(|e| e.set_password(value))
        .map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot store {} of target '{target}' in the OS keyring ({e}); there may be no keyring on this machine: set {} in the environment of every run instead",
                    kind.what(),
                    secret_env_var(target, kind)
                ),
            )
            .with_field(kind.field())
        })
}

/// Removes a target's secrets from the keyring (missing ones are fine).
pub(crate) fn forget_secrets(target: &str) {
    for kind in [
        SecretKind::AccessKeyId,
        SecretKind::SecretAccessKey,
        SecretKind::Passphrase,
    ] {
        if let Ok(entry) = keyring_entry(target, kind) {
            let _ = entry.delete_credential();
        }
    }
}

fn keyring_entry(target: &str, kind: SecretKind) -> keyring::Result<keyring::Entry> {
    keyring::Entry::new(KEYRING_SERVICE, &format!("{target}/{}", kind.suffix()))
}

/// The targets file of a vault.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TargetsFile {
    #[serde(default, rename = "target")]
    pub targets: BTreeMap<String, Target>,
}

impl TargetsFile {
    pub fn path(vault_root: &Path) -> PathBuf {
        vault_root.join("backup").join("targets.toml")
    }

    pub fn load(vault_root: &Path) -> Result<TargetsFile> {
        let path = TargetsFile::path(vault_root);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(TargetsFile::default()),
            Err(e) => return Err(Error::from_io("read", &path, e)),
        };
        toml::from_str(&text).map_err(|e| {
            Error::new(
                ErrorKind::InvalidInput,
                format!("{} is not valid: {}", path.display(), e.message()),
            )
        })
    }

    pub fn save(&self, vault_root: &Path) -> Result<()> {
        let path = TargetsFile::path(vault_root);
        let text = toml::to_string_pretty(self)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot write targets: {e}")))?;
        crate::fsio::write_durably(&path, text.as_bytes())
    }
}

/// Checks a target's settings, the message naming what is wrong; returns them as they are kept
/// (an upload limit typed as text read into bytes per second).
pub(crate) fn checked(target: &Target) -> Result<Target> {
    let bad = |field: &'static str, m: String| {
        Err(Error::new(ErrorKind::InvalidInput, m).with_field(field))
    };
    let name = &target.name;
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return bad(
            "name",
            format!(
                "'{name}' is not a valid target name; use up to 64 letters, digits, '-' or '_'"
            ),
        );
    }
    if !target.schedule.is_empty() && !crate::policy::after_every_change(target) {
        if let Err(e) = target.schedule.parse::<kura_schedule::Schedule>() {
            return bad(
                "schedule",
                format!("the schedule of target '{name}' is not valid: {e}; or 'after every change' to back up within seconds of each change"),
            );
        }
    }
    match &target.location {
        Location::Folder { path } if !path.is_absolute() => {
            return bad(
                "location",
                format!(
                    "the folder of target '{name}' must be an absolute path, not {}",
                    path.display()
                ),
            )
        }
        Location::S3 {
            endpoint, bucket, ..
        } => {
            if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
                return bad("location", format!(
                    "the endpoint of target '{name}' must start with http:// or https://, not '{endpoint}'"
                ));
            }
            if bucket.is_empty() {
                return bad("bucket", format!("target '{name}' needs a bucket"));
            }
        }
        _ => {}
    }
    let limit = match target.upload_limit() {
        Ok(limit) => limit,
        Err(e) => return bad("bandwidth", e.message().to_string()),
    };
    if limit == Some(0) {
        return bad("bandwidth", format!(
            "the upload limit of target '{name}' must be above 0 bytes/s (leave it empty for no limit)"
        ));
    }
    Ok(Target {
        bandwidth_limit: limit.map(Rate::BytesPerSecond),
        ..target.clone()
    })
}
