//! The one rule for a path inside a project, kept by every door that takes or gives back one:
//! the snapshot's folder scan, export and restore, archive extract and import, unarchive, backup
//! restore of histories, `verify`, and path arguments (`--file`, `file read`, ...).
//!
//! A path is relative, made of `/`-separated names. Each name is not empty, not `.` or `..`, not
//! `.git` (in any case: `.GIT` is `.git` on macOS and Windows), valid UTF-8, without NUL, `/`,
//! backslash or control characters (U+0000–U+001F, U+007F), and at most 255 bytes; the whole path
//! is at most 4096 bytes. A backslash is a plain character on Linux, but Windows and macOS tools
//! read it as a folder separator, so `..\..\evil` would become an escape once the project moves
//! there. Names Windows reserves (`CON`, `aux.txt`) and names ending in a dot or a space are plain
//! names on Linux and macOS, and are allowed.
//!
//! [`check_name`] says what is wrong with one name ([`NameProblem`]); the functions below it turn
//! that into the error each door gives.

use std::collections::{HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path};

use git2::{ObjectType, Oid, Repository};

use crate::error::{Error, ErrorKind, Result};
use crate::job::Job;

/// Most bytes in one name (a file or folder name), as Linux, macOS and Windows file systems allow.
pub(crate) const MAX_NAME_BYTES: usize = 255;
/// Most bytes in a whole path inside a project (Linux's `PATH_MAX`).
pub(crate) const MAX_PATH_BYTES: usize = 4096;

/// Why a name or path is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum NameProblem {
    /// An empty name (`a//b`, a trailing `/` in a stored path).
    Empty,
    /// The path starts at the root.
    Absolute,
    /// A `.` name where a stored path must name something.
    Dot,
    /// A `..` name: it goes up and out.
    DotDot,
    /// `.git`, in any case.
    Git,
    /// A NUL byte.
    Nul,
    /// A `/` inside one name (only a crafted history can hold one).
    Slash,
    /// A backslash.
    Backslash,
    /// A control character (U+0000–U+001F or U+007F).
    Control(u8),
    /// Bytes that are not UTF-8.
    NotUtf8,
    /// A name longer than [`MAX_NAME_BYTES`].
    NameTooLong(usize),
    /// A path longer than [`MAX_PATH_BYTES`].
    PathTooLong(usize),
}

impl NameProblem {
    /// Why, for a person.
    pub(crate) fn reason(&self) -> String {
        match self {
            NameProblem::Empty => "it has an empty name in it".into(),
            NameProblem::Absolute => "it is an absolute path".into(),
            NameProblem::Dot => "it has a '.' name in it".into(),
            NameProblem::DotDot => "it goes up with '..'".into(),
            NameProblem::Git => "'.git' folders are not part of a project's files".into(),
            NameProblem::Nul => "the name contains a NUL byte".into(),
            NameProblem::Slash => "the name contains a '/'".into(),
            NameProblem::Backslash => {
                "the name contains a backslash, which Windows and macOS read as a folder separator"
                    .into()
            }
            NameProblem::Control(b) => format!(
                "the name contains a control character (U+{:04X}), which most tools cannot show or type",
                b
            ),
            NameProblem::NotUtf8 => "the name is not valid UTF-8".into(),
            NameProblem::NameTooLong(n) => {
                format!("a name is {n} bytes long; file systems allow at most {MAX_NAME_BYTES}")
            }
            NameProblem::PathTooLong(n) => {
                format!("the path is {n} bytes long; at most {MAX_PATH_BYTES} are allowed")
            }
        }
    }

    /// The error kind a door gives for it: `path_escape` for what leaves (or would leave, on
    /// another system) the folder, `invalid_input` for names no file system should be given.
    pub(crate) fn kind(&self) -> ErrorKind {
        match self {
            NameProblem::Empty
            | NameProblem::Absolute
            | NameProblem::Dot
            | NameProblem::DotDot
            | NameProblem::Git
            | NameProblem::Nul
            | NameProblem::Slash
            | NameProblem::Backslash => ErrorKind::PathEscape,
            NameProblem::Control(_)
            | NameProblem::NotUtf8
            | NameProblem::NameTooLong(_)
            | NameProblem::PathTooLong(_) => ErrorKind::InvalidInput,
        }
    }
}

/// The rule for one name (a file or folder name, without `/`).
pub(crate) fn check_name(name: &[u8]) -> std::result::Result<(), NameProblem> {
    match name {
        b"" => return Err(NameProblem::Empty),
        b"." => return Err(NameProblem::Dot),
        b".." => return Err(NameProblem::DotDot),
        _ => {}
    }
    if name.contains(&0) {
        return Err(NameProblem::Nul);
    }
    if name.contains(&b'/') {
        return Err(NameProblem::Slash);
    }
    if name.contains(&b'\\') {
        return Err(NameProblem::Backslash);
    }
    if let Some(&b) = name.iter().find(|&&b| b < 0x20 || b == 0x7f) {
        return Err(NameProblem::Control(b));
    }
    if std::str::from_utf8(name).is_err() {
        return Err(NameProblem::NotUtf8);
    }
    if name.eq_ignore_ascii_case(b".git") {
        return Err(NameProblem::Git);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(NameProblem::NameTooLong(name.len()));
    }
    Ok(())
}

/// The rule for a path as versions store it (`a/b/c`, nothing to clean).
pub(crate) fn check_stored(path: &str) -> std::result::Result<(), NameProblem> {
    if path.len() > MAX_PATH_BYTES {
        return Err(NameProblem::PathTooLong(path.len()));
    }
    if path.starts_with('/') {
        return Err(NameProblem::Absolute);
    }
    path.split('/').try_for_each(|n| check_name(n.as_bytes()))
}

/// The rule for a name in an archive, which carries the whole working folder: the same, except
/// that the folder's own git repository (`.git`) goes with it, as in any tarball of a repository.
pub(crate) fn check_archived_name(name: &[u8]) -> std::result::Result<(), NameProblem> {
    match check_name(name) {
        Err(NameProblem::Git) => Ok(()),
        other => other,
    }
}

/// A path given from outside (an argument, an archive entry) made plain: `.` names and repeated
/// or trailing `/` dropped, every name checked (with `check`). `None` when nothing is left (the
/// folder itself).
fn clean(
    raw: &Path,
    check: fn(&[u8]) -> std::result::Result<(), NameProblem>,
) -> std::result::Result<Option<String>, NameProblem> {
    if raw.as_os_str().as_bytes().contains(&0) {
        return Err(NameProblem::Nul);
    }
    let mut out = String::new();
    for c in raw.components() {
        match c {
            Component::Normal(name) => {
                check(name.as_bytes())?;
                if !out.is_empty() {
                    out.push('/');
                }
                // check_name has made sure it is UTF-8.
                out.push_str(&name.to_string_lossy());
            }
            Component::CurDir => {}
            Component::ParentDir => return Err(NameProblem::DotDot),
            Component::RootDir | Component::Prefix(_) => return Err(NameProblem::Absolute),
        }
    }
    if out.len() > MAX_PATH_BYTES {
        return Err(NameProblem::PathTooLong(out.len()));
    }
    Ok((!out.is_empty()).then_some(out))
}

/// A path argument (`--file`, `file read`, ...) made plain, or the error: `path_escape` (exit 5)
/// for one that leaves the project, `invalid_input` for an empty one or a bad name.
pub(crate) fn argument(rel: &str) -> Result<String> {
    if rel.is_empty() {
        return Err(Error::invalid("the file path is empty"));
    }
    match clean(Path::new(rel), check_name) {
        Ok(Some(clean)) => Ok(clean),
        Ok(None) => Err(Error::invalid(
            "the file path names the project folder itself",
        )),
        Err(problem) => Err(Error::new(
            problem.kind(),
            format!(
                "the path '{rel}' is refused: {}; give a path inside the project folder",
                problem.reason()
            ),
        )),
    }
}

/// An archive entry's path made plain (a leading `./` is fine; `.git` folders are, see
/// [`check_archived_name`]); `None` for the archive's root.
pub(crate) fn archive_entry(raw: &Path) -> Result<Option<String>> {
    clean(raw, check_archived_name).map_err(|problem| {
        Error::new(
            problem.kind(),
            format!(
                "the archive entry '{}' is refused: {}; nothing was kept from the archive",
                raw.display(),
                problem.reason()
            ),
        )
    })
}

/// A path of a version that cannot be written back, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UnsafePath {
    /// The path, as far as it goes (lossy for names that are not UTF-8).
    pub path: String,
    /// Why it cannot be written.
    pub reason: String,
}

/// What one folder (tree) of a history holds, as far as the rule goes.
#[derive(Clone, Default)]
struct TreeVerdict {
    /// The first path under it that breaks the rule.
    bad: Option<UnsafePath>,
    /// Its longest path, relative to it.
    longest: String,
    /// Its first file, relative to it (empty when it holds none): names what a folder with a bad
    /// name holds.
    first: String,
    /// Its symbolic links, relative to it, with their blobs (whose content is the target).
    links: Vec<(String, Oid)>,
}

/// Checks the trees of a history against the rule, each tree once however many versions share it.
pub(crate) struct HistoryCheck<'r> {
    repo: &'r Repository,
    seen: HashMap<Oid, TreeVerdict>,
    /// The verdict on each root tree, links included (versions often share their root).
    roots: HashMap<Oid, Option<UnsafePath>>,
}

impl<'r> HistoryCheck<'r> {
    pub(crate) fn new(repo: &'r Repository) -> HistoryCheck<'r> {
        HistoryCheck {
            repo,
            seen: HashMap::new(),
            roots: HashMap::new(),
        }
    }

    /// The first path of version `commit` that could not be written back: a name that breaks the
    /// rule, a file under a link, or a link leading out of the project (see `links`).
    pub(crate) fn version(&mut self, commit: Oid) -> Result<Option<UnsafePath>> {
        let tree = self.repo.find_commit(commit)?.tree_id();
        if let Some(v) = self.roots.get(&tree) {
            return Ok(v.clone());
        }
        let verdict = self.tree(tree, 0)?;
        let bad = match verdict.bad {
            Some(bad) => Some(bad),
            None => self.link_leading_out(&verdict.links)?,
        };
        self.roots.insert(tree, bad.clone());
        Ok(bad)
    }

    /// The first of a version's links whose target, walked through the version's other links,
    /// leaves the project.
    fn link_leading_out(&self, links: &[(String, Oid)]) -> Result<Option<UnsafePath>> {
        if links.is_empty() {
            return Ok(None);
        }
        let mut targets: HashMap<std::path::PathBuf, std::path::PathBuf> = HashMap::new();
        for (path, blob) in links {
            let blob = self.repo.find_blob(*blob)?;
            let target = std::ffi::OsStr::from_bytes(blob.content());
            targets.insert(path.into(), target.into());
        }
        for (path, _) in links {
            let link = Path::new(path);
            let target = &targets[link];
            if let Err(why) =
                crate::fs::links::resolve_link(link, target, &|p| targets.get(p).cloned())
            {
                return Ok(Some(UnsafePath {
                    path: path.clone(),
                    reason: format!("it is a symbolic link {why}"),
                }));
            }
        }
        Ok(None)
    }

    /// The verdict on tree `id`, `depth` folders below the version's root: its own entries
    /// first, then each of its folders (walked depth-first, each tree once), then the length of
    /// its longest path. A tree that cannot be read is the error.
    fn tree(&mut self, id: Oid, depth: usize) -> Result<TreeVerdict> {
        if let Some(v) = self.seen.get(&id) {
            return Ok(v.clone());
        }
        // Every level adds at least two bytes ("a/"): deeper than this is too long anyway.
        if depth > MAX_PATH_BYTES / 2 {
            return Ok(TreeVerdict {
                bad: Some(UnsafePath {
                    path: String::new(),
                    reason: NameProblem::PathTooLong(MAX_PATH_BYTES + 1).reason(),
                }),
                ..Default::default()
            });
        }
        let tree = self.repo.find_tree(id).map_err(|e| {
            Error::corrupt(format!(
                "a folder of the history cannot be read ({}); run `kura verify`",
                e.message()
            ))
        })?;
        let own = own_entries(&tree);
        let mut verdict = own.verdict;
        for (name, child) in own.folders {
            let sub = self.tree(child, depth + 1)?;
            let is_link = own.links.contains(&name);
            let is_bad_folder = own.bad_folder.as_ref() == Some(&name);
            add_folder(&mut verdict, &name, sub, is_link, is_bad_folder);
        }
        if verdict.bad.is_none() && verdict.longest.len() > MAX_PATH_BYTES {
            verdict.bad = Some(UnsafePath {
                path: verdict.longest.clone(),
                reason: NameProblem::PathTooLong(verdict.longest.len()).reason(),
            });
        }
        self.seen.insert(id, verdict.clone());
        Ok(verdict)
    }
}

/// What a tree's own entries say, before its folders are walked.
struct OwnEntries {
    /// The verdict on its own entries: the first name that breaks the rule or is used twice,
    /// its links, its first file and its longest file name.
    verdict: TreeVerdict,
    /// The names of its symbolic links.
    links: HashSet<Vec<u8>>,
    /// Its folders, by name and tree, in the tree's order.
    folders: Vec<(Vec<u8>, Oid)>,
    /// The folder whose own name is the first to break the rule: the verdict's path is completed
    /// with the first file below it.
    bad_folder: Option<Vec<u8>>,
}

/// Checks the entries of `tree` against the rule, in order, and collects its links, its first
/// file, its longest file name and its folders.
fn own_entries(tree: &git2::Tree<'_>) -> OwnEntries {
    let mut verdict = TreeVerdict::default();
    let mut names: HashSet<Vec<u8>> = HashSet::new();
    let mut links: HashSet<Vec<u8>> = HashSet::new();
    let mut folders: Vec<(Vec<u8>, Oid)> = Vec::new();
    let mut bad_folder: Option<Vec<u8>> = None;
    for entry in tree.iter() {
        let name = entry.name_bytes().to_vec();
        let lossy = String::from_utf8_lossy(&name).into_owned();
        if verdict.bad.is_none() {
            if let Err(problem) = check_name(&name) {
                // A folder's path is completed with its first file below.
                bad_folder = (entry.kind() == Some(ObjectType::Tree)).then(|| name.clone());
                verdict.bad = Some(UnsafePath {
                    path: lossy.clone(),
                    reason: problem.reason(),
                });
            } else if !names.insert(name.clone()) {
                verdict.bad = Some(UnsafePath {
                    path: lossy.clone(),
                    reason: "the name is used twice in one folder".into(),
                });
            }
        }
        match entry.kind() {
            Some(ObjectType::Tree) => folders.push((name, entry.id())),
            Some(ObjectType::Blob) => {
                if entry.filemode() == 0o120000 {
                    links.insert(name.clone());
                    verdict.links.push((lossy.clone(), entry.id()));
                }
                if verdict.first.is_empty() {
                    verdict.first = lossy.clone();
                }
                if lossy.len() > verdict.longest.len() {
                    verdict.longest = lossy;
                }
            }
            _ => {}
        }
    }
    OwnEntries {
        verdict,
        links,
        folders,
        bad_folder,
    }
}

/// Adds to a tree's `verdict` what its folder `name` holds (`sub`, the folder's own verdict):
/// its first file, the first path that breaks the rule (the folder itself when a link of the
/// tree has the same name, `is_link`), its links and its longest path. `is_bad_folder`: the
/// folder's own name is the tree's first to break the rule, so its path is completed with the
/// folder's first file.
fn add_folder(
    verdict: &mut TreeVerdict,
    name: &[u8],
    sub: TreeVerdict,
    is_link: bool,
    is_bad_folder: bool,
) {
    let lossy = String::from_utf8_lossy(name).into_owned();
    if verdict.first.is_empty() && !sub.first.is_empty() {
        verdict.first = format!("{lossy}/{}", sub.first);
    }
    if is_bad_folder && !sub.first.is_empty() {
        if let Some(bad) = &mut verdict.bad {
            bad.path = format!("{lossy}/{}", sub.first);
        }
    }
    if verdict.bad.is_none() {
        if is_link {
            verdict.bad = Some(UnsafePath {
                path: lossy.clone(),
                reason: format!("files lie under the symbolic link '{lossy}'"),
            });
        } else if let Some(b) = sub.bad {
            verdict.bad = Some(UnsafePath {
                path: if b.path.is_empty() {
                    lossy.clone()
                } else {
                    format!("{lossy}/{}", b.path)
                },
                reason: b.reason,
            });
        }
    }
    verdict.links.extend(
        sub.links
            .iter()
            .map(|(path, blob)| (format!("{lossy}/{path}"), *blob)),
    );
    if lossy.len() + 1 + sub.longest.len() > verdict.longest.len() {
        verdict.longest = format!("{lossy}/{}", sub.longest);
    }
}

/// Every version reachable from `head` that could not be written back, newest first, with its
/// first unsafe path.
pub(crate) fn unsafe_versions(
    repo: &Repository,
    head: Oid,
    job: &Job,
) -> Result<Vec<(Oid, UnsafePath)>> {
    let mut check = HistoryCheck::new(repo);
    let mut walk = repo.revwalk()?;
    walk.push(head)?;
    let mut out = Vec::new();
    for id in walk {
        job.check()?;
        let id = id?;
        if let Some(bad) = check.version(id)? {
            out.push((id, bad));
        }
    }
    Ok(out)
}

/// Refuses (`path_escape`) a history (`what`: "the archive's history", ...) in which any version
/// reachable from `head` holds a path that could not be written back.
pub(crate) fn refuse_unsafe_history(
    repo: &Repository,
    head: Oid,
    what: &str,
    job: &Job,
) -> Result<()> {
    let found = unsafe_versions(repo, head, job)?;
    let Some((id, bad)) = found.first() else {
        return Ok(());
    };
    let more = match found.len() {
        1 => String::new(),
        n => format!(" (and {} more versions)", n - 1),
    };
    Err(Error::new(
        ErrorKind::PathEscape,
        format!(
            "{what} is refused: version {}{more} holds the path '{}', which cannot be restored ({}); nothing was changed",
            &id.to_string()[..10],
            bad.path,
            bad.reason
        ),
    ))
}

/// Refuses (`path_escape`) version `commit` when any of its paths could not be written back.
pub(crate) fn refuse_unsafe_version(repo: &Repository, commit: Oid) -> Result<()> {
    match HistoryCheck::new(repo).version(commit)? {
        None => Ok(()),
        Some(bad) => Err(Error::new(
            ErrorKind::PathEscape,
            format!(
                "version {} holds the unsafe path '{}' ({}); it cannot be written back, so nothing was written",
                &commit.to_string()[..10],
                bad.path,
                bad.reason
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_one_rule() {
        for bad in [
            &b""[..],
            b".",
            b"..",
            b".git",
            b".GiT",
            b"a\\b",
            b"tab\there",
            b"new\nline",
            b"del\x7f",
            b"nul\0",
            b"a/b",
            b"\xff\xfe",
        ] {
            assert!(check_name(bad).is_err(), "{bad:?} should be refused");
        }
        for good in [
            &b"CON"[..],
            b"aux.txt",
            b"trailing.",
            b"space ",
            b"caf\xc3\xa9",
            b".gitignore",
        ] {
            assert_eq!(check_name(good), Ok(()), "{good:?} should be allowed");
        }
        assert_eq!(check_name(&[b'a'; 256]), Err(NameProblem::NameTooLong(256)));
        assert_eq!(check_name(&[b'a'; 255]), Ok(()));
    }

    #[test]
    fn input_paths_are_made_plain() {
        let plain = |p: &str| clean(Path::new(p), check_name);
        assert_eq!(plain("./a//b/"), Ok(Some("a/b".into())));
        assert_eq!(plain("./"), Ok(None));
        assert_eq!(plain("../x"), Err(NameProblem::DotDot));
        assert_eq!(plain("/etc"), Err(NameProblem::Absolute));
        assert_eq!(plain("..\\..\\evil"), Err(NameProblem::Backslash));
        assert_eq!(plain("repo/.git/config"), Err(NameProblem::Git));
        assert_eq!(
            clean(Path::new("repo/.git/config"), check_archived_name),
            Ok(Some("repo/.git/config".into()))
        );
        assert_eq!(check_stored("a/../b"), Err(NameProblem::DotDot));
        assert_eq!(check_stored("a//b"), Err(NameProblem::Empty));
        assert_eq!(check_stored("a\\b.txt"), Err(NameProblem::Backslash));
        assert_eq!(check_stored("src/CON"), Ok(()));
    }
}
