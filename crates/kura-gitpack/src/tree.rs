//! Serializing git tree objects.

use std::cmp::Ordering;

use crate::Oid;

/// One entry of a git tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeEntry {
    /// Git file mode: 0o100644 (file), 0o100755 (executable), 0o120000 (symlink),
    /// 0o040000 (tree) or 0o160000 (submodule commit).
    pub mode: u32,
    /// The entry's name: one path component, non-empty, without '/' or NUL.
    pub name: Vec<u8>,
    /// The id of the blob, tree or commit the entry points to.
    pub oid: Oid,
}

impl TreeEntry {
    fn is_tree(&self) -> bool {
        self.mode & 0o170000 == 0o040000
    }
}

/// Git's tree order: bytewise by name, except a tree's name compares as if followed by '/'.
fn tree_order(a: &TreeEntry, b: &TreeEntry) -> Ordering {
    let common = a.name.len().min(b.name.len());
    match a.name[..common].cmp(&b.name[..common]) {
        Ordering::Equal => {}
        unequal => return unequal,
    }
    let next = |entry: &TreeEntry| match entry.name.get(common) {
        Some(&byte) => byte,
        None if entry.is_tree() => b'/',
        None => 0,
    };
    next(a).cmp(&next(b))
}

/// Serializes a git tree from `entries`, sorting them first with git's ordering rule.
///
/// Each entry becomes `"<mode in octal, no leading zeros> <name>\0<20-byte oid>"`, so trees are
/// written as "40000", as git does. Names must be unique; that is the caller's job.
pub fn encode_tree(entries: &mut [TreeEntry]) -> Vec<u8> {
    entries.sort_unstable_by(tree_order);
    let len = entries.iter().map(|e| 8 + e.name.len() + 20).sum();
    let mut out = Vec::with_capacity(len);
    for entry in entries.iter() {
        debug_assert!(
            !entry.name.is_empty() && !entry.name.contains(&b'/') && !entry.name.contains(&0)
        );
        out.extend_from_slice(format!("{:o} ", entry.mode).as_bytes());
        out.extend_from_slice(&entry.name);
        out.push(0);
        out.extend_from_slice(&entry.oid);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(mode: u32, name: &str) -> TreeEntry {
        TreeEntry {
            mode,
            name: name.as_bytes().to_vec(),
            oid: [0; 20],
        }
    }

    #[test]
    fn directories_sort_as_if_followed_by_slash() {
        let mut entries = vec![
            entry(0o100644, "foo.txt"),
            entry(0o040000, "foo"),
            entry(0o100644, "foo-bar"),
            entry(0o100644, "foo0"),
            entry(0o100644, "Zeta"),
        ];
        let bytes = encode_tree(&mut entries);
        let names: Vec<&str> = entries
            .iter()
            .map(|e| std::str::from_utf8(&e.name).unwrap())
            .collect();
        // '-' (0x2d) < '.' (0x2e) < '/' (0x2f, the tree "foo") < '0' (0x30).
        assert_eq!(names, ["Zeta", "foo-bar", "foo.txt", "foo", "foo0"]);
        assert!(bytes.starts_with(b"100644 Zeta\0"));
        let tree_at = bytes.windows(10).position(|w| w == b"40000 foo\0").unwrap();
        assert_ne!(
            bytes[tree_at - 1],
            b'0',
            "tree mode must not be zero-padded"
        );
    }

    #[test]
    fn a_file_sorts_before_a_same_named_prefix_directory() {
        let mut entries = vec![
            entry(0o040000, "a"),
            entry(0o100644, "a.b"),
            entry(0o100644, "a"),
        ];
        // File "a" ends first (0); "a.b" has '.' (0x2e); tree "a" compares as "a/" (0x2f).
        // Duplicate names are not valid in a real tree; only the ordering is checked here.
        encode_tree(&mut entries);
        assert_eq!(entries[0].mode, 0o100644);
        assert_eq!(entries[0].name, b"a");
        assert_eq!(entries[1].name, b"a.b");
        assert_eq!(entries[2].mode, 0o040000);
    }
}
