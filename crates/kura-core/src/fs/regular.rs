//! Opening a file a scan found, to read it. Between the scan and the read the name may have
//! been given to something else: a link, a named pipe, a device. None of them is read in the
//! file's place: a link is not followed (its target may be anywhere), a pipe does not make the
//! reader wait for a writer, and a device is not read at all (`/dev/zero` never ends).

use std::fs::{File, Metadata, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

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
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(NotRegular(
            "it is no longer a regular file (it was replaced while being read)",
        )
        .into());
    }
    Ok((file, metadata))
}

/// Whether an error of [`open_regular`] says the name is no longer a regular file's (rather than
/// that the file could not be opened).
pub(crate) fn is_not_regular(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<NotRegular>())
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
}
