//! Checking an archive: the SHA-256 of its file, and every entry readable to the end (zstd's
//! own checksums included) with `metadata.json` and `history.bundle` present.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use super::tunables::READ_CHUNK;
use super::{unpack, ArchiveMetadata, BUNDLE_HEADER};
use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;
use crate::model::ArchiveInfo;

/// What reading an archive through found.
pub(super) struct ContentCheck {
    /// Entries read.
    pub(super) entries: u64,
    /// What is wrong with them.
    pub(super) problems: Vec<String>,
}

/// Computes the SHA-256 of a file (hex, as `sha256sum` prints it), checking the job between
/// reads.
pub fn sha256_of(path: &Path, job: &Job) -> Result<String> {
    let mut f = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let total = f.metadata().map(|m| m.len()).ok();
    let mut h = Sha256::new();
    let mut buf = vec![0u8; READ_CHUNK];
    let mut done = 0u64;
    loop {
        job.check()?;
        let n = f.read(&mut buf).map_err(|e| Error::io("read", path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        done += n as u64;
        job.bytes("checking", done, total, None);
    }
    Ok(hex::encode(h.finalize()))
}

/// The problem when the file's SHA-256 is not the one recorded when it was made.
pub(super) fn checksum_problem(info: &ArchiveInfo, sha256: &str) -> Option<String> {
    (sha256 != info.sha256).then(|| {
        format!(
            "the checksum does not match: the file's SHA-256 is {sha256}, {} was recorded when it was made",
            info.sha256
        )
    })
}

/// Reads every entry of the archive at `path`; what is wrong is a problem, a cancel an error.
pub(super) fn check_content(path: &Path, job: &Job) -> Result<ContentCheck> {
    let mut entries = 0u64;
    let mut seen_meta = false;
    let mut seen_bundle = false;
    let mut problems = Vec::new();
    let file = File::open(path).map_err(|e| Error::io("open", path, e))?;
    let walked = zstd::stream::read::Decoder::new(file)
        .map_err(|e| Error::corrupt(e.to_string()))
        .and_then(|dec| {
            unpack::walk_tar(dec, path, job, |rel, data| {
                entries += 1;
                let mut parts = rel.components().skip(1);
                match parts.next().and_then(|c| c.as_os_str().to_str()) {
                    Some("metadata.json") if parts.next().is_none() => {
                        let mut text = Vec::new();
                        data.read_to_end(&mut text)
                            .map_err(|e| Error::corrupt(e.to_string()))?;
                        seen_meta = serde_json::from_slice::<ArchiveMetadata>(&text).is_ok();
                    }
                    Some("history.bundle") if parts.next().is_none() => {
                        let mut head = [0u8; 16];
                        seen_bundle = data.read_exact(&mut head).is_ok() && head == BUNDLE_HEADER;
                    }
                    _ => {}
                }
                Ok(())
            })
        });
    match walked {
        Ok(_) => {
            if !seen_meta {
                problems.push("metadata.json is missing or unreadable".into());
            }
            if !seen_bundle {
                problems.push("history.bundle is missing or not a git bundle".into());
            }
        }
        Err(e) if e.kind() == ErrorKind::Cancelled => return Err(e),
        Err(e) => problems.push(e.message().to_string()),
    }
    Ok(ContentCheck { entries, problems })
}
