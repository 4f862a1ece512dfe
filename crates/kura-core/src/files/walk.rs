//! The walk a scan makes of a project's folder: each folder is opened once, listed, and its
//! files looked at by name in it (`fstatat` on the folder's own descriptor); its entries are
//! sorted by name there, so the whole list comes out in path order without sorting every path
//! against every other. Folders are read on the thread pool, or one after the other on the
//! calling thread for a small folder ([`super::Walk`]).
//!
//! What is left out is [`super::scan`]'s rule: `.git`, Kura's temp files, the configured
//! excludes, and what `.kuraignore` (and `.gitignore`, when honoured) files say, with git's
//! rules: the deepest file that names a path decides, and a `.kuraignore` over any `.gitignore`.

use std::cmp::Ordering;
use std::ffi::{CStr, OsStr};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering as AtomicOrdering};
use std::sync::{Arc, Mutex};

use ignore::gitignore::{Gitignore, GitignoreBuilder};
use rustix::fd::{AsFd, OwnedFd};
use rustix::fs::{AtFlags, FileType, Mode, OFlags};

use super::{unreadable_ignore_file, walk_error, EntryKind, ScannedFile, SkippedFile, KURAIGNORE};
use crate::fs::names::{self, NameProblem};

/// What a walk leaves out, and where.
pub(super) struct Rules<'a> {
    /// The project's folder.
    pub root: &'a Path,
    /// The configured excludes, matched against paths relative to `root`.
    pub excludes: &'a Gitignore,
    /// Whether `.gitignore` files are read (`.kuraignore` files always are).
    pub gitignore: bool,
}

/// Walks `rules.root` on the thread pool (`parallel`) or on the calling thread: the files
/// and links it takes in, in path order (by bytes), and what it could not take in.
pub(super) fn walk(rules: &Rules<'_>, parallel: bool) -> (Vec<ScannedFile>, Vec<SkippedFile>) {
    let walker = Walker {
        rules,
        next_id: AtomicUsize::new(1),
        listed: Mutex::default(),
        skipped: Mutex::default(),
    };
    let root = Folder {
        id: 0,
        rel: String::new(),
        ignores: None,
    };
    if parallel {
        // Each folder is a task of its own: a task only queues the folders it finds, so a
        // deep tree does not make a deep stack.
        fn visit<'s>(s: &rayon::Scope<'s>, walker: &'s Walker<'_>, folder: Folder) {
            for sub in walker.read(folder) {
                s.spawn(move |s| visit(s, walker, sub));
            }
        }
        rayon::scope(|s| visit(s, &walker, root));
    } else {
        let mut todo = vec![root];
        while let Some(folder) = todo.pop() {
            todo.extend(walker.read(folder));
        }
    }
    let folders = walker.next_id.into_inner();
    let listed = walker
        .listed
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    let skipped = walker
        .skipped
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    (in_path_order(listed, folders), skipped)
}

/// A folder to read.
struct Folder {
    /// Its number in the walk (the root's is 0).
    id: usize,
    /// Its path relative to the root, `/`-separated; empty for the root. Always UTF-8: a
    /// folder whose name is not is reported, not read.
    rel: String,
    /// The ignore files of it and the folders above, the deepest first.
    ignores: Option<Arc<Level>>,
}

/// The ignore files of one folder, and those above it.
struct Level {
    parent: Option<Arc<Level>>,
    /// The length of the folder's path relative to the root (0 for the root).
    rel_len: usize,
    /// Its `.kuraignore`'s rules.
    kura: Gitignore,
    /// Its `.gitignore`'s rules.
    git: Gitignore,
}

/// Whether the ignore files in `level` and above leave out the entry at `rel` (relative to
/// the root). As git: the deepest file with a rule for the path decides; a `.kuraignore`'s
/// rule over any `.gitignore`'s.
fn ignored(level: Option<&Level>, rel: &[u8], is_dir: bool) -> bool {
    let (mut kura, mut git) = (ignore::Match::None, ignore::Match::None);
    let mut level = level;
    while let Some(l) = level {
        let inside = if l.rel_len == 0 {
            rel
        } else {
            &rel[l.rel_len + 1..]
        };
        let path = Path::new(OsStr::from_bytes(inside));
        if kura.is_none() {
            kura = l.kura.matched(path, is_dir);
            if !kura.is_none() {
                break;
            }
        }
        if git.is_none() {
            git = l.git.matched(path, is_dir);
        }
        level = l.parent.as_deref();
    }
    kura.or(git).is_ignore()
}

/// What one folder holds that the walk takes in.
#[derive(Default)]
struct Listed {
    /// Its files and links, by name.
    files: Vec<ScannedFile>,
    /// Its folders, by name: each as the number of `files` before it, and its id.
    folders: Vec<(usize, usize)>,
}

/// The walk's shared state.
struct Walker<'a> {
    rules: &'a Rules<'a>,
    next_id: AtomicUsize,
    /// Each folder's findings, by id.
    listed: Mutex<Vec<(usize, Listed)>>,
    skipped: Mutex<Vec<SkippedFile>>,
}

/// What a folder's entry is, from its listing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Folder,
    File,
    Link,
    /// A pipe, a socket, a device: never taken in, but an ignore file of that kind leaves its
    /// folder out.
    Other,
}

/// One entry of a folder's listing: its name is `names[start..start + len]`, followed by a NUL.
struct Entry {
    start: usize,
    len: usize,
    kind: Kind,
}

impl Walker<'_> {
    /// Reads `folder`: records what it holds, and answers the folders in it to read.
    fn read(&self, folder: Folder) -> Vec<Folder> {
        let mut skipped = Vec::new();
        let mut subs = Vec::new();
        let listed = self.list(&folder, &mut subs, &mut skipped);
        self.listed
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push((folder.id, listed));
        if !skipped.is_empty() {
            self.skipped
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .append(&mut skipped);
        }
        subs
    }

    fn list(
        &self,
        folder: &Folder,
        subs: &mut Vec<Folder>,
        skipped: &mut Vec<SkippedFile>,
    ) -> Listed {
        let root = self.rules.root;
        let path = if folder.rel.is_empty() {
            root.to_path_buf()
        } else {
            root.join(&folder.rel)
        };
        // A folder found in a listing is opened as such, never through a link put in its
        // place since; the root is the project's folder, as named.
        let mut flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC;
        if folder.id != 0 {
            flags |= OFlags::NOFOLLOW;
        }
        let listing = rustix::fs::open(&path, flags, Mode::empty())
            .and_then(|fd| list_folder(&fd).map(|l| (fd, l)));
        let (fd, (names, mut entries)) = match listing {
            Ok(listed) => listed,
            Err(e) => {
                skipped.push(unreadable_folder(&folder.rel, &path, e.into()));
                return Listed::default();
            }
        };
        let name_of = |e: &Entry| &names[e.start..e.start + e.len];
        let ignores = match self.ignore_files(folder, &path, &entries, &names, skipped) {
            Ok(level) => level,
            Err(left_out) => {
                skipped.push(left_out);
                return Listed::default();
            }
        };
        entries.sort_unstable_by(|a, b| by_path(name_of(a), a.kind, name_of(b), b.kind));

        let mut listed = Listed::default();
        let mut rel: Vec<u8> = Vec::with_capacity(folder.rel.len() + 64);
        rel.extend_from_slice(folder.rel.as_bytes());
        if !rel.is_empty() {
            rel.push(b'/');
        }
        let prefix = rel.len();
        for e in &entries {
            let name = name_of(e);
            rel.truncate(prefix);
            rel.extend_from_slice(name);
            let is_dir = e.kind == Kind::Folder;
            if kura_durable::is_temp_name(OsStr::from_bytes(name))
                // `.git` (in any case: `.GIT` is `.git` on macOS and Windows), a folder or a
                // worktree's link file, is the folder's own repository, not the project's files.
                || name.eq_ignore_ascii_case(b".git")
                || self
                    .rules
                    .excludes
                    .matched(Path::new(OsStr::from_bytes(&rel)), is_dir)
                    .is_ignore()
                || ignored(ignores.as_deref(), &rel, is_dir)
            {
                continue;
            }
            match e.kind {
                Kind::Other => {}
                Kind::Folder => match names::check_name(name) {
                    // A folder whose name breaks the rule: reported once, nothing under it read.
                    Err(problem) => skipped.push(SkippedFile {
                        path: String::from_utf8_lossy(&rel).into_owned(),
                        reason: format!(
                            "{}; nothing in this folder was taken in",
                            problem.reason()
                        ),
                    }),
                    Ok(()) => {
                        let id = self.next_id.fetch_add(1, AtomicOrdering::Relaxed);
                        listed.folders.push((listed.files.len(), id));
                        subs.push(Folder {
                            id,
                            // The folder's path is UTF-8 and its name passed the rule.
                            rel: String::from_utf8_lossy(&rel).into_owned(),
                            ignores: ignores.clone(),
                        });
                    }
                },
                Kind::File | Kind::Link => {
                    let with_nul = &names[e.start..=e.start + e.len];
                    match scanned(&fd, with_nul, &rel, e.kind == Kind::Link) {
                        Ok(f) => listed.files.push(f),
                        Err(s) => skipped.push(s),
                    }
                }
            }
        }
        listed
    }

    /// The ignore files of `folder` over those above it, adding to `skipped` the rules they hold
    /// that are not valid; or, when one is there that the walk must not read, why the folder is
    /// left out. (The root's were checked before the walk.)
    fn ignore_files(
        &self,
        folder: &Folder,
        path: &Path,
        entries: &[Entry],
        names: &[u8],
        skipped: &mut Vec<SkippedFile>,
    ) -> std::result::Result<Option<Arc<Level>>, SkippedFile> {
        let present = |file: &str| {
            entries
                .iter()
                .any(|e| &names[e.start..e.start + e.len] == file.as_bytes())
        };
        let has_kura = present(KURAIGNORE);
        let has_git = self.rules.gitignore && present(".gitignore");
        if !has_kura && !has_git {
            return Ok(folder.ignores.clone());
        }
        if folder.id != 0 {
            // Reading a named pipe there would wait for a writer for ever, a device never ends.
            let unreadable = [(KURAIGNORE, has_kura), (".gitignore", has_git)]
                .into_iter()
                .filter(|&(_, there)| there)
                .find_map(|(name, _)| unreadable_ignore_file(path, name).map(|why| (name, why)));
            if let Some((name, why)) = unreadable {
                return Err(SkippedFile {
                    path: folder.rel.clone(),
                    reason: format!(
                        "its {name} {why}, which Kura does not read; nothing in this folder was taken in"
                    ),
                });
            }
        }
        let mut errors = Vec::new();
        let kura = if has_kura {
            rules_of(path, KURAIGNORE, &mut errors)
        } else {
            Gitignore::empty()
        };
        let git = if has_git {
            rules_of(path, ".gitignore", &mut errors)
        } else {
            Gitignore::empty()
        };
        let error = match errors.len() {
            0 => None,
            1 => errors.pop(),
            _ => Some(ignore::Error::Partial(errors)),
        };
        if let Some(err) = error {
            skipped.push(walk_error(self.rules.root, &err));
        }
        if kura.is_empty() && git.is_empty() {
            return Ok(folder.ignores.clone());
        }
        Ok(Some(Arc::new(Level {
            parent: folder.ignores.clone(),
            rel_len: folder.rel.len(),
            kura,
            git,
        })))
    }
}

/// The rules of the ignore file `name` in the folder `path`, adding to `errors` the lines that
/// are not valid rules; the file's own read errors leave it out, as git does.
fn rules_of(path: &Path, name: &str, errors: &mut Vec<ignore::Error>) -> Gitignore {
    let mut builder = GitignoreBuilder::new(path);
    match builder.add(path.join(name)) {
        Some(err) if !err.is_io() => errors.push(err),
        _ => {}
    }
    builder.build().unwrap_or_else(|err| {
        errors.push(err);
        Gitignore::empty()
    })
}

/// The entries of the folder open as `fd` but `.` and `..`: their names, each followed by a
/// NUL, one after the other, and where each is. A link is listed as a link, not as what it
/// leads to.
fn list_folder(fd: &OwnedFd) -> rustix::io::Result<(Vec<u8>, Vec<Entry>)> {
    let mut names = Vec::new();
    let mut entries = Vec::new();
    let mut add = |name: &CStr, t: FileType| -> rustix::io::Result<()> {
        let bytes = name.to_bytes();
        if bytes == b"." || bytes == b".." {
            return Ok(());
        }
        // Some file systems do not say in their listing.
        let t = if t == FileType::Unknown {
            match rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW) {
                Ok(st) => FileType::from_raw_mode(st.st_mode),
                // Gone since it was listed.
                Err(rustix::io::Errno::NOENT) => return Ok(()),
                Err(e) => return Err(e),
            }
        } else {
            t
        };
        let kind = match t {
            FileType::Directory => Kind::Folder,
            FileType::RegularFile => Kind::File,
            FileType::Symlink => Kind::Link,
            _ => Kind::Other,
        };
        entries.push(Entry {
            start: names.len(),
            len: bytes.len(),
            kind,
        });
        names.extend_from_slice(name.to_bytes_with_nul());
        Ok(())
    };
    for_each_entry(fd, &mut add)?;
    Ok((names, entries))
}

/// Calls `f` with the name and type of each entry of the folder open as `fd`, as `getdents`
/// gives them, into one buffer.
#[cfg(target_os = "linux")]
fn for_each_entry(
    fd: &OwnedFd,
    f: &mut dyn FnMut(&CStr, FileType) -> rustix::io::Result<()>,
) -> rustix::io::Result<()> {
    let mut buf: Vec<u8> = Vec::with_capacity(32 << 10);
    let mut dir = rustix::fs::RawDir::new(fd.as_fd(), buf.spare_capacity_mut());
    while let Some(entry) = dir.next() {
        let entry = entry?;
        f(entry.file_name(), entry.file_type())?;
    }
    Ok(())
}

/// Calls `f` with the name and type of each entry of the folder open as `fd`.
#[cfg(not(target_os = "linux"))]
fn for_each_entry(
    fd: &OwnedFd,
    f: &mut dyn FnMut(&CStr, FileType) -> rustix::io::Result<()>,
) -> rustix::io::Result<()> {
    for entry in rustix::fs::Dir::read_from(fd)? {
        let entry = entry?;
        f(entry.file_name(), entry.file_type())?;
    }
    Ok(())
}

/// The order of two entries of one folder that gives the whole walk path order: a folder sorts
/// as its name followed by `/`, the byte every path under it has next (`a-b` < `a/x` < `a0`).
fn by_path(a: &[u8], a_kind: Kind, b: &[u8], b_kind: Kind) -> Ordering {
    let n = a.len().min(b.len());
    a[..n].cmp(&b[..n]).then_with(|| {
        // One name starts the other: what follows it decides (nothing sorts first).
        let next = |name: &[u8], kind: Kind| {
            name.get(n)
                .copied()
                .or((kind == Kind::Folder).then_some(b'/'))
        };
        next(a, a_kind).cmp(&next(b, b_kind))
    })
}

/// The file or link named `name` (with its NUL) in the folder open as `fd`, at `rel`: its stat
/// data, or why it is not taken in.
fn scanned(
    fd: &OwnedFd,
    name: &[u8],
    rel: &[u8],
    is_link: bool,
) -> std::result::Result<ScannedFile, SkippedFile> {
    let name = CStr::from_bytes_with_nul(name).unwrap_or_default();
    let checked = names::check_name(name.to_bytes()).and(if rel.len() > names::MAX_PATH_BYTES {
        Err(NameProblem::PathTooLong(rel.len()))
    } else {
        Ok(())
    });
    let (Ok(()), Ok(rel)) = (&checked, std::str::from_utf8(rel)) else {
        return Err(SkippedFile {
            path: String::from_utf8_lossy(rel).into_owned(),
            reason: checked.err().unwrap_or(NameProblem::NotUtf8).reason(),
        });
    };
    let st = rustix::fs::statat(fd, name, AtFlags::SYMLINK_NOFOLLOW).map_err(|e| SkippedFile {
        path: rel.to_string(),
        reason: std::io::Error::from(e).to_string(),
    })?;
    Ok(ScannedFile {
        rel: rel.to_string(),
        kind: if is_link {
            EntryKind::Symlink
        } else {
            EntryKind::File
        },
        size: st.st_size as u64,
        mtime_ns: st.st_mtime as i64 * 1_000_000_000 + st.st_mtime_nsec as i64,
        ctime_ns: st.st_ctime as i64 * 1_000_000_000 + st.st_ctime_nsec as i64,
        inode: st.st_ino as u64,
        executable: st.st_mode & 0o111 != 0,
    })
}

/// What the walk says of a folder it could not open or list: its files keep their earlier
/// content (see the snapshot); a folder gone since it was listed is just gone.
fn unreadable_folder(rel: &str, path: &Path, err: std::io::Error) -> SkippedFile {
    let is_dir = std::fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    SkippedFile {
        path: rel.to_string(),
        reason: if is_dir {
            format!(
                "the folder cannot be read ({err}); the files it held keep their earlier content"
            )
        } else {
            err.to_string()
        },
    }
}

/// The files of the `folders` folders read, one list in path order: each folder's files, with
/// the files of the folders in it where those sort.
fn in_path_order(listed: Vec<(usize, Listed)>, folders: usize) -> Vec<ScannedFile> {
    // Each open folder: its files not yet given, how many it gave, its folders not yet gone into.
    struct Open {
        files: std::vec::IntoIter<ScannedFile>,
        given: usize,
        folders: std::vec::IntoIter<(usize, usize)>,
    }
    let total = listed.iter().map(|(_, l)| l.files.len()).sum();
    let mut by_id: Vec<Option<Listed>> = (0..folders).map(|_| None).collect();
    for (id, l) in listed {
        if let Some(slot) = by_id.get_mut(id) {
            *slot = Some(l);
        }
    }
    let mut take = |id: usize| by_id.get_mut(id).and_then(Option::take).unwrap_or_default();
    let mut out = Vec::with_capacity(total);
    let open = |l: Listed| Open {
        files: l.files.into_iter(),
        given: 0,
        folders: l.folders.into_iter(),
    };
    let mut stack = vec![open(take(0))];
    while let Some(top) = stack.last_mut() {
        match top.folders.next() {
            Some((before, id)) => {
                out.extend(top.files.by_ref().take(before - top.given));
                top.given = before;
                stack.push(open(take(id)));
            }
            None => {
                out.extend(top.files.by_ref());
                stack.pop();
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tree with ignore files at several depths: rules anchored and not, for folders only,
    /// negated, a `.kuraignore` against a `.gitignore`, and names that sort around `/`.
    fn tree(root: &Path) {
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write(
            ".gitignore",
            "*.log\n/build\ntmp/\n!keep.log\ncache\n# a comment\n\\#hash\n",
        );
        write(".kuraignore", "secret*\n!secret.pub\n");
        for f in [
            "a.log",
            "keep.log",
            "build/x",
            "src/build/y",
            "tmp/z",
            "src/tmp",
            "src/tmp2/w",
            "cache",
            "src/cache/c",
            "#hash",
            "secret.key",
            "secret.pub",
            "a-b",
            "a/x",
            "a0",
            "a.txt",
            "é.md",
            "z/é/ü.txt",
            "src/lib.rs",
        ] {
            write(f, f);
        }
        write("src/.gitignore", "!a.log\n*.rs\n!lib.rs\nsub/**/deep\n");
        write("src/a.log", "");
        write("src/b.rs", "");
        write("src/sub/one/deep", "");
        write("src/sub/one/shallow", "");
        write("src/.kuraignore", "!secret.key\nlib.rs\n");
        write("src/secret.key", "");
        write("docs/.kuraignore", "*.md\n");
        write("docs/.gitignore", "!*.md\nnotes/\n");
        write("docs/guide.md", "");
        write("docs/notes/n.txt", "");
        write("docs/notes.txt", "");
        // A glob git does not take: reported, the other rules kept.
        write("bad/.gitignore", "[z-a]\nskip.txt\n");
        write("bad/skip.txt", "");
        write("bad/kept.txt", "");
    }

    /// What the `ignore` crate's own walker, set up as the walk's rules say, takes in.
    fn as_the_ignore_crate_walks(root: &Path) -> Vec<String> {
        let mut builder = ignore::WalkBuilder::new(root);
        builder
            .hidden(false)
            .parents(false)
            .ignore(false)
            .git_global(false)
            .git_exclude(false)
            .git_ignore(true)
            .require_git(false)
            .follow_links(false)
            .add_custom_ignore_filename(KURAIGNORE)
            .filter_entry(|e| e.file_name() != ".git");
        let mut files: Vec<String> = builder
            .build()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_type().is_some_and(|t| !t.is_dir()))
            .map(|e| {
                let rel = e.path().strip_prefix(root).unwrap();
                rel.to_str().unwrap().to_string()
            })
            .collect();
        files.sort();
        files
    }

    #[test]
    fn the_walk_leaves_out_what_the_ignore_crates_walker_does_in_path_order() {
        let dir = tempfile::tempdir().unwrap();
        tree(dir.path());
        let excludes = GitignoreBuilder::new(dir.path()).build().unwrap();
        let rules = Rules {
            root: dir.path(),
            excludes: &excludes,
            gitignore: true,
        };
        let expected = as_the_ignore_crate_walks(dir.path());
        assert!(expected.contains(&"keep.log".to_string()), "{expected:?}");
        assert!(!expected.contains(&"a.log".to_string()), "{expected:?}");
        for parallel in [false, true] {
            let (files, skipped) = walk(&rules, parallel);
            let walked: Vec<String> = files.iter().map(|f| f.rel.clone()).collect();
            // In path order as it comes, with nothing to sort.
            assert_eq!(walked, expected, "parallel: {parallel}");
            // The glob git does not take is said, with where it is.
            assert_eq!(skipped.len(), 1, "{skipped:?}");
            assert!(skipped[0].path.ends_with("bad/.gitignore"), "{skipped:?}");
        }
    }

    #[test]
    fn a_folder_sorts_as_its_name_and_a_slash() {
        let mut names = [
            ("a0", Kind::File),
            ("a", Kind::Folder),
            ("a-b", Kind::File),
            ("a.txt", Kind::Folder),
            ("é", Kind::File),
            ("ab", Kind::Link),
            ("A", Kind::File),
        ];
        names.sort_by(|a, b| by_path(a.0.as_bytes(), a.1, b.0.as_bytes(), b.1));
        let mut paths: Vec<String> = names
            .iter()
            .map(|(n, k)| match k {
                Kind::Folder => format!("{n}/x"),
                _ => n.to_string(),
            })
            .collect();
        let walked = paths.clone();
        paths.sort();
        assert_eq!(walked, paths);
    }
}
