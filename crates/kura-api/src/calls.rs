//! What a caller passes to each operation and the service function that answers it, written
//! once: the list in [`for_each_call!`]. A door does not write its adapters by hand; it hands a
//! macro of its own to `for_each_call!`, which calls it with the whole list, and that macro
//! writes what the door needs for each entry. The desktop shell writes its Tauri commands (with
//! their TypeScript bindings) and their registration this way (`src-tauri/calls.rs`); this crate
//! writes [`CALLS`], which the catalog's tests hold to [`crate::catalog::OPERATIONS`].
//!
//! An entry reads like a function:
//!
//! ```text
//! /// Its documentation (it reaches the TypeScript bindings).
//! fn rename_workspace(name: String, new_name: String) -> kura_core::Workspace {
//!     |api| api.rename_workspace(&name, &new_name)
//! }
//! ```
//!
//! The arguments are what the caller sends, by name; the body is a closure given the service
//! (`&Arc<Api>`). Three kinds of body:
//! - `|api| ...`: a call that answers at once (a door runs it off its event loop);
//! - `long "kind" |api, job| ...`: an [`Operation`](crate::Operation) of that kind, with
//!   progress and cancellation through `job` (the kind names it in the operations list);
//! - `|| ...`: a call that needs no vault.
//!
//! This crate writes a service function of each (`kura_api::calls::rename_workspace(&api, name,
//! new_name)`), which is what a door calls; a door's macro writes its adapter over it.
//!
//! Types are written with the crate that owns them (`kura_core::Project`, `$crate::AppInfo`):
//! a door that expands the list depends on kura-core and kura-backup too.

/// Calls `$door!` with every call's declaration (see the [module](crate::calls)).
#[macro_export]
macro_rules! for_each_call {
    ($door:ident) => {
        $door! {
            fn get_status() -> $crate::AppInfo {
                |api| Ok(api.app_info())
            }
            fn list_workspaces() -> Vec<kura_core::Workspace> {
                |api| Ok(api.vault().workspaces()?)
            }
            fn create_workspace(name: String) -> kura_core::Workspace {
                |api| api.create_workspace(&name)
            }
            fn rename_workspace(name: String, new_name: String) -> kura_core::Workspace {
                |api| api.rename_workspace(&name, &new_name)
            }
            fn switch_workspace(name: String) -> kura_core::Workspace {
                |api| api.switch_workspace(&name)
            }
            fn delete_workspace(name: String, move_to: Option<String>) -> () {
                |api| api.delete_workspace(&name, move_to.as_deref())
            }
            fn list_projects(
                filter: kura_core::ProjectFilter,
            ) -> Vec<std::sync::Arc<kura_core::Project>> {
                |api| Ok(api.vault().projects(&filter)?)
            }
            fn get_project(id: String) -> kura_core::Project {
                |api| api.open_project(&id)
            }
            fn create_project(new_project: kura_core::NewProject) -> kura_core::Project {
                |api| api.create_project(&new_project)
            }
            fn import_folder(
                path: String,
                options: kura_core::ImportOptions,
            ) -> kura_core::Project {
                long "import" |api, job| {
                    api.import_folder(&std::path::PathBuf::from(path), &options, job)
                }
            }
            /// Changes what `edit` gives of the project's name, workspace, description, kind and
            /// git remote, all or nothing, announced once.
            fn edit_project(id: String, edit: kura_core::ProjectEdit) -> kura_core::Project {
                |api| api.edit_project(&id, &edit)
            }
            fn tag_project(
                id: String,
                add: Vec<String>,
                remove: Vec<String>,
            ) -> kura_core::Project {
                |api| api.tag_project(&id, &add, &remove)
            }
            fn set_project_metadata(
                id: String,
                changes: Vec<$crate::MetadataChange>,
            ) -> kura_core::Project {
                |api| api.set_metadata(&id, &$crate::MetadataChange::pairs(changes))
            }
            fn trash_project(id: String) -> kura_core::Project {
                |api| api.trash_project(&id)
            }
            fn untrash_project(id: String) -> kura_core::Project {
                |api| api.untrash_project(&id)
            }
            fn delete_project(id: String) -> () {
                |api| api.delete_project(&id)
            }
            /// Writes the project (at `version`, or as it is now) into the folder `dest`; with
            /// `records`, its records go along as `.kura/records.jsonl`.
            fn export_project(
                id: String,
                version: Option<String>,
                dest: String,
                records: bool,
            ) -> kura_core::RestoreReport {
                long "export" |api, job| {
                    Ok(api.vault().export_version_with(
                        &id,
                        version.as_deref(),
                        &std::path::PathBuf::from(dest),
                        records,
                        job,
                    )?)
                }
            }
            fn list_templates() -> Vec<kura_core::Template> {
                |api| Ok(api.vault().templates()?)
            }
            fn save_project_as_template(id: String, name: String) -> kura_core::Template {
                |api| api.save_template(&id, &name)
            }
            fn list_files(id: String, prefix: Option<String>) -> Vec<kura_core::FileEntry> {
                |api| Ok(api.vault().list_files(&id, prefix.as_deref())?)
            }
            fn preview_file(id: String, path: String) -> kura_core::FilePreview {
                |api| Ok(api.vault().preview_file(&id, &path)?)
            }
            /// Copies dropped files and folders into a project (the drag-and-drop path).
            fn upload_files(
                id: String,
                sources: Vec<String>,
                dest_dir: String,
            ) -> kura_core::UploadReport {
                long "upload" |api, job| {
                    let sources: Vec<std::path::PathBuf> =
                        sources.into_iter().map(std::path::PathBuf::from).collect();
                    api.upload_files(&id, &sources, &dest_dir, job)
                }
            }
            fn snapshot_project(
                id: String,
                request: $crate::SnapshotRequest,
            ) -> kura_core::SnapshotReport {
                long "snapshot" |api, job| {
                    api.snapshot(&id, &request.options(), job)
                }
            }
            /// Takes a version of every active project that changed (the tray's "Snapshot now").
            fn snapshot_changed_projects() -> Vec<kura_core::SnapshotReport> {
                |api| {
                    api.snapshot_changed(
                        true,
                        &kura_core::SnapshotOptions::default(),
                        &kura_core::Job::default(),
                    )
                }
            }
            fn list_versions(
                id: String,
                request: $crate::VersionsRequest,
            ) -> Vec<kura_core::Version> {
                |api| api.versions(&id, &request)
            }
            fn diff_versions(id: String, request: $crate::DiffRequest) -> kura_core::Diff {
                |api| api.diff(&id, &request)
            }
            /// What restoring the project to `version` would write and remove, before it runs.
            fn plan_restore(id: String, version: String) -> kura_core::RestorePlan {
                |api| Ok(api.vault().restore_plan(&id, &version)?)
            }
            fn restore_project(
                id: String,
                request: $crate::RestoreRequest,
            ) -> kura_core::RestoreReport {
                long "restore" |api, job| api.restore(&id, &request, job)
            }
            fn get_git_status(id: String) -> kura_core::FolderGitStatus {
                |api| Ok(api.vault().folder_git_status(&id)?)
            }
            fn get_git_log(id: String, limit: u32) -> Vec<kura_core::FolderGitCommit> {
                |api| Ok(api.vault().folder_git_log(&id, limit as usize)?)
            }
            fn init_git_repository(id: String) -> () {
                |api| api.init_folder_git(&id)
            }
            fn get_stats() -> kura_core::Stats {
                |api| Ok(api.vault().stats()?)
            }
            fn get_config() -> kura_core::Config {
                |api| Ok((*api.vault().config()).clone())
            }
            /// Changes one setting (validated) and returns the settings now in the file.
            fn set_config(key: String, value: String) -> kura_core::Config {
                |api| api.set_config(&key, &value)
            }
            fn verify_vault(request: $crate::VerifyVault) -> kura_core::VerifyReport {
                long "verify" |api, job| Ok(api.vault().verify(request.project.as_deref(), job)?)
            }
            fn collect_garbage() -> kura_core::GcReport {
                long "gc" |api, job| api.gc(job)
            }
            /// Cancels a running long command; finished or unknown jobs are ignored.
            fn cancel_operation(job_id: String) -> () {
                |api| {
                    let _ = api.operations().cancel(&job_id);
                    Ok(())
                }
            }
            fn list_archives() -> Vec<kura_core::ArchiveInfo> {
                |api| Ok(api.vault().list_archives()?)
            }
            fn archive_project(id: String) -> kura_core::ArchiveInfo {
                long "archive" |api, job| api.archive_project(&id, job)
            }
            /// Brings an archived project back; `reference` is an archive id, or the archived
            /// project's id or name.
            fn unarchive_project(reference: $crate::ArchiveReference) -> kura_core::Project {
                long "unarchive" |api, job| api.unarchive_project(&reference, job)
            }
            fn extract_archive(archive: String, dest: String) -> kura_core::ExtractReport {
                long "extract" |api, job| {
                    api.extract_archive(&archive, &std::path::PathBuf::from(dest), job)
                }
            }
            /// Moves archives to the cold tier now (`archive.cold_target`): uploads and checks
            /// those not there yet, then drops the local files that may go.
            fn move_archives_to_cold_tier() -> kura_backup::ColdReport {
                long "cold" |api, job| api.cold_pass(job)
            }
            fn verify_archive(archive: String) -> kura_core::ArchiveVerifyReport {
                long "verify-archive" |api, job| api.verify_archive(&archive, job)
            }
            fn import_archive(
                path: String,
                options: kura_core::ImportArchiveOptions,
            ) -> kura_core::Project {
                long "import" |api, job| {
                    api.import_archive(&std::path::PathBuf::from(path), &options, job)
                }
            }
            fn get_quota() -> kura_core::QuotaStatus {
                |api| Ok(api.vault().quota_status()?)
            }
            fn run_cleanup(options: kura_core::CleanupOptions) -> kura_core::CleanupReport {
                long "cleanup" |api, job| api.cleanup(&options, job)
            }
            fn list_cleanup_runs() -> Vec<kura_core::CleanupReport> {
                |api| Ok(api.vault().cleanup_runs(Some(50))?)
            }
            fn get_next_cleanup() -> Option<i64> {
                |api| api.next_cleanup_at()
            }
            fn get_backup_status() -> $crate::BackupStatus {
                |api| Ok(api.backup_status())
            }
            fn add_backup_target(
                target: kura_backup::Target,
                secrets: $crate::TargetSecrets,
                use_keyring: bool,
            ) -> kura_backup::TestReport {
                |api| api.add_backup_target(&target, secrets, use_keyring)
            }
            fn update_backup_target(
                target: String,
                changes: $crate::TargetChanges,
            ) -> kura_backup::Target {
                |api| api.update_backup_target(&target, changes)
            }
            fn remove_backup_target(target: String) -> () {
                |api| api.remove_backup_target(&target)
            }
            fn test_backup_target(target: String) -> kura_backup::TestReport {
                |api| api.test_backup_target(&target)
            }
            /// Starts a backup of `target` now; its progress arrives with the backup status.
            fn run_backup(target: String) -> () {
                |api| api.start_backup(&target).map(|_| ())
            }
            /// Cancels the running backup of `target`; the run stops at its next safe point.
            fn cancel_backup(target: String) -> $crate::Cancelled {
                |api| Ok(api.cancel_backup(&target))
            }
            fn list_backup_runs(target: Option<String>) -> Vec<kura_backup::RunRecord> {
                |api| api.backup_runs(target.as_deref(), 200)
            }
            fn list_backups(target: String) -> Vec<kura_backup::BackupInfo> {
                |api| api.backups_at(&target)
            }
            fn get_backup_contents(
                target: String,
                backup: String,
            ) -> kura_backup::BackupContents {
                |api| api.backup_contents(&target, &backup)
            }
            fn restore_backup(
                target: String,
                backup: String,
                project: Option<String>,
                destination: String,
            ) -> kura_backup::BackupRestoreReport {
                long "backup-restore" |api, job| {
                    api.restore_backup(
                        &target,
                        &backup,
                        project.as_deref(),
                        std::path::PathBuf::from(destination),
                        job,
                    )
                }
            }
            /// What a restore would write where, before it runs.
            fn preview_backup_restore(
                target: String,
                backup: String,
                project: Option<String>,
                destination: String,
            ) -> kura_backup::RestorePreview {
                |api| {
                    api.restore_preview(
                        &target,
                        &backup,
                        project.as_deref(),
                        std::path::PathBuf::from(destination),
                    )
                }
            }
            /// The environment variables a target reads its secrets from, for the target form. It
            /// cannot fail, but answers a `Result` like every other command, so the UI calls it
            /// like the rest.
            fn get_backup_secret_variables(
                name: String,
                kind: kura_backup::LocationKind,
                encrypt: bool,
            ) -> Vec<kura_backup::SecretVariable> {
                || Ok(kura_backup::secret_variables(&name, kind, encrypt))
            }
            fn verify_backups(
                target: String,
                mode: kura_backup::VerifyMode,
            ) -> kura_backup::BackupVerifyReport {
                long "backup-verify" |api, job| api.verify_backups(&target, mode, job)
            }
            fn prune_backups(target: String, dry_run: bool) -> kura_backup::PruneReport {
                long "backup-prune" |api, job| api.prune_backups(&target, dry_run, job)
            }
            /// Pauses scheduled backups for `length`, or resumes them when `length` is `None`.
            fn pause_backups(length: Option<kura_backup::PauseLength>) -> () {
                |api| api.pause_backups(length).map(|_| ())
            }
            /// The collections of a project's records (`project` `None`: the vault's own).
            fn record_collections(project: Option<String>) -> Vec<kura_core::CollectionInfo> {
                |api| api.record_collections(project.as_deref())
            }
            fn record_query(
                project: Option<String>,
                collection: String,
                query: kura_core::RecordQuery,
            ) -> kura_core::RecordPage {
                |api| api.record_query(project.as_deref(), &collection, &query)
            }
            fn record_get(
                project: Option<String>,
                collection: String,
                key: String,
            ) -> kura_core::Record {
                |api| api.record_get(project.as_deref(), &collection, &key)
            }
            fn record_put(project: Option<String>, put: kura_core::RecordPut) -> kura_core::Record {
                |api| api.record_put(project.as_deref(), put)
            }
            /// Deletes a record; answers whether there was one to delete.
            fn record_delete(
                project: Option<String>,
                del: kura_core::RecordDelete,
            ) -> $crate::Deleted {
                |api| api.record_delete(project.as_deref(), del)
            }
            fn record_configure(
                project: Option<String>,
                collection: String,
                settings: kura_core::CollectionSettings,
            ) -> kura_core::CollectionInfo {
                |api| api.record_configure(project.as_deref(), &collection, settings)
            }
            /// Uploads a version to an S3 target as a tar.zst and answers its download link.
            fn share_project(
                id: String,
                options: kura_backup::ShareOptions,
            ) -> kura_backup::Share {
                long "share" |api, job| api.share_project(&id, &options, job)
            }
            /// Shared links, newest first; only one project's when `project` is given.
            fn list_shares(project: Option<String>) -> Vec<kura_backup::Share> {
                |api| api.shares(project.as_deref())
            }
            /// Deletes a shared copy, so its link stops working.
            fn revoke_share(id: String) -> kura_backup::Share {
                |api| api.revoke_share(&id)
            }
            fn plan_command(input: $crate::CommandInput) -> $crate::CommandPlan {
                |api| api.plan_command(&input)
            }
        }
    };
}

use std::sync::Arc;

use crate::{Api, ApiResult};

/// One call as the list declares it: its name and, for a long one, its operation kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Call {
    /// The name a door calls it by (the desktop command's name).
    pub name: &'static str,
    /// The kind of [`Operation`](crate::Operation) a long call runs as (`None`: it answers at
    /// once).
    pub long: Option<&'static str>,
}

/// Writes a service function for each call (what every door calls) and [`CALLS`].
macro_rules! service_calls {
    (@fn $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        long $kind:literal |$api:ident, $job:ident| $body:expr
    }) => {
        $(#[$meta])*
        ///
        #[doc = concat!(
            "A long call: it runs as a `", $kind, "` operation, with progress and cancellation ",
            "through `job`."
        )]
        pub fn $name($api: &Arc<Api>, $($arg: $ty,)* $job: &kura_core::Job) -> ApiResult<$out> {
            $body
        }
    };
    (@fn $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        |$api:ident| $body:expr
    }) => {
        $(#[$meta])*
        pub fn $name($api: &Arc<Api>, $($arg: $ty),*) -> ApiResult<$out> {
            $body
        }
    };
    (@fn $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        || $body:expr
    }) => {
        $(#[$meta])*
        ///
        /// It needs no vault.
        pub fn $name($($arg: $ty),*) -> ApiResult<$out> {
            $body
        }
    };
    (@long long $kind:literal $($rest:tt)*) => { Some($kind) };
    (@long $($rest:tt)*) => { None };
    (@kind $name:ident long $kind:literal $($rest:tt)*) => {
        #[doc = concat!("The kind of operation `", stringify!($name), "` runs as.")]
        pub const $name: &str = $kind;
    };
    (@kind $name:ident $($rest:tt)*) => {};
    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($arg:ident : $ty:ty),* $(,)?) -> $out:ty { $($body:tt)* }
    )*) => {
        $(service_calls!(@fn $(#[$meta])* $name ($($arg: $ty),*) -> $out { $($body)* });)*

        /// The kind of operation each long call runs as (`kinds::archive_project` is
        /// `"archive"`): what the operations list and `operation.finished` say, whichever door
        /// started it.
        #[allow(non_upper_case_globals)]
        pub mod kinds {
            $(service_calls!(@kind $name $($body)*);)*
        }

        /// Every call of [`for_each_call!`](crate::for_each_call), in its order.
        pub const CALLS: &[Call] = &[$(Call {
            name: stringify!($name),
            long: service_calls!(@long $($body)*),
        }),*];
    };
}

crate::for_each_call!(service_calls);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::OPERATIONS;

    /// Each call is the desktop name of a declared operation (of two, where one command serves
    /// a project's records and the vault's), and a long call's operations are declared long (a
    /// call may wait for a long operation's end without its progress, as the tray's "Snapshot
    /// now" does); and every desktop name the catalog gives is a call here.
    #[test]
    fn every_call_is_a_declared_operation_of_the_same_length() {
        let mut names = std::collections::BTreeSet::new();
        for c in CALLS {
            assert!(names.insert(c.name), "{} is declared twice", c.name);
            let ops: Vec<_> = OPERATIONS
                .iter()
                .filter(|o| o.desktop.names().contains(&c.name))
                .collect();
            assert!(
                !ops.is_empty(),
                "{} is no operation's desktop command",
                c.name
            );
            for op in ops {
                assert!(
                    op.long || c.long.is_none(),
                    "{} runs as an operation, but {} is not declared long",
                    c.name,
                    op.name
                );
            }
        }
        for op in OPERATIONS {
            for name in op.desktop.names() {
                assert!(
                    names.contains(name),
                    "the catalog gives {} the desktop command {name}, which no call declares",
                    op.name
                );
            }
        }
    }
}
