//! Opening a file a scan found, to read it. Between the scan and the read the name may have
//! been given to something else: a link, a named pipe, a device. None of them is read in the
//! file's place: a link is not followed (its target may be anywhere), a pipe does not make the
//! reader wait for a writer, and a device is not read at all (`/dev/zero` never ends).

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// The regular file at `path` opened to read, and its metadata now; an error that says so when
/// the name is no longer a regular file's.
pub(crate) fn open_regular(path: &Path) -> io::Result<(File, Metadata)> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            // O_NOFOLLOW's answer for a link at the end of the path.
            Some(libc::ELOOP) => NotRegular("it was replaced by a link while being read").into(),
            _ => e,
        })?;
    still_regular(file)
}

/// `file` and its metadata, if it is a regular file.
fn still_regular(file: File) -> io::Result<(File, Metadata)> {
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(NotRegular(
            "it is no longer a regular file (it was replaced while being read)",
        )
        .into());
    }
    Ok((file, metadata))
}

/// Whether this kernel lets Kura call `openat2` (Linux 5.6 and later, unless a sandbox's
/// syscall filter refuses it): once it did not, files are opened by their whole path.
static OPENAT2: AtomicBool = AtomicBool::new(true);

/// A folder whose files are opened by their names in it, the way through it checked by the
/// kernel: no folder on a file's way may be a link, nor lead out of it (`openat2` with
/// `RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS`). A folder of the project swapped for a link since the
/// scan is then not followed out of the project, as a link in the file's own place is not
/// (`O_NOFOLLOW`).
/// The kernel also walks only the name inside the folder, not the folder's own path each time.
/// Where `openat2` is missing, a file is opened by its whole path ([`open_regular`]).
pub(crate) struct Beneath {
    path: PathBuf,
    /// The folder, opened once (`O_PATH`); `None` when it could not be (each open then says why).
    dir: Option<OwnedFd>,
}

impl Beneath {
    pub(crate) fn new(path: &Path) -> Beneath {
        let dir = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_PATH | libc::O_DIRECTORY)
            .open(path)
            .ok()
            .map(OwnedFd::from);
        Beneath {
            path: path.to_path_buf(),
            dir,
        }
    }

    /// The folder's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// [`open_regular`] of `rel`, a relative path inside the folder.
    pub(crate) fn open_regular(&self, rel: impl AsRef<Path>) -> io::Result<(File, Metadata)> {
        let rel = rel.as_ref();
        use rustix::fs::OFlags;
        self.beneath(
            rel,
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC,
            |fd| still_regular(File::from(fd)),
            || open_regular(&self.path.join(rel)),
        )
    }

    /// The target of the link `rel`, a relative path inside the folder. The folder holding it is
    /// reached as a file is by [`Beneath::open_regular`]: a folder on the way swapped for a link
    /// is not followed, so what is read is the link the scan found, or nothing.
    pub(crate) fn read_link(&self, rel: impl AsRef<Path>) -> io::Result<PathBuf> {
        let rel = rel.as_ref();
        let by_path = || std::fs::read_link(self.path.join(rel));
        let (Some(dir), Some(name)) = (self.dir.as_ref(), rel.file_name()) else {
            return by_path();
        };
        let read = |folder: BorrowedFd<'_>| {
            use std::os::unix::ffi::OsStringExt;
            let target = rustix::fs::readlinkat(folder, name, Vec::new())?;
            Ok(PathBuf::from(std::ffi::OsString::from_vec(
                target.into_bytes(),
            )))
        };
        match rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            None => read(dir.as_fd()),
            Some(parent) => {
                use rustix::fs::OFlags;
                self.beneath(
                    parent,
                    OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC,
                    |fd| read(fd.as_fd()),
                    by_path,
                )
            }
        }
    }

    /// `rel` opened with `flags` by `openat2` beneath the folder, then given to `then`; where
    /// this kernel has no `openat2`, `by_path` answers instead.
    fn beneath<T>(
        &self,
        rel: &Path,
        flags: rustix::fs::OFlags,
        then: impl FnOnce(OwnedFd) -> io::Result<T>,
        by_path: impl FnOnce() -> io::Result<T>,
    ) -> io::Result<T> {
        let Some(dir) = self
            .dir
            .as_ref()
            .filter(|_| OPENAT2.load(Ordering::Relaxed))
        else {
            return by_path();
        };
        use rustix::fs::{Mode, ResolveFlags};
        let opened = rustix::fs::openat2(
            dir,
            rel,
            flags,
            Mode::empty(),
            ResolveFlags::BENEATH | ResolveFlags::NO_SYMLINKS | ResolveFlags::NO_MAGICLINKS,
        );
        let e = match opened {
            Ok(fd) => return then(fd),
            Err(errno) => io::Error::from(errno),
        };
        match e.raw_os_error() {
            // No `openat2` here; or a syscall filter's refusal, which a plain open does not meet.
            Some(libc::ENOSYS) => {
                OPENAT2.store(false, Ordering::Relaxed);
                by_path()
            }
            Some(libc::EPERM) => {
                let opened = by_path();
                if opened.is_ok() {
                    OPENAT2.store(false, Ordering::Relaxed);
                }
                opened
            }
            // A link met on the way: the name's own, or a folder's.
            Some(libc::ELOOP) => Err(NotRegular(
                "it, or a folder on its way, was replaced by a link while being read",
            )
            .into()),
            Some(libc::EXDEV) => Err(NotRegular("its name leads out of the folder").into()),
            _ => Err(e),
        }
    }
}

/// Whether an error of [`open_regular`] says the name is no longer a regular file's (rather than
/// that the file could not be opened).
pub(crate) fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NotRegular>())
}

/// Whether the byte of `file` at `offset` is in the page cache, so that reading it does not wait
/// on the disk; `None` when the system cannot tell (a kernel or file system without
/// `RWF_NOWAIT`) or there is no byte there. It reads that byte only if it is there already; when
/// it is not, Linux starts reading it in (its readahead) without waiting for it, so a second probe
/// moments later may find it: the answer is of this moment. (Here it is asked of files about to be
/// read anyway.)
pub(crate) fn cached_at(file: &File, offset: u64) -> Option<bool> {
    #[cfg(target_os = "linux")]
    {
        let mut byte = [0u8; 1];
        let read = rustix::io::preadv2(
            file,
            &mut [io::IoSliceMut::new(&mut byte)],
            offset,
            rustix::io::ReadWriteFlags::NOWAIT,
        );
        match read {
            Ok(1) => Some(true),
            Err(rustix::io::Errno::AGAIN) => Some(false),
            Ok(_) | Err(_) => None,
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (file, offset);
        None
    }
}

/// Why a name is no longer a regular file's, in words that follow the file's name.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotRegular(&'static str);

impl From<NotRegular> for io::Error {
    fn from(e: NotRegular) -> io::Error {
        io::Error::other(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_is_opened_and_anything_else_refused_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.txt");
        std::fs::write(&file, b"hello").unwrap();
        let (_, md) = open_regular(&file).unwrap();
        assert_eq!(md.len(), 5);

        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&file, &link).unwrap();
        let e = open_regular(&link).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        assert!(e.to_string().contains("replaced by a link"), "{e}");

        // A pipe with no writer: opening it must not wait for one.
        let fifo = dir.path().join("fifo");
        use rustix::fs::{mknodat, FileType, Mode, CWD};
        mknodat(CWD, &fifo, FileType::Fifo, Mode::from(0o600), 0).unwrap();
        let e = open_regular(&fifo).unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        assert!(e.to_string().contains("no longer a regular file"), "{e}");

        let e = open_regular(Path::new("/dev/zero"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("no longer a regular file"), "{e}");
        let e = open_regular(dir.path()).unwrap_err().to_string();
        assert!(e.contains("no longer a regular file"), "{e}");
        let e = open_regular(&dir.path().join("gone")).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!is_not_regular(&e));
    }

    #[test]
    fn beneath_a_folder_no_link_on_the_way_is_followed() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(project.join("src")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(project.join("src/main.rs"), b"fn main() {}\n").unwrap();
        std::fs::write(outside.join("main.rs"), b"a secret\n").unwrap();
        let folder = Beneath::new(&project);
        assert_eq!(folder.path(), project);
        let (_, md) = folder.open_regular("src/main.rs").unwrap();
        assert_eq!(md.len(), 13);

        // The folder `src` swapped for a link to another folder holding a file of that name.
        std::fs::rename(project.join("src"), dir.path().join("old-src")).unwrap();
        std::os::unix::fs::symlink(&outside, project.join("src")).unwrap();
        let e = folder.open_regular("src/main.rs").unwrap_err();
        assert!(is_not_regular(&e), "{e}");
        assert!(e.to_string().contains("a folder on its way"), "{e}");
        // The file's own name swapped for a link, and a pipe, are refused as by `open_regular`.
        std::fs::remove_file(project.join("src")).unwrap();
        std::os::unix::fs::symlink(outside.join("main.rs"), project.join("main.rs")).unwrap();
        assert!(is_not_regular(&folder.open_regular("main.rs").unwrap_err()));
        use rustix::fs::{mknodat, FileType, Mode, CWD};
        mknodat(
            CWD,
            project.join("fifo"),
            FileType::Fifo,
            Mode::from(0o600),
            0,
        )
        .unwrap();
        assert!(is_not_regular(&folder.open_regular("fifo").unwrap_err()));
        let e = folder.open_regular("gone").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::NotFound);
        assert!(!is_not_regular(&e));
        // A name can not climb out of the folder either.
        std::fs::write(dir.path().join("up.txt"), b"up").unwrap();
        assert!(folder.open_regular("../up.txt").is_err());
    }

    #[test]
    fn a_link_is_read_beneath_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let outside = dir.path().join("outside");
        std::fs::create_dir_all(project.join("src/deep")).unwrap();
        std::fs::create_dir_all(outside.join("deep")).unwrap();
        std::os::unix::fs::symlink("main.rs", project.join("top")).unwrap();
        std::os::unix::fs::symlink("../lib.rs", project.join("src/deep/link")).unwrap();
        std::os::unix::fs::symlink("/etc/shadow", outside.join("deep/link")).unwrap();
        let folder = Beneath::new(&project);
        assert_eq!(folder.read_link("top").unwrap(), Path::new("main.rs"));
        assert_eq!(
            folder.read_link("src/deep/link").unwrap(),
            Path::new("../lib.rs")
        );

        // `src` swapped for a link to a folder holding a link of the same name: not read.
        std::fs::rename(project.join("src"), dir.path().join("old-src")).unwrap();
        std::os::unix::fs::symlink(&outside, project.join("src")).unwrap();
        let e = folder.read_link("src/deep/link").unwrap_err();
        assert!(e.to_string().contains("a folder on its way"), "{e}");
        // A name that is not a link, and a name climbing out, are refused.
        std::fs::write(project.join("file"), b"x").unwrap();
        assert!(folder.read_link("file").is_err());
        assert!(folder.read_link("../outside/deep/link").is_err());
    }

    /// A file just written is in the page cache; once written out and dropped from it, it is
    /// not (though the probe itself starts reading the page back in, see [`cached_at`]), and a
    /// read brings it back. The folder is beside the test program, on a disk: a file system in
    /// memory (`/tmp` on many systems) never drops a page.
    #[test]
    #[cfg(target_os = "linux")]
    fn a_file_is_seen_in_the_page_cache_until_it_is_dropped_from_it() {
        let beside = std::env::current_exe().unwrap();
        let dir = tempfile::tempdir_in(beside.parent().unwrap()).unwrap();
        let path = dir.path().join("pages.bin");
        std::fs::write(&path, vec![7u8; 64 << 10]).unwrap();
        let (file, _) = open_regular(&path).unwrap();
        assert_eq!(cached_at(&file, (64 << 10) - 1), Some(true));
        // No byte there: the probe cannot say.
        assert_eq!(cached_at(&file, 64 << 10), None);

        file.sync_all().unwrap();
        // The kernel may keep pages another core added moments ago (in its per-core batch, not
        // yet on the lists it drops from): asked again, it drops them.
        let mut dropped = None;
        for _ in 0..20 {
            rustix::fs::fadvise(&file, 0, None, rustix::fs::Advice::DontNeed).unwrap();
            dropped = cached_at(&file, (64 << 10) - 1);
            if dropped == Some(false) {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        assert_eq!(dropped, Some(false));
        // A read brings it back.
        assert_eq!(std::fs::read(&path).unwrap().len(), 64 << 10);
        assert_eq!(cached_at(&file, (64 << 10) - 1), Some(true));
    }
}
