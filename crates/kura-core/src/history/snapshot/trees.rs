//! The new version's trees, built from its entries sorted by path.

use kura_gitpack::{encode_tree, object_id, EncodedObject, ObjectKind, TreeEntry};
use rayon::prelude::*;

use super::writers::HistoryPack;
use super::{Context, Entry};
use crate::error::Result;

/// The tree objects of the new version.
pub(super) struct Trees {
    /// Each tree's id and encoded content, every subtree before the tree that holds it.
    pub objects: Vec<([u8; 20], Vec<u8>)>,
    /// The root tree's id.
    pub root: [u8; 20],
    /// Whether the root tree is the head's: nothing changed.
    pub unchanged: bool,
}

/// Builds the trees of sorted `entries`, and compares the root with the head's.
pub(super) fn build(ctx: &Context<'_>, entries: &[Entry]) -> Result<Trees> {
    let mut objects: Vec<([u8; 20], Vec<u8>)> = Vec::new();
    let root = build_tree(entries, 0, &mut objects);
    let head_tree = match ctx.head {
        Some(h) => Some(ctx.repo()?.find_commit(h)?.tree_id()),
        None => None,
    };
    let unchanged = head_tree.map(|t| t.as_bytes() == root) == Some(true);
    Ok(Trees {
        objects,
        root,
        unchanged,
    })
}

impl Trees {
    /// Adds the trees the history does not hold yet to its new pack, deflated on every core
    /// and added in order.
    pub(super) fn add_to(&self, history: &mut HistoryPack<'_>, level: u32) -> Result<()> {
        let mut new = Vec::with_capacity(self.objects.len());
        for (oid, data) in &self.objects {
            if !history.contains(oid)? {
                new.push(data);
            }
        }
        let encoded: Vec<EncodedObject> = new
            .par_iter()
            .map(|data| EncodedObject::encode(ObjectKind::Tree, data, level))
            .collect();
        for obj in &encoded {
            history.pack.add(obj)?;
        }
        Ok(())
    }
}

/// Builds the tree objects for sorted `entries` (paths relative to the tree at `offset`), pushing
/// each into `out`; returns the root tree's id.
fn build_tree(entries: &[Entry], offset: usize, out: &mut Vec<([u8; 20], Vec<u8>)>) -> [u8; 20] {
    let mut items: Vec<TreeEntry> = Vec::new();
    let mut i = 0;
    while i < entries.len() {
        let rest = &entries[i].path[offset..];
        match rest.find('/') {
            Some(slash) => {
                let dir = &rest[..=slash]; // includes the slash
                let mut j = i + 1;
                while j < entries.len() && entries[j].path[offset..].starts_with(dir) {
                    j += 1;
                }
                let sub = build_tree(&entries[i..j], offset + slash + 1, out);
                items.push(TreeEntry {
                    mode: 0o040000,
                    name: dir.as_bytes()[..slash].to_vec(),
                    oid: sub,
                });
                i = j;
            }
            None => {
                items.push(TreeEntry {
                    mode: entries[i].mode,
                    name: rest.as_bytes().to_vec(),
                    oid: entries[i].oid,
                });
                i += 1;
            }
        }
    }
    let data = encode_tree(&mut items);
    let oid = object_id(ObjectKind::Tree, &data);
    out.push((oid, data));
    oid
}
