//! Verify a target: structure (every backup's manifest opens, every chunk it names is indexed,
//! every indexed pack is there with its size), and content (packs read back, their hash and every
//! blob checked), for a sample of packs or all of them.

use std::collections::{HashMap, HashSet};

use kura_core::{ErrorKind, Job, Progress, Result};
use serde::Serialize;

use crate::repo::{self, BlobEntry, PackIndex};
use crate::session::Session;

/// How much of the data to read back.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum VerifyMode {
    /// Structure only: no pack is downloaded.
    Structure,
    /// Structure, and this percentage (1–100) of the packs read and checked.
    Sample(u8),
    /// Structure, and every pack read and checked.
    Full,
}

/// One problem found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct VerifyProblem {
    /// The object at the target (`data/ab/ab12...`, `backups/<id>`).
    pub object: String,
    /// What is wrong.
    pub message: String,
    /// What it affects: `backup <id>: <file>` lines (a few, then a count).
    pub affects: Vec<String>,
}

/// What verify found.
#[derive(Clone, Debug, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct BackupVerifyReport {
    /// The target.
    pub target: String,
    /// Backups checked.
    pub backups: u64,
    /// Packs at the target.
    pub packs: u64,
    /// Packs read back and checked.
    pub packs_read: u64,
    /// Bytes read back.
    pub bytes_read: u64,
    /// Problems; empty when all is well.
    pub problems: Vec<VerifyProblem>,
}

impl BackupVerifyReport {
    /// True when nothing is wrong.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Most affected files named per problem.
const AFFECTS_SHOWN: usize = 10;

/// Verifies the target of `session`: every index against its pack's size, every backup's
/// manifest against the indexes, then the packs `mode` asks for read back and checked. A target
/// that stops answering ends the check with its error; anything else wrong is a problem of the
/// report.
pub(crate) fn verify(session: &Session, mode: VerifyMode, job: &Job) -> Result<BackupVerifyReport> {
    let mut problems = Vec::new();
    let listed = listed_packs(session)?;
    let indexed = session.indexed_packs()?;
    let indexes = check_indexes(session, &indexed, &listed, &mut problems)?;
    let ids = session.backup_ids()?;
    let users = check_manifests(session, &ids, &indexes.blob_pack, &mut problems, job)?;
    let to_read = packs_to_read(&indexed, &listed, mode)?;
    let total = to_read.len() as u64;
    let bytes_read = read_packs_back(session, &to_read, &indexes, &users, &mut problems, job)?;
    Ok(BackupVerifyReport {
        target: session.target.name.clone(),
        backups: ids.len() as u64,
        packs: indexes.by_pack.len() as u64,
        packs_read: total,
        bytes_read,
        problems,
    })
}

/// The packs stored at the target, by name, with their sizes.
fn listed_packs(session: &Session) -> Result<HashMap<String, u64>> {
    Ok(session
        .store
        .list("data/")?
        .into_iter()
        .filter_map(|l| l.name.rsplit('/').next().map(|n| (n.to_string(), l.size)))
        .collect())
}

/// The indexes that could be read, by pack, and the pack of every blob they name.
struct Indexes {
    by_pack: HashMap<String, PackIndex>,
    blob_pack: HashMap<[u8; 32], String>,
}

/// Reads the index of every pack in `indexed` and checks that its pack is among the `listed`
/// ones with the size the index says. An index that cannot be read, a pack missing or of
/// another size is a problem; a target that stops answering is the error.
fn check_indexes(
    session: &Session,
    indexed: &[String],
    listed: &HashMap<String, u64>,
    problems: &mut Vec<VerifyProblem>,
) -> Result<Indexes> {
    let mut blob_pack: HashMap<[u8; 32], String> = HashMap::new();
    let mut indexes = HashMap::new();
    for pack in indexed.iter().cloned() {
        let index = match session.read_index(&pack) {
            Ok(i) => i,
            Err(e) if e.kind() == ErrorKind::Unavailable => return Err(e),
            Err(e) => {
                problems.push(problem(repo::index_path(&pack), e.message(), Vec::new()));
                continue;
            }
        };
        match listed.get(&pack) {
            None => problems.push(problem(
                repo::pack_path(&pack),
                "the pack is missing",
                Vec::new(),
            )),
            Some(size) if *size != index.size => problems.push(problem(
                repo::pack_path(&pack),
                &format!("the pack is {size} bytes, its index says {}", index.size),
                Vec::new(),
            )),
            _ => {}
        }
        for b in &index.blobs {
            blob_pack.insert(b.id, pack.clone());
        }
        indexes.insert(pack, index);
    }
    Ok(Indexes {
        by_pack: indexes,
        blob_pack,
    })
}

/// Reads the manifest of every backup in `ids` and checks that every chunk it names is in a pack
/// of `blob_pack`. A manifest that cannot be read, or files whose data is missing, are problems;
/// a target that stops answering is the error. Returns which backups and files use each pack
/// (`backup <id>: <file>`), for naming what a damaged pack affects.
fn check_manifests(
    session: &Session,
    ids: &[String],
    blob_pack: &HashMap<[u8; 32], String>,
    problems: &mut Vec<VerifyProblem>,
    job: &Job,
) -> Result<HashMap<String, Vec<String>>> {
    let mut users: HashMap<String, Vec<String>> = HashMap::new();
    for id in ids {
        job.check()?;
        let object = repo::backup_path(id);
        let manifest = match session.read_manifest(id) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::Unavailable => return Err(e),
            Err(e) => {
                problems.push(problem(object, e.message(), vec![format!("backup {id}")]));
                continue;
            }
        };
        let mut missing = Vec::new();
        for e in &manifest.entries {
            let mut packs_of_file = HashSet::new();
            for chunk in e.chunk_ids()? {
                match blob_pack.get(&chunk) {
                    Some(p) => {
                        packs_of_file.insert(p.clone());
                    }
                    None => missing.push(format!("backup {id}: {}", e.path)),
                }
            }
            for p in packs_of_file {
                users
                    .entry(p)
                    .or_default()
                    .push(format!("backup {id}: {}", e.path));
            }
        }
        if !missing.is_empty() {
            problems.push(problem(
                object,
                "data of some files is missing at the target",
                missing,
            ));
        }
    }
    Ok(users)
}

/// The packs to read back, in the order they are read: of the `indexed` packs that are
/// `listed`, none for `Structure`, all for `Full` (sorted by name), and for `Sample` the given
/// share of them, picked at random.
fn packs_to_read<'p>(
    indexed: &'p [String],
    listed: &HashMap<String, u64>,
    mode: VerifyMode,
) -> Result<Vec<&'p String>> {
    // Packs whose index is damaged are read too: their own hash still says whether they are.
    let mut to_read: Vec<&String> = indexed.iter().filter(|p| listed.contains_key(*p)).collect();
    to_read.sort();
    match mode {
        VerifyMode::Structure => to_read.clear(),
        VerifyMode::Full => {}
        VerifyMode::Sample(percent) => {
            let want = (to_read.len() * percent.clamp(1, 100) as usize).div_ceil(100);
            let seed = crate::crypto::random::<32>()?;
            to_read.sort_by_key(|p| *blake3::keyed_hash(&seed, p.as_bytes()).as_bytes());
            to_read.truncate(want);
        }
    }
    Ok(to_read)
}

/// Reads back every pack of `to_read`, reporting progress, and checks it: its content against
/// its hash, and every blob its index (in `indexes`) names. A pack that cannot be read or is
/// damaged is a problem that names what `users` says it affects; a target that stops answering
/// is the error. Returns the bytes read.
fn read_packs_back(
    session: &Session,
    to_read: &[&String],
    indexes: &Indexes,
    users: &HashMap<String, Vec<String>>,
    problems: &mut Vec<VerifyProblem>,
    job: &Job,
) -> Result<u64> {
    let mut bytes_read = 0;
    let total = to_read.len() as u64;
    for (n, pack) in to_read.iter().enumerate() {
        job.check()?;
        job.report(Progress {
            phase: "verifying",
            done: n as u64,
            total: Some(total),
            unit: "packs",
            item: Some((*pack).clone()),
        });
        let affects = || users.get(*pack).cloned().unwrap_or_default();
        let blobs = indexes
            .by_pack
            .get(*pack)
            .map(|i| i.blobs.as_slice())
            .unwrap_or_default();
        bytes_read += read_pack_back(session, pack, blobs, affects, problems)?;
    }
    Ok(bytes_read)
}

/// Reads back one pack and checks it: its content against its hash, then each of its `blobs`
/// (from its index; none when the index is damaged) until the first that does not open. What
/// is wrong is a problem naming what `affects` gives; a target that stops answering says
/// nothing about the data, so it is the error. Returns the bytes read.
fn read_pack_back(
    session: &Session,
    pack: &str,
    blobs: &[BlobEntry],
    affects: impl Fn() -> Vec<String>,
    problems: &mut Vec<VerifyProblem>,
) -> Result<u64> {
    let object = repo::pack_path(pack);
    let data = match session.store.read(&object) {
        Ok(d) => d,
        // A target that stops answering says nothing about the data: the check ends there.
        Err(e) if e.kind() == ErrorKind::Unavailable => return Err(e),
        Err(e) => {
            problems.push(problem(object, e.message(), affects()));
            return Ok(0);
        }
    };
    if blake3::hash(&data).to_hex().as_str() != pack {
        problems.push(problem(
            object,
            "the pack is damaged: its content does not match its hash",
            affects(),
        ));
        return Ok(data.len() as u64);
    }
    for b in blobs {
        let stored = data
            .get(b.offset as usize..(b.offset as usize + b.length as usize))
            .unwrap_or_default();
        if let Err(e) = repo::open_blob(&session.keys, b, stored, pack) {
            problems.push(problem(object.clone(), e.message(), affects()));
            break;
        }
    }
    Ok(data.len() as u64)
}

fn problem(object: String, message: &str, mut affects: Vec<String>) -> VerifyProblem {
    if affects.len() > AFFECTS_SHOWN {
        let more = affects.len() - AFFECTS_SHOWN;
        affects.truncate(AFFECTS_SHOWN);
        affects.push(format!("... and {more} more"));
    }
    VerifyProblem {
        object,
        message: message.to_string(),
        affects,
    }
}
