//! The file system as every room uses it: crash-safe writes (`durable.rs`), the one rule for a
//! path inside a project (`names.rs`) and for a symbolic link (`links.rs`), a file a scan found
//! opened only while it is still a regular file (`regular.rs`), and the staging folders where an
//! import, an unarchive, a repack or an upload is built before it is put in place
//! (`staging.rs`). A leaf room: it names no other room but the error and job types.

pub(crate) mod durable;
pub(crate) mod links;
pub(crate) mod names;
pub(crate) mod regular;
pub(crate) mod staging;
