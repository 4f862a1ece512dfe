//! Files that arrive one at a time over a connection (a browser's upload of a dropped folder):
//! received into a staging folder of the vault under the path rule every file path follows,
//! then copied into a project as one upload. A process killed while it receives leaves a staging
//! folder whose owner is gone, which cleanup removes (see `crate::fs::staging`).

use std::fs;
use std::path::{Component, PathBuf};

use crate::error::{Error, Result};
use crate::files::{resolve_inside, UploadReport};
use crate::fs::staging::Staging;
use crate::job::Job;
use crate::vault::Vault;

/// An upload being received; dropping it removes what was received.
pub struct Upload {
    staging: Staging,
    /// The top-level files and folders received, in the order they first came.
    tops: Vec<PathBuf>,
}

impl Vault {
    /// Starts receiving an upload.
    pub fn receive_upload(&self) -> Result<Upload> {
        Ok(Upload {
            staging: Staging::new(&self.projects_dir(), "upload")?,
            tops: Vec::new(),
        })
    }

    /// Copies what `upload` received into project `reference` under `dest_dir` ("" for the top),
    /// with the checks of [`Vault::upload_files`], and lets go of the received files.
    pub fn finish_upload(
        &self,
        reference: &str,
        upload: Upload,
        dest_dir: &str,
        job: &Job,
    ) -> Result<UploadReport> {
        self.upload_files(reference, &upload.tops, dest_dir, job)
    }
}

impl Upload {
    /// A new file to write the bytes of the received file `name` into: a relative path, where a
    /// client's `\` counts as `/`. One that would leave the upload is refused with
    /// `path_escape`, as every file path is; a file received twice keeps the second.
    pub fn file(&mut self, name: &str) -> Result<fs::File> {
        let rel = name.replace('\\', "/");
        let content = self.staging.content();
        let dest = resolve_inside(&content, &rel, false)?;
        if let Some(parent) = dest.parent() {
            fs::create_dir_all(parent).map_err(|e| Error::io("create folder", parent, e))?;
        }
        let file = fs::File::create(&dest).map_err(|e| Error::io("create", &dest, e))?;
        let top = dest
            .strip_prefix(&content)
            .ok()
            .and_then(|r| r.components().next())
            .map(|c: Component| content.join(c.as_os_str()));
        if let Some(top) = top.filter(|t| !self.tops.contains(t)) {
            self.tops.push(top);
        }
        Ok(file)
    }

    #[cfg(test)]
    fn folder(&self) -> PathBuf {
        self.staging.content()
    }

    /// The top-level files and folders received so far, where they are.
    pub fn received(&self) -> &[PathBuf] {
        &self.tops
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::ErrorKind;

    #[test]
    fn a_received_folder_lands_in_the_project_and_escapes_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(dir.path()).unwrap();
        let p = vault
            .create_project(&crate::NewProject {
                name: "site".into(),
                ..Default::default()
            })
            .unwrap();
        let mut upload = vault.receive_upload().unwrap();
        let staged = upload.folder();
        assert!(staged.starts_with(vault.root()));
        for (name, body) in [
            ("docs/a.txt", "a"),
            ("docs\\deep\\b.txt", "b"),
            ("top.txt", "t"),
        ] {
            upload
                .file(name)
                .unwrap()
                .write_all(body.as_bytes())
                .unwrap();
        }
        for bad in ["../out.txt", "/etc/passwd", "docs/../../x", ""] {
            let e = upload.file(bad).unwrap_err();
            assert!(
                matches!(e.kind(), ErrorKind::PathEscape | ErrorKind::InvalidInput),
                "{bad}: {e}"
            );
        }
        assert_eq!(upload.received().len(), 2);
        let r = vault
            .finish_upload(&p.id, upload, "", &Job::default())
            .unwrap();
        assert_eq!(r.files, 3);
        assert_eq!(
            fs::read_to_string(p.path.join("docs/deep/b.txt")).unwrap(),
            "b"
        );
        assert_eq!(fs::read_to_string(p.path.join("top.txt")).unwrap(), "t");
        assert!(!staged.exists(), "the received files stay behind");
    }
}
