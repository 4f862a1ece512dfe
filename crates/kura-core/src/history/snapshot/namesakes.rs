//! Namesakes: files stored whole by any reader, by name, for a later file of the same name
//! elsewhere in the folder to be stored as a delta against. Path order puts alike files next to
//! each other only within a folder; the same file often comes again far away: a package at two
//! versions in `node_modules`, a page of `std`'s docs re-exported from `core`'s.
//!
//! A file is looked up by its last two path components (`num/struct.NonZero.html`), then by its
//! name alone. The namesake is read again from the folder (from the page cache, mostly) and must
//! still hash to the blob stored for it: a file changed since it was read is not a base.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::io::Read;
use std::sync::Mutex;

use kura_gitpack::{object_id, DeltaBase, ObjectKind, Oid};

use super::budget::ReadBudget;
use super::tunables::{NAMESAKE_MAX, NAMESAKE_MIN};
use crate::files::ScannedFile;
use crate::fs::regular::Beneath;
use crate::history::deltas::alike_in_size;

/// The key a file is known by: its last two path components, or its name alone.
#[derive(Clone, Copy, Hash, PartialEq, Eq)]
enum Key<'f> {
    LastTwo(&'f str),
    Name(&'f str),
}

impl<'f> Key<'f> {
    /// The keys of `rel`, the most telling first.
    fn of(rel: &'f str) -> [Key<'f>; 2] {
        let name = rel.rsplit('/').next().unwrap_or(rel);
        let last_two = match rel.rmatch_indices('/').nth(1) {
            Some((at, _)) => &rel[at + 1..],
            None => rel,
        };
        [Key::LastTwo(last_two), Key::Name(name)]
    }
}

/// A file stored whole, as its blob.
#[derive(Clone, Copy)]
struct Stored<'f> {
    file: &'f ScannedFile,
    oid: Oid,
    len: usize,
}

/// Whether a blob of `len` bytes stored whole is noted as a namesake (and tried as one).
pub(super) fn may_be_namesake(len: usize) -> bool {
    (NAMESAKE_MIN..=NAMESAKE_MAX).contains(&len)
}

/// The files of this snapshot stored whole, by key; the last one of each key.
#[derive(Default)]
pub(super) struct Namesakes<'f> {
    known: Mutex<HashMap<Key<'f>, Stored<'f>>>,
}

impl<'f> Namesakes<'f> {
    /// Notes that `file` was stored whole as `oid`, of `len` bytes. Called once its blob is on
    /// its way to the pack, so that any delta against it comes after it.
    pub(super) fn note(&self, file: &'f ScannedFile, oid: Oid, len: usize) {
        if !may_be_namesake(len) {
            return;
        }
        let stored = Stored { file, oid, len };
        let mut known = self.known.lock().unwrap_or_else(|e| e.into_inner());
        for key in Key::of(&file.rel) {
            known.insert(key, stored);
        }
    }

    /// A base for `data`, the content of `file`: the namesake stored whole, of a like size,
    /// read again and still as it was stored. `None` when there is none, or when its bytes do
    /// not fit in the `budget` of bytes in flight now (it holds them until the base is dropped).
    pub(super) fn base_for<'b>(
        &self,
        root: &Beneath,
        file: &ScannedFile,
        data: &[u8],
        budget: &'b ReadBudget,
    ) -> Option<Held<'b>> {
        if !(NAMESAKE_MIN..=NAMESAKE_MAX).contains(&data.len()) {
            return None;
        }
        let stored = {
            let known = self.known.lock().unwrap_or_else(|e| e.into_inner());
            Key::of(&file.rel)
                .iter()
                .find_map(|key| known.get(key).filter(|s| s.file.rel != file.rel).copied())?
        };
        if !alike_in_size(data.len(), stored.len) || !budget.try_take(stored.len as u64) {
            return None;
        }
        let held = |base| Held {
            base,
            budget,
            len: stored.len as u64,
        };
        match read_at_most(root, &stored.file.rel, stored.len) {
            Ok(content) if object_id(ObjectKind::Blob, &content) == stored.oid => {
                Some(held(DeltaBase::new(stored.oid, content)))
            }
            _ => {
                budget.give(stored.len as u64);
                None
            }
        }
    }
}

/// The content of the file `rel` in `root` if it is at most `len` bytes long; of a longer one,
/// `len` + 1 bytes, which no blob of `len` bytes matches (a file grown since does not fill
/// memory). Only a regular file is read ([`Beneath::open_regular`]).
fn read_at_most(root: &Beneath, rel: &str, len: usize) -> std::io::Result<Vec<u8>> {
    let mut content = Vec::with_capacity(len + 1);
    root.open_regular(rel)?
        .0
        .take(len as u64 + 1)
        .read_to_end(&mut content)?;
    Ok(content)
}

/// A namesake's base, whose bytes count in the read budget until it is dropped.
pub(super) struct Held<'b> {
    base: DeltaBase,
    budget: &'b ReadBudget,
    len: u64,
}

impl Borrow<DeltaBase> for Held<'_> {
    fn borrow(&self) -> &DeltaBase {
        &self.base
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        self.budget.give(self.len);
    }
}

#[cfg(test)]
mod tests {
    use super::super::tunables::READ_BUDGET;
    use super::*;

    #[test]
    fn a_file_is_known_by_its_last_two_components_then_its_name() {
        let keys = |rel| {
            Key::of(rel).map(|k| match k {
                Key::LastTwo(s) => format!("2:{s}"),
                Key::Name(s) => format!("1:{s}"),
            })
        };
        assert_eq!(
            keys("std/num/struct.NonZero.html"),
            ["2:num/struct.NonZero.html", "1:struct.NonZero.html"]
        );
        assert_eq!(keys("num/a.html"), ["2:num/a.html", "1:a.html"]);
        assert_eq!(keys("a.html"), ["2:a.html", "1:a.html"]);
    }

    fn scanned(rel: &str, size: usize) -> ScannedFile {
        ScannedFile {
            rel: rel.to_string(),
            kind: crate::files::EntryKind::File,
            size: size as u64,
            mtime_ns: 0,
            ctime_ns: 0,
            inode: 0,
            executable: false,
        }
    }

    #[test]
    fn a_namesake_changed_since_it_was_stored_or_unlike_in_size_is_no_base() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("a")).unwrap();
        let stored = vec![b'x'; 8192];
        std::fs::write(root.join("a/page.html"), &stored).unwrap();
        let first = scanned("a/page.html", stored.len());
        let later = scanned("b/page.html", stored.len());
        let other = scanned("b/other.html", stored.len());
        let namesakes = Namesakes::default();
        namesakes.note(&first, object_id(ObjectKind::Blob, &stored), stored.len());
        let budget = ReadBudget::default();
        let folder = Beneath::new(root);
        let base_for = |file, data: &[u8]| namesakes.base_for(&folder, file, data, &budget);

        let base = base_for(&later, &stored).expect("a base");
        assert_eq!(Borrow::<DeltaBase>::borrow(&base).data(), &stored[..]);
        // Its bytes are in flight until it is dropped: with no room left in the budget for
        // them, there is no base.
        let rest = READ_BUDGET - 8192 + 1;
        assert!(!budget.try_take(rest));
        drop(base);
        assert!(budget.try_take(rest));
        assert!(base_for(&later, &stored).is_none(), "no room in the budget");
        budget.give(rest);

        assert!(base_for(&other, &stored).is_none(), "no namesake");
        let small = &stored[..NAMESAKE_MIN - 1];
        assert!(
            base_for(&later, small).is_none(),
            "too small to be worth it"
        );
        assert!(
            base_for(&later, &[b'x'; 3 * 8192]).is_none(),
            "unlike in size"
        );
        // Grown since it was stored: read no further than its blob's length and one byte.
        let grown = [&stored[..], &[b'x'; 100]].concat();
        std::fs::write(root.join("a/page.html"), &grown).unwrap();
        assert_eq!(
            read_at_most(&folder, "a/page.html", 8192).unwrap().len(),
            8193
        );
        assert!(base_for(&later, &stored).is_none());
        // A link in its place, to a file with the same content, is not followed.
        std::fs::write(root.join("elsewhere"), &stored).unwrap();
        std::fs::remove_file(root.join("a/page.html")).unwrap();
        std::os::unix::fs::symlink(root.join("elsewhere"), root.join("a/page.html")).unwrap();
        assert!(base_for(&later, &stored).is_none());
        std::fs::remove_file(root.join("a/page.html")).unwrap();
        // A pipe in its place, with no writer, does not make the reader wait.
        let made = std::process::Command::new("mkfifo")
            .arg(root.join("a/page.html"))
            .status()
            .unwrap();
        assert!(made.success());
        assert!(base_for(&later, &stored).is_none());
        std::fs::remove_file(root.join("a/page.html")).unwrap();
        // Changed on disk since it was stored: its content is not the blob any more.
        std::fs::write(root.join("a/page.html"), vec![b'y'; 8192]).unwrap();
        assert!(base_for(&later, &stored).is_none());
        assert!(
            budget.try_take(READ_BUDGET),
            "every byte taken was given back"
        );
    }
}
