//! The operations on workspaces, projects, their files and versions, and the settings that do
//! more than one engine call, or change something every door's views must hear of (announced as
//! `vault.changed` with a reason). Reads that are one engine call go through [`Api::vault`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kura_core::{
    Config, Diff, GcReport, ImportOptions, ImportReport, Job, NewProject, Project, RestoreReport,
    SnapshotOptions, SnapshotReport, Template, UploadReport, Version, Workspace,
};
use serde::Serialize;

use crate::backups::lock;
use crate::error::{ApiError, ApiResult, SubjectKind};
use crate::{Api, DiffRequest, RenameFile, RestoreRequest, VaultChange, VersionsRequest};

/// What a save wrote, whichever door asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Saved {
    /// The file's path in the project.
    pub path: String,
    /// How many bytes it holds now.
    pub bytes: u64,
}

/// About the running Kura: its vault folder, version and settings file.
#[derive(Serialize, Debug, Clone)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct AppInfo {
    /// The vault folder.
    pub vault: String,
    /// Kura's version.
    pub version: String,
    /// Path of config.toml.
    pub config_path: String,
}

/// An engine error about project `id`, unless it already names its subject.
pub(crate) fn project_error(e: kura_core::Error, id: &str) -> ApiError {
    let err = ApiError::from(e);
    if err.subject.is_some() {
        err
    } else {
        err.about(SubjectKind::Project, id)
    }
}

impl Api {
    /// The vault folder, Kura's version and the settings file.
    pub fn app_info(&self) -> AppInfo {
        AppInfo {
            vault: self.vault.root().display().to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            config_path: self.vault.config_path().display().to_string(),
        }
    }

    /// Removes what an archive or a deletion moved aside (see `Vault::purge_discarded`); it
    /// was out of every view already, so nothing is announced. Returns the bytes freed.
    pub fn purge_discarded(&self) -> ApiResult<u64> {
        Ok(self.vault.purge_discarded()?)
    }

    /// Removes on a thread of its own what an archive or a deletion moved aside (see
    /// `Vault::purge_discarded`), so that nobody waits for it.
    pub fn purge_discarded_in_background(&self) {
        if !self.vault.has_discarded() {
            return;
        }
        let vault = self.vault.clone();
        let spawned = std::thread::Builder::new()
            .name("kura-purge".into())
            .spawn(move || {
                if let Err(e) = vault.purge_discarded() {
                    tracing::warn!("removing discarded folders failed: {}", e.message());
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("no thread to remove discarded folders: {e}");
        }
    }

    /// Saves a project's current files as a template for new projects.
    pub fn save_template(&self, project: &str, name: &str) -> ApiResult<Template> {
        let t = self.vault.save_template(project, name)?;
        self.changed(None, VaultChange::Templates);
        Ok(t)
    }

    /// Creates a workspace.
    pub fn create_workspace(&self, name: &str) -> ApiResult<Workspace> {
        let w = self.vault.create_workspace(name)?;
        self.changed(None, VaultChange::Workspaces);
        Ok(w)
    }

    /// Renames a workspace.
    pub fn rename_workspace(&self, name: &str, new_name: &str) -> ApiResult<Workspace> {
        let w = self.vault.rename_workspace(name, new_name)?;
        self.changed(None, VaultChange::Workspaces);
        Ok(w)
    }

    /// Makes a workspace the active one (new projects go there).
    pub fn switch_workspace(&self, name: &str) -> ApiResult<Workspace> {
        let w = self.vault.switch_workspace(name)?;
        self.changed(None, VaultChange::Workspaces);
        Ok(w)
    }

    /// Deletes a workspace; one that holds projects (trashed ones too) needs `move_to`, else
    /// the error's subject is the field `move_to`.
    pub fn delete_workspace(&self, name: &str, move_to: Option<&str>) -> ApiResult<()> {
        self.vault.delete_workspace(name, move_to)?;
        self.changed(None, VaultChange::Workspaces);
        Ok(())
    }

    /// Opens a project: marks it used now (for "recently used") and returns it.
    pub fn open_project(&self, id: &str) -> ApiResult<Project> {
        self.vault
            .touch_project(id)
            .and_then(|()| self.vault.project(id))
            .map_err(|e| project_error(e, id))
    }

    /// A project's versions, newest first: all, the latest `limit`, or those in which one file
    /// changed.
    pub fn versions(&self, id: &str, request: &VersionsRequest) -> ApiResult<Vec<Version>> {
        let limit = request.limit.map(|l| l as usize);
        self.vault
            .history(id, request.path.as_deref(), limit)
            .map_err(|e| project_error(e, id))
    }

    /// What changed between two versions of a project.
    pub fn diff(&self, id: &str, request: &DiffRequest) -> ApiResult<Diff> {
        let r = request;
        self.vault
            .diff(
                id,
                &r.from,
                r.to.as_deref(),
                r.path.as_deref(),
                !r.stat_only,
            )
            .map_err(|e| project_error(e, id))
    }

    /// Creates a project, blank or from a template, with its first version.
    pub fn create_project(&self, new: &NewProject) -> ApiResult<Project> {
        let p = self.vault.create_project(new)?;
        self.changed(Some(&p.id), VaultChange::Created);
        Ok(p)
    }

    /// Imports a folder as a project (copied into the vault, or linked in place).
    pub fn import_folder(
        &self,
        path: &Path,
        opts: &ImportOptions,
        job: &Job,
    ) -> ApiResult<ImportReport> {
        let r = self.vault.import_folder(path, opts, job)?;
        self.changed(Some(&r.project.id), VaultChange::Created);
        Ok(r)
    }

    /// Announces a change of project `reference` (a name or an id) under its id.
    fn reference_changed(&self, reference: &str, reason: VaultChange) {
        match self.vault.project(reference) {
            Ok(p) => self.changed(Some(&p.id), reason),
            Err(_) => self.changed(Some(reference), reason),
        }
    }

    fn project_changed(
        &self,
        result: kura_core::Result<Project>,
        id: &str,
        reason: VaultChange,
    ) -> ApiResult<Project> {
        let p = result.map_err(|e| project_error(e, id))?;
        self.changed(Some(&p.id), reason);
        Ok(p)
    }

    /// Changes a project's name, workspace, description, kind and git remote as `edit` says
    /// (absent fields stay as they are), in one change (all or nothing) announced once.
    pub fn edit_project(&self, id: &str, edit: &kura_core::ProjectEdit) -> ApiResult<Project> {
        self.project_changed(
            self.vault.change_project(id, edit),
            id,
            VaultChange::Metadata,
        )
    }

    /// Adds and removes tags of a project.
    pub fn tag_project(&self, id: &str, add: &[String], remove: &[String]) -> ApiResult<Project> {
        self.project_changed(
            self.vault.tag_project(id, add, remove),
            id,
            VaultChange::Metadata,
        )
    }

    /// Sets (or, with `None`, removes) metadata keys of a project.
    pub fn set_metadata(
        &self,
        id: &str,
        changes: &[(String, Option<String>)],
    ) -> ApiResult<Project> {
        self.project_changed(
            self.vault.set_metadata(id, changes),
            id,
            VaultChange::Metadata,
        )
    }

    /// Moves a project to the trash.
    pub fn trash_project(&self, id: &str) -> ApiResult<Project> {
        self.project_changed(self.vault.trash_project(id), id, VaultChange::Trash)
    }

    /// Brings a project back from the trash.
    pub fn untrash_project(&self, id: &str) -> ApiResult<Project> {
        self.project_changed(self.vault.untrash_project(id), id, VaultChange::Trash)
    }

    /// Deletes a project for good; its folders are removed in the background.
    pub fn delete_project(&self, id: &str) -> ApiResult<()> {
        let p = self.vault.project(id).map_err(|e| project_error(e, id))?;
        self.vault
            .delete_project(&p.id)
            .map_err(|e| project_error(e, id))?;
        self.changed(Some(&p.id), VaultChange::Deleted);
        self.purge_discarded_in_background();
        Ok(())
    }

    /// Copies files and folders into a project (the drag-and-drop path). Like every function
    /// here, it takes a project's name or id and announces the change under its id.
    pub fn upload_files(
        &self,
        id: &str,
        sources: &[PathBuf],
        dest_dir: &str,
        job: &Job,
    ) -> ApiResult<UploadReport> {
        let r = self
            .vault
            .upload_files(id, sources, dest_dir, job)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Files);
        Ok(r)
    }

    /// Starts receiving an upload: a staging folder in the vault that files are written into one
    /// at a time, for [`Api::finish_upload`] (see [`kura_core::Upload`]).
    pub fn receive_upload(&self) -> ApiResult<kura_core::Upload> {
        Ok(self.vault.receive_upload()?)
    }

    /// Copies the files an upload received one at a time (a browser's drop, see
    /// [`kura_core::Upload`]) into a project, as [`Api::upload_files`] does.
    pub fn finish_upload(
        &self,
        id: &str,
        upload: kura_core::Upload,
        dest_dir: &str,
        job: &Job,
    ) -> ApiResult<UploadReport> {
        let r = self
            .vault
            .finish_upload(id, upload, dest_dir, job)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Files);
        Ok(r)
    }

    /// Rewrites project `id`'s history with deltas if versions have left it due a repack (many
    /// packs, or one version that brought much: `Vault::repack_if_due`), and announces it; true when it did. A repack of it already
    /// under way, or another process writing it, leaves it to the next version.
    pub fn repack_if_due(&self, id: &str) -> ApiResult<bool> {
        match self.vault.repack_if_due(id, &Job::default()) {
            Ok(true) => {
                self.changed(Some(id), VaultChange::Repacked);
                Ok(true)
            }
            Ok(false) => Ok(false),
            Err(e) if e.kind() == kura_core::ErrorKind::Busy => Ok(false),
            Err(e) => Err(project_error(e, id)),
        }
    }

    /// Makes this process leave the repacks due after its versions to its caller, who takes
    /// them with [`Api::take_due_repacks`]: a command that exits when its work is done (the CLI)
    /// hands them to a process of their own rather than wait for them.
    pub fn leave_repacks_to_caller(&self) {
        lock(&self.due_repacks).get_or_insert_with(Vec::new);
    }

    /// The projects whose histories became due a repack after this process's versions, once
    /// each (see [`Api::leave_repacks_to_caller`]).
    pub fn take_due_repacks(&self) -> Vec<String> {
        lock(&self.due_repacks)
            .as_mut()
            .map(std::mem::take)
            .unwrap_or_default()
    }

    /// After a version of project `id`: once versions have left its history due a repack
    /// (`Vault::repack_due`), it is rewritten with deltas on a thread of its own, so that the
    /// snapshot stays fast and the history stays about the size of its changes; or left to the
    /// caller (see [`Api::leave_repacks_to_caller`]).
    pub(crate) fn repack_in_background(self: &Arc<Self>, id: &str) {
        match self.vault.repack_due(id) {
            Ok(true) => {}
            Ok(false) => return,
            Err(e) => {
                tracing::warn!("cannot tell whether the history of {id} is due a repack: {e}");
                return;
            }
        }
        if let Some(due) = lock(&self.due_repacks).as_mut() {
            if !due.iter().any(|d| d == id) {
                due.push(id.to_string());
            }
            return;
        }
        let id = id.to_string();
        self.in_background(crate::scheduler::REPACK_KEY, "kura-repack", move |api| {
            if let Err(e) = api.repack_if_due(&id) {
                tracing::warn!("rewriting the history of {id} with deltas failed: {e}");
            }
        });
    }

    /// Takes a version of a project (the door sets the trigger: by hand, or through the API).
    pub fn snapshot(
        self: &Arc<Self>,
        id: &str,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> ApiResult<SnapshotReport> {
        let r = self
            .vault
            .snapshot(id, opts, job)
            .map_err(|e| project_error(e, id))?;
        if r.version.is_some() {
            self.changed(Some(&r.project_id), VaultChange::Snapshot);
            self.repack_in_background(&r.project_id);
        }
        Ok(r)
    }

    /// Takes a version of every active project that changed, of every workspace or only of the
    /// active one (the tray's "Snapshot now", `kura snapshot --all`).
    pub fn snapshot_changed(
        self: &Arc<Self>,
        all_workspaces: bool,
        opts: &SnapshotOptions,
        job: &Job,
    ) -> ApiResult<Vec<SnapshotReport>> {
        let reports = self.vault.snapshot_changed(all_workspaces, opts, job)?;
        for r in reports.iter().filter(|r| r.version.is_some()) {
            self.changed(Some(&r.project_id), VaultChange::Snapshot);
            self.repack_in_background(&r.project_id);
        }
        Ok(reports)
    }

    /// Saves a file into a project's folder from a stream (created or replaced atomically);
    /// returns the bytes written.
    pub fn save_file(&self, id: &str, path: &str, data: &mut dyn std::io::Read) -> ApiResult<u64> {
        let n = self
            .vault
            .save_file(id, path, data)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Files);
        Ok(n)
    }

    /// Renames or moves a file or folder inside a project's folder.
    pub fn rename_file(&self, id: &str, rename: &RenameFile) -> ApiResult<()> {
        self.vault
            .rename_file(id, &rename.from, &rename.to)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Files);
        Ok(())
    }

    /// Deletes a file or folder from a project's folder (earlier versions keep it).
    pub fn delete_file(&self, id: &str, path: &str) -> ApiResult<()> {
        self.vault
            .delete_file(id, path)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Files);
        Ok(())
    }

    /// Restores a project's folder, or one file of it, to a version (what is not in a version
    /// is kept as one first).
    pub fn restore(
        &self,
        id: &str,
        request: &RestoreRequest,
        job: &Job,
    ) -> ApiResult<RestoreReport> {
        let version = &request.version;
        let r = match &request.path {
            Some(path) => self.vault.restore_file(id, version, path, job),
            None => self.vault.restore_project(id, version, job),
        }
        .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Restore);
        Ok(r)
    }

    /// Starts a git repository in a project's folder.
    pub fn init_folder_git(&self, id: &str) -> ApiResult<()> {
        self.vault
            .init_folder_git(id)
            .map_err(|e| project_error(e, id))?;
        self.reference_changed(id, VaultChange::Git);
        Ok(())
    }

    /// Changes one setting (validated; the error's subject is the field `key`) and returns the
    /// settings now in force.
    pub fn set_config(&self, key: &str, value: &str) -> ApiResult<Config> {
        let c = self
            .vault
            .set_config(key, value)
            .map_err(|e| ApiError::from(e).about(SubjectKind::Field, key))?;
        self.changed(None, VaultChange::Settings);
        Ok((*c).clone())
    }

    /// Removes chunks and packs no version refers to any more.
    pub fn gc(&self, job: &Job) -> ApiResult<GcReport> {
        let r = self.vault.gc(job)?;
        self.changed(None, VaultChange::Gc);
        Ok(r)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use kura_backup::Target;
    use kura_core::{NewProject, Vault};

    use crate::error::{ErrorCode, Subject, SubjectKind};
    use crate::Api;

    fn api() -> (tempfile::TempDir, Arc<Api>) {
        let dir = tempfile::tempdir().unwrap();
        let vault = Vault::open(&dir.path().join("vault")).unwrap();
        (dir, Api::open(vault).unwrap())
    }

    fn field(name: &str) -> Option<Subject> {
        Some(Subject {
            kind: SubjectKind::Field,
            name: name.into(),
        })
    }

    fn new_project(name: &str, tags: &[&str]) -> NewProject {
        NewProject {
            name: name.into(),
            tags: tags.iter().map(|t| t.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn errors_name_the_form_field_they_are_about() {
        let (dir, api) = api();
        let bad_tag = api
            .create_project(&new_project("site", &["a,b"]))
            .unwrap_err();
        assert_eq!(bad_tag.code, ErrorCode::InvalidInput);
        assert_eq!(bad_tag.subject, field("tags"));

        api.create_workspace("work").unwrap();
        api.create_project(&NewProject {
            workspace: Some("work".into()),
            ..new_project("tool", &[])
        })
        .unwrap();
        let holds = api.delete_workspace("work", None).unwrap_err();
        assert_eq!(holds.code, ErrorCode::Conflict);
        assert_eq!(holds.subject, field("move_to"));

        let missing = api
            .import_folder(
                &dir.path().join("nowhere"),
                &Default::default(),
                &kura_core::Job::default(),
            )
            .unwrap_err();
        assert_eq!(missing.subject, field("path"));

        let mut target = Target::folder("usb", &dir.path().join("usb"));
        target.schedule = "every blue moon".into();
        let schedule = api
            .add_backup_target(&target, Default::default(), false)
            .unwrap_err();
        assert_eq!(schedule.subject, field("schedule"));
        let bad_name = api
            .add_backup_target(
                &Target::folder("no spaces", &dir.path().join("usb")),
                Default::default(),
                false,
            )
            .unwrap_err();
        assert_eq!(bad_name.subject, field("name"));

        let unknown = api.open_project("nope").unwrap_err();
        assert_eq!(unknown.code, ErrorCode::NotFound);
        assert_eq!(
            unknown.subject,
            Some(Subject {
                kind: SubjectKind::Project,
                name: "nope".into()
            })
        );
        assert_eq!(
            serde_json::to_value(&unknown).unwrap()["subject"],
            serde_json::json!({ "kind": "project", "name": "nope" })
        );
    }

    #[test]
    fn changes_are_announced_to_every_door_as_vault_changed() {
        let (_dir, api) = api();
        let mut events = api.events().subscribe();
        let p = api.create_project(&new_project("site", &[])).unwrap();
        api.edit_project(
            &p.id,
            &kura_core::ProjectEdit {
                name: Some("site2".into()),
                ..Default::default()
            },
        )
        .unwrap();
        api.set_config("snapshots.quiet_period_secs", "5").unwrap();
        // Named rather than by id, a change is still announced under the project's id.
        api.delete_project("site2").unwrap();
        let mut seen = Vec::new();
        while let Ok(e) = events.try_recv() {
            if e.kind == "vault.changed" {
                seen.push((e.project_id, e.data["reason"].as_str().unwrap().to_string()));
            }
        }
        assert_eq!(
            seen,
            [
                (Some(p.id.clone()), "created".to_string()),
                (Some(p.id.clone()), "metadata".to_string()),
                (None, "settings".to_string()),
                (Some(p.id.clone()), "deleted".to_string()),
            ]
        );
        let bad = api
            .set_config("snapshots.quiet_period_secs", "soon")
            .unwrap_err();
        assert_eq!(bad.subject, field("snapshots.quiet_period_secs"));
    }

    #[test]
    fn opening_a_project_marks_it_used() {
        struct At(std::sync::atomic::AtomicI64);
        impl kura_core::Clock for At {
            fn now(&self) -> i64 {
                self.0.load(std::sync::atomic::Ordering::SeqCst)
            }
        }
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(At(1_000_000.into()));
        let vault = Vault::open_with_clock(&dir.path().join("vault"), clock.clone()).unwrap();
        let api = Api::open_with_clock(vault, clock.clone()).unwrap();
        let p = api.create_project(&new_project("site", &[])).unwrap();
        clock
            .0
            .store(2_000_000, std::sync::atomic::Ordering::SeqCst);
        let opened = api.open_project(&p.id).unwrap();
        assert_eq!(opened.id, p.id);
        assert_eq!(opened.last_opened_at, Some(2_000_000));
    }

    #[test]
    fn a_folder_quiet_after_changes_gets_an_automatic_version() {
        let (_dir, api) = api();
        api.set_config("snapshots.quiet_period_secs", "1").unwrap();
        let p = api.create_project(&new_project("site", &[])).unwrap();
        let versions = |api: &Api| api.vault().versions(&p.id, None).unwrap().len();
        let before = versions(&api);
        let auto = crate::AutoSnapshots::start(&api);
        assert!(
            auto.watched().contains(&p.path),
            "the folder is not watched"
        );
        let mut events = api.events().subscribe();
        std::fs::write(p.path.join("notes.txt"), "changed\n").unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut reasons = Vec::new();
        while !reasons.iter().any(|r| r == "snapshot") {
            assert!(
                std::time::Instant::now() < deadline,
                "no automatic version: {reasons:?}"
            );
            match events.try_recv() {
                Ok(e) if e.kind == "vault.changed" => {
                    reasons.push(e.data["reason"].as_str().unwrap().to_string())
                }
                _ => std::thread::sleep(Duration::from_millis(20)),
            }
        }
        assert_eq!(reasons.first().map(String::as_str), Some("files"));
        assert_eq!(versions(&api), before + 1);
        // A trashed project is no longer watched, as soon as the trash answers.
        api.trash_project(&p.id).unwrap();
        assert!(
            !auto.watched().contains(&p.path),
            "a trashed folder is still watched"
        );
        // A project created now is watched before create_project returns.
        let q = api.create_project(&new_project("api", &[])).unwrap();
        assert!(
            auto.watched().contains(&q.path),
            "a new folder is not watched"
        );
    }
}
