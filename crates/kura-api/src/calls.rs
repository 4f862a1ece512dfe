//! Every call of the service, declared once, in the list of
//! [`for_each_call!`](crate::for_each_call): what a caller passes, what it answers, the service
//! function that answers it, and the operation it carries out as the catalog
//! ([`crate::catalog`]) describes operations (what it does to the vault, what it announces, the
//! other doors' names for it). A door does not write its adapters by hand; it
//! hands a macro of its own to `for_each_call!`, which calls it with the whole list, and that
//! macro writes what the door needs for each entry. The desktop shell writes its Tauri commands
//! (with their TypeScript bindings) and their registration this way (`src-tauri/calls.rs`),
//! `kura serve` its routes with their OpenAPI entries (`routes/calls.rs`), `kura mcp` its tools
//! (`tools/calls.rs`); this crate writes the service functions, [`kinds`] and the calls' part of
//! [`OPERATIONS`](crate::catalog::OPERATIONS).
//!
//! An entry reads like a function:
//!
//! ```text
//! /// Its documentation (it reaches the TypeScript bindings and the OpenAPI document).
//! fn rename_workspace(#[path] name: String, new_name: String) -> kura_core::Workspace {
//!     writes()
//!         .announces(&[Vault(VaultChange::Workspaces)])
//!         .no_mcp(AGENT_SETUP)
//!         .cli(&["workspace rename"]);
//!     http(patch, "/v1/workspaces/{name}", tag = "workspaces");
//!     |api| api.rename_workspace(&name, &new_name)
//! }
//! ```
//!
//! The arguments are what the caller sends, by name, each with its documentation; a mark says
//! where an HTTP request carries one (`#[path]`, `#[query]`, `#[queries]`, `#[body]`,
//! `#[default]`; unmarked, a field of the JSON body), and the other doors pass over the marks.
//! The body starts with the operation's declaration: `reads()`, `writes()` or `destroys()`, then
//! what it announces and each door's names for it or why the door goes without (the builders of
//! [`crate::catalog::Declared`]). The operation takes the call's name, the window has it as that
//! command, and it is long when the call is. A call that serves several operations (one command
//! for a project's records and the vault's) declares each in brackets, named:
//! `[reads().named("get_project_record")..., ...];`.
//!
//! Two clauses may follow the declaration. `http(method, path, tag = ..)` is where `kura serve`
//! answers the call: its handler and OpenAPI entry are written from the entry (`kura-server`'s
//! `routes/calls.rs` says the rest of the clause); a call without it has a hand-written handler
//! (bytes streamed, a path on the server's machine, a dry run, several operations) or none
//! (`no_http`). `mcp("tool", title = ..)` makes the call that MCP tool, written from the entry
//! (`kura-mcp`'s `tools/calls.rs`); the tool is the operation's name for the MCP door, so the
//! declaration does not also say `.mcp(...)`.
//!
//! Then comes a closure given the service (`&Arc<Api>`), of three kinds:
//! - `|api| ...`: a call that answers at once (a door runs it off its event loop);
//! - `long "kind" |api, job| ...`: an [`Operation`](crate::Operation) of that kind, with
//!   progress and cancellation through `job` (the kind names it in the operations list);
//! - `|| ...`: a call that needs no vault.
//!
//! This crate writes a service function of each (`kura_api::calls::rename_workspace(&api, name,
//! new_name)`), which is what a door calls; a door's macro writes its adapter over it.
//!
//! Types are written with the crate that owns them (`kura_core::Project`, `$crate::AppInfo`):
//! a door that expands the list depends on kura-core and kura-backup too. The declarations are
//! read by this crate only; a door's macro passes over them (`$declared:expr;`).

/// Calls `$door!` with every call's declaration (see the [module](crate::calls)).
#[macro_export]
macro_rules! for_each_call {
    ($door:ident) => {
        $door! {
            fn get_status() -> $crate::AppInfo {
                reads()
                    .mcp(&["status"])
                    .cli(&["status"]);
                http(get, "/v1/status", tag = "vault");
                |api| Ok(api.app_info())
            }
            /// The workspaces (groups of projects), with their project counts; `active` marks
            /// the one used when no workspace is given.
            fn list_workspaces() -> Vec<kura_core::Workspace> {
                reads()
                    .cli(&["workspace list", "workspace current"]);
                http(get, "/v1/workspaces", tag = "workspaces");
                mcp("list_workspaces", title = "List workspaces", list = "workspaces");
                |api| Ok(api.vault().workspaces()?)
            }
            fn create_workspace(
                /// The workspace's name.
                name: String,
            ) -> kura_core::Workspace {
                writes()
                    .announces(&[Vault(VaultChange::Workspaces)])
                    .no_mcp(AGENT_SETUP)
                    .cli(&["workspace create"]);
                http(post, "/v1/workspaces", tag = "workspaces", created);
                |api| api.create_workspace(&name)
            }
            fn rename_workspace(
                #[path] name: String,
                /// Its new name.
                new_name: String,
            ) -> kura_core::Workspace {
                writes()
                    .announces(&[Vault(VaultChange::Workspaces)])
                    .no_mcp(AGENT_SETUP)
                    .cli(&["workspace rename"]);
                http(patch, "/v1/workspaces/{name}", tag = "workspaces");
                |api| api.rename_workspace(&name, &new_name)
            }
            fn switch_workspace(#[path] name: String) -> kura_core::Workspace {
                writes()
                    .announces(&[Vault(VaultChange::Workspaces)])
                    .no_mcp(AGENT_SETUP)
                    .cli(&["workspace switch"]);
                http(post, "/v1/workspaces/{name}/switch", tag = "workspaces");
                |api| api.switch_workspace(&name)
            }
            /// Deletes a workspace, refused while it holds projects unless they move to
            /// `move_to` first.
            fn delete_workspace(
                #[path] name: String,
                /// Move the workspace's projects here first.
                #[query] move_to: Option<String>,
            ) -> () {
                writes()
                    .announces(&[Vault(VaultChange::Workspaces)])
                    .admin_only(SETUP)
                    .no_mcp(AGENT_SETUP)
                    .cli(&["workspace delete"]);
                http(delete, "/v1/workspaces/{name}", tag = "workspaces", done);
                |api| api.delete_workspace(&name, move_to.as_deref())
            }
            fn list_projects(
                filter: kura_core::ProjectFilter,
            ) -> Vec<std::sync::Arc<kura_core::Project>> {
                reads()
                    .mcp(&["list_projects"])
                    .cli(&["project list", "trash list"]);
                |api| Ok(api.vault().projects(&filter)?)
            }
            /// A project, by id or name (and marks it opened).
            fn get_project(#[path] id: String) -> kura_core::Project {
                reads()
                    .mcp(&["show_project"])
                    .cli(&["project show"]);
                http(get, "/v1/projects/{id}", tag = "projects");
                |api| api.open_project(&id)
            }
            /// Creates a project, blank or from a template, with a first version. Answers the
            /// project.
            fn create_project(#[body] new_project: kura_core::NewProject) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Created)])
                    .cli(&["project create"]);
                http(post, "/v1/projects", tag = "projects", created);
                mcp("create_project", title = "Create a project");
                |api| api.create_project(&new_project)
            }
            fn import_folder(
                path: String,
                options: kura_core::ImportOptions,
            ) -> kura_core::ImportReport {
                writes()
                    .announces(&[Vault(VaultChange::Created)])
                    .no_mcp("it reads a folder of the computer the server runs on, which is the person's to choose")
                    .cli(&["project import"]);
                long "import" |api, job| {
                    api.import_folder(&std::path::PathBuf::from(path), &options, job)
                }
            }
            /// Changes what `edit` gives of the project's name, workspace, description, kind and
            /// git remote, all or nothing, announced once.
            fn edit_project(
                #[path] id: String,
                #[body] edit: kura_core::ProjectEdit,
            ) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Metadata)])
                    .no_mcp("a project's name, workspace and description are the person's")
                    .cli(&["project rename", "project move", "project edit"]);
                http(patch, "/v1/projects/{id}", tag = "projects");
                |api| api.edit_project(&id, &edit)
            }
            fn tag_project(
                id: String,
                add: Vec<String>,
                remove: Vec<String>,
            ) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Metadata)])
                    .no_mcp("a project's tags are the person's")
                    .cli(&["project tag"]);
                |api| api.tag_project(&id, &add, &remove)
            }
            /// Sets metadata (`{"key": "owner", "value": "me"}`) or removes it (`"value": null`).
            fn set_project_metadata(
                #[path] id: String,
                changes: Vec<$crate::MetadataChange>,
            ) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Metadata)])
                    .no_mcp("an agent keeps its own data in records (`put_record`)")
                    .cli(&["project meta"]);
                http(patch, "/v1/projects/{id}/metadata", tag = "projects");
                |api| api.set_metadata(&id, &$crate::MetadataChange::pairs(changes))
            }
            /// Moves a project to the trash.
            fn trash_project(#[path] id: String) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Trash)])
                    .no_mcp("`delete_project` is the agent's one way to remove a project, and it is refused unless allowed")
                    .cli(&["project delete"]);
                http(post, "/v1/projects/{id}/trash", tag = "projects");
                |api| api.trash_project(&id)
            }
            /// Brings a project back from the trash.
            fn untrash_project(#[path] id: String) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Trash)])
                    .no_mcp("bringing a project back from the trash is the person's")
                    .cli(&["trash restore"]);
                http(post, "/v1/projects/{id}/untrash", tag = "projects");
                |api| api.untrash_project(&id)
            }
            /// Deletes a project for good: its history and (managed) folder.
            fn delete_project(#[path] id: String) -> () {
                destroys()
                    .announces(&[Vault(VaultChange::Deleted)])
                    .mcp(&["delete_project"])
                    .cli(&["project delete"]);
                http(delete, "/v1/projects/{id}", tag = "projects", done);
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
                reads()
                    .no_mcp("it writes to a folder of the computer the server runs on; an agent reads files with `read_file`")
                    .cli(&["project export"]);
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
                reads()
                    .no_mcp("`create_project` names its template; the person keeps the list")
                    .cli(&["template list"]);
                http(get, "/v1/templates", tag = "projects");
                |api| Ok(api.vault().templates()?)
            }
            /// Saves the project's latest version as a template called `name`.
            fn save_project_as_template(
                #[path] id: String,
                /// The template's name.
                name: String,
            ) -> kura_core::Template {
                writes()
                    .announces(&[Vault(VaultChange::Templates)])
                    .no_mcp(AGENT_SETUP)
                    .cli(&["project save-template"]);
                http(post, "/v1/projects/{id}/template", tag = "projects");
                |api| api.save_template(&id, &name)
            }
            /// Lists a project's files with size, type and state compared with the latest version:
            /// `unchanged`, `new`, `modified`, or `deleted` (in the latest version, gone from the
            /// folder).
            fn list_files(
                #[path] id: String,
                /// Only files under this folder.
                #[query] prefix: Option<String>,
            ) -> Vec<kura_core::FileEntry> {
                reads()
                    .cli(&["files"]);
                http(get, "/v1/projects/{id}/files", tag = "files");
                mcp("list_files", title = "List files", list = "files", id = project);
                |api| Ok(api.vault().list_files(&id, prefix.as_deref())?)
            }
            /// A preview of the file at `path` (relative to the project's folder).
            fn preview_file(
                #[path] id: String,
                /// The file, relative to the project folder.
                #[query] path: String,
            ) -> kura_core::FilePreview {
                reads()
                    .no_mcp("`read_file` gives an agent the whole text")
                    .no_cli("`kura file read` prints the file; a terminal needs no preview");
                http(get, "/v1/projects/{id}/preview", tag = "files");
                |api| Ok(api.vault().preview_file(&id, &path)?)
            }
            /// Copies dropped files and folders into a project (the drag-and-drop path).
            fn upload_files(
                id: String,
                sources: Vec<String>,
                dest_dir: String,
            ) -> kura_core::UploadReport {
                writes()
                    .announces(&[Vault(VaultChange::Files)])
                    .no_mcp("an agent writes files one by one with `save_file`")
                    .no_cli("the shell copies files; `kura file save` and `kura project import` bring them in");
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
                writes()
                    .announces(&[Vault(VaultChange::Snapshot)])
                    .mcp(&["snapshot"])
                    .cli(&["snapshot"]);
                long "snapshot" |api, job| {
                    api.snapshot(&id, &request.options(), job)
                }
            }
            /// Takes a version of every active project that changed (the tray's "Snapshot now").
            fn snapshot_changed_projects() -> Vec<kura_core::SnapshotReport> {
                writes()
                    .announces(&[Vault(VaultChange::Snapshot)])
                    .no_mcp("an agent takes versions of the projects it works on (`snapshot`)")
                    .cli(&["snapshot"]);
                http(post, "/v1/snapshot-changed", tag = "versions");
                long "snapshot" |api, job| {
                    api.snapshot_changed(true, &kura_core::SnapshotOptions::default(), job)
                }
            }
            /// The project's versions, newest first (id, message, author, trigger, time, counts of
            /// changed files), or only those in which one file changed.
            fn list_versions(
                #[path] id: String,
                #[queries] request: $crate::VersionsRequest,
            ) -> Vec<kura_core::Version> {
                reads()
                    .cli(&["history"]);
                http(get, "/v1/projects/{id}/versions", tag = "versions");
                mcp("history", title = "Version history", list = "versions", id = project);
                |api| api.versions(&id, &request)
            }
            /// What changed between two versions: the changed files (added, modified, deleted, with
            /// sizes) and, unless `stat_only`, a unified diff of each text file.
            fn diff_versions(
                #[path] id: String,
                #[queries] request: $crate::DiffRequest,
            ) -> kura_core::Diff {
                reads()
                    .cli(&["diff"]);
                http(get, "/v1/projects/{id}/diff", tag = "versions");
                mcp("diff", title = "Diff two versions", id = project);
                |api| api.diff(&id, &request)
            }
            /// What restoring the project to `version` would do, without doing it: the files it
            /// would write and remove to make the working folder match the version, and how many
            /// changes are not in any version yet (the version a restore takes first keeps them).
            fn plan_restore(
                #[path] id: String,
                /// The version the folder would match (an id, `latest`, `latest~N`).
                #[query] version: String,
            ) -> kura_core::RestorePlan {
                reads()
                    .no_cli("`kura restore` keeps the current state as a version first and says what it restored");
                http(get, "/v1/projects/{id}/restore-plan", tag = "versions");
                mcp("restore_plan", title = "Plan a project restore", id = project);
                |api| Ok(api.vault().restore_plan(&id, &version)?)
            }
            fn restore_project(
                #[path] id: String,
                #[body] request: $crate::RestoreRequest,
            ) -> kura_core::RestoreReport {
                destroys()
                    .announces(&[Vault(VaultChange::Restore)])
                    .mcp(&["restore_project", "restore_file"])
                    .cli(&["restore"]);
                http(post, "/v1/projects/{id}/restore", tag = "versions");
                long "restore" |api, job| api.restore(&id, &request, job)
            }
            fn get_git_status(#[path] id: String) -> kura_core::FolderGitStatus {
                reads()
                    .no_mcp("an agent runs git itself where it works")
                    .cli(&["git status"]);
                http(get, "/v1/projects/{id}/git/status", tag = "git");
                |api| Ok(api.vault().folder_git_status(&id)?)
            }
            /// The newest commits of the project folder's own git repository: at most `limit`
            /// (20 when not given).
            fn get_git_log(
                #[path] id: String,
                /// At most this many commits (20 when not given).
                #[query] limit: Option<u32>,
            ) -> Vec<kura_core::FolderGitCommit> {
                reads()
                    .no_mcp("an agent runs git itself where it works")
                    .cli(&["git log"]);
                http(get, "/v1/projects/{id}/git/log", tag = "git");
                |api| Ok(api.vault().folder_git_log(&id, limit.unwrap_or(20) as usize)?)
            }
            /// Makes the project's folder a git repository.
            fn init_git_repository(#[path] id: String) -> () {
                writes()
                    .announces(&[Vault(VaultChange::Git)])
                    .no_mcp("an agent runs git itself where it works")
                    .cli(&["git init"]);
                http(post, "/v1/projects/{id}/git/init", tag = "git", done);
                |api| api.init_folder_git(&id)
            }
            fn get_stats() -> kura_core::Stats {
                reads()
                    .no_mcp("`status` gives an agent the vault's summary")
                    .cli(&["stats"]);
                http(get, "/v1/stats", tag = "vault");
                |api| Ok(api.vault().stats()?)
            }
            fn get_config() -> kura_core::Config {
                reads()
                    .no_mcp(AGENT_SETUP)
                    .cli(&["config show", "config get", "config path"]);
                http(get, "/v1/config", tag = "vault");
                |api| Ok((*api.vault().config()).clone())
            }
            /// Changes one setting (validated) and returns the settings now in the file.
            fn set_config(
                /// `section.field`, as `kura config set` takes it.
                key: String,
                /// The new value, as text.
                value: String,
            ) -> kura_core::Config {
                writes()
                    .announces(&[Vault(VaultChange::Settings)])
                    .admin_only(SETUP)
                    .no_mcp(AGENT_SETUP)
                    .cli(&["config set"]);
                http(patch, "/v1/config", tag = "vault");
                |api| api.set_config(&key, &value)
            }
            fn verify_vault(request: $crate::VerifyVault) -> kura_core::VerifyReport {
                reads()
                    .mcp(&["verify"])
                    .cli(&["verify"]);
                long "verify" |api, job| Ok(api.vault().verify(request.project.as_deref(), job)?)
            }
            /// Removes chunks no version references.
            fn collect_garbage() -> kura_core::GcReport {
                writes()
                    .announces(&[Vault(VaultChange::Gc)])
                    .admin_only(UPKEEP)
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["gc"]);
                http(post, "/v1/gc", tag = "vault");
                long "gc" |api, job| api.gc(job)
            }
            /// Cancels a running long command; finished or unknown jobs are ignored.
            fn cancel_operation(job_id: String) -> () {
                writes()
                    .announces(&[OperationFinished])
                    .no_mcp("an MCP client cancels a call with `notifications/cancelled`")
                    .no_cli("Ctrl-C cancels the command");
                |api| {
                    let _ = api.operations().cancel(&job_id);
                    Ok(())
                }
            }
            /// The archives in the vault, with size, compression ratio, date and whether the file
            /// is present.
            fn list_archives() -> Vec<kura_core::ArchiveInfo> {
                reads()
                    .cli(&["archives", "archive list"]);
                http(get, "/v1/archives", tag = "archives");
                mcp("list_archives", title = "List archives", list = "archives");
                |api| Ok(api.vault().list_archives()?)
            }
            /// Archives a project: takes a version of any unsaved change, packs its folder and
            /// history into a compressed archive (`tar.zst`) and frees the folder. Nothing is
            /// lost; unarchiving brings it back. Answers the archive (size, compression ratio,
            /// checksum).
            fn archive_project(#[path] id: String) -> kura_core::ArchiveInfo {
                writes()
                    .announces(&[Vault(VaultChange::Archived)])
                    .cli(&["archive"]);
                http(post, "/v1/projects/{id}/archive", tag = "archives");
                mcp("archive_project", title = "Archive a project", id = project);
                long "archive" |api, job| api.archive_project(&id, job)
            }
            /// Brings an archived project back: unpacks its folder and history and makes it active.
            /// `reference` is the archived project's name or id, or an archive id.
            fn unarchive_project(
                #[body] reference: $crate::ArchiveReference,
            ) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Unarchived)])
                    .cli(&["unarchive"]);
                http(post, "/v1/archives/unarchive", tag = "archives");
                mcp("unarchive_project", title = "Unarchive a project");
                long "unarchive" |api, job| api.unarchive_project(&reference, job)
            }
            fn extract_archive(archive: String, dest: String) -> kura_core::ExtractReport {
                reads()
                    .no_mcp("it writes to a folder of the computer the server runs on")
                    .cli(&["extract"]);
                long "extract" |api, job| {
                    api.extract_archive(&archive, &std::path::PathBuf::from(dest), job)
                }
            }
            /// Moves archives to the cold tier now (`archive.cold_target`): uploads and checks
            /// those not there yet, then drops the local files that may go.
            fn move_archives_to_cold_tier() -> kura_backup::ColdReport {
                writes()
                    .announces(&[Vault(VaultChange::ColdTier)])
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["archive cold"]);
                http(post, "/v1/archives/cold", tag = "archives");
                long "cold" |api, job| api.cold_pass(job)
            }
            /// Checks an archive's checksum and reads every entry.
            fn verify_archive(#[path] archive: String) -> kura_core::ArchiveVerifyReport {
                reads()
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["archive verify"]);
                http(post, "/v1/archives/{archive}/verify", tag = "archives");
                long "verify-archive" |api, job| api.verify_archive(&archive, job)
            }
            fn import_archive(
                path: String,
                options: kura_core::ImportArchiveOptions,
            ) -> kura_core::Project {
                writes()
                    .announces(&[Vault(VaultChange::Created)])
                    .no_mcp("it reads a file of the computer the server runs on, which is the person's to choose")
                    .cli(&["import"]);
                long "import" |api, job| {
                    api.import_archive(&std::path::PathBuf::from(path), &options, job)
                }
            }
            fn get_quota() -> kura_core::QuotaStatus {
                reads()
                    .no_mcp("an agent meets a quota as the `quota_exceeded` error of the write it tried")
                    .cli(&["quota"]);
                http(get, "/v1/quota", tag = "vault");
                |api| Ok(api.vault().quota_status()?)
            }
            fn run_cleanup(options: kura_core::CleanupOptions) -> kura_core::CleanupReport {
                destroys()
                    .announces(&[Vault(VaultChange::Cleanup)])
                    .has_dry_run()
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["cleanup"]);
                long "cleanup" |api, job| api.cleanup(&options, job)
            }
            fn list_cleanup_runs() -> Vec<kura_core::CleanupReport> {
                reads()
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["cleanup history"]);
                http(get, "/v1/cleanup/runs", tag = "cleanup");
                |api| Ok(api.vault().cleanup_runs(Some(50))?)
            }
            /// When the next scheduled cleanup is due (seconds since the epoch), or null.
            fn get_next_cleanup() -> Option<i64> {
                reads()
                    .no_mcp(AGENT_UPKEEP)
                    .no_cli("the app's Cleanup settings show the next run; `kura cleanup` runs one now");
                http(get, "/v1/cleanup/next", tag = "cleanup");
                |api| api.next_cleanup_at()
            }
            fn get_backup_status() -> $crate::BackupStatus {
                reads()
                    .mcp(&["backup_status"])
                    .cli(&["backup health", "backup target list"]);
                http(get, "/v1/backups/status", tag = "backups");
                |api| Ok(api.backup_status())
            }
            fn add_backup_target(
                target: kura_backup::Target,
                /// Its keys and password, when they are not in the environment.
                #[default] secrets: $crate::TargetSecrets,
                /// Keep the secrets in the OS keyring.
                #[default] use_keyring: bool,
            ) -> kura_backup::TestReport {
                writes()
                    .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
                    .admin_only(SETUP)
                    .no_mcp(AGENT_SETUP)
                    .cli(&["backup target add"]);
                http(post, "/v1/backups/targets", tag = "backups");
                |api| api.add_backup_target(&target, secrets, use_keyring)
            }
            fn update_backup_target(
                #[path] target: String,
                #[body] changes: $crate::TargetChanges,
            ) -> kura_backup::Target {
                writes()
                    .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
                    .admin_only(SETUP)
                    .no_mcp(AGENT_SETUP)
                    .cli(&["backup schedule", "backup retention"]);
                http(patch, "/v1/backups/targets/{target}", tag = "backups");
                |api| api.update_backup_target(&target, changes)
            }
            fn remove_backup_target(#[path] target: String) -> () {
                writes()
                    .announces(&[Vault(VaultChange::BackupTargets), BackupStatus])
                    .admin_only(SETUP)
                    .no_mcp(AGENT_SETUP)
                    .cli(&["backup target remove"]);
                http(delete, "/v1/backups/targets/{target}", tag = "backups", done);
                |api| api.remove_backup_target(&target)
            }
            fn test_backup_target(#[path] target: String) -> kura_backup::TestReport {
                reads()
                    .no_mcp(AGENT_SETUP)
                    .cli(&["backup target test"]);
                http(post, "/v1/backups/targets/{target}/test", tag = "backups");
                |api| api.test_backup_target(&target)
            }
            /// Starts a backup of `target` now; its progress arrives with the backup status.
            fn run_backup(target: String) -> () {
                writes()
                    .announces(&[Vault(VaultChange::Backup), BackupStatus])
                    .long()
                    .mcp(&["run_backup"])
                    .cli(&["backup run"]);
                |api| api.start_backup(&target).map(|_| ())
            }
            /// Cancels the running backup of `target`; the run stops at its next safe point.
            fn cancel_backup(#[path] target: String) -> $crate::Cancelled {
                writes()
                    .quiet("the run it stops announces its own end (`operation.finished`, `backup.status`)")
                    .no_mcp(AGENT_OPS)
                    .no_cli("Ctrl-C stops `kura backup run`");
                http(delete, "/v1/backups/targets/{target}/run", tag = "backups");
                |api| Ok(api.cancel_backup(&target))
            }
            /// The runs of backups, newest first; only `target`'s when given.
            fn list_backup_runs(
                /// Only this target's runs.
                #[query] target: Option<String>,
            ) -> Vec<kura_backup::RunRecord> {
                reads()
                    .no_mcp("`backup_status` gives an agent the last run of each target")
                    .cli(&["backup list"]);
                http(get, "/v1/backups/runs", tag = "backups");
                |api| api.backup_runs(target.as_deref(), 200)
            }
            /// The backups kept at `target`, newest first.
            fn list_backups(#[path] target: String) -> Vec<kura_backup::BackupInfo> {
                reads()
                    .no_mcp("restoring from a backup is the person's")
                    .cli(&["backup list"]);
                http(get, "/v1/backups/targets/{target}/backups", tag = "backups");
                |api| api.backups_at(&target)
            }
            /// What one backup at `target` holds: its projects and their sizes.
            fn get_backup_contents(
                #[path] target: String,
                #[path] backup: String,
            ) -> kura_backup::BackupContents {
                reads()
                    .no_mcp("restoring from a backup is the person's")
                    .no_cli("`kura backup list` names each backup's projects; `kura backup restore` takes one");
                http(get, "/v1/backups/targets/{target}/backups/{backup}", tag = "backups");
                |api| api.backup_contents(&target, &backup)
            }
            fn restore_backup(
                target: String,
                backup: String,
                project: Option<String>,
                destination: String,
            ) -> kura_backup::BackupRestoreReport {
                writes()
                    .quiet("it writes a backup's files to a new folder, outside the vault")
                    .no_mcp("restoring from a backup is the person's")
                    .cli(&["backup restore"]);
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
                reads()
                    .no_mcp("restoring from a backup is the person's")
                    .no_cli("`kura backup restore` restores into a new folder, so there is nothing to overwrite");
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
                reads()
                    .no_mcp(AGENT_SETUP)
                    .no_cli("`kura backup target add --help` names the variables a target's secrets can come from");
                || Ok(kura_backup::secret_variables(&name, kind, encrypt))
            }
            /// Verifies the backups at `target`, as thoroughly as `mode` says.
            fn verify_backups(
                #[path] target: String,
                mode: kura_backup::VerifyMode,
            ) -> kura_backup::BackupVerifyReport {
                reads()
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["backup verify"]);
                http(post, "/v1/backups/targets/{target}/verify", tag = "backups");
                long "backup-verify" |api, job| api.verify_backups(&target, mode, job)
            }
            fn prune_backups(target: String, dry_run: bool) -> kura_backup::PruneReport {
                destroys()
                    .announces(&[Vault(VaultChange::Backup)])
                    .has_dry_run()
                    .no_mcp(AGENT_UPKEEP)
                    .cli(&["backup prune"]);
                long "backup-prune" |api, job| api.prune_backups(&target, dry_run, job)
            }
            /// Pauses scheduled backups for `length`, or resumes them when `length` is `None`.
            fn pause_backups(length: Option<kura_backup::PauseLength>) -> () {
                writes()
                    .announces(&[BackupStatus])
                    .no_mcp(AGENT_SETUP)
                    .cli(&["backup pause", "backup resume"]);
                http(post, "/v1/backups/pause", tag = "backups", done);
                |api| api.pause_backups(length).map(|_| ())
            }
            /// The collections of records of a project (or of the vault), with how many records each
            /// holds, the fields it indexes and whether a schema checks it.
            fn record_collections(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
            ) -> Vec<kura_core::CollectionInfo> {
                [
                    reads().named("list_project_collections")
                        .cli(&["record list"]),
                    reads().named("list_vault_collections")
                        .cli(&["record list"]),
                ];
                mcp(
                    "list_record_collections",
                    title = "List record collections",
                    list = "collections"
                );
                |api| api.record_collections(project.as_deref())
            }
            /// Finds records by their fields: equality, ranges, prefixes and existence, sorted, a page
            /// at a time (follow `next` as `cursor`). Without conditions it lists the collection by key.
            fn record_query(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
                /// The collection.
                collection: String,
                #[body] query: kura_core::RecordQuery,
            ) -> kura_core::RecordPage {
                [
                    reads().named("list_project_records")
                        .cli(&["record list"]),
                    reads().named("list_vault_records")
                        .cli(&["record list"]),
                    reads().named("query_project_records")
                        .cli(&["record query"]),
                    reads().named("query_vault_records")
                        .cli(&["record query"]),
                ];
                mcp("query_records", title = "Query records");
                |api| api.record_query(project.as_deref(), &collection, &query)
            }
            /// One record: its JSON `value`, its revision `rev` (pass it as `if_rev` to change it safely)
            /// and its times (ms since the epoch).
            fn record_get(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
                /// The collection (letters, digits, `_`, `-`, `.`), e.g. "tasks", "notes",
                /// "decisions".
                collection: String,
                /// The record's key in its collection.
                key: String,
            ) -> kura_core::Record {
                [
                    reads().named("get_project_record")
                        .cli(&["record get"]),
                    reads().named("get_vault_record")
                        .cli(&["record get"]),
                ];
                mcp("get_record", title = "Get a record");
                |api| api.record_get(project.as_deref(), &collection, &key)
            }
            /// Writes a JSON record under a key, to keep state beside a project: notes, task lists,
            /// decisions, settings. Use `if_rev` so that two writers never overwrite each other blindly.
            /// Answers the record with its new revision.
            fn record_put(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
                #[body] put: kura_core::RecordPut,
            ) -> kura_core::Record {
                [
                    writes().named("put_project_record")
                        .announces(&[Records])
                        .cli(&["record put"]),
                    writes().named("put_vault_record")
                        .announces(&[Records])
                        .cli(&["record put"]),
                ];
                mcp("put_record", title = "Put a record", hints(idempotent));
                |api| api.record_put(project.as_deref(), put)
            }
            /// Deletes a record for good: records have no versions, so nothing brings it back. Answers
            /// whether there was one to delete.
            fn record_delete(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
                #[body] del: kura_core::RecordDelete,
            ) -> $crate::Deleted {
                [
                    destroys().named("delete_project_record")
                        .announces(&[Records])
                        .cli(&["record delete"]),
                    destroys().named("delete_vault_record")
                        .announces(&[Records])
                        .cli(&["record delete"]),
                ];
                mcp("delete_record", title = "Delete a record", hints(idempotent));
                |api| api.record_delete(project.as_deref(), del)
            }
            /// Sets the fields a collection indexes and the JSON Schema its records must match (refused
            /// when a record already in it does not).
            fn record_configure(
                /// The project (name or id) whose records these are; leave out for the vault's
                /// own records.
                project: Option<String>,
                /// The collection.
                collection: String,
                #[body] settings: kura_core::CollectionSettings,
            ) -> kura_core::CollectionInfo {
                [
                    writes().named("configure_project_collection")
                        .announces(&[Records])
                        .cli(&["record settings"]),
                    writes().named("configure_vault_collection")
                        .announces(&[Records])
                        .cli(&["record settings"]),
                ];
                mcp(
                    "set_record_collection",
                    title = "Set up a record collection",
                    hints(idempotent)
                );
                |api| api.record_configure(project.as_deref(), &collection, settings)
            }
            /// Uploads a version of a project as a tar.zst to an S3 target and answers a download
            /// link that works without credentials until it expires (at most 7 days), with the
            /// share's id (to revoke it). The shared copy is not encrypted, even when the target
            /// encrypts its backups (`target_encrypted` says so): whoever has the link can read it.
            fn share_project(
                #[path] id: String,
                #[body] options: kura_backup::ShareOptions,
            ) -> kura_backup::Share {
                writes()
                    .announces(&[Share])
                    .cli(&["share"]);
                http(post, "/v1/projects/{id}/shares", tag = "shares");
                mcp("share_project", title = "Share a version as a link", id = project, hints(open_world));
                long "share" |api, job| api.share_project(&id, &options, job)
            }
            /// The shared links, newest first, each with its project, version, size, link, expiry
            /// and state (active, expired, revoked); only one project's when `project` is given.
            fn list_shares(
                /// Only the shares of this project (a name or an id).
                #[query] project: Option<String>,
            ) -> Vec<kura_backup::Share> {
                reads()
                    .cli(&["share list"]);
                http(get, "/v1/shares", tag = "shares");
                mcp("list_shares", title = "List shared links", list = "shares");
                |api| api.shares(project.as_deref())
            }
            /// Revokes a shared link: its copy at the target is deleted, so the link stops working
            /// at once. The version itself stays in the vault.
            fn revoke_share(
                /// The share's id (as the list of shares gives it).
                #[path] id: String,
            ) -> kura_backup::Share {
                writes()
                    .announces(&[Share])
                    .cli(&["share revoke"]);
                http(delete, "/v1/shares/{id}", tag = "shares");
                mcp("revoke_share", title = "Revoke a shared link", hints(idempotent, open_world));
                |api| api.revoke_share(&id)
            }
            fn plan_command(#[queries] input: $crate::CommandInput) -> $crate::CommandPlan {
                reads()
                    .no_mcp(PALETTE)
                    .no_cli(PALETTE);
                http(get, "/v1/command", tag = "vault");
                |api| api.plan_command(&input)
            }
        }
    };
}

use std::sync::Arc;

use crate::declare::Announcement::{BackupStatus, OperationFinished, Records, Share, Vault};
use crate::declare::{
    destroys, reads, writes, Declared, AGENT_OPS, AGENT_SETUP, AGENT_UPKEEP, PALETTE, SETUP, UPKEEP,
};
use crate::VaultChange;
use crate::{Api, ApiResult};

/// Writes a service function for each call (what every door calls), [`kinds`] and
/// [`DECLARED`].
macro_rules! service_calls {
    (@fn $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? long $kind:literal |$api:ident, $job:ident| $body:expr
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
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? |$api:ident| $body:expr
    }) => {
        $(#[$meta])*
        pub fn $name($api: &Arc<Api>, $($arg: $ty),*) -> ApiResult<$out> {
            $body
        }
    };
    (@fn $(#[$meta:meta])* $name:ident ($($arg:ident : $ty:ty),*) -> $out:ty {
        $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? || $body:expr
    }) => {
        $(#[$meta])*
        ///
        /// It needs no vault.
        pub fn $name($($arg: $ty),*) -> ApiResult<$out> {
            $body
        }
    };
    (@long http($($http:tt)*); $($rest:tt)*) => { service_calls!(@long $($rest)*) };
    (@long mcp($($mcp:tt)*); $($rest:tt)*) => { service_calls!(@long $($rest)*) };
    (@long long $($rest:tt)*) => { true };
    (@long $($rest:tt)*) => { false };
    (@declared $name:ident [$($op:expr),+ $(,)?]; $(http($($http:tt)*);)?
        mcp($tool:literal $($mcp:tt)*); $($rest:tt)*) => {
        {
            const LONG: bool = service_calls!(@long $($rest)*);
            &[$($op.mcp(&[$tool]).of_call(&[stringify!($name)], LONG)),+]
        }
    };
    (@declared $name:ident [$($op:expr),+ $(,)?]; $($rest:tt)*) => {
        {
            const LONG: bool = service_calls!(@long $($rest)*);
            &[$($op.of_call(&[stringify!($name)], LONG)),+]
        }
    };
    // A call whose tool is written from its entry (`mcp("name", ...)`) is that tool.
    (@declared $name:ident $op:expr; $(http($($http:tt)*);)? mcp($tool:literal $($mcp:tt)*);
        $($rest:tt)*) => {
        &[$op.mcp(&[$tool]).of_call(&[stringify!($name)], service_calls!(@long $($rest)*))]
    };
    (@declared $name:ident $op:expr; $($rest:tt)*) => {
        &[$op.of_call(&[stringify!($name)], service_calls!(@long $($rest)*))]
    };
    (@kind $name:ident $declared:expr; $(http($($http:tt)*);)? $(mcp($($mcp:tt)*);)? long $kind:literal $($rest:tt)*) => {
        #[doc = concat!("The kind of operation `", stringify!($name), "` runs as.")]
        pub const $name: &str = $kind;
    };
    (@kind $name:ident $($rest:tt)*) => {};
    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($(#[$attr:meta])* $arg:ident : $ty:ty),* $(,)?) -> $out:ty { $($body:tt)* }
    )*) => {
        $(service_calls!(@fn $(#[$meta])* $name ($($arg: $ty),*) -> $out { $($body)* });)*

        /// The kind of operation each long call runs as (`kinds::archive_project` is
        /// `"archive"`): what the operations list and `operation.finished` say, whichever door
        /// started it.
        #[allow(non_upper_case_globals)]
        pub mod kinds {
            $(service_calls!(@kind $name $($body)*);)*
        }

        /// The operations each call of [`for_each_call!`](crate::for_each_call) declares, in
        /// its order; the catalog's [`OPERATIONS`](crate::catalog::OPERATIONS) begin with them.
        pub(crate) const DECLARED: &[&[Declared]] = &[
            $(service_calls!(@declared $name $($body)*)),*
        ];
    };
}

crate::for_each_call!(service_calls);
