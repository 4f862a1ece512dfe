//! The repository at a target: its layout and object formats (see docs/src/backup-format.md).
//!
//! ```text
//! config                  JSON: format version, repository id, chunker, wrapped key (if encrypted),
//!                         and the BLAKE3 checksum of the object's own bytes
//! data/<xx>/<pack id>     packs: "KBPACK01" then blobs (each zstd-compressed, then sealed)
//! index/<pack id>         what a pack holds: (blob id, offset, length, raw length) per blob
//! backups/<backup id>     a backup's manifest
//! locks/<run id>          who is writing or pruning (JSON: host, pid, started, heartbeat)
//! ```
//! Every stored object is checked by something it cannot change itself. A pack id is the BLAKE3
//! hash of the pack's bytes, so a damaged pack is found without keys. Indexes and manifests
//! (format 2) are `KBOBJ002`, a 32-byte checksum, then their body (zstd JSON, sealed when
//! encrypted): the checksum is BLAKE3 over the object's path and body, keyed when the repository
//! is encrypted, so a changed byte, an edit by hand or an object copied over another is damage of
//! that object. The config's checksum covers its exact bytes (with the checksum's own digits
//! zeroed). Repositories of format 1 had no checksums: their objects are read as they are (and
//! said to be unchecked) until the next backup run upgrades them (see
//! [`crate::session::Session::upgrade`]); from format 2 on an object without one is damaged.

use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

use crate::crypto::{self, Keys, WrappedKey};
use crate::store::Store;

/// The format version this code writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 2;
/// The first format whose manifests, indexes and config all carry a checksum.
pub(crate) const CHECKSUMMED_FORMAT: u32 = 2;
/// Magic bytes at the start of every manifest and pack index since format 2, before its checksum.
pub(crate) const OBJECT_MAGIC: &[u8; 8] = b"KBOBJ002";
/// Bytes of an object's checksum.
const CHECKSUM_LEN: usize = 32;
/// Magic bytes at the start of every pack.
pub(crate) const PACK_MAGIC: &[u8; 8] = b"KBPACK01";
/// A pack is closed once it holds this many bytes.
pub(crate) const PACK_TARGET_SIZE: usize = 16 << 20;
/// Content-defined chunking: minimum, average and maximum chunk sizes.
pub(crate) const CHUNK_MIN: u32 = 256 << 10;
pub(crate) const CHUNK_AVG: u32 = 1 << 20;
pub(crate) const CHUNK_MAX: u32 = 4 << 20;
/// zstd level of blobs and manifests.
pub(crate) const ZSTD_LEVEL: i32 = 3;

/// The `config` object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct RepoConfig {
    pub version: u32,
    pub id: String,
    pub created: i64,
    pub chunk_min: u32,
    pub chunk_avg: u32,
    pub chunk_max: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<WrappedKey>,
    /// BLAKE3 of the object's bytes with these digits zeroed, hex (format 2 on; see
    /// [`config_bytes`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
}

/// One blob inside a pack.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub(crate) struct BlobEntry {
    #[serde(with = "hex_id")]
    pub id: [u8; 32],
    pub offset: u64,
    pub length: u32,
    pub raw_length: u32,
}

/// The `index/<pack>` object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct PackIndex {
    pub pack: String,
    pub size: u64,
    pub blobs: Vec<BlobEntry>,
}

pub(crate) fn pack_path(pack: &str) -> String {
    format!("data/{}/{pack}", &pack[..2])
}

pub(crate) fn index_path(pack: &str) -> String {
    format!("index/{pack}")
}

pub(crate) fn backup_path(id: &str) -> String {
    format!("backups/{id}")
}

/// Opens (or, with `create`, initialises) the repository; returns its config and keys. A wrong
/// passphrase fails before anything is written.
pub(crate) fn open(
    store: &Store,
    target: &str,
    encrypt: bool,
    passphrase: impl Fn() -> Result<String>,
    create: bool,
    now: i64,
) -> Result<(RepoConfig, Keys)> {
    match find_config(store, target, encrypt, create)? {
        Some(config) => {
            let keys = unlock(&config, target, passphrase)?;
            Ok((config, keys))
        }
        None if create => {
            let (key, keys) = if encrypt {
                let (w, k) = crypto::new_master(&passphrase()?)?;
                (Some(w), k)
            } else {
                (None, Keys::plain())
            };
            let config = RepoConfig {
                version: FORMAT_VERSION,
                id: hex::encode(crypto::random::<16>()?),
                created: now,
                chunk_min: CHUNK_MIN,
                chunk_avg: CHUNK_AVG,
                chunk_max: CHUNK_MAX,
                key,
                checksum: None,
            };
            store.write(CONFIG, config_bytes(&config)?)?;
            Ok((config, keys))
        }
        None => Err(no_repository(target)),
    }
}

/// Reads the config of the existing repository of `target`, without deriving its key (see
/// [`unlock`]).
pub(crate) fn read_config(store: &Store, target: &str, encrypt: bool) -> Result<RepoConfig> {
    find_config(store, target, encrypt, false)?.ok_or_else(|| no_repository(target))
}

fn no_repository(target: &str) -> Error {
    Error::new(
        ErrorKind::NotFound,
        format!("target '{target}' holds no Kura backup repository (no config object); add the target again to initialise it"),
    )
}

/// The repository's config, checked against the target's settings; `None` when there is none.
fn find_config(
    store: &Store,
    target: &str,
    encrypt: bool,
    create: bool,
) -> Result<Option<RepoConfig>> {
    let Some(bytes) = store.read_optional(CONFIG)? else {
        return Ok(None);
    };
    let config: RepoConfig = serde_json::from_slice(&bytes).map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!("the config object of target '{target}' is damaged: {e}"),
        )
    })?;
    // Never write plain data for a target that is meant to be encrypted: when it is being added
    // the location holds someone else's unencrypted repository; when it was added already, its
    // config lost its key (damaged or replaced).
    match &config.key {
        None if encrypt && create => return Err(Error::new(
            ErrorKind::InvalidInput,
            format!("target '{target}' is to be encrypted, but its location already holds an unencrypted Kura repository; choose an empty location, or add the target without encryption to use that repository"),
        )),
        None if encrypt => return Err(Error::new(
            ErrorKind::Corrupt,
            format!("target '{target}' is encrypted, but the config object at its location has no key (it was damaged or replaced); nothing was written. Check the location; to start over, remove the target and add it again on an empty location"),
        )),
        _ => {}
    }
    check_config(&bytes, &config, target)?;
    if config.version > FORMAT_VERSION {
        return Err(Error::new(
            ErrorKind::Conflict,
            format!(
                "target '{target}' was written by a newer Kura (format {}); upgrade Kura",
                config.version
            ),
        ));
    }
    Ok(Some(config))
}

/// The path of the config object.
pub(crate) const CONFIG: &str = "config";

/// The bytes of the config object: `config` as JSON with its checksum, BLAKE3 of these very
/// bytes with the checksum's digits zeroed.
pub(crate) fn config_bytes(config: &RepoConfig) -> Result<Vec<u8>> {
    let zeros = "0".repeat(CHECKSUM_LEN * 2);
    let unsummed = RepoConfig {
        checksum: Some(zeros.clone()),
        ..config.clone()
    };
    let mut bytes = serde_json::to_vec_pretty(&unsummed)
        .map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let at = checksum_at(&bytes, &zeros)
        .ok_or_else(|| Error::new(ErrorKind::Internal, "the config has no checksum field"))?;
    let sum = blake3::hash(&bytes).to_hex();
    bytes[at..at + zeros.len()].copy_from_slice(sum.as_bytes());
    Ok(bytes)
}

/// Where the digits of checksum `sum` are in the config's `bytes`.
fn checksum_at(bytes: &[u8], sum: &str) -> Option<usize> {
    let field = format!("\"checksum\": \"{sum}\"");
    let start = bytes
        .windows(field.len())
        .position(|w| w == field.as_bytes())?;
    Some(start + field.len() - 1 - sum.len())
}

/// Checks the config object's checksum (required from format 2 on; one written by an older Kura
/// has none and is taken as it is).
fn check_config(bytes: &[u8], config: &RepoConfig, target: &str) -> Result<()> {
    let damaged = |why: &str| {
        let newer = if config.version > FORMAT_VERSION {
            format!(
                " (or it was written by a newer Kura, format {}: then upgrade Kura)",
                config.version
            )
        } else {
            String::new()
        };
        Err(Error::new(
            ErrorKind::Corrupt,
            format!("the config object of target '{target}' is damaged: {why}{newer}; nothing was read or written. Check the location, or restore that file from a copy"),
        ))
    };
    let Some(sum) = &config.checksum else {
        if config.version >= CHECKSUMMED_FORMAT {
            return damaged(&format!(
                "it has no checksum, which every config of format {} has",
                config.version
            ));
        }
        tracing::info!(target, "the config object has no checksum: written by an older Kura; the next backup run adds one");
        return Ok(());
    };
    let Some(at) = checksum_at(bytes, sum).filter(|_| sum.len() == CHECKSUM_LEN * 2) else {
        return damaged("its checksum cannot be read");
    };
    let mut zeroed = bytes.to_vec();
    zeroed[at..at + sum.len()].fill(b'0');
    if blake3::hash(&zeroed).to_hex().as_str() != sum.as_str() {
        return damaged("its content does not match its checksum");
    }
    Ok(())
}

/// The keys of the repository whose config is `config`. For an encrypted one this derives the
/// key from the passphrase (Argon2id: slow on purpose, about a tenth of a second); a wrong
/// passphrase is an error.
pub(crate) fn unlock(
    config: &RepoConfig,
    target: &str,
    passphrase: impl Fn() -> Result<String>,
) -> Result<Keys> {
    match &config.key {
        Some(w) => crypto::open_master(w, &passphrase()?, target),
        None => Ok(Keys::plain()),
    }
}

/// The stored object `path` holding `value`: [`OBJECT_MAGIC`], the checksum, then the JSON
/// compressed and sealed (manifests, pack indexes). At [`ZSTD_FAST_LEVEL`]: on a manifest,
/// mostly paths and hex chunk ids, level 1 is twice as fast as level 3 and smaller (2.47 MB
/// against 2.71 MB for 52,000 files).
pub(crate) fn seal_object<T: Serialize>(keys: &Keys, path: &str, value: &T) -> Result<Vec<u8>> {
    let json =
        serde_json::to_vec(value).map_err(|e| Error::new(ErrorKind::Internal, e.to_string()))?;
    let packed = zstd::bulk::compress(&json, ZSTD_FAST_LEVEL)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("compression failed: {e}")))?;
    let body = keys.seal(packed)?;
    let mut out = Vec::with_capacity(OBJECT_MAGIC.len() + CHECKSUM_LEN + body.len());
    out.extend_from_slice(OBJECT_MAGIC);
    out.extend_from_slice(keys.object_checksum(path, &body).as_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Whether stored bytes are an object with a checksum (format 2), not one of format 1.
pub(crate) fn has_checksum(data: &[u8]) -> bool {
    data.starts_with(OBJECT_MAGIC)
}

/// Opens what [`seal_object`] stored as `path` (`what` says what it is, for errors), checking
/// its checksum first: any change of the stored bytes is `corrupt`, naming the object. An object
/// without one (written by Kura before format 2) is taken as it is when `unchecked_ok` (a
/// repository not upgraded yet, or the local outbox), else it is damaged.
pub(crate) fn open_object<T: for<'de> Deserialize<'de>>(
    keys: &Keys,
    path: &str,
    what: &str,
    data: &[u8],
    unchecked_ok: bool,
) -> Result<T> {
    let damaged = |why: &dyn std::fmt::Display| {
        Error::new(
            ErrorKind::Corrupt,
            format!("{path} ({what}) is damaged: {why}"),
        )
    };
    let body = if has_checksum(data) {
        let Some((sum, body)) = data[OBJECT_MAGIC.len()..].split_at_checked(CHECKSUM_LEN) else {
            return Err(damaged(&"it is cut short"));
        };
        let sum: [u8; CHECKSUM_LEN] = sum.try_into().map_err(|_| damaged(&"it is cut short"))?;
        // blake3::Hash compares in constant time (it is a MAC when the target is encrypted).
        if keys.object_checksum(path, body) != blake3::Hash::from(sum) {
            return Err(damaged(&"its content does not match its checksum"));
        }
        body
    } else if unchecked_ok {
        tracing::debug!(object = path, "read without a check: written by an older Kura, before objects had checksums; the next backup run adds them");
        data
    } else {
        return Err(damaged(
            &"it has no checksum (every object of this repository has one, since it is of format 2)",
        ));
    };
    let packed = keys
        .open(body, path)
        .map_err(|_| damaged(&"it fails its authentication check"))?;
    let json = zstd::stream::decode_all(packed.as_slice()).map_err(|e| damaged(&e))?;
    serde_json::from_slice(&json).map_err(|e| damaged(&e))
}

/// Decodes one blob's stored bytes back to the raw chunk, checking its id.
pub(crate) fn open_blob(
    keys: &Keys,
    entry: &BlobEntry,
    stored: &[u8],
    pack: &str,
) -> Result<Vec<u8>> {
    let what = || {
        format!(
            "blob {} in {}",
            hex::encode(&entry.id[..8]),
            pack_path(pack)
        )
    };
    let packed = keys.open(stored, &what())?;
    let raw = decompress_blob(&packed, entry.raw_length as usize)
        .map_err(|e| Error::new(ErrorKind::Corrupt, format!("{} is damaged: {e}", what())))?;
    if raw.len() != entry.raw_length as usize || keys.blob_id(&raw) != entry.id {
        return Err(Error::new(
            ErrorKind::Corrupt,
            format!("{} does not match its id (damaged)", what()),
        ));
    }
    Ok(raw)
}

mod hex_id {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(id))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let text = String::deserialize(d)?;
        let mut id = [0u8; 32];
        hex::decode_to_slice(text, &mut id).map_err(serde::de::Error::custom)?;
        Ok(id)
    }
}

/// zstd level of blobs of files that are compressed already (git packs, the chunk store,
/// archives): level 3 would take three times as long to save a few percent.
pub(crate) const ZSTD_FAST_LEVEL: i32 = 1;

thread_local! {
    /// One zstd context per thread and level, kept between blobs: making one per blob costs
    /// more than compressing a small file.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static FAST_COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
    static DECOMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Decompressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

/// Compresses a blob at [`ZSTD_LEVEL`], or at [`ZSTD_FAST_LEVEL`] when `compressed_already`,
/// with this thread's context.
pub(crate) fn compress_blob(data: &[u8], compressed_already: bool) -> std::io::Result<Vec<u8>> {
    let (key, level) = if compressed_already {
        (&FAST_COMPRESSOR, ZSTD_FAST_LEVEL)
    } else {
        (&COMPRESSOR, ZSTD_LEVEL)
    };
    key.with(|c| {
        let mut c = c.borrow_mut();
        if c.is_none() {
            *c = Some(zstd::bulk::Compressor::new(level)?);
        }
        c.as_mut().map_or_else(
            || Err(std::io::Error::other("no compressor")),
            |c| c.compress(data),
        )
    })
}

/// Decompresses a blob of `raw_len` bytes with this thread's context.
pub(crate) fn decompress_blob(packed: &[u8], raw_len: usize) -> std::io::Result<Vec<u8>> {
    DECOMPRESSOR.with(|d| {
        let mut d = d.borrow_mut();
        if d.is_none() {
            *d = Some(zstd::bulk::Decompressor::new()?);
        }
        d.as_mut().map_or_else(
            || Err(std::io::Error::other("no decompressor")),
            |d| d.decompress(packed, raw_len),
        )
    })
}
