//! Client-side encryption of a target: a passphrase-derived key (Argon2id) wraps a random master
//! key; blobs, pack indexes and manifests are sealed with XChaCha20-Poly1305 under it, and blob
//! ids are BLAKE3 hashes keyed with a second key, so the ids at the target say nothing about the
//! content.

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use kura_core::{Error, ErrorKind, Result};
use serde::{Deserialize, Serialize};

/// Argon2id memory cost in KiB (64 MiB), iterations and lanes for new targets.
const KDF_MEMORY_KIB: u32 = 64 * 1024;
const KDF_ITERATIONS: u32 = 3;
const KDF_LANES: u32 = 1;
const NONCE_LEN: usize = 24;
/// BLAKE3 contexts of the checksums of stored objects (see [`Keys::object_checksum`]).
const OBJECT_CHECKSUM_CONTEXT: &str = "kura-backup object checksum, format 2";
const OBJECT_MAC_CONTEXT: &str = "kura-backup object MAC key, format 2";

/// How the master key is kept in the target's `config` object.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct WrappedKey {
    pub kdf: String,
    pub memory_kib: u32,
    pub iterations: u32,
    pub lanes: u32,
    pub salt: String,
    /// Nonce and ciphertext of the 64-byte master key, hex.
    pub sealed: String,
}

/// The keys of an open target: one seals data, one keys blob ids. Unencrypted targets have none.
#[derive(Clone)]
pub(crate) struct Keys {
    cipher: Option<XChaCha20Poly1305>,
    id_key: Option<[u8; 32]>,
}

impl Keys {
    /// No encryption: data stored as is, ids are plain BLAKE3.
    pub fn plain() -> Keys {
        Keys {
            cipher: None,
            id_key: None,
        }
    }

    fn from_master(master: &[u8; 64]) -> Keys {
        let mut data = [0u8; 32];
        let mut id = [0u8; 32];
        data.copy_from_slice(&master[..32]);
        id.copy_from_slice(&master[32..]);
        Keys {
            cipher: Some(XChaCha20Poly1305::new(&data.into())),
            id_key: Some(id),
        }
    }

    /// Whether data is encrypted.
    pub fn encrypted(&self) -> bool {
        self.cipher.is_some()
    }

    /// The id of a raw chunk.
    pub fn blob_id(&self, data: &[u8]) -> [u8; 32] {
        match &self.id_key {
            Some(k) => *blake3::keyed_hash(k, data).as_bytes(),
            None => *blake3::hash(data).as_bytes(),
        }
    }

    /// The checksum of the stored object `path` whose bytes (after its header) are `body`: BLAKE3
    /// over the path and the bytes, so an object copied over another does not pass for it. Keyed
    /// (a MAC, under a key derived from the id key) when encrypted: without the passphrase no one
    /// can make an object that passes; unencrypted, it catches damage and edits by hand.
    pub fn object_checksum(&self, path: &str, body: &[u8]) -> blake3::Hash {
        let mut h = match &self.id_key {
            Some(k) => blake3::Hasher::new_keyed(&blake3::derive_key(OBJECT_MAC_CONTEXT, k)),
            None => blake3::Hasher::new_derive_key(OBJECT_CHECKSUM_CONTEXT),
        };
        h.update(&(path.len() as u64).to_le_bytes());
        h.update(path.as_bytes());
        h.update(body);
        h.finalize()
    }

    /// Seals `data` (nonce || ciphertext) when encrypted, else returns it unchanged.
    pub fn seal(&self, data: Vec<u8>) -> Result<Vec<u8>> {
        let Some(cipher) = &self.cipher else {
            return Ok(data);
        };
        let nonce = random::<NONCE_LEN>()?;
        let mut out = Vec::with_capacity(NONCE_LEN + data.len() + 16);
        out.extend_from_slice(&nonce);
        let ct = cipher
            .encrypt(XNonce::from_slice(&nonce), data.as_slice())
            .map_err(|_| Error::new(ErrorKind::Internal, "encryption failed"))?;
        out.extend_from_slice(&ct);
        Ok(out)
    }

    /// Opens what [`Keys::seal`] produced; `what` names the object in the error.
    pub fn open(&self, data: &[u8], what: &str) -> Result<Vec<u8>> {
        let Some(cipher) = &self.cipher else {
            return Ok(data.to_vec());
        };
        if data.len() < NONCE_LEN + 16 {
            return Err(Error::new(
                ErrorKind::Corrupt,
                format!("{what} is truncated"),
            ));
        }
        cipher
            .decrypt(XNonce::from_slice(&data[..NONCE_LEN]), &data[NONCE_LEN..])
            .map_err(|_| {
                Error::new(
                    ErrorKind::Corrupt,
                    format!("{what} fails its authentication check (damaged or altered)"),
                )
            })
    }
}

/// Creates a random master key wrapped under `passphrase`; returns it and the open keys.
pub(crate) fn new_master(passphrase: &str) -> Result<(WrappedKey, Keys)> {
    let master = random::<64>()?;
    let salt = random::<16>()?;
    let kek = derive(passphrase, &salt, KDF_MEMORY_KIB, KDF_ITERATIONS, KDF_LANES)?;
    let sealed = Keys::from_master(&kek_as_master(&kek)).seal(master.to_vec())?;
    let wrapped = WrappedKey {
        kdf: "argon2id".into(),
        memory_kib: KDF_MEMORY_KIB,
        iterations: KDF_ITERATIONS,
        lanes: KDF_LANES,
        salt: hex::encode(salt),
        sealed: hex::encode(sealed),
    };
    Ok((wrapped, Keys::from_master(&master)))
}

/// Opens the master key with `passphrase`; a wrong one is [`ErrorKind::WrongPassphrase`].
pub(crate) fn open_master(wrapped: &WrappedKey, passphrase: &str, target: &str) -> Result<Keys> {
    let bad = || {
        Error::new(
            ErrorKind::Corrupt,
            format!("the key of target '{target}' is damaged"),
        )
    };
    let salt = hex::decode(&wrapped.salt).map_err(|_| bad())?;
    let sealed = hex::decode(&wrapped.sealed).map_err(|_| bad())?;
    let kek = derive(
        passphrase,
        &salt,
        wrapped.memory_kib,
        wrapped.iterations,
        wrapped.lanes,
    )?;
    let master = Keys::from_master(&kek_as_master(&kek))
        .open(&sealed, "the key")
        .map_err(|_| {
            Error::new(
                ErrorKind::WrongPassphrase,
                format!("the passphrase does not open target '{target}'; check it (nothing was changed)"),
            )
        })?;
    let master: [u8; 64] = master.try_into().map_err(|_| bad())?;
    Ok(Keys::from_master(&master))
}

fn kek_as_master(kek: &[u8; 32]) -> [u8; 64] {
    let mut m = [0u8; 64];
    m[..32].copy_from_slice(kek);
    m
}

fn derive(
    passphrase: &str,
    salt: &[u8],
    memory: u32,
    iterations: u32,
    lanes: u32,
) -> Result<[u8; 32]> {
    let params = Params::new(memory, iterations, lanes, Some(32)).map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!("bad key derivation settings: {e}"),
        )
    })?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase.as_bytes(), salt, &mut out)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("key derivation failed: {e}")))?;
    Ok(out)
}

/// `N` random bytes from the operating system.
pub(crate) fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        Error::new(
            ErrorKind::Internal,
            format!("no randomness from the OS: {e}"),
        )
    })?;
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn right_passphrase_opens_wrong_one_is_refused() {
        let (wrapped, keys) = new_master("correct horse").unwrap();
        let sealed = keys.seal(b"secret data".to_vec()).unwrap();
        assert_ne!(&sealed[NONCE_LEN..], b"secret data");
        let again = open_master(&wrapped, "correct horse", "t").unwrap();
        assert_eq!(again.open(&sealed, "blob").unwrap(), b"secret data");
        assert_eq!(again.blob_id(b"x"), keys.blob_id(b"x"));
        assert_ne!(keys.blob_id(b"x"), Keys::plain().blob_id(b"x"));
        let err = open_master(&wrapped, "wrong", "t").err().unwrap();
        assert_eq!(err.kind(), ErrorKind::WrongPassphrase);
    }
}
