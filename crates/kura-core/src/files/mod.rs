//! A project's files: scanned, listed, previewed, saved, uploaded. This file holds the scan
//! every snapshot uses (its rule; `walk.rs` walks the folder), path containment, and the file
//! operations (list, read, save, rename, delete); `upload.rs` receives files that arrive one at
//! a time. The files cache is the catalog's (`catalog/filelist.rs`).

pub(crate) mod upload;
mod walk;

use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::catalog::{filelist, projects};
use crate::config::Config;
use crate::error::{Error, ErrorKind, Result};
use crate::fs::durable::{self, FileLock};
use crate::fs::links::resolve_link;
use crate::fs::regular;
use crate::job::Job;
use crate::model::file_type_of;
use crate::model::{CachedFile, Layer, Project, ProjectStatus};
use crate::vault::Vault;
use crate::vault::VaultReader;

/// What a scanned entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    File,
    Symlink,
}

/// One file found by a scan, with the stat data the files cache compares.
#[derive(Clone, Debug)]
pub(crate) struct ScannedFile {
    /// Path relative to the project folder, `/`-separated.
    pub rel: String,
    pub kind: EntryKind,
    pub size: u64,
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
    pub executable: bool,
}

/// The stat data the files cache keeps.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stat {
    pub mtime_ns: i64,
    pub ctime_ns: i64,
    pub inode: u64,
}

impl Stat {
    /// The stat data of a file's metadata, as a scan reads it.
    pub(crate) fn of(md: &fs::Metadata) -> Stat {
        Stat {
            mtime_ns: md.mtime() * 1_000_000_000 + md.mtime_nsec(),
            ctime_ns: md.ctime() * 1_000_000_000 + md.ctime_nsec(),
            inode: md.ino(),
        }
    }
}

impl ScannedFile {
    pub(crate) fn stat(&self) -> Stat {
        Stat {
            mtime_ns: self.mtime_ns,
            ctime_ns: self.ctime_ns,
            inode: self.inode,
        }
    }

    /// The git file mode.
    pub(crate) fn git_mode(&self) -> u32 {
        match (self.kind, self.executable) {
            (EntryKind::Symlink, _) => 0o120000,
            (EntryKind::File, true) => 0o100755,
            (EntryKind::File, false) => 0o100644,
        }
    }
}

/// A file that could not be taken in, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct SkippedFile {
    /// Path relative to the project folder (lossy for names that are not UTF-8).
    pub path: String,
    /// Why it was skipped.
    pub reason: String,
}

/// The result of scanning a folder.
pub(crate) struct Scan {
    pub files: Vec<ScannedFile>,
    pub skipped: Vec<SkippedFile>,
}

/// Lists the files of `root` that snapshots take in: everything except `.git` folders, Kura's own
/// temp files (debris of a write killed half-way, see `kura_durable::is_temp_name`), paths
/// matched by `.gitignore` (when honoured), `.kuraignore` and the configured excludes. Symlinks
/// are recorded as links, never followed. Runs on several threads, or on the calling one when
/// `walk` says the folder is small.
pub(crate) fn scan(root: &Path, config: &Config, walk: Walk) -> Result<Scan> {
    let meta = fs::metadata(root).map_err(|e| Error::io("open project folder", root, e))?;
    if !meta.is_dir() {
        return Err(Error::invalid(format!(
            "{} is not a folder",
            root.display()
        )));
    }
    let excludes = exclude_matcher(root, &config.snapshots.excludes)?;
    let ignore_files: &'static [&'static str] = if config.snapshots.honor_gitignore {
        &[KURAIGNORE, ".gitignore"]
    } else {
        &[KURAIGNORE]
    };
    for name in ignore_files {
        if let Some(why) = unreadable_ignore_file(root, name) {
            return Err(Error::invalid(format!(
                "{}'s {name} {why}; Kura does not read it: make it a file, or remove it",
                root.display()
            )));
        }
    }
    let rules = walk::Rules {
        root,
        excludes: &excludes,
        gitignore: config.snapshots.honor_gitignore,
    };
    let (mut files, mut skipped) = walk::walk(&rules, walk == Walk::Threads);
    skip_links_leading_out(root, &mut files, &mut skipped);
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(Scan { files, skipped })
}

/// The ignore file of Kura's own, read in every folder like `.gitignore`.
const KURAIGNORE: &str = ".kuraignore";
/// The longest ignore file a walk reads (a `.gitignore` is a few kilobytes).
const IGNORE_FILE_MAX: u64 = 8 << 20;

/// Why the walk must not read the ignore file `name` in `folder`, following a link as the walk
/// would: a named pipe would make it wait for a writer for ever, a device (`/dev/zero`) never
/// ends, and a file of gigabytes would fill memory. `None` for a file it may read, or for
/// none at all.
fn unreadable_ignore_file(folder: &Path, name: &str) -> Option<String> {
    use std::os::unix::fs::FileTypeExt;
    let md = fs::metadata(folder.join(name)).ok()?;
    let t = md.file_type();
    let what = if t.is_dir() {
        // A folder of that name gives the walk an error, which it reports; it does not wait.
        return None;
    } else if t.is_file() {
        return (md.len() > IGNORE_FILE_MAX).then(|| {
            format!(
                "is {} MiB long, more than the {} MiB an ignore file is read up to",
                md.len() >> 20,
                IGNORE_FILE_MAX >> 20
            )
        });
    } else if t.is_fifo() {
        "a named pipe"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "a socket"
    };
    let link = fs::symlink_metadata(folder.join(name)).is_ok_and(|m| m.is_symlink());
    Some(if link {
        format!("is a link to {what}")
    } else {
        format!("is {what}")
    })
}

/// What the walk could not see: a folder that cannot be read (its files keep their earlier
/// content, see the snapshot), or an entry that vanished or cannot be examined.
fn walk_error(root: &Path, err: &ignore::Error) -> SkippedFile {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            ignore::Error::Partial(errs) if errs.len() == 1 => path_of(&errs[0]),
            _ => None,
        }
    }
    let Some(path) = path_of(err) else {
        return SkippedFile {
            path: String::new(),
            reason: err.to_string(),
        };
    };
    let is_dir = fs::symlink_metadata(path).is_ok_and(|m| m.is_dir());
    let reason = match err.io_error() {
        Some(io) if is_dir => format!(
            "the folder cannot be read ({io}); the files it held keep their earlier content"
        ),
        Some(io) => io.to_string(),
        None => err.to_string(),
    };
    SkippedFile {
        path: rel_lossy(root, path),
        reason,
    }
}

/// Moves the symbolic links whose target leads outside `root` (walked through the other links
/// found, as export will write them: see `links`) from `files` to `skipped`, so that a version
/// holds only links that export and restore give back.
fn skip_links_leading_out(
    root: &Path,
    files: &mut Vec<ScannedFile>,
    skipped: &mut Vec<SkippedFile>,
) {
    if !files.iter().any(|f| f.kind == EntryKind::Symlink) {
        return;
    }
    let folder = regular::Beneath::new(root);
    let links: std::collections::HashMap<PathBuf, PathBuf> = files
        .iter()
        .filter(|f| f.kind == EntryKind::Symlink)
        .filter_map(|f| {
            let target = folder.read_link(&f.rel).ok()?;
            Some((PathBuf::from(&f.rel), target))
        })
        .collect();
    files.retain(|f| {
        let Some(target) = links.get(Path::new(&f.rel)) else {
            return true;
        };
        match resolve_link(Path::new(&f.rel), target, &|p| links.get(p).cloned()) {
            Ok(_) => true,
            Err(why) => {
                skipped.push(SkippedFile {
                    path: f.rel.clone(),
                    reason: format!(
                        "it is a symbolic link {why}; a version keeps only links that stay inside the project"
                    ),
                });
                false
            }
        }
    });
}

/// How [`scan`] walks a folder.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Walk {
    /// On the thread pool, a folder a task: a large or unknown folder.
    Threads,
    /// On the calling thread: a folder known to be small (see [`Walk::for_files`]).
    Here,
}

impl Walk {
    /// The walk for a folder whose last version held `files` files (`None`: not known).
    /// An unchanged re-snapshot on the pool against on the calling thread (20 pairs
    /// alternated, 2 cores): 333 files in 73 folders 9 ms both; 659 in 18 folders 10 ms
    /// against 9; 1,185 in 260 folders 11 ms both; 2,622 in 212 folders 13 ms both. On the
    /// calling thread a small folder does not start the pool's threads.
    pub(crate) fn for_files(files: Option<u64>) -> Walk {
        match files {
            Some(n) if n <= WALK_HERE_MAX_FILES => Walk::Here,
            _ => Walk::Threads,
        }
    }
}

/// The most files a folder's last version may hold for its walk to stay on the calling thread.
const WALK_HERE_MAX_FILES: u64 = 1_000;

fn exclude_matcher(root: &Path, patterns: &[String]) -> Result<ignore::gitignore::Gitignore> {
    let mut b = ignore::gitignore::GitignoreBuilder::new(root);
    for p in patterns {
        b.add_line(None, p)
            .map_err(|e| Error::invalid(format!("exclude pattern '{p}' is not valid: {e}")))?;
    }
    b.build()
        .map_err(|e| Error::invalid(format!("exclude patterns are not valid: {e}")))
}

fn rel_lossy(root: &Path, path: &Path) -> String {
    relative(root, path).to_string_lossy().into_owned()
}

/// `path` relative to `root`, for the paths a walk error names (an ignore file with rules git
/// refuses): made by joining names to `root`, so its bytes and a `/` lead each one. Compared as
/// bytes, falling back to `Path::strip_prefix` for any other path.
fn relative<'a>(root: &Path, path: &'a Path) -> &'a Path {
    match path
        .as_os_str()
        .as_bytes()
        .strip_prefix(root.as_os_str().as_bytes())
    {
        Some([b'/', rest @ ..]) => Path::new(std::ffi::OsStr::from_bytes(rest)),
        _ => path.strip_prefix(root).unwrap_or(path),
    }
}

/// Refuses `path` unless it is a real folder: not a symbolic link (to a folder or not), not a
/// file. What Kura moves into place as a project's folder, or removes as one, must be one.
pub(crate) fn require_real_folder(path: &Path, what: &str) -> Result<()> {
    match std::fs::symlink_metadata(path) {
        Ok(md) if md.is_dir() => Ok(()),
        Ok(md) if md.file_type().is_symlink() => Err(Error::new(
            ErrorKind::PathEscape,
            format!(
                "{what} ({}) is a symbolic link, not a folder; Kura does not take it as a project's folder",
                path.display()
            ),
        )),
        Ok(_) => Err(Error::new(
            ErrorKind::PathEscape,
            format!("{what} ({}) is not a folder", path.display()),
        )),
        Err(e) => Err(Error::io("open folder", path, e)),
    }
}

/// Checks that `rel` is a plain relative path (no `..`, not absolute, not empty) and returns it
/// joined to `root`. Parent folders that exist must be real folders, not symlinks, so the result
/// cannot point outside `root`. `final_may_be_link`: whether the last component may be a symlink
/// (true for rename/delete of the link itself).
pub(crate) fn resolve_inside(root: &Path, rel: &str, final_may_be_link: bool) -> Result<PathBuf> {
    let escape = |why: &str| {
        Error::new(
            ErrorKind::PathEscape,
            format!("the path '{rel}' is refused: {why}; give a path inside the project folder"),
        )
    };
    let clean = PathBuf::from(crate::fs::names::argument(rel)?);
    let mut cur = root.to_path_buf();
    let count = clean.components().count();
    for (i, c) in clean.components().enumerate() {
        cur.push(c);
        match fs::symlink_metadata(&cur) {
            Ok(md) if md.file_type().is_symlink() => {
                if i + 1 < count || !final_may_be_link {
                    return Err(escape("it goes through a symbolic link"));
                }
            }
            Ok(md) if i + 1 < count && !md.is_dir() => {
                return Err(Error::invalid(format!(
                    "'{}' is a file, not a folder",
                    clean
                        .components()
                        .take(i + 1)
                        .collect::<PathBuf>()
                        .display()
                )))
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(root.join(clean))
}

/// Copies the files of `src` that a snapshot would take in to a new folder `dst`. Answers what
/// it left out: what the scan skipped (folders that cannot be read, names no restore could write
/// back, links leading out of `src`), and files or links that could no longer be read as what the
/// scan found (they cannot be read, or were swapped for something else since the scan). A
/// failure to write the copy fails it.
pub(crate) fn copy_tree(
    src: &Path,
    dst: &Path,
    config: &Config,
    job: &Job,
) -> Result<Vec<SkippedFile>> {
    let Scan { files, mut skipped } = scan(src, config, Walk::Threads)?;
    let folder = regular::Beneath::new(src);
    durable::create_dir_all(dst)?;
    let total = files.len() as u64;
    for (i, f) in files.iter().enumerate() {
        job.check()?;
        let to = dst.join(&f.rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create folder", parent, e))?;
        }
        match f.kind {
            EntryKind::Symlink => match folder.read_link(&f.rel) {
                Ok(target) => std::os::unix::fs::symlink(&target, &to)
                    .map_err(|e| Error::io("create link", &to, e))?,
                Err(e) => skipped.push(SkippedFile {
                    path: f.rel.clone(),
                    reason: format!("{e}; it was not copied"),
                }),
            },
            EntryKind::File => {
                let (mut source, md) = match folder.open_regular(&f.rel) {
                    Ok(opened) => opened,
                    Err(e) => {
                        skipped.push(SkippedFile {
                            path: f.rel.clone(),
                            reason: format!("{e}; it was not copied"),
                        });
                        continue;
                    }
                };
                let copy = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&to)
                    .and_then(|mut copy| {
                        std::io::copy(&mut source, &mut copy)?;
                        // The modification time goes with the content, as with `cp -a`: build
                        // tools go by it, and a file last changed well before the import's
                        // version is not read again by the next one (see the snapshot's racy
                        // window).
                        copy.set_modified(md.modified()?)?;
                        copy.set_permissions(md.permissions())
                    });
                copy.map_err(|e| Error::io("copy", &to, e))?;
            }
        }
        if i % 256 == 0 {
            job.files("copying", i as u64, Some(total));
        }
    }
    job.files("copying", total, Some(total));
    Ok(skipped)
}

/// How a file in the folder compares with the latest version.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum FileState {
    /// Same as in the latest version.
    Unchanged,
    /// Changed since the latest version.
    Modified,
    /// Not in the latest version yet.
    New,
    /// In the latest version, gone from the folder.
    Deleted,
}

/// A file of a project, as listed.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FileEntry {
    /// Path inside the project, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// A short type from the name: the extension in lower case, or "link", or "" for none.
    pub file_type: String,
    /// The layer holding it in the latest version (`None` for files not stored yet).
    pub layer: Option<Layer>,
    /// The version in which it last changed.
    pub last_version: Option<String>,
    /// Compared with the latest version.
    pub state: FileState,
    /// Last modification, seconds since the epoch (`None` for deleted files).
    pub modified_at: Option<i64>,
}

impl CachedFile {
    /// True when the stat data says the file is the one recorded.
    pub(crate) fn matches(&self, f: &ScannedFile) -> bool {
        self.size == f.size
            && self.mtime_ns == f.mtime_ns
            && self.ctime_ns == f.ctime_ns
            && self.inode == f.inode
            && self.mode == f.git_mode()
    }
}

/// What a preview holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum PreviewKind {
    /// UTF-8 text, in `text`.
    Text,
    /// An image, as a `data:` URL in `data_url`.
    Image,
    /// Not text and not a known image type.
    Binary,
    /// Larger than the preview limit.
    TooLarge,
}

/// A file's content prepared for showing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct FilePreview {
    /// What it is.
    pub kind: PreviewKind,
    /// Its size in bytes.
    pub size: u64,
    /// The text, for text files.
    pub text: Option<String>,
    /// `data:<mime>;base64,...` for images.
    pub data_url: Option<String>,
    /// A language name for highlighting, from the file type ("rust", "typescript", ...).
    pub language: Option<String>,
}

/// What an upload copied.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct UploadReport {
    /// Files copied.
    pub files: u64,
    /// Bytes copied.
    pub bytes: u64,
    /// What was not copied, and why: files that could not be read (or were no longer files when
    /// their turn came) and folders that could not be read. Empty when everything was copied.
    pub skipped: Vec<SkippedFile>,
}

/// Text previews stop at this size.
const PREVIEW_TEXT_MAX: u64 = 1 << 20;
/// Image previews stop at this size.
const PREVIEW_IMAGE_MAX: u64 = 8 << 20;

fn image_mime(file_type: &str) -> Option<&'static str> {
    Some(match file_type {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "svg" => "image/svg+xml",
        "ico" => "image/x-icon",
        "bmp" => "image/bmp",
        _ => return None,
    })
}

fn base64(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for c in data.chunks(3) {
        let n = (c[0] as u32) << 16
            | (*c.get(1).unwrap_or(&0) as u32) << 8
            | *c.get(2).unwrap_or(&0) as u32;
        out.push(A[(n >> 18) as usize & 63] as char);
        out.push(A[(n >> 12) as usize & 63] as char);
        out.push(if c.len() > 1 {
            A[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if c.len() > 2 {
            A[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

impl VaultReader {
    /// A preview of a file of the project's folder: its text (up to 1 MiB), or an image as a
    /// `data:` URL (up to 8 MiB).
    pub fn preview_file(&self, reference: &str, rel: &str) -> Result<FilePreview> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let path = resolve_inside(&p.path, rel, false)?;
        let (file, md) = open_in_project(&path, rel)?;
        let size = md.len();
        // No further than one byte past the largest preview: a file grown past it since it was
        // opened is too large after all.
        let read = |most: u64| {
            let mut data = Vec::with_capacity(size.min(most) as usize + 1);
            (&file)
                .take(most + 1)
                .read_to_end(&mut data)
                .map_err(|e| Error::io("read", &path, e))?;
            Ok::<_, Error>((data.len() as u64 <= most).then_some(data))
        };
        let file_type = file_type_of(rel);
        let language = crate::project::detect::language_of(&file_type).map(str::to_string);
        let preview = |kind, text, data_url| FilePreview {
            kind,
            size,
            text,
            data_url,
            language: language.clone(),
        };
        if let Some(mime) = image_mime(&file_type) {
            if size > PREVIEW_IMAGE_MAX {
                return Ok(preview(PreviewKind::TooLarge, None, None));
            }
            let Some(data) = read(PREVIEW_IMAGE_MAX)? else {
                return Ok(preview(PreviewKind::TooLarge, None, None));
            };
            return Ok(preview(
                PreviewKind::Image,
                None,
                Some(format!("data:{mime};base64,{}", base64(&data))),
            ));
        }
        if size > PREVIEW_TEXT_MAX {
            return Ok(preview(PreviewKind::TooLarge, None, None));
        }
        let Some(data) = read(PREVIEW_TEXT_MAX)? else {
            return Ok(preview(PreviewKind::TooLarge, None, None));
        };
        if data[..data.len().min(8192)].contains(&0) {
            return Ok(preview(PreviewKind::Binary, None, None));
        }
        match String::from_utf8(data) {
            Ok(text) => Ok(preview(PreviewKind::Text, Some(text), None)),
            Err(_) => Ok(preview(PreviewKind::Binary, None, None)),
        }
    }
}

impl Vault {
    /// Copies files and folders (dropped onto a project, say) into the project folder under
    /// `dest_dir` ("" for the top). Folders are copied with everything in them; symlinks are
    /// copied as links. Anything that would land outside the project is refused before a byte
    /// is written, and an existing file is never overwritten by a folder or the reverse.
    pub fn upload_files(
        &self,
        reference: &str,
        sources: &[PathBuf],
        dest_dir: &str,
        job: &Job,
    ) -> Result<UploadReport> {
        let (p, _held) = self.folder_to_change(reference)?;
        let dest_dir = dest_dir.trim_matches('/');
        let dest_root = if dest_dir.is_empty() {
            p.path.clone()
        } else {
            resolve_inside(&p.path, dest_dir, false)?
        };
        // Plan every copy first, so nothing is written when any of it is refused.
        let mut left_out = Vec::new();
        let plan = plan_copies(&p.path, sources, dest_dir, &mut left_out)?;
        refuse_folders_in_the_way(&p.path, &plan)?;
        let sizes = copy_sizes(&p.path, &plan);
        self.check_quota(Some(&p), &p.name, sizes.total, sizes.replaced)?;
        durable::create_dir_all(&dest_root)?;
        let mut report = copy_planned(&p.path, &plan, sizes.total, job)?;
        left_out.append(&mut report.skipped);
        report.skipped = left_out;
        self.bump_updated(&p)?;
        Ok(report)
    }
}

/// One file or symlink `upload_files` is to copy into a project.
struct PlannedCopy {
    /// Where it is now, outside the project.
    source: PathBuf,
    /// Where it goes, relative to the project folder, `/`-separated.
    rel: String,
    kind: EntryKind,
}

/// Plans the copy of every one of `sources` into `dest_dir` (already trimmed of `/`; "" for the
/// top) of the project in `project_folder`: one `PlannedCopy` for each file or symlink, a
/// folder's in the order a walk finds them. A source that cannot be read, has no usable name, is
/// inside the project or holds it is refused, and so is a file of a folder whose name is not
/// UTF-8. A folder inside a source that cannot be read is added to `left_out`.
fn plan_copies(
    project_folder: &Path,
    sources: &[PathBuf],
    dest_dir: &str,
    left_out: &mut Vec<SkippedFile>,
) -> Result<Vec<PlannedCopy>> {
    let mut plan = Vec::new();
    for src in sources {
        let md = fs::symlink_metadata(src).map_err(|e| Error::io("read", src, e))?;
        let name = src
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::invalid(format!("{} has no usable name", src.display())))?;
        if project_folder.starts_with(src) || src.starts_with(project_folder) {
            return Err(Error::invalid(format!(
                "{} is inside the project (or holds it); drop files from elsewhere",
                src.display()
            )));
        }
        let base = if dest_dir.is_empty() {
            name.to_string()
        } else {
            format!("{dest_dir}/{name}")
        };
        if md.is_dir() {
            plan_folder(src, &base, &mut plan, left_out)?;
        } else {
            let Some(kind) = copied_kind(md.file_type()) else {
                return Err(Error::invalid(format!(
                    "{} is not a file, a folder or a link (a named pipe, a socket or a device): only those can be copied into a project",
                    src.display()
                )));
            };
            plan.push(PlannedCopy {
                source: src.clone(),
                rel: base,
                kind,
            });
        }
    }
    Ok(plan)
}

/// Adds to `plan` every file and symlink under the folder `src` (symlinks are not followed), to
/// go under `base` in the project, and to `left_out` every folder inside it that cannot be read.
/// `src` itself that cannot be read, or a name that is not UTF-8, is the error.
fn plan_folder(
    src: &Path,
    base: &str,
    plan: &mut Vec<PlannedCopy>,
    left_out: &mut Vec<SkippedFile>,
) -> Result<()> {
    for e in walkdir::WalkDir::new(src).follow_links(false) {
        let e = match e {
            Ok(e) => e,
            Err(err) => match err.path().filter(|p| *p != src) {
                Some(folder) => {
                    let rel = folder.strip_prefix(src).unwrap_or(folder);
                    let reason = match err.io_error() {
                        Some(io) => {
                            format!("the folder cannot be read ({io}); nothing in it was copied")
                        }
                        None => format!("{err}; nothing in it was copied"),
                    };
                    left_out.push(SkippedFile {
                        path: format!("{base}/{}", rel.to_string_lossy()),
                        reason,
                    });
                    continue;
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::Io,
                        format!("cannot read {}: {err}", src.display()),
                    ))
                }
            },
        };
        if e.file_type().is_dir() {
            continue;
        }
        let rel = e.path().strip_prefix(src).unwrap_or(e.path());
        let rel = rel.to_str().ok_or_else(|| {
            Error::invalid(format!(
                "{} has a name that is not UTF-8",
                e.path().display()
            ))
        })?;
        // A named pipe, a socket or a device is left out, as a version leaves it out.
        let Some(kind) = copied_kind(e.file_type()) else {
            continue;
        };
        plan.push(PlannedCopy {
            source: e.path().to_path_buf(),
            rel: format!("{base}/{rel}"),
            kind,
        });
    }
    Ok(())
}

/// What a copy makes of an entry of this type: a file or a link; `None` for anything else.
fn copied_kind(t: fs::FileType) -> Option<EntryKind> {
    if t.is_symlink() {
        Some(EntryKind::Symlink)
    } else if t.is_file() {
        Some(EntryKind::File)
    } else {
        None
    }
}

/// Refuses the whole `plan` when any of its copies would land outside the project in
/// `project_folder` or on a folder there: a file is never written over a folder.
fn refuse_folders_in_the_way(project_folder: &Path, plan: &[PlannedCopy]) -> Result<()> {
    for copy in plan {
        let rel = &copy.rel;
        let target = resolve_inside(project_folder, rel, true)?;
        if target.is_dir() {
            return Err(Error::conflict(format!(
                "'{rel}' is a folder in the project; rename one of them first"
            )));
        }
    }
    Ok(())
}

/// The bytes a plan copies, and the bytes of the project's files it replaces, for the quota.
struct CopySizes {
    total: u64,
    replaced: u64,
}

/// What `plan` copies in all, and what it replaces of the files now in `project_folder`.
/// Sources and files that cannot be read count as nothing.
fn copy_sizes(project_folder: &Path, plan: &[PlannedCopy]) -> CopySizes {
    let total: u64 = plan
        .iter()
        .filter_map(|c| fs::symlink_metadata(&c.source).ok())
        .map(|m| m.len())
        .sum();
    let replaced: u64 = plan
        .iter()
        .filter_map(|c| fs::symlink_metadata(project_folder.join(&c.rel)).ok())
        .filter(|m| m.is_file())
        .map(|m| m.len())
        .sum();
    CopySizes { total, replaced }
}

/// Copies every one of `plan` into `project_folder` in order, creating the folders it needs and
/// reporting progress against `total` bytes; the job can be cancelled between copies.
fn copy_planned(
    project_folder: &Path,
    plan: &[PlannedCopy],
    total: u64,
    job: &Job,
) -> Result<UploadReport> {
    let mut report = UploadReport::default();
    for copy in plan {
        job.check()?;
        let target = project_folder.join(&copy.rel);
        // A file that cannot be read now is left out and named; one that cannot be written fails
        // the upload.
        let source = match copy.kind {
            EntryKind::File => match regular::open_regular(&copy.source) {
                Ok(opened) => Some(opened),
                Err(e) => {
                    report.skipped.push(SkippedFile {
                        path: copy.rel.clone(),
                        reason: format!("{e}; it was not copied"),
                    });
                    continue;
                }
            },
            EntryKind::Symlink => None,
        };
        if let Some(parent) = target.parent() {
            durable::create_dir_all(parent)?;
        }
        report.bytes += match source {
            Some((file, md)) => copy_file(file, &md, &target)?,
            None => copy_link(&copy.source, &target)?,
        };
        report.files += 1;
        job.bytes("uploading", report.bytes, Some(total), Some(&copy.rel));
    }
    Ok(report)
}

/// Makes `target` a link like the one at `src` (replacing what is there).
fn copy_link(src: &Path, target: &Path) -> Result<u64> {
    let link = fs::read_link(src).map_err(|e| Error::io("read link", src, e))?;
    let _ = fs::remove_file(target);
    std::os::unix::fs::symlink(&link, target).map_err(|e| Error::io("create link", target, e))?;
    Ok(0)
}

/// Writes `source` (whose metadata is `md`) to `target` durably, keeping its executable bits.
/// Returns the bytes written.
fn copy_file(mut source: fs::File, md: &fs::Metadata, target: &Path) -> Result<u64> {
    let n = durable::write_from(target, &mut source)?;
    let mode = md.permissions().mode();
    if mode & 0o111 != 0 {
        let _ = fs::set_permissions(target, fs::Permissions::from_mode(mode & 0o777));
    }
    Ok(n)
}

impl VaultReader {
    /// Lists a project's files (optionally only those under `prefix`), comparing the folder with
    /// the latest version: new, modified and deleted files are marked.
    pub fn list_files(&self, reference: &str, prefix: Option<&str>) -> Result<Vec<FileEntry>> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let cache = filelist::load(&self.db(), &p.id, p.file_count as usize)?;
        let walk = Walk::for_files(p.head.as_ref().map(|_| p.file_count));
        let scan = scan(&p.path, &self.config(), walk)?;
        let prefix = match prefix.filter(|s| !s.trim_matches('/').is_empty()) {
            Some(s) => Some(crate::fs::names::argument(s)?),
            None => None,
        };
        let prefix = prefix.as_deref();
        let under = |rel: &str| match prefix {
            None => true,
            Some(pre) => {
                rel == pre || (rel.starts_with(pre) && rel.as_bytes().get(pre.len()) == Some(&b'/'))
            }
        };
        let mut out = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for f in scan.files.iter().filter(|f| under(&f.rel)) {
            seen.insert(f.rel.as_str());
            let cached = cache.get(&f.rel);
            let state = match cached {
                None => FileState::New,
                Some(c) if c.matches(f) => FileState::Unchanged,
                // Written just before its snapshot: the row's mtime is a "re-read me" mark, so
                // judge by the rest of the stat data.
                Some(c)
                    if c.mtime_ns < 0
                        && c.size == f.size
                        && c.inode == f.inode
                        && c.ctime_ns == f.ctime_ns
                        && c.mode == f.git_mode() =>
                {
                    FileState::Unchanged
                }
                Some(_) => FileState::Modified,
            };
            out.push(FileEntry {
                path: f.rel.clone(),
                size: f.size,
                file_type: if f.kind == EntryKind::Symlink {
                    "link".into()
                } else {
                    file_type_of(&f.rel)
                },
                layer: cached.map(|c| c.layer),
                last_version: cached.map(|c| hex::encode(c.last_version)),
                state,
                modified_at: Some(f.mtime_ns.div_euclid(1_000_000_000)),
            });
        }
        for (path, c) in cache
            .iter()
            .filter(|(k, _)| under(k) && !seen.contains(k.as_str()))
        {
            out.push(FileEntry {
                path: path.clone(),
                size: c.size,
                file_type: file_type_of(path),
                layer: Some(c.layer),
                last_version: Some(hex::encode(c.last_version)),
                state: FileState::Deleted,
                modified_at: None,
            });
        }
        out.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(out)
    }

    /// Streams a file of the project's folder into `out`; returns its size.
    pub fn read_file(&self, reference: &str, rel: &str, out: &mut dyn Write) -> Result<u64> {
        let (mut f, _, path) = self.open_in_folder(reference, rel)?;
        std::io::copy(&mut f, out).map_err(|e| Error::io("read", &path, e))
    }

    /// Opens a file of the project's folder for reading, with the same checks as
    /// [`Vault::read_file`]; returns it with its size (for a door that streams it in ranges).
    pub fn open_file(&self, reference: &str, rel: &str) -> Result<(fs::File, u64)> {
        self.open_in_folder(reference, rel)
            .map(|(f, size, _)| (f, size))
    }

    fn open_in_folder(&self, reference: &str, rel: &str) -> Result<(fs::File, u64, PathBuf)> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let path = resolve_inside(&p.path, rel, false)?;
        let (f, meta) = open_in_project(&path, rel)?;
        Ok((f, meta.len(), path))
    }
}

/// Opens the file at `path` (`rel` in the project) to read it, if it is a regular file: a
/// folder, a named pipe, a socket or a device is refused (reading a pipe would wait for a writer
/// forever), and a link put in its place since it was looked at is not followed.
fn open_in_project(path: &Path, rel: &str) -> Result<(fs::File, fs::Metadata)> {
    regular::open_regular(path).map_err(|e| {
        if !regular::is_not_regular(&e) {
            Error::io("read", path, e)
        } else if path.is_dir() {
            Error::invalid(format!("'{rel}' is a folder, not a file"))
        } else {
            Error::invalid(format!(
                "'{rel}' is not a regular file (a named pipe, a socket, a device, or a link put in its place): only files can be read"
            ))
        }
    })
}

impl Vault {
    /// Saves a file into the project's folder from a stream (created or replaced atomically,
    /// folders created as needed); returns the bytes written. The next snapshot records it.
    pub fn save_file(&self, reference: &str, rel: &str, data: &mut dyn Read) -> Result<u64> {
        let (p, _held) = self.folder_to_change(reference)?;
        let path = resolve_inside(&p.path, rel, false)?;
        if path.is_dir() {
            return Err(Error::conflict(format!(
                "'{rel}' is a folder; choose another file name"
            )));
        }
        if let Some(parent) = path.parent() {
            durable::create_dir_all(parent)?;
        }
        let n = match self.quota_room(Some(&p))? {
            None => self
                .spares()
                .write_from(&path, data)
                .map_err(durable::failed)?,
            Some(room) => {
                // The file it replaces frees its bytes; stop (and write nothing) past the room.
                let old = fs::symlink_metadata(&path)
                    .ok()
                    .filter(|m| m.is_file())
                    .map_or(0, |m| m.len());
                let allowed = room + old;
                let mut limited = data.take(allowed + 1);
                let mut written = 0;
                let res = self.spares().write_with(&path, |f| {
                    written = kura_durable::copy(&mut limited, f)?;
                    if written > allowed {
                        return Err(std::io::Error::other("over quota"));
                    }
                    Ok(())
                });
                if written > allowed {
                    return self
                        .check_quota(Some(&p), &p.name, written, old)
                        .and(Err(Error::internal("quota check disagreed")));
                }
                res.map_err(durable::failed)?;
                written
            }
        };
        self.bump_updated(&p)?;
        Ok(n)
    }

    /// Renames or moves a file (or folder) inside the project's folder.
    pub fn rename_file(&self, reference: &str, from: &str, to: &str) -> Result<()> {
        let (p, _held) = self.folder_to_change(reference)?;
        let src = resolve_inside(&p.path, from, true)?;
        let dst = resolve_inside(&p.path, to, false)?;
        if fs::symlink_metadata(&src).is_err() {
            return Err(Error::not_found(format!(
                "there is no file '{from}' in project '{}'",
                p.name
            )));
        }
        if fs::symlink_metadata(&dst).is_ok() {
            return Err(Error::new(
                ErrorKind::AlreadyExists,
                format!("'{to}' already exists in project '{}'", p.name),
            ));
        }
        if let Some(parent) = dst.parent() {
            durable::create_dir_all(parent)?;
        }
        durable::rename(&src, &dst)?;
        self.bump_updated(&p)
    }

    /// Deletes a file (or a folder and everything in it) from the project's folder. Its content
    /// stays in earlier versions.
    pub fn delete_file(&self, reference: &str, rel: &str) -> Result<()> {
        let (p, _held) = self.folder_to_change(reference)?;
        let path = resolve_inside(&p.path, rel, true)?;
        let md = fs::symlink_metadata(&path).map_err(|_| {
            Error::not_found(format!("there is no file '{rel}' in project '{}'", p.name))
        })?;
        if md.is_dir() {
            fs::remove_dir_all(&path).map_err(|e| Error::io("delete", &path, e))?;
        } else {
            fs::remove_file(&path).map_err(|e| Error::io("delete", &path, e))?;
        }
        self.bump_updated(&p)
    }

    fn bump_updated(&self, p: &Project) -> Result<()> {
        // Saves within the same second change nothing: no write to the catalog (the project
        // as read from the in-memory list already says so, or the query finds no row to change).
        let now = self.now();
        if p.updated_at == now {
            return Ok(());
        }
        projects::touch_updated(&self.db(), &p.id, now)
    }
}

impl VaultReader {
    /// Opens a project's history; an archived project has none in the vault.
    pub(crate) fn open_history(&self, p: &Project) -> Result<git2::Repository> {
        if p.status == ProjectStatus::Archived {
            return Err(archived(p));
        }
        crate::history::open(&self.history_path(&p.id)).map_err(|e| self.archived_since(p, e))
    }

    /// `e`, or, when an archive that ended since `p` was read took its history away (the cause
    /// of `e`), that the project is archived: not that its history is damaged.
    pub(crate) fn archived_since(&self, p: &Project, e: Error) -> Error {
        match self.project_by_id(&p.id) {
            Ok(now) if now.status == ProjectStatus::Archived => archived(&now),
            // Archived, then moved to the trash: its history is in the archive too.
            Ok(now) if now.status == ProjectStatus::Deleted && self.has_archive(&now.id) => {
                Error::conflict(format!(
                    "project '{}' is in the trash and its history is in an archive; restore it from the trash, then unarchive it",
                    now.name
                ))
            }
            _ => e,
        }
    }

    /// Whether an archive of the project is in the catalog.
    pub(crate) fn has_archive(&self, project_id: &str) -> bool {
        projects::has_archive(&self.db(), project_id).unwrap_or(false)
    }

    /// The project `reference` names with its folder held for a change ([`Vault::lock_folder`],
    /// shared), checked again once held: an archive that ended meanwhile freed the folder.
    pub(crate) fn folder_to_change(&self, reference: &str) -> Result<(Project, FileLock)> {
        let p = self.project(reference)?;
        self.require_folder(&p)?;
        let lock = self.lock_folder(&p.id, false)?;
        let p = self.project_by_id(&p.id)?;
        self.require_folder(&p)?;
        Ok((p, lock))
    }

    pub(crate) fn require_folder(&self, p: &Project) -> Result<()> {
        if p.status == ProjectStatus::Archived {
            return Err(Error::conflict(format!(
                "project '{}' is archived; unarchive it to work with its files",
                p.name
            )));
        }
        if !p.path.is_dir() {
            return Err(Error::not_found(format!(
                "the folder of project '{}' ({}) is missing; is its drive connected?",
                p.name,
                p.path.display()
            )));
        }
        if !p.linked {
            // A managed folder replaced by a link would have Kura act on what it points at.
            require_real_folder(&p.path, &format!("project '{}''s folder", p.name))?;
        }
        Ok(())
    }
}

/// The refusal to read the versions of an archived project.
fn archived(p: &Project) -> Error {
    Error::conflict(format!(
        "project '{}' is archived; unarchive it (`kura unarchive {}`) to see its versions",
        p.name, p.name
    ))
}

#[cfg(test)]
mod tests {
    use super::{file_type_of, relative, scan, Walk};
    use crate::config::Config;
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    #[test]
    fn a_walk_on_this_thread_finds_and_leaves_out_what_the_walkers_do() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |rel: &str, text: &str| {
            let path = root.join(rel);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        for i in 0..40 {
            write(&format!("src/m{i}/lib.rs"), "fn main() {}");
        }
        write(".gitignore", "target/\n*.log\n");
        write("target/debug/app", "binary");
        write("run.log", "log");
        write("docs/.kuraignore", "draft.md\n");
        write("docs/draft.md", "draft");
        write("docs/guide.md", "guide");
        write(".git/HEAD", "ref: refs/heads/main");
        write("vendor/.GIT", "gitdir: elsewhere");
        std::os::unix::fs::symlink("../../etc/passwd", root.join("src/out")).unwrap();
        std::os::unix::fs::symlink("m0/lib.rs", root.join("src/in")).unwrap();
        // A folder whose name no restore could write back, and one whose ignore file is a pipe.
        let bad = root.join(std::ffi::OsStr::from_bytes(b"bad\\name"));
        std::fs::create_dir(&bad).unwrap();
        std::fs::write(bad.join("a.txt"), "a").unwrap();
        std::fs::create_dir(root.join("piped")).unwrap();
        std::fs::write(root.join("piped/a.txt"), "a").unwrap();
        rustix::fs::mknodat(
            rustix::fs::CWD,
            root.join("piped/.gitignore"),
            rustix::fs::FileType::Fifo,
            rustix::fs::Mode::from_raw_mode(0o644),
            0,
        )
        .unwrap();

        let config = Config::default();
        let listed = |walk| {
            let s = scan(root, &config, walk).unwrap();
            let files: Vec<String> = s.files.iter().map(|f| f.rel.clone()).collect();
            let skipped: Vec<String> = s.skipped.iter().map(|f| f.path.clone()).collect();
            (files, skipped)
        };
        let (files, skipped) = listed(Walk::Threads);
        assert_eq!(listed(Walk::Here), (files.clone(), skipped.clone()));
        assert_eq!(files.len(), 40 + 4, "{files:?}");
        for kept in [".gitignore", "docs/.kuraignore", "docs/guide.md", "src/in"] {
            assert!(files.iter().any(|f| f == kept), "{kept} missing: {files:?}");
        }
        assert_eq!(skipped, ["bad\\name", "piped", "src/out"]);
    }

    #[test]
    fn walked_paths_are_made_relative_by_bytes_as_path_methods_do() {
        let p = Path::new;
        assert_eq!(relative(p("/v/site"), p("/v/site/a/b.txt")), p("a/b.txt"));
        assert_eq!(relative(p("/v/site/"), p("/v/site/a.txt")), p("a.txt"));
        assert_eq!(relative(p("/"), p("/a.txt")), p("a.txt"));
        // A sibling whose name starts with the root's is not inside it.
        assert_eq!(relative(p("/v/site"), p("/v/site2/a")), p("/v/site2/a"));
    }

    #[test]
    fn file_types_come_from_the_name() {
        for (path, expected) in [
            ("src/main.rs", "rs"),
            ("Photo.JPG", "jpg"),
            ("dist/app.tar.gz", "gz"),
            ("lib/libLLVM.so.22.1-rust-1.95.0-stable", "so"),
            ("libc.so.6", "so"),
            ("logs/app.log.1", "log"),
            ("man/kura.1", "1"),
            ("v1.2.3", "3"),
            (".bashrc", ""),
            ("dir.d/.env.local", "local"),
            ("Makefile", ""),
            ("trailing.", ""),
            ("file.averyveryverylongone", ""),
        ] {
            assert_eq!(file_type_of(path), expected, "{path}");
        }
    }
}
