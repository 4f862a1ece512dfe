//! Writes git objects straight into a git pack file (version 2) and its index (`.idx` version 2),
//! so a whole snapshot lands in a repository as one pack instead of one loose file per object.
//!
//! Hashing and deflating ([`EncodedObject::encode`]) is the expensive part and can run on many
//! threads; one [`PackWriter`] then appends the results in order and installs the pack durably.
//! Objects are stored whole, or as a delta against an object written before them in the same
//! pack ([`EncodedDelta`], [`PackWriter::add_delta`]); `git gc` may repack them later.
//!
//! ```
//! use kura_gitpack::{encode_tree, ObjectKind, PackWriter, TreeEntry};
//!
//! # fn main() -> Result<(), kura_gitpack::Error> {
//! let repo = tempfile::tempdir().unwrap();
//! let pack_dir = repo.path().join("objects/pack");
//! std::fs::create_dir_all(&pack_dir).unwrap();
//!
//! let mut pack = PackWriter::create(&pack_dir)?;
//! let blob = pack.add_data(ObjectKind::Blob, b"hello\n", 6)?;
//! let tree = encode_tree(&mut [TreeEntry { mode: 0o100644, name: b"hello.txt".to_vec(), oid: blob }]);
//! pack.add_data(ObjectKind::Tree, &tree, 6)?;
//! let info = pack.finish()?.expect("two objects were added");
//!
//! assert_eq!(hex::encode(blob), "ce013625030ba8dba906f756967f9e9ca394464a"); // `git hash-object`
//! assert_eq!(info.objects, 2);
//! assert!(info.index_path.exists());
//! # Ok(())
//! # }
//! ```

mod copy;
mod delta;
mod error;
mod fixed;
mod igzip;
mod index;
mod object;
mod ofs;
mod tree;
mod writer;

pub use copy::{CopiedPack, JoinedPack};
pub use error::Error;
pub use object::{object_id, DeltaBase, EncodedDelta, EncodedObject, ObjectKind, Oid};
pub use ofs::with_offset_deltas;
pub use tree::{encode_tree, TreeEntry};
pub use writer::{DeltaAdded, PackInfo, PackWriter, SealedPack, MAX_DELTA_DEPTH};
