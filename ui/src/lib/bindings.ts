// Generated from the shell's commands and the types' schemas (src-tauri/bindings.rs); do not edit.
// Regenerate: KURA_UPDATE_BINDINGS=1 cargo test -p kura-desktop --lib bindings

import { invoke as __TAURI_INVOKE, Channel } from "@tauri-apps/api/core";
import * as __TAURI_EVENT from "@tauri-apps/api/event";

/** Commands */
export const commands = {
	getStatus: () => typedError<AppInfo, ApiError>(__TAURI_INVOKE("get_status")),
	/**
	 * The workspaces (groups of projects), with their project counts; `active` marks
	 * the one used when no workspace is given.
	 */
	listWorkspaces: () => typedError<Workspace[], ApiError>(__TAURI_INVOKE("list_workspaces")),
	createWorkspace: (name: string) => typedError<Workspace, ApiError>(__TAURI_INVOKE("create_workspace", { name })),
	renameWorkspace: (name: string, newName: string) => typedError<Workspace, ApiError>(__TAURI_INVOKE("rename_workspace", { name, newName })),
	switchWorkspace: (name: string) => typedError<Workspace, ApiError>(__TAURI_INVOKE("switch_workspace", { name })),
	/**
	 * Deletes a workspace, refused while it holds projects unless they move to
	 * `move_to` first.
	 */
	deleteWorkspace: (name: string, moveTo: string | null) => typedError<null, ApiError>(__TAURI_INVOKE("delete_workspace", { name, moveTo })),
	listProjects: (filter: ProjectFilter) => typedError<Project[], ApiError>(__TAURI_INVOKE("list_projects", { filter })),
	/** A project, by id or name (and marks it opened). */
	getProject: (id: string) => typedError<Project, ApiError>(__TAURI_INVOKE("get_project", { id })),
	/**
	 * Creates a project, blank or from a template, with a first version. Answers the
	 * project.
	 */
	createProject: (newProject: NewProject) => typedError<Project, ApiError>(__TAURI_INVOKE("create_project", { newProject })),
	importFolder: (path: string, options: ImportOptions, jobId: string, onProgress: Channel<Progress>) => typedError<ImportReport, ApiError>(__TAURI_INVOKE("import_folder", { path, options, jobId, onProgress })),
	/**
	 * Changes what `edit` gives of the project's name, workspace, description, kind and
	 * git remote, all or nothing, announced once.
	 */
	editProject: (id: string, edit: ProjectEdit) => typedError<Project, ApiError>(__TAURI_INVOKE("edit_project", { id, edit })),
	tagProject: (id: string, add: string[], remove: string[]) => typedError<Project, ApiError>(__TAURI_INVOKE("tag_project", { id, add, remove })),
	/** Sets metadata (`{"key": "owner", "value": "me"}`) or removes it (`"value": null`). */
	setProjectMetadata: (id: string, changes: MetadataChange[]) => typedError<Project, ApiError>(__TAURI_INVOKE("set_project_metadata", { id, changes })),
	/** Moves a project to the trash. */
	trashProject: (id: string) => typedError<Project, ApiError>(__TAURI_INVOKE("trash_project", { id })),
	/** Brings a project back from the trash. */
	untrashProject: (id: string) => typedError<Project, ApiError>(__TAURI_INVOKE("untrash_project", { id })),
	/** Deletes a project for good: its history and (managed) folder. */
	deleteProject: (id: string) => typedError<null, ApiError>(__TAURI_INVOKE("delete_project", { id })),
	/**
	 * Writes the project (at `version`, or as it is now) into the folder `dest`; with
	 * `records`, its records go along as `.kura/records.jsonl`.
	 */
	exportProject: (id: string, version: string | null, dest: string, records: boolean, jobId: string, onProgress: Channel<Progress>) => typedError<RestoreReport, ApiError>(__TAURI_INVOKE("export_project", { id, version, dest, records, jobId, onProgress })),
	listTemplates: () => typedError<Template[], ApiError>(__TAURI_INVOKE("list_templates")),
	/** Saves the project's latest version as a template called `name`. */
	saveProjectAsTemplate: (id: string, name: string) => typedError<Template, ApiError>(__TAURI_INVOKE("save_project_as_template", { id, name })),
	/**
	 * Lists a project's files with size, type and state compared with the latest version:
	 * `unchanged`, `new`, `modified`, or `deleted` (in the latest version, gone from the
	 * folder).
	 */
	listFiles: (id: string, prefix: string | null) => typedError<FileEntry[], ApiError>(__TAURI_INVOKE("list_files", { id, prefix })),
	/** A preview of the file at `path` (relative to the project's folder). */
	previewFile: (id: string, path: string) => typedError<FilePreview, ApiError>(__TAURI_INVOKE("preview_file", { id, path })),
	/** Copies dropped files and folders into a project (the drag-and-drop path). */
	uploadFiles: (id: string, sources: string[], destDir: string, jobId: string, onProgress: Channel<Progress>) => typedError<UploadReport, ApiError>(__TAURI_INVOKE("upload_files", { id, sources, destDir, jobId, onProgress })),
	snapshotProject: (id: string, request: SnapshotRequest, jobId: string, onProgress: Channel<Progress>) => typedError<SnapshotReport, ApiError>(__TAURI_INVOKE("snapshot_project", { id, request, jobId, onProgress })),
	/** Takes a version of every active project that changed (the tray's "Snapshot now"). */
	snapshotChangedProjects: (jobId: string, onProgress: Channel<Progress>) => typedError<SnapshotReport[], ApiError>(__TAURI_INVOKE("snapshot_changed_projects", { jobId, onProgress })),
	/**
	 * The project's versions, newest first (id, message, author, trigger, time, counts of
	 * changed files), or only those in which one file changed.
	 */
	listVersions: (id: string, request: VersionsRequest) => typedError<Version[], ApiError>(__TAURI_INVOKE("list_versions", { id, request })),
	/**
	 * What changed between two versions: the changed files (added, modified, deleted, with
	 * sizes) and, unless `stat_only`, a unified diff of each text file.
	 */
	diffVersions: (id: string, request: DiffRequest) => typedError<Diff, ApiError>(__TAURI_INVOKE("diff_versions", { id, request })),
	/**
	 * What restoring the project to `version` would do, without doing it: the files it
	 * would write and remove to make the working folder match the version, and how many
	 * changes are not in any version yet (the version a restore takes first keeps them).
	 */
	planRestore: (id: string, version: string) => typedError<RestorePlan, ApiError>(__TAURI_INVOKE("plan_restore", { id, version })),
	restoreProject: (id: string, request: RestoreRequest, jobId: string, onProgress: Channel<Progress>) => typedError<RestoreReport, ApiError>(__TAURI_INVOKE("restore_project", { id, request, jobId, onProgress })),
	getGitStatus: (id: string) => typedError<FolderGitStatus, ApiError>(__TAURI_INVOKE("get_git_status", { id })),
	/**
	 * The newest commits of the project folder's own git repository: at most `limit`
	 * (20 when not given).
	 */
	getGitLog: (id: string, limit: number | null) => typedError<FolderGitCommit[], ApiError>(__TAURI_INVOKE("get_git_log", { id, limit })),
	/** Makes the project's folder a git repository. */
	initGitRepository: (id: string) => typedError<null, ApiError>(__TAURI_INVOKE("init_git_repository", { id })),
	getStats: () => typedError<Stats, ApiError>(__TAURI_INVOKE("get_stats")),
	getConfig: () => typedError<Config, ApiError>(__TAURI_INVOKE("get_config")),
	/** Changes one setting (validated) and returns the settings now in the file. */
	setConfig: (key: string, value: string) => typedError<Config, ApiError>(__TAURI_INVOKE("set_config", { key, value })),
	verifyVault: (request: VerifyVault, jobId: string, onProgress: Channel<Progress>) => typedError<VerifyReport, ApiError>(__TAURI_INVOKE("verify_vault", { request, jobId, onProgress })),
	/** Removes chunks no version references. */
	collectGarbage: (jobId: string, onProgress: Channel<Progress>) => typedError<GcReport, ApiError>(__TAURI_INVOKE("collect_garbage", { jobId, onProgress })),
	/** Cancels a running long command; finished or unknown jobs are ignored. */
	cancelOperation: (jobId: string) => typedError<null, ApiError>(__TAURI_INVOKE("cancel_operation", { jobId })),
	/**
	 * The archives in the vault, with size, compression ratio, date and whether the file
	 * is present.
	 */
	listArchives: () => typedError<ArchiveInfo[], ApiError>(__TAURI_INVOKE("list_archives")),
	/**
	 * Archives a project: takes a version of any unsaved change, packs its folder and
	 * history into a compressed archive (`tar.zst`) and frees the folder. Nothing is
	 * lost; unarchiving brings it back. Answers the archive (size, compression ratio,
	 * checksum).
	 */
	archiveProject: (id: string, jobId: string, onProgress: Channel<Progress>) => typedError<ArchiveInfo, ApiError>(__TAURI_INVOKE("archive_project", { id, jobId, onProgress })),
	/**
	 * Brings an archived project back: unpacks its folder and history and makes it active.
	 * `reference` is the archived project's name or id, or an archive id.
	 */
	unarchiveProject: (reference: ArchiveReference, jobId: string, onProgress: Channel<Progress>) => typedError<Project, ApiError>(__TAURI_INVOKE("unarchive_project", { reference, jobId, onProgress })),
	extractArchive: (archive: string, dest: string, jobId: string, onProgress: Channel<Progress>) => typedError<ExtractReport, ApiError>(__TAURI_INVOKE("extract_archive", { archive, dest, jobId, onProgress })),
	/**
	 * Moves archives to the cold tier now (`archive.cold_target`): uploads and checks
	 * those not there yet, then drops the local files that may go.
	 */
	moveArchivesToColdTier: (jobId: string, onProgress: Channel<Progress>) => typedError<ColdReport, ApiError>(__TAURI_INVOKE("move_archives_to_cold_tier", { jobId, onProgress })),
	/** Checks an archive's checksum and reads every entry. */
	verifyArchive: (archive: string, jobId: string, onProgress: Channel<Progress>) => typedError<ArchiveVerifyReport, ApiError>(__TAURI_INVOKE("verify_archive", { archive, jobId, onProgress })),
	importArchive: (path: string, options: ImportArchiveOptions, jobId: string, onProgress: Channel<Progress>) => typedError<Project, ApiError>(__TAURI_INVOKE("import_archive", { path, options, jobId, onProgress })),
	getQuota: () => typedError<QuotaStatus, ApiError>(__TAURI_INVOKE("get_quota")),
	runCleanup: (options: CleanupOptions, jobId: string, onProgress: Channel<Progress>) => typedError<CleanupReport, ApiError>(__TAURI_INVOKE("run_cleanup", { options, jobId, onProgress })),
	listCleanupRuns: () => typedError<CleanupReport[], ApiError>(__TAURI_INVOKE("list_cleanup_runs")),
	/** When the next scheduled cleanup is due (seconds since the epoch), or null. */
	getNextCleanup: () => typedError<number | null, ApiError>(__TAURI_INVOKE("get_next_cleanup")),
	getBackupStatus: () => typedError<BackupStatus, ApiError>(__TAURI_INVOKE("get_backup_status")),
	addBackupTarget: (target: Target, secrets: TargetSecrets, useKeyring: boolean) => typedError<TestReport, ApiError>(__TAURI_INVOKE("add_backup_target", { target, secrets, useKeyring })),
	updateBackupTarget: (target: string, changes: TargetChanges) => typedError<Target, ApiError>(__TAURI_INVOKE("update_backup_target", { target, changes })),
	removeBackupTarget: (target: string) => typedError<null, ApiError>(__TAURI_INVOKE("remove_backup_target", { target })),
	testBackupTarget: (target: string) => typedError<TestReport, ApiError>(__TAURI_INVOKE("test_backup_target", { target })),
	/** Starts a backup of `target` now; its progress arrives with the backup status. */
	runBackup: (target: string) => typedError<null, ApiError>(__TAURI_INVOKE("run_backup", { target })),
	/** Cancels the running backup of `target`; the run stops at its next safe point. */
	cancelBackup: (target: string) => typedError<Cancelled, ApiError>(__TAURI_INVOKE("cancel_backup", { target })),
	/** The runs of backups, newest first; only `target`'s when given. */
	listBackupRuns: (target: string | null) => typedError<RunRecord[], ApiError>(__TAURI_INVOKE("list_backup_runs", { target })),
	/** The backups kept at `target`, newest first. */
	listBackups: (target: string) => typedError<BackupInfo[], ApiError>(__TAURI_INVOKE("list_backups", { target })),
	/** What one backup at `target` holds: its projects and their sizes. */
	getBackupContents: (target: string, backup: string) => typedError<BackupContents, ApiError>(__TAURI_INVOKE("get_backup_contents", { target, backup })),
	restoreBackup: (target: string, backup: string, project: string | null, destination: string, jobId: string, onProgress: Channel<Progress>) => typedError<BackupRestoreReport, ApiError>(__TAURI_INVOKE("restore_backup", { target, backup, project, destination, jobId, onProgress })),
	/** What a restore would write where, before it runs. */
	previewBackupRestore: (target: string, backup: string, project: string | null, destination: string) => typedError<RestorePreview, ApiError>(__TAURI_INVOKE("preview_backup_restore", { target, backup, project, destination })),
	/**
	 * The environment variables a target reads its secrets from, for the target form. It
	 * cannot fail, but answers a `Result` like every other command, so the UI calls it
	 * like the rest.
	 */
	getBackupSecretVariables: (name: string, kind: LocationKind, encrypt: boolean) => typedError<SecretVariable[], ApiError>(__TAURI_INVOKE("get_backup_secret_variables", { name, kind, encrypt })),
	/** Verifies the backups at `target`, as thoroughly as `mode` says. */
	verifyBackups: (target: string, mode: VerifyMode, jobId: string, onProgress: Channel<Progress>) => typedError<BackupVerifyReport, ApiError>(__TAURI_INVOKE("verify_backups", { target, mode, jobId, onProgress })),
	pruneBackups: (target: string, dryRun: boolean, jobId: string, onProgress: Channel<Progress>) => typedError<PruneReport, ApiError>(__TAURI_INVOKE("prune_backups", { target, dryRun, jobId, onProgress })),
	/** Pauses scheduled backups for `length`, or resumes them when `length` is `None`. */
	pauseBackups: (length: PauseLength | null) => typedError<null, ApiError>(__TAURI_INVOKE("pause_backups", { length })),
	/**
	 * The collections of records of a project (or of the vault), with how many records each
	 * holds, the fields it indexes and whether a schema checks it.
	 */
	recordCollections: (project: string | null) => typedError<CollectionInfo[], ApiError>(__TAURI_INVOKE("record_collections", { project })),
	/**
	 * Finds records by their fields: equality, ranges, prefixes and existence, sorted, a page
	 * at a time (follow `next` as `cursor`). Without conditions it lists the collection by key.
	 */
	recordQuery: (project: string | null, collection: string, query: RecordQuery) => typedError<RecordPage, ApiError>(__TAURI_INVOKE("record_query", { project, collection, query })),
	/**
	 * One record: its JSON `value`, its revision `rev` (pass it as `if_rev` to change it safely)
	 * and its times (ms since the epoch).
	 */
	recordGet: (project: string | null, collection: string, key: string) => typedError<StoredRecord, ApiError>(__TAURI_INVOKE("record_get", { project, collection, key })),
	/**
	 * Writes a JSON record under a key, to keep state beside a project: notes, task lists,
	 * decisions, settings. Use `if_rev` so that two writers never overwrite each other blindly.
	 * Answers the record with its new revision.
	 */
	recordPut: (project: string | null, put: RecordPut) => typedError<StoredRecord, ApiError>(__TAURI_INVOKE("record_put", { project, put })),
	/**
	 * Deletes a record for good: records have no versions, so nothing brings it back. Answers
	 * whether there was one to delete.
	 */
	recordDelete: (project: string | null, del: RecordDelete) => typedError<Deleted, ApiError>(__TAURI_INVOKE("record_delete", { project, del })),
	/**
	 * Sets the fields a collection indexes and the JSON Schema its records must match (refused
	 * when a record already in it does not).
	 */
	recordConfigure: (project: string | null, collection: string, settings: CollectionSettings) => typedError<CollectionInfo, ApiError>(__TAURI_INVOKE("record_configure", { project, collection, settings })),
	/**
	 * Uploads a version of a project as a tar.zst to an S3 target and answers a download
	 * link that works without credentials until it expires (at most 7 days), with the
	 * share's id (to revoke it). The shared copy is not encrypted, even when the target
	 * encrypts its backups (`target_encrypted` says so): whoever has the link can read it.
	 */
	shareProject: (id: string, options: ShareOptions, jobId: string, onProgress: Channel<Progress>) => typedError<Share, ApiError>(__TAURI_INVOKE("share_project", { id, options, jobId, onProgress })),
	/**
	 * The shared links, newest first, each with its project, version, size, link, expiry
	 * and state (active, expired, revoked); only one project's when `project` is given.
	 */
	listShares: (project: string | null) => typedError<Share[], ApiError>(__TAURI_INVOKE("list_shares", { project })),
	/**
	 * Revokes a shared link: its copy at the target is deleted, so the link stops working
	 * at once. The version itself stays in the vault.
	 */
	revokeShare: (id: string) => typedError<Share, ApiError>(__TAURI_INVOKE("revoke_share", { id })),
	planCommand: (input: CommandInput) => typedError<CommandPlan, ApiError>(__TAURI_INVOKE("plan_command", { input })),
	/**
	 * What the window shows about the app itself: start at login, the tray, the vault's
	 * place, Settings › App.
	 */
	desktop: () => typedError<DesktopState, ApiError>(__TAURI_INVOKE("desktop")),
	/** Turns start at login on (this app, `--hidden`) or off. */
	setStartAtLogin: (on: boolean) => typedError<Autostart, ApiError>(__TAURI_INVOKE("set_start_at_login", { on })),
	/** Saves the theme, notifications and editor set in Settings › App; answers the state as saved. */
	setPreferences: (preferences: Preferences) => typedError<DesktopState, ApiError>(__TAURI_INVOKE("set_preferences", { preferences })),
	/** The answer to the first-run question, remembered so that it is asked once. */
	answerStartAtLogin: (start: boolean) => typedError<DesktopState, ApiError>(__TAURI_INVOKE("answer_start_at_login", { start })),
	/** The tray hint was read; it is not shown again. */
	dismissTrayHint: () => typedError<null, ApiError>(__TAURI_INVOKE("dismiss_tray_hint")),
	/** The last `lines` lines of the app's newest log, and where the logs are. */
	appLog: (lines: number) => typedError<LogTail, ApiError>(__TAURI_INVOKE("app_log", { lines })),
	/**
	 * Opens a project's folder in the file manager, the person's editor or a terminal (found by
	 * the rules of [`kura_api::opener`]); answers the program's name.
	 */
	openProjectWith: (id: string, program: OpenWith) => typedError<string, ApiError>(__TAURI_INVOKE("open_project_with", { id, program })),
	/** Opens the log folder in the file manager. */
	openLogFolder: () => typedError<null, ApiError>(__TAURI_INVOKE("open_log_folder")),
	/**
	 * Opens the vault at `path` (a folder the person picked, or the configured one with `create`:
	 * its missing parent folders made first), remembers it, and starts it in this window.
	 */
	openVaultFolder: (path: string, create: boolean) => typedError<AppInfo, ApiError>(__TAURI_INVOKE("open_vault_folder", { path, create })),
	/** Quits Kura (where there is no tray, closing the window only minimizes it). */
	quit: () => typedError<null, ApiError>(__TAURI_INVOKE("quit")),
};

/** Events */
export const events = {
	backupStatusChanged: event<BackupStatusChanged>("backup-status-changed"),
	recordsChanged: event<RecordsChanged>("records-changed"),
	vaultChanged: event<VaultChanged>("vault-changed"),
};

/* Constants */
export const SETTING_KEYS = ["paths.projects","storage.large_file_threshold","storage.binary_min_size","storage.chunk_extensions","storage.compression_level","storage.history_compression_level","storage.cache_size","snapshots.excludes","snapshots.honor_gitignore","snapshots.auto_snapshot","snapshots.quiet_period_secs","archive.archive_after_days","archive.compression_level","archive.threads","archive.unpack_max_ratio","archive.unpack_free_reserve","archive.cold_target","archive.keep_local_days","archive.local_cap","quota.max_project_size","quota.total_quota","cleanup.schedule","cleanup.trash_days","versions.keep_all_days","versions.hourly_days","versions.daily_days","network.connect_timeout_secs","network.io_timeout_secs","network.operation_timeout_secs"] as const;

/* Types */
/** An engine error, for a door. */
export type ApiError = {
	/** What kind of failure; switch on this. */
	code: ErrorCode,
	/** What happened, to what, and what to do. */
	message: string,
	/** What it is about (a field of the request, a project, a target), when that is known. */
	subject: Subject | null,
};

/** About the running Kura: its vault folder, version and settings file. */
export type AppInfo = {
	/** The vault folder. */
	vault: string,
	/** Kura's version. */
	version: string,
	/** Path of config.toml. */
	config_path: string,
};

/** How and when projects are archived, and the cold tier archives move to. */
export type ArchiveConfig = {
	/**
	 * Active projects not changed or opened for this many days are archived by cleanup
	 * (0: never).
	 */
	archive_after_days?: number,
	/** zstd level of archives (1–19). */
	compression_level?: number,
	/** zstd threads that compress an archive (0: one per core; at most 256). */
	threads?: number,
	/**
	 * An archive being imported or extracted may unpack to at most this many times its own
	 * size (sizes as its entries declare them, a sparse file at its full size; never less than
	 * 64 MiB); 0: no limit by ratio. Stops a small archive from filling the disk: an entry that
	 * would pass the limit is refused before a byte of it is written (`quota_exceeded`, exit
	 * status 6 from `kura`), and nothing of the unpack is kept.
	 */
	unpack_max_ratio?: number,
	/**
	 * An unpack must leave at least this much free space on the destination's disk; an entry
	 * that would not is refused before a byte of it is written (`disk_full`, exit status 7
	 * from `kura`), and nothing of the unpack is kept.
	 */
	unpack_free_reserve: ByteSize,
	/**
	 * The backup target (an S3 bucket, or a folder on another drive) that archives move to,
	 * the cold tier: each archive is uploaded and verified there, and the local file is dropped after
	 * `keep_local_days` (or sooner, oldest first, past `local_cap`). Empty: archives stay
	 * here only.
	 */
	cold_target?: string,
	/**
	 * Days an archive stays on this disk once its copy at `cold_target` is verified, counted
	 * from when it was made or last fetched back.
	 */
	keep_local_days?: number,
	/**
	 * Local archives with a verified copy at `cold_target` are dropped, the one here longest
	 * (since it was made or last fetched back) first, while all local archives together hold
	 * more than this; 0: no cap.
	 */
	local_cap: ByteSize,
};

/** One archive in the vault. */
export type ArchiveInfo = {
	/** Stable id (16 hex digits). */
	id: string,
	/** The project it holds. */
	project_id: string,
	/** The project's name when it was archived. */
	project_name: string,
	/** Its workspace then. */
	workspace: string,
	/** The `.tar.zst` file. */
	path: string,
	/** Bytes of the file. */
	size: number,
	/** Bytes inside it before compression (files, history, metadata, tar headers). */
	content_size: number,
	/** `content_size / size` (2.0 means half the size). */
	compression_ratio: number,
	/** Files of the working folder inside. */
	file_count: number,
	/** Versions in its history. */
	versions: number,
	/** SHA-256 of the file, hex (what `sha256sum` prints). */
	sha256: string,
	/** When it was made, seconds since the epoch. */
	created_at: number,
	/** False when the file is not on this disk (missing, or only in the cold tier). */
	present: boolean,
	/** The backup target holding a verified copy (the cold tier), if any. */
	cold_target: string | null,
};

/** An archived project to bring back. */
export type ArchiveReference = {
	/** The archived project's name or id, or an archive id (as the list of archives gives it). */
	archive: string,
};

/** What checking an archive found. */
export type ArchiveVerifyReport = {
	/** The archive checked. */
	archive: ArchiveInfo,
	/** The SHA-256 the file has now. */
	sha256: string,
	/** Entries read. */
	entries: number,
	/** Everything wrong; empty when the archive is sound. */
	problems: string[],
};

/** Which projects get automatic versions when their folder changes. */
export type AutoSnapshot =
	| "off"
	| "managed"
	| "all";

/** Whether Kura starts at login, read from its autostart entry. */
export type Autostart = {
	/** The entry exists, is not `Hidden=true` and not `X-GNOME-Autostart-enabled=false`. */
	enabled: boolean,
	/** Where the entry is (or would be). */
	entry: string,
	/** Its `Exec` line as written, when there is an entry. */
	exec: string | null,
	/** The program that line starts. */
	program: string | null,
};

/** A backup's summary and the projects in it (for the restore wizard). */
export type BackupContents = {
	/** The backup. */
	info: BackupInfo,
	/** Its projects. */
	projects: BackupProject[],
};

/** A backup, as listed. */
export type BackupInfo = {
	/** The backup's id (`20261121T020000Z-0000-1a2b`: its start time, a sequence number, random digits). */
	id: string,
	/** When the run started and ended (seconds since the epoch). */
	started: number,
	/** When the run ended. */
	finished: number,
	/** The machine it was taken on. */
	host: string,
	/** The vault folder it was taken from. */
	vault: string,
	/** Files (and links) in it. */
	files: number,
	/** Their total size. */
	bytes: number,
	/** Projects in it. */
	projects: number,
};

/** A project inside a backup. */
export type BackupProject = {
	/** The project's id. */
	id: string,
	/** Its name. */
	name: string,
	/** Its workspace. */
	workspace: string,
	/** Whether its folder was linked in place (outside the vault). */
	linked: boolean,
	/** active, archived or deleted (in the trash). */
	status: string,
	/** Its latest version (git commit), if any. */
	head: string | null,
	/** Bytes of its latest version. */
	logical_size: number,
	/** Files in its latest version. */
	file_count: number,
	/** Its working folder when the backup was taken. */
	path: string,
	/** Where its working folder is inside the backup (`vault/projects/site`, `folders/<id>`). */
	prefix: string,
};

/** What a restore did. */
export type BackupRestoreReport = {
	/** The backup restored from. */
	backup: string,
	/** Where it went. */
	destination: string,
	/** Files written. */
	files: number,
	/** Their bytes. */
	bytes: number,
	/** Projects restored (names). */
	projects: string[],
};

/** The state of backups at a glance: what the tray icon shows. */
export type BackupState =
	| "no_targets"
	| "ok"
	| "running"
	| "failed"
	| "overdue"
	| "paused";

/** Everything about backups, for the tray, the dashboard and the Backups view. */
export type BackupStatus = {
	/** The state at a glance. */
	state: BackupState,
	/** The pause in force, if any. */
	paused: Pause | null,
	/** Each target. */
	targets: TargetStatus[],
	/** When the last successful backup (any target) finished. */
	last_success: number | null,
	/** When the next scheduled backup (any target) is due. */
	next_run: number | null,
	/** What went wrong reading the state, if something did. */
	error: string | null,
};

/**
 * The backup status changed (a run started, progressed or ended, a target or the pause
 * changed).
 */
export type BackupStatusChanged = BackupStatus;

/** What verify found. */
export type BackupVerifyReport = {
	/** The target. */
	target: string,
	/** Backups checked. */
	backups: number,
	/** Packs at the target. */
	packs: number,
	/** Packs read back and checked. */
	packs_read: number,
	/** Bytes read back. */
	bytes_read: number,
	/** Problems; empty when all is well. */
	problems: VerifyProblem[],
};

/** A size in bytes, written as text: "64 MiB", "5 MB", "512k". KB, MB, GB and TB count in 1000s; KiB, MiB, GiB and TiB, and a bare letter (k, M, G, T), in 1024s; case does not matter, and a plain number is bytes. Kura writes a size back in the largest unit that holds it exactly. */
export type ByteSize = string;

/** Whether a running backup was asked to stop. */
export type Cancelled = {
	/** False when no backup of this target was running. */
	cancelled: boolean,
};

/** How a file differs between two versions. */
export type Change =
	| "added"
	| "modified"
	| "deleted";

/** Counts of files changed by a version, relative to its parent. */
export type ChangeCounts = {
	/** Files that are new. */
	added: number,
	/** Files whose content or mode changed. */
	modified: number,
	/** Files that are gone. */
	removed: number,
};

/** What cleanup may do. */
export type CleanupCategory =
	| "cache"
	| "trash"
	| "archive"
	| "versions"
	| "chunks";

/** One category of a run. */
export type CleanupCategoryReport = {
	/** Which category. */
	category: CleanupCategory,
	/** What went (or would go). */
	items: CleanupItem[],
	/** Bytes freed (estimated for a dry run). */
	bytes_freed: number,
};

/** When cleanup runs and what it purges. */
export type CleanupConfig = {
	/**
	 * When cleanup runs while the app is open, in local time, written as backup schedules are:
	 * "daily at 03:00", "weekly on sun at 04:00", "monthly on 1 at 03:00", "hourly at :15", or
	 * "cron <five fields>" ("cron 0 3 * * *"); empty or `off` for never.
	 */
	schedule?: string,
	/** Projects stay in the trash this many days before cleanup deletes them (0: never). */
	trash_days?: number,
};

/** One thing cleanup removed (or would remove). */
export type CleanupItem = {
	/** What it is, for people. */
	description: string,
	/** The project it belongs to, by name. */
	project: string | null,
	/** Bytes it frees (for a dry run, an estimate; 0 when it cannot be known beforehand). */
	bytes: number,
};

/** How to clean up. */
export type CleanupOptions = {
	/** List what would go; change nothing. */
	dry_run?: boolean,
	/** Only these categories; all when empty. */
	only?: CleanupCategory[],
};

/** What a cleanup run did. */
export type CleanupReport = {
	/** The run's id in the history of runs. */
	id: number,
	/** True for a dry run (nothing was changed). */
	dry_run: boolean,
	/** Seconds since the epoch. */
	started_at: number,
	/** Seconds since the epoch. */
	finished_at: number,
	/** Per category, in the order they ran. */
	categories: CleanupCategoryReport[],
	/** Bytes freed in all (estimated for a dry run). */
	bytes_freed: number,
};

/** What one pass of the cold tier did. */
export type ColdReport = {
	/** The target archives go to; empty when the cold tier is off. */
	target: string,
	/** Archives uploaded and verified this time (ids). */
	uploaded: string[],
	/** Archives whose local file was dropped (ids). */
	dropped: string[],
	/** Bytes freed on this disk. */
	bytes_freed: number,
};

/** A collection and how many records it holds. */
export type CollectionInfo = {
	name: string,
	records: number,
	indexes: string[],
	schema: Value,
};

/** What a collection indexes and checks. */
export type CollectionSettings = {
	indexes?: string[],
	schema?: { [key in string]: Value } | boolean | null,
};

/** What a command does, with the names it refers to resolved. */
export type CommandAction =
	/** Create a project (in the active workspace). */
	| { name: string; kind: "create_project" }
	/** Make a workspace the active one. */
	| { workspace: string; kind: "switch_workspace" }
	/** Take a version of a project. */
	| { project_id: string; project: string; kind: "snapshot" }
	/** Take a version of every project whose folder changed. */
	| { kind: "snapshot_changed" }
	/** Show a project's files. */
	| { project_id: string; project: string; kind: "list_files" }
	/** Open a project's page. */
	| { project_id: string; project: string; kind: "open_project" }
	/** Show where the space goes (the dashboard). */
	| { kind: "storage_status" }
	/** Back up now: to one target, or to every target. */
	| { target: string | null; kind: "back_up_now" }
	/** Archive a project (asks first, as the button does). */
	| { project_id: string; project: string; kind: "archive" }
	/** Bring an archived project back. */
	| { project_id: string; project: string; kind: "unarchive" }
	/** Move a project to the trash (asks first, as the button does). */
	| { project_id: string; project: string; kind: "trash" };

/** One way to go on typing: the whole text it would make, and what it names. */
export type CommandCompletion = {
	/** The command bar's text with this completion taken. */
	text: string,
	/** What it names, for the list ("snapshot PROJECT", "shop"). */
	label: string,
};

/** What to read a command's text in. */
export type CommandInput = {
	/** What was typed. */
	text: string,
	/**
	 * The project on screen (its id), which "snapshot" and "list files" mean when they name
	 * none.
	 */
	project?: string | null,
};

/** What a typed command would do. */
export type CommandPlan = {
	/**
	 * Whether the text starts with a command's words; otherwise it is a search (which may
	 * still get `completions`: the commands its first letters could become).
	 */
	is_command: boolean,
	/** The action, when the text names one completely. */
	action: CommandAction | null,
	/** What will happen ("Take a version of shop"), or what is still to type. */
	preview: string,
	/** Why it cannot run as typed ("no project named 'shp' in workspace 'default'"). */
	problem: string | null,
	/** Whether it asks before it runs, as its button does. */
	confirm: boolean,
	/** Ways to go on typing, best first. */
	completions: CommandCompletion[],
};

/** All of Kura's settings. Missing keys take their defaults. */
export type Config = {
	/** Where files live. */
	paths: PathsConfig,
	/** The layer rules: which files go to git and which to the chunk store. */
	storage: StorageConfig,
	/** What snapshots include. */
	snapshots: SnapshotConfig,
	/** The archiver. */
	archive: ArchiveConfig,
	/** Size limits. */
	quota: QuotaConfig,
	/** Cleanup: when it runs and how long the trash is kept. */
	cleanup: CleanupConfig,
	/** Which automatic versions cleanup keeps. */
	versions: RetentionConfig,
	/** How long network calls (S3 backup targets) may wait before the target counts as down. */
	network: NetworkConfig,
};

/** What a delete of records found, whichever door asked. */
export type Deleted = {
	/** Whether there was a record (for a whole collection: always). */
	existed: boolean,
	/** How many records went. */
	records: number,
};

/** What the window shows about the app itself. */
export type DesktopState = {
	/** Whether Kura starts at login (read from the autostart entry). */
	autostart: Autostart,
	/** The first-run question (start at login?) is still to be asked. */
	ask_start_at_login: boolean,
	/** A tray icon can be seen; without one, closing the window minimizes it. */
	tray: boolean,
	/** Say, once, how to get a tray. */
	show_tray_hint: boolean,
	/** Where the vault is (for the screen shown when it cannot be opened). */
	vault: VaultPlace,
	/** Theme, notifications and editor, as set in Settings › App. */
	preferences: Preferences,
	/** The editors to choose from. */
	editors: EditorChoices,
};

/** The difference between two versions. */
export type Diff = {
	/** The older version's id. */
	from: string,
	/** The newer version's id. */
	to: string,
	/** Counts by kind of change. */
	changes: ChangeCounts,
	/** The changed files, by path. */
	files: FileDiff[],
};

/** Two versions of a project to compare. */
export type DiffRequest = {
	/** The older version: an id, a unique prefix of one, `latest` or `latest~N`. */
	from: string,
	/** The newer version (default: `latest`). */
	to?: string | null,
	/** Only this file or folder. */
	path?: string | null,
	/** Only the list of changed files, without the line-by-line patches. */
	stat_only?: boolean,
};

/** An editor Settings › App offers. */
export type Editor = {
	/** What app.toml's `editor` holds for it. */
	command: string,
	/** Its name, for people. */
	name: string,
};

/** The editors to choose from in Settings › App, and what "automatic" opens now. */
export type EditorChoices = {
	/**
	 * The program the rules pick without a choice (`$VISUAL`, `$EDITOR`, the first editor
	 * found, else the default application for folders), by its name.
	 */
	automatic: string,
	/** The editors with a window installed here. */
	installed: Editor[],
};

/**
 * What went wrong, in terms a caller can act on: the stable machine-readable code every door
 * (the CLI, the desktop app, HTTP, MCP) gives with an error.
 */
export type ErrorCode =
	| "not_found"
	| "invalid_input"
	| "already_exists"
	| "conflict"
	| "path_escape"
	| "quota_exceeded"
	| "disk_full"
	| "corrupt"
	| "busy"
	| "cancelled"
	| "io"
	| "internal"
	| "unavailable"
	| "wrong_passphrase";

/** What extracting an archive wrote. */
export type ExtractReport = {
	/** The archive file. */
	archive: string,
	/** Where it went. */
	dest: string,
	/** Files written. */
	files: number,
	/** Their bytes. */
	bytes: number,
};

/** One changed file. */
export type FileDiff = {
	/** Path inside the project. */
	path: string,
	/** What changed. */
	change: Change,
	/** Size in the older version. */
	old_size: number | null,
	/** Size in the newer version. */
	new_size: number | null,
	/** True when either side is not text (no line diff then). */
	binary: boolean,
	/** Unified diff of the lines, when asked for and both sides are text. */
	patch: string | null,
};

/** A file of a project, as listed. */
export type FileEntry = {
	/** Path inside the project, `/`-separated. */
	path: string,
	/** Size in bytes. */
	size: number,
	/** A short type from the name: the extension in lower case, or "link", or "" for none. */
	file_type: string,
	/** The layer holding it in the latest version (`None` for files not stored yet). */
	layer: Layer | null,
	/** The version in which it last changed. */
	last_version: string | null,
	/** Compared with the latest version. */
	state: FileState,
	/** Last modification, seconds since the epoch (`None` for deleted files). */
	modified_at: number | null,
};

/** A file's content prepared for showing. */
export type FilePreview = {
	/** What it is. */
	kind: PreviewKind,
	/** Its size in bytes. */
	size: number,
	/** The text, for text files. */
	text: string | null,
	/** `data:<mime>;base64,...` for images. */
	data_url: string | null,
	/** A language name for highlighting, from the file type ("rust", "typescript", ...). */
	language: string | null,
};

/** How a file in the folder compares with the latest version. */
export type FileState =
	| "unchanged"
	| "modified"
	| "new"
	| "deleted";

/** One changed file in the folder's own repository. */
export type FolderGitChange = {
	/** Path inside the folder. */
	path: string,
	/** Two letters like `git status --porcelain`: index then work tree (`M`, `A`, `D`, `R`, `?`). */
	status: string,
};

/** A commit of the folder's own repository. */
export type FolderGitCommit = {
	/** Commit id. */
	id: string,
	/** First line of the message. */
	summary: string,
	/** "name <email>". */
	author: string,
	/** Seconds since the epoch. */
	time: number,
};

/** The state of the git repository in a project's folder. */
export type FolderGitStatus = {
	/** The checked-out branch (`None` when detached or before the first commit). */
	branch: string | null,
	/** The commit checked out. */
	head: string | null,
	/** Changed, new and deleted files, as `git status --porcelain` would list them. */
	changes: FolderGitChange[],
};

/** What `gc` freed. */
export type GcReport = {
	/** Chunks no version referenced any more. */
	chunks_removed: number,
	/** Pack files deleted. */
	packs_deleted: number,
	/** Pack files rewritten without their dead chunks. */
	packs_rewritten: number,
	/** Bytes freed on disk (chunks, and histories rewritten with deltas). */
	bytes_freed: number,
	/** Project histories rewritten into one delta-compressed pack. */
	histories_repacked: number,
	/** The part of `bytes_freed` the rewritten histories gave back. */
	history_bytes_freed: number,
};

/** How a target is doing. */
export type HealthState =
	| "ok"
	| "unavailable"
	| "failing"
	| "unhealthy";

/** How to import an archive file. */
export type ImportArchiveOptions = {
	/** Name; else the archived project's name, the archive's single top folder, or the file name. */
	name?: string | null,
	/** Workspace; the active one when `None`. */
	workspace?: string | null,
	/** Project kind; `imported` when `None` (a Kura archive keeps its own). */
	kind?: string | null,
};

/** How to import a folder. */
export type ImportOptions = {
	/** Name; the folder's name when `None`. */
	name?: string | null,
	/** Workspace; the active one when `None`. */
	workspace?: string | null,
	/** Track the folder in place instead of copying it into the vault. */
	link?: boolean,
	/** Project kind; `imported` when `None`. */
	kind?: string | null,
};

/** What an import did: the new project, and what of the folder its first version does not hold. */
export type ImportReport = {
	/** The new project. */
	project: Project,
	/**
	 * What was left out, and why: files that could not be read (a copy leaves them out; a
	 * linked folder keeps them, unversioned), folders that could not be read, and names no
	 * restore could write back. Empty when the first version holds the whole folder.
	 */
	skipped: SkippedFile[],
};

/** One of the largest files. */
export type LargeFile = {
	/** Project name. */
	project: string,
	/** Path inside it. */
	path: string,
	/** Bytes. */
	size: number,
	/** "git" or "chunks". */
	layer: string,
};

/** Which storage layer holds a file. */
export type Layer =
	| "git"
	| "chunks";

/** Usage of one storage layer. */
export type LayerUsage = {
	/**
	 * "files" (the project folders), "git" (histories), "chunks" (large files), "archives",
	 * "catalog" (the catalog and the chunk store's index) or "other" (settings, templates,
	 * spare files, locks).
	 */
	layer: string,
	/** Files of the latest versions held in it (for archives: how many; 0 for the rest). */
	files: number,
	/** Bytes of those files (0 for archives, catalog and other). */
	logical_bytes: number,
	/** Bytes it takes on disk: its share of [`Stats::on_disk_bytes`]. */
	on_disk_bytes: number,
};

/** Where a target's repository lives. */
export type Location =
	/** A local folder, an external drive included. */
	| { path: string; kind: "folder" }
	/** An S3-compatible bucket. */
	| { endpoint: string; region: string; bucket: string; prefix?: string; path_style?: boolean; kind: "s3" };

/** The kind of place a target's repository lives in, which decides the secrets it needs. */
export type LocationKind =
	| "folder"
	| "s3";

/** The end of a log, for `kura logs` and the app's log view. */
export type LogTail = {
	/** The log folder. */
	folder: string,
	/** The log files there, oldest first. */
	files: string[],
	/** The newest of them (of the program asked for), when there is one. */
	file: string | null,
	/** Its last lines, oldest first. */
	lines: string[],
};

/** One key of a project's metadata, set or removed. */
export type MetadataChange = {
	key: string,
	/** The new value; `null` removes the key. */
	value?: string | null,
};

/**
 * Time limits of every call to a backup target, so that a server that accepts connections and
 * then goes silent makes the command end `unavailable` instead of hanging.
 */
export type NetworkConfig = {
	/** Seconds to wait for a target to accept a connection (1–86400). */
	connect_timeout_secs?: number,
	/**
	 * Seconds a request may go without a byte moving either way (sent or received) before the
	 * target counts as silent: a server that accepts connections and never answers, or stops
	 * in the middle of an upload (1–86400).
	 */
	io_timeout_secs?: number,
	/**
	 * Seconds one request may take in all (a whole pack upload or download, and an upload's
	 * retries after the first failure); raise it on very slow links. At least
	 * `io_timeout_secs`, at most 86400.
	 */
	operation_timeout_secs?: number,
};

/** What to create. */
export type NewProject = {
	/** Name, unique in its workspace (required). */
	name: string,
	/** Workspace; the active one when `None`. */
	workspace?: string | null,
	/** Built-in (`empty`, `backend`, `frontend`, `fullstack`) or saved template; `empty` when `None`. */
	template?: string | null,
	/** Project kind; `manual` when `None` (`imported` for imports). */
	kind?: string | null,
	/** Description. */
	description?: string,
	tags?: string[],
};

/**
 * Which desktop notifications are shown; each is shown once per change of state (see the
 * `*.health` events).
 */
export type Notifications = {
	/** A backup target starts failing, or works again. */
	backups?: boolean,
	/** An automatic version could not be made, or is made again. */
	automatic_versions?: boolean,
	/** The vault's disk has less free than Kura keeps free, or has enough again. */
	disk_space?: boolean,
	/** A quota is reached, or is no longer. */
	quotas?: boolean,
};

/** What to open a project's folder with. */
export type OpenWith =
	| "folder"
	| "editor"
	| "terminal";

/** Folders used by the vault. */
export type PathsConfig = {
	/** Folder where the folders of managed projects are created; unset: `<vault>/projects`. */
	projects?: string | null,
};

/** A pause of scheduled work. */
export type Pause = {
	/** When the pause ends by itself (Unix seconds); `None` when it lasts until resumed. */
	until: number | null,
};

/** How long scheduled work is paused for. */
export type PauseLength =
	| "one_hour"
	| "until_tomorrow"
	| "until_resumed";

/** What a person sets for the app in Settings › App. */
export type Preferences = {
	/** Light, dark, or as the system says. */
	theme?: Theme,
	/** Which desktop notifications are shown. */
	notifications?: Notifications,
	/**
	 * The editor "Open in editor" starts: a program on `PATH` or a full path, with its own
	 * arguments (`code`, `idea`, `/opt/zed/bin/zed`), or `system` for the desktop's default
	 * application for folders; `None`: found by the rules of [`crate::opener`].
	 */
	editor?: string | null,
};

/** What a preview holds. */
export type PreviewKind =
	| "text"
	| "image"
	| "binary"
	| "too_large";

/** One problem found by `verify`. */
export type Problem = {
	/** Which part of the vault: "catalog", "history", "chunks" or "records". */
	area: string,
	/** The project affected, by name. */
	project: string | null,
	/** The versions affected (short ids). */
	versions: string[],
	/** The files affected. */
	paths: string[],
	/** What is wrong. */
	message: string,
};

/** One progress update. */
export type Progress = {
	/** What is happening: "scanning", "storing", "writing", "verifying", ... */
	phase: string,
	/** Units done so far. */
	done: number,
	/** Units in all, when known. */
	total: number | null,
	/** What the units are: "bytes", or what is counted ("files", "packs", "backups"...). */
	unit: string,
	/** The item being worked on, when there is one. */
	item: string | null,
};

/** A project and its metadata. */
export type Project = {
	/** Stable id. */
	id: string,
	/** Name, unique within its workspace. */
	name: string,
	/** The workspace it belongs to. */
	workspace: string,
	/** What kind of project: generation, migration, imported, manual, ... */
	kind: string,
	/** Free text. */
	description: string,
	/** Active, archived or deleted (in the trash). */
	status: ProjectStatus,
	/** True when Kura tracks an existing folder in place rather than its own managed folder. */
	linked: boolean,
	/** The working folder. */
	path: string,
	/** The git remote its history is pushed to, if any. */
	git_remote: string | null,
	/** Languages detected from its files. */
	languages: string[],
	/** Frameworks detected from its manifests. */
	frameworks: string[],
	/** Tags given by people or agents. */
	tags: string[],
	/** Free key/value metadata. */
	metadata: { [key in string]: string },
	/** Seconds since the epoch. */
	created_at: number,
	/** Last change (metadata or a new version). */
	updated_at: number,
	/** Last time it was opened in the app or CLI. */
	last_opened_at: number | null,
	/** When it was moved to the trash. */
	deleted_at: number | null,
	/** Bytes of its files in the latest version. */
	logical_size: number,
	/** Bytes its history and chunks take on disk. */
	stored_size: number,
	/** Files in the latest version. */
	file_count: number,
	/** The latest version's id (a git commit id). */
	head: string | null,
};

/** What to change in a project; absent fields stay as they are. */
export type ProjectEdit = {
	/** A new name, free in the project's (new) workspace. */
	name?: string | null,
	/** Move it to this workspace. */
	workspace?: string | null,
	/** A new description. */
	description?: string | null,
	/** A new kind. */
	kind?: string | null,
	/** The git remote URL (`""` clears it). */
	git_remote?: string | null,
};

/**
 * Which projects to list; filters combine (all must match), and absent ones do not filter. The
 * desktop app and the MCP tool take this; the HTTP door reads its query into it.
 */
export type ProjectFilter = {
	/** Only this workspace; the active one when absent (unless `all_workspaces`). */
	workspace?: string | null,
	/** List projects of every workspace. */
	all_workspaces?: boolean,
	/** Only projects in this state; when absent, active and archived (not the trash). */
	status?: ProjectStatus | null,
	/** Has this language (e.g. "rust", "typescript"). */
	language?: string | null,
	/** Uses this framework (e.g. "svelte", "axum"). */
	framework?: string | null,
	/** Has every one of these tags. */
	tags?: string[],
	/** At least this many bytes. */
	min_size?: number | null,
	/** At most this many bytes. */
	max_size?: number | null,
	/** Changed at or after this time (seconds since the Unix epoch). */
	updated_since?: number | null,
	/** Changed before this time. */
	updated_before?: number | null,
	/** Text found in the name, description or tags (case-insensitive). */
	text?: string | null,
	/**
	 * Metadata conditions, each `[key, value]`: the key equal to the value, or only present
	 * when the value is null.
	 */
	metadata?: [string, string | null][],
	/** Order: name (default), size (largest first), updated or created (newest first). */
	sort?: ProjectSort,
	/** At most this many projects. */
	limit?: number | null,
};

/** How to sort a project list. */
export type ProjectSort =
	| "name"
	| "size"
	| "updated"
	| "created";

/** Where a project is in its life. */
export type ProjectStatus =
	| "active"
	| "archived"
	| "deleted";

/** What prune did (or would do, with `dry_run`). */
export type PruneReport = {
	/** The target. */
	target: string,
	/** Backups kept. */
	kept: string[],
	/** Backups removed. */
	removed: string[],
	/** Packs deleted. */
	packs_deleted: number,
	/** Bytes those packs took. */
	bytes_freed: number,
	/** Whether nothing was actually deleted. */
	dry_run: boolean,
};

/** Size limits; 0 means no limit. */
export type QuotaConfig = {
	/**
	 * Largest a project's files may grow. Saving or uploading files, creating a project from a
	 * template, importing and unarchiving are refused before a byte is written when they would
	 * pass it (`quota_exceeded`, exit status 6 from `kura`); `kura quota` and the app warn at
	 * 80% and 90%.
	 */
	max_project_size: ByteSize,
	/**
	 * Most the whole vault may hold: the active projects' files plus what every project's
	 * versions and archives take on disk. Writes that would pass it are refused as for
	 * `max_project_size`; a snapshot never is, since it records what is already on disk.
	 */
	total_quota: ByteSize,
};

/** How close a usage is to its limit. */
export type QuotaLevel =
	| "ok"
	| "warning80"
	| "warning90"
	| "exceeded";

/** Usage against the quotas: the vault's, and every active project's. */
export type QuotaStatus = {
	/** The vault against `quota.total_quota`. */
	total: QuotaUsage,
	/** Each active project against `quota.max_project_size`, largest first. */
	projects: QuotaUsage[],
	/** A sentence for every usage at 80% or more, for people. */
	warnings: string[],
};

/** One usage against one limit. */
export type QuotaUsage = {
	/** The project's id, for a project's usage; `None` for the vault's. */
	project_id: string | null,
	/** The project's name (or "vault"). */
	name: string,
	/** Bytes used. */
	used: number,
	/** The limit in bytes; 0 for none. */
	limit: number,
	/** `used / limit` (0 without a limit). */
	fraction: number,
	/** Ok, warning at 80% or 90%, exceeded. */
	level: QuotaLevel,
};

/**
 * An upload limit: bytes per second, or the text a person typed ("5 MiB/s", "512 KiB"), which
 * the engine reads when it checks the target and keeps as bytes per second.
 */
export type Rate =
	/** Bytes per second. */
	| number
	/** As people write it; empty is no limit. */
	| string;

/** One record. */
export type StoredRecord = {
	collection: string,
	key: string,
	/** The revision of its last write: pass it as `if_rev` to change it only if nobody else has. */
	rev: number,
	/** The document. */
	value: Value,
	/** When it was first written, in milliseconds since the Unix epoch. */
	created: number,
	/** When it was last written (ms). */
	updated: number,
	/** When it expires (ms), if it does. */
	expires: number | null,
};

/** A delete of one record. */
export type RecordDelete = {
	/** The collection. */
	collection: string,
	/** The record's key in its collection: at most 512 bytes, no control characters. */
	key: string,
	/** Delete only if the record is at this revision now. */
	if_rev?: number | null,
};

/**
 * One condition on a field; the comparisons given all have to hold (`gte` and `lt` together make
 * a range).
 */
export type RecordFilter = {
	/** The field: `status`, `owner.name`, `tags[0]` (a leading `$.` is allowed). */
	field: string,
	/** Equal to this string, number, boolean or `null`. */
	eq?: Value,
	/** Greater than this number or string. */
	gt?: Value,
	/** Greater than or equal to this number or string. */
	gte?: Value,
	/** Less than this number or string. */
	lt?: Value,
	/** Less than or equal to this number or string. */
	lte?: Value,
	/** A string that starts with this. */
	prefix?: string | null,
	/** `true`: the field is present (even as `null`); `false`: it is absent. */
	exists?: boolean | null,
};

/** A page of records. */
export type RecordPage = {
	records: StoredRecord[],
	/** Pass as `cursor` for the next page; absent on the last one. */
	next: string | null,
};

/** A write of one record. */
export type RecordPut = {
	/** The collection (created on its first record). */
	collection: string,
	/** The record's key in its collection: at most 512 bytes, no control characters. */
	key: string,
	/** The record: any JSON value. */
	value: Value,
	/** Write only if the record is at this revision now (`0`: only if it does not exist). */
	if_rev?: number | null,
	/** Expire the record this many seconds after the write. */
	ttl_secs?: number | null,
};

/** What to find in a collection. */
export type RecordQuery = {
	/** Conditions that all have to hold. */
	where?: RecordFilter[],
	/** Only keys that start with this. */
	key_prefix?: string | null,
	/** Sort by this field (records without it first); by key when absent. */
	sort?: string | null,
	/** Sort from the highest value down. */
	desc?: boolean,
	/** At most this many records (default 100, at most 1000). */
	limit?: number | null,
	/** Where the previous page ended (its `next`). */
	cursor?: string | null,
};

/**
 * Records of a project (or of the vault) were written or deleted; a Records view showing them
 * reloads.
 */
export type RecordsChanged = {
	/** The project whose records changed, or `None` for the vault's own. */
	project_id: string | null,
	/** The collection. */
	collection: string,
};

/**
 * What restoring a project to a version will do to its folder, worked out before it runs: the
 * same choice of files [`Vault::restore_project`] makes.
 */
export type RestorePlan = {
	/** The version the folder will match. */
	version: string,
	/** Files that will be written (created or overwritten) with the version's content. */
	write: string[],
	/** Files that will be removed because the version does not have them. */
	remove: string[],
	/** Changes in the folder not in any version yet; the version taken first keeps them. */
	unsaved: number,
};

/** What a restore would write where, before it runs. */
export type RestorePreview = {
	/** A whole vault (every project), not one project's folder. */
	whole: boolean,
	/** Where it goes. */
	destination: string,
	rows: RestoreRow[],
	files: number,
	bytes: number,
};

/** What an export or restore wrote. */
export type RestoreReport = {
	/** The version whose files were written. */
	version: string,
	/** Files written. */
	files_written: number,
	/** Bytes written. */
	bytes_written: number,
	/** Files removed (restore in place only). */
	files_removed: number,
	/** The version taken of the state before the restore, if it differed from the latest. */
	safety_version: Version | null,
};

/** A version to restore a project's folder to, or one file of it. */
export type RestoreRequest = {
	/** The version: an id, a unique prefix of one, `latest` or `latest~N`. */
	version: string,
	/**
	 * Restore only this file (relative to the project folder, with `/`); the whole folder when
	 * absent.
	 */
	path?: string | null,
};

/** One project of a restore preview. */
export type RestoreRow = {
	id: string,
	name: string,
	workspace: string,
	status: string,
	/** The folder its files go to. */
	to: string,
	files: number,
	bytes: number,
};

/** Which backups `prune` keeps. A backup is kept when any rule keeps it; all zero keeps all. */
export type Retention = {
	/** The newest N backups. */
	keep_last?: number,
	/** The newest backup of each of the last N hours that have one. */
	hourly?: number,
	/** ... of each of the last N days. */
	daily?: number,
	/** ... of each of the last N ISO weeks. */
	weekly?: number,
	/** ... of each of the last N months. */
	monthly?: number,
	/**
	 * Backups older than this many days are removed whatever the other rules say (the newest
	 * backup is always kept); 0: no age limit.
	 */
	retention_days?: number,
};

/**
 * The retention rule for automatic versions: every one for `keep_all_days`, then the newest of
 * each hour until `hourly_days`, of each day until `daily_days`, of each week after that.
 * Manual versions (and those taken before a restore or an archive, or by the API) and each
 * project's latest version are always kept.
 */
export type RetentionConfig = {
	/** Keep every automatic version this many days. */
	keep_all_days?: number,
	/** Then the newest of each hour up to this age in days (at least `keep_all_days`). */
	hourly_days?: number,
	/**
	 * Then the newest of each day up to this age in days (at least `hourly_days`); the newest
	 * of each week after.
	 */
	daily_days?: number,
};

/** One backup run, for the timeline. */
export type RunRecord = {
	/** The run's id. */
	id: string,
	/** The target's name. */
	target: string,
	/** When it started (seconds since the epoch). */
	started: number,
	/** When it ended. */
	finished: number | null,
	/** How it ended. */
	result: RunResult,
	/** The backup it wrote. */
	backup_id: string | null,
	/** Files in the backup. */
	files: number,
	/** Bytes read from disk (unchanged files are not read again). */
	bytes_read: number,
	/** Bytes uploaded (packs, indexes, the manifest). */
	bytes_sent: number,
	/** Blobs the target did not hold before. */
	new_blobs: number,
	/** The error's code (`unavailable`, `disk_full`, ...), when it failed. */
	error_code: string | null,
	/** The error's message. */
	error: string | null,
};

/** What happened to a run. */
export type RunResult =
	| "running"
	| "ok"
	| "failed"
	| "unavailable"
	| "cancelled"
	| "interrupted";

/**
 * An environment variable a target reads a secret from, when its secrets are not in the OS
 * keyring.
 */
export type SecretVariable = {
	/** Its name: `KURA_BACKUP_<TARGET>_<KIND>`. */
	variable: string,
	/** The secret it holds, in words. */
	what: string,
	/** The variable read when it is not set (`AWS_ACCESS_KEY_ID`, ...), if any. */
	alternative: string | null,
};

/** A shared link. */
export type Share = {
	/** Its id. */
	id: string,
	/** The target holding the shared copy. */
	target: string,
	/** The project's id. */
	project_id: string,
	/** The project's name when it was shared. */
	project_name: string,
	/** The version shared. */
	version: string,
	/** The name the download is saved under (`site-1a2b3c4d5e.tar.zst`). */
	file_name: string,
	/** Bytes of the shared copy. */
	size: number,
	/** The download link (works without credentials until `expires`). */
	url: string,
	/** When it was shared (seconds since the epoch). */
	created: number,
	/** When the link stops working. */
	expires: number,
	/** When it was revoked. */
	revoked: number | null,
	/** Whether the link works now. */
	state: ShareState,
	/** Whether the target encrypts its backups: the shared copy is not encrypted. */
	target_encrypted: boolean,
};

/**
 * What to share of a project, and for how long: the HTTP request body, the MCP tool's
 * arguments beside the project, and the desktop command's input.
 */
export type ShareOptions = {
	/** The version (an id or a prefix of one); the latest when absent. */
	version?: string | null,
	/** The S3 target the shared copy goes to. */
	target: string,
	/** How long the link works: "30m", "24h", "7d" (at most 7 days). */
	expires: string,
};

/** Whether a link still works. */
export type ShareState =
	| "active"
	| "expired"
	| "revoked";

/** A file that could not be taken in, and why. */
export type SkippedFile = {
	/** Path relative to the project folder (lossy for names that are not UTF-8). */
	path: string,
	/** Why it was skipped. */
	reason: string,
};

/** What a snapshot takes in, and when the desktop app takes one by itself. */
export type SnapshotConfig = {
	/**
	 * Extra exclude patterns (gitignore syntax) applied to every project, on top of each
	 * project's `.gitignore` and `.kuraignore`.
	 */
	excludes?: string[],
	/** Whether `.gitignore` files are honoured. */
	honor_gitignore?: boolean,
	/**
	 * Which projects the desktop app versions automatically when their folder changes: `off`
	 * (none), `managed` (projects whose folder Kura manages, not linked ones) or `all` (every
	 * active project).
	 */
	auto_snapshot: AutoSnapshot,
	/** Seconds a folder must stay quiet before an automatic version is taken (1–86400). */
	quiet_period_secs?: number,
};

/** What a snapshot did. */
export type SnapshotReport = {
	/** The project's id. */
	project_id: string,
	/** The new version, or `None` when nothing had changed. */
	version: Version | null,
	/** Files added, modified, removed since the previous version. */
	changes: ChangeCounts,
	/** Files in the folder's current state. */
	files: number,
	/** Their bytes. */
	size: number,
	/** Files actually read (the rest were known unchanged). */
	files_read: number,
	/** Bytes actually read. */
	bytes_read: number,
	/** New bytes added to the chunk store (after dedup and compression). */
	new_chunk_bytes: number,
	/**
	 * Files that could not be read (their previous content, if any, was kept), and files and
	 * folders whose names no restore could write back (not taken in).
	 */
	skipped: SkippedFile[],
};

/** What to say about a new version. */
export type SnapshotRequest = {
	/** What this version is (like a commit message); a default one is written when omitted. */
	message?: string | null,
	/**
	 * Who made it: "Name <email>" or a name (default: the person's git identity; for an MCP
	 * client, its name with the person's email).
	 */
	author?: string | null,
	/** Make a version even if nothing changed. */
	allow_empty?: boolean,
};

/** The whole picture. */
export type Stats = {
	/** The vault folder. */
	vault: string,
	/**
	 * The projects folder when it is configured outside the vault folder (its files count in
	 * `on_disk_bytes` and in the "files" layer); `None` when it is inside.
	 */
	projects_folder: string | null,
	/** Projects by status. */
	projects: StatusCounts,
	/**
	 * What the vault takes on disk, all of it: every file under the vault folder, plus the
	 * projects folder when it is elsewhere. The layers add up to it.
	 */
	on_disk_bytes: number,
	/** What the latest versions hold: the content size of every project's latest version. */
	latest_bytes: number,
	/** Versions kept in histories (archived projects' are in their archives). */
	versions: number,
	/** What those versions would take as plain, uncompressed copies of their files. */
	all_versions_bytes: number,
	/** What they take on disk: the histories and chunks that hold them. */
	versions_on_disk_bytes: number,
	/**
	 * What dedup and compression saved: `all_versions_bytes - versions_on_disk_bytes`, or 0
	 * when the versions take more than plain copies would (a small vault's overhead).
	 */
	saved_bytes: number,
	/** Per layer, adding up to `on_disk_bytes`. */
	layers: LayerUsage[],
	/** Per workspace. */
	workspaces: Usage[],
	/**
	 * The largest projects by stored bytes, largest first (at most [`Stats::TOP_PROJECTS`];
	 * `workspaces` holds the totals the rest make up).
	 */
	projects_usage: Usage[],
	/** Per file type, largest first (top 20). */
	file_types: TypeUsage[],
	/** The largest files (top 20). */
	largest_files: LargeFile[],
	/** Free bytes on the vault's disk. */
	disk_free_bytes: number,
	/** Size of the vault's disk. */
	disk_total_bytes: number,
	/** Usage over time (up to 365 samples, oldest first). */
	growth: UsageSample[],
	/** Usage against the quotas, with warnings at 80% and 90%. */
	quota: QuotaStatus,
};

/** Projects by status. */
export type StatusCounts = {
	/** In use. */
	active: number,
	/** Archived. */
	archived: number,
	/** In the trash. */
	deleted: number,
};

/**
 * Which files go to git and which to the chunk store (the layer rules), and how each is
 * compressed.
 */
export type StorageConfig = {
	/**
	 * Files at least this big go to the chunk store. Smaller text stays in git, where a repack
	 * stores each version as a delta; 8 MiB holds every page of the Rust docs. At least 4 KiB.
	 */
	large_file_threshold: ByteSize,
	/** Binary files (a NUL byte in their first 8 KiB) at least this big go to the chunk store. */
	binary_min_size: ByteSize,
	/** Files with these extensions (lower case, no dot) and at least 4 KiB go to the chunk store. */
	chunk_extensions?: string[],
	/**
	 * zstd level for the chunk store (1–19). 3, the default, is Kura's own, between zstd's 2
	 * and 3: zstd's fast match finder with a hash table of 2^17 entries and matches of 5 bytes
	 * or more, tuned on 1 MiB chunks of binaries (2% larger than zstd's 3 in about 20% less
	 * time); the other levels are zstd's. Applies to chunks written after the vault is next
	 * opened.
	 */
	compression_level?: number,
	/**
	 * Deflate level for objects in the git histories (1–9): libdeflate's levels, each smaller
	 * and faster than zlib's of the same number.
	 */
	history_compression_level?: number,
	/** Upper bound of the in-memory cache of hot chunks; applies from the vault's next open. */
	cache_size: ByteSize,
};

/** What an error is about, so a door can point at it without reading the message. */
export type Subject = {
	kind: SubjectKind,
	name: string,
};

/** What kind of thing an error is about. */
export type SubjectKind =
	| "field"
	| "project"
	| "target"
	| "workspace";

/** One backup target. */
export type Target = {
	/** The target's name (letters, digits, `-`, `_`). */
	name: string,
	/** Where its repository is. */
	location: Location,
	/** Whether data is encrypted with a passphrase before it leaves the machine. */
	encrypt?: boolean,
	/**
	 * When it runs, as text for the scheduler (`"daily 02:00"`, `"cron 0 3 * * *"`); empty: on
	 * demand only.
	 */
	schedule?: string,
	/** Which backups prune keeps. */
	retention?: Retention,
	/** Upload limit (none: as fast as the target takes it). */
	bandwidth_limit?: Rate | null,
};

/** The settings of a target that can change after it is added. */
export type TargetChanges = {
	/** When it runs ("daily at 02:00", ...); empty for on demand only. */
	schedule: string,
	/** Which backups prune keeps. */
	retention: Retention,
	/**
	 * Upload limit: bytes per second, or as people write it ("5 MiB/s"); `None` or empty text
	 * for none.
	 */
	bandwidth_limit?: Rate | null,
};

/** The health of one target. */
export type TargetHealth = {
	/** The target's name. */
	target: string,
	/** Its state. */
	state: HealthState,
	/** Failed runs in a row. */
	consecutive_failures: number,
	/** The last error's message. */
	last_error: string | null,
	/** When the last successful run ended. */
	last_success: number | null,
	/** When the last run was attempted. */
	last_attempt: number | null,
	/** Until when runs are skipped (unhealthy only). */
	unhealthy_until: number | null,
};

/**
 * Secrets typed into the target form. They go to the OS keyring (or nowhere, when the person
 * chose the environment) and never into a file.
 */
export type TargetSecrets = {
	/** S3 access key id. */
	access_key_id?: string | null,
	/** S3 secret access key. */
	secret_access_key?: string | null,
	/** Encryption passphrase. */
	passphrase?: string | null,
};

/** One target as the Backups view and the tray see it. */
export type TargetStatus = {
	/** Its settings. */
	target: Target,
	/** The schedule in words ("every day at 02:00"); empty when it runs on demand only. */
	schedule_text: string,
	/** How it is doing. */
	health: TargetHealth,
	/** Its last run. */
	last_run: RunRecord | null,
	/** When its last successful run finished. */
	last_success: number | null,
	/** When the next scheduled run is due (now, for a missed run); `None` on demand only. */
	next_run: number | null,
	/**
	 * Whether a scheduled time passed without a successful run (for a target backed up after
	 * every change: whether a change older than ten minutes is still not backed up).
	 */
	overdue: boolean,
	/** Whether it is backed up after every change (its schedule is [`AFTER_EVERY_CHANGE`]). */
	after_every_change: boolean,
	/**
	 * For a target backed up after every change, the first change its last backup lacks
	 * (Unix seconds): it is that far behind. `None` when it is up to date (or runs at set
	 * times).
	 */
	behind_since: number | null,
	/** The progress of its running backup, when one runs in this app. */
	running: Progress | null,
};

/** A template a project can start from. */
export type Template = {
	/** Its name. */
	name: string,
	/** Built into Kura, or saved from a project. */
	builtin: boolean,
	/** What it gives. */
	description: string,
	/** Files it holds. */
	file_count: number,
};

/** What a connection test found. */
export type TestReport = {
	/** The target. */
	target: string,
	/** Backups it holds. */
	backups: number,
	/** Whether its data is encrypted. */
	encrypted: boolean,
	/** Its health after the test. */
	health: TargetHealth,
};

/** The window's colours. */
export type Theme =
	| "system"
	| "light"
	| "dark";

/**
 * What made a version: the door it came through, or the engine's own reason. The same words
 * name it in commit trailers, JSON, the CLI's `--trigger` and the UI's labels.
 */
export type Trigger =
	| "desktop"
	| "cli"
	| "http"
	| "mcp"
	| "automatic"
	| "schedule"
	| "before_restore"
	| "before_archive"
	| "manual"
	| "api";

/** Usage by file type. */
export type TypeUsage = {
	/** Extension in lower case ("" for none). */
	file_type: string,
	/** Files. */
	files: number,
	/** Bytes. */
	bytes: number,
};

/** What an upload copied. */
export type UploadReport = {
	/** Files copied. */
	files: number,
	/** Bytes copied. */
	bytes: number,
	/**
	 * What was not copied, and why: files that could not be read (or were no longer files when
	 * their turn came) and folders that could not be read. Empty when everything was copied.
	 */
	skipped: SkippedFile[],
};

/** Usage of one workspace or project. */
export type Usage = {
	/** Workspace name, or project name. */
	name: string,
	/** The project's id (empty for workspaces). */
	id: string,
	/** The workspace (for projects). */
	workspace: string,
	/** Projects (for workspaces; 1 for a project). */
	projects: number,
	/** Files in the latest versions. */
	files: number,
	/** Bytes of the latest versions. */
	logical_bytes: number,
	/** Bytes on disk for all versions. */
	stored_bytes: number,
	/**
	 * The project's status (its space counts in the trash and archived too); `None` for
	 * workspaces.
	 */
	status: ProjectStatus | null,
};

/** One sample of total usage. */
export type UsageSample = {
	/** Seconds since the epoch. */
	at: number,
	/** Logical bytes then. */
	logical_bytes: number,
	/** Stored bytes then. */
	stored_bytes: number,
};

/**
 * Why the vault changed: the `reason` of a `vault.changed` event. Every door (the CLI, the
 * desktop app, HTTP, MCP) gives the same reason for the same change: each makes it through the
 * same service function, which announces it.
 */
export type VaultChange =
	| "workspaces"
	| "created"
	| "metadata"
	| "trash"
	| "deleted"
	| "files"
	| "snapshot"
	| "restore"
	| "git"
	| "archived"
	| "unarchived"
	| "repacked"
	| "cold-tier"
	| "cleanup"
	| "settings"
	| "templates"
	| "gc"
	| "backup"
	| "backup-targets"
	| "gap";

/** Something in the vault changed; views showing it should refresh. */
export type VaultChanged = {
	/** The project concerned, or `None` for vault-wide changes (workspaces, settings). */
	project_id: string | null,
	/** What happened. */
	reason: VaultChange,
};

/** Where the vault is, for the window's screen when it cannot be opened. */
export type VaultPlace = {
	/** The vault folder. */
	path: string,
	/** Named by `KURA_HOME` (which wins over a folder chosen in the window). */
	from_kura_home: boolean,
	/**
	 * The parent folder, when it does not exist (a drive not connected, or folders never
	 * made): "Create it here" makes it.
	 */
	missing_parent: string | null,
};

/** How much of the data to read back. */
export type VerifyMode =
	/** Structure only: no pack is downloaded. */
	| "structure"
	/** Structure, and this percentage (1–100) of the packs read and checked. */
	| { sample: number }
	/** Structure, and every pack read and checked. */
	| "full";

/** One problem found. */
export type VerifyProblem = {
	/** The object at the target (`data/ab/ab12...`, `backups/<id>`). */
	object: string,
	/** What is wrong. */
	message: string,
	/** What it affects: `backup <id>: <file>` lines (a few, then a count). */
	affects: string[],
};

/** What `verify` found. */
export type VerifyReport = {
	/** Projects whose histories were read. */
	projects_checked: number,
	/** Versions read. */
	versions_checked: number,
	/** Git objects read and hash-checked. */
	objects_checked: number,
	/** Chunks read and hash-checked. */
	chunks_checked: number,
	/** Everything wrong; empty when the vault is sound. */
	problems: Problem[],
};

/** What to verify: one project, or the whole vault. */
export type VerifyVault = {
	/** Only this project (name or id); the whole vault when absent. */
	project?: string | null,
};

/** One version of a project. */
export type Version = {
	/** The git commit id (40 hex digits). */
	id: string,
	/** The first 10 digits, enough to name it. */
	short_id: string,
	/** The message given for it. */
	message: string,
	/** Who made it ("name <email>"). */
	author: string,
	/** What made it. */
	trigger: Trigger,
	/** When, seconds since the epoch. */
	created_at: number,
	/** The previous version. */
	parent: string | null,
	/** Files changed relative to the previous version. */
	changes: ChangeCounts,
	/** Files in this version. */
	file_count: number,
	/** Bytes of its files. */
	size: number,
};

/** Which versions of a project to list (newest first). */
export type VersionsRequest = {
	/** At most this many. */
	limit?: number | null,
	/** Only the versions in which this file (relative to the project folder, with `/`) changed. */
	path?: string | null,
};

/** A named group of projects. */
export type Workspace = {
	/** Catalog id. */
	id: number,
	/** Unique name (case-insensitive). */
	name: string,
	/** Creation time, seconds since the epoch. */
	created_at: number,
	/** Projects in it that are not in the trash. */
	project_count: number,
	/** Whether this is the active workspace. */
	active: boolean,
};

export type Value = null | boolean | number | string | Value[] | { [key in string]: Value };

/* Runtime */
/** A command's answer: what it gives, or the service's error (a thrown `Error` is a bug). */
async function typedError<T, E>(result: Promise<T>): Promise<{ status: "ok"; data: T } | { status: "error"; error: E }> {
	try {
		return { status: "ok", data: await result };
	} catch (e) {
		if (e instanceof Error) throw e;
		return { status: "error", error: e as E };
	}
}

/** Listening to one of the shell's events. */
function event<T>(name: string) {
	return {
		listen: (cb: __TAURI_EVENT.EventCallback<T>) => __TAURI_EVENT.listen<T>(name, cb),
	};
}
