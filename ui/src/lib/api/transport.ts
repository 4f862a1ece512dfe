// The seam between the UI and whatever answers its calls: the Tauri shell in the app
// (`tauri.ts`), `kura serve`'s HTTP API in a browser (`http.ts`).
// Methods mirror the shell's commands one for one and return the same `Result` the generated
// bindings return; progress arrives through a plain callback instead of a Tauri channel.

import type {
  AppInfo,
  Autostart,
  DesktopState,
  LogTail,
  Preferences,
  OpenWith,
  CollectionInfo,
  CollectionSettings,
  RecordDelete,
  RecordPage,
  RecordPut,
  RecordQuery,
  RecordsChanged,
  StoredRecord,
  Share,
  ShareRequest,
  CommandInput,
  CommandPlan,
  ArchiveInfo,
  ArchiveVerifyReport,
  BackupContents,
  BackupInfo,
  BackupRestoreReport,
  BackupStatus,
  BackupVerifyReport,
  CleanupOptions,
  CleanupReport,
  ExtractReport,
  ImportArchiveOptions,
  PauseLength,
  PruneReport,
  QuotaStatus,
  RunRecord,
  Target,
  TargetChanges,
  TargetSecrets,
  TestReport,
  VerifyMode,
  Config,
  Diff,
  LocationKind,
  RestorePlan,
  RestorePreview,
  SecretVariable,
  FileEntry,
  FilePreview,
  FolderGitCommit,
  FolderGitStatus,
  GcReport,
  ImportOptions,
  ApiError,
  NewProject,
  Progress,
  Project,
  ProjectFilter,
  RestoreReport,
  Result,
  SnapshotReport,
  Stats,
  Template,
  UploadReport,
  VaultChanged,
  VerifyReport,
  Version,
  Workspace,
} from "./types";

export type Reply<T> = Promise<Result<T, ApiError>>;
export type OnProgress = (progress: Progress) => void;
export type Unlisten = () => void;

/** A file dropped into a browser page: its bytes, and its path relative to what was dropped. */
export type DroppedFile = { path: string; file: File };

/**
 * A drag-and-drop of files from the desktop, in CSS pixels of the window. The app's window
 * knows the dropped paths on this machine; a browser page only gets the files' bytes.
 */
export type DropEvent =
  | { type: "enter"; paths: string[]; x: number; y: number }
  | { type: "over"; x: number; y: number }
  | { type: "drop"; paths: string[]; x: number; y: number }
  | { type: "drop"; files: DroppedFile[]; x: number; y: number }
  | { type: "leave" };

/**
 * What only the app's window does: the app itself rather than the vault (start at login, its
 * first-run question, the tray, its log, another vault folder, quitting). A transport without it
 * (a browser on `kura serve`) does not offer these, and the UI does not show them.
 */
export interface DesktopTransport {
  state(): Reply<DesktopState>;
  setStartAtLogin(on: boolean): Reply<Autostart>;
  /** Saves the theme, notifications and editor of Settings › App; answers the state as saved. */
  setPreferences(preferences: Preferences): Reply<DesktopState>;
  answerStartAtLogin(start: boolean): Reply<DesktopState>;
  dismissTrayHint(): Reply<null>;
  appLog(lines: number): Reply<LogTail>;
  openLogFolder(): Reply<null>;
  /** Opens a project's folder in the file manager, the person's editor or a terminal; answers the program's name. */
  openProjectWith(id: string, with_: OpenWith): Reply<string>;
  /** Opens the vault at `path` (`create`: its missing parent folders made first) and remembers it. */
  openVaultFolder(path: string, create: boolean): Reply<AppInfo>;
  quit(): Reply<null>;
}

export interface Transport {
  /** The app's own side, when this transport is the app's window. */
  readonly desktop?: DesktopTransport;

  appInfo(): Reply<AppInfo>;

  workspaces(): Reply<Workspace[]>;
  createWorkspace(name: string): Reply<Workspace>;
  renameWorkspace(name: string, newName: string): Reply<Workspace>;
  switchWorkspace(name: string): Reply<Workspace>;
  deleteWorkspace(name: string, moveTo: string | null): Reply<null>;

  projects(filter: ProjectFilter): Reply<Project[]>;
  project(id: string): Reply<Project>;
  createProject(newProject: NewProject): Reply<Project>;
  importFolder(path: string, options: ImportOptions, jobId: string, onProgress: OnProgress): Reply<Project>;
  renameProject(id: string, newName: string): Reply<Project>;
  moveProject(id: string, workspace: string): Reply<Project>;
  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null): Reply<Project>;
  tagProject(id: string, add: string[], remove: string[]): Reply<Project>;
  setMetadata(id: string, changes: [string, string | null][]): Reply<Project>;
  trashProject(id: string): Reply<Project>;
  untrashProject(id: string): Reply<Project>;
  deleteProject(id: string): Reply<null>;
  /** With `records`, the project's records go along as `.kura/records.jsonl`. */
  exportProject(id: string, version: string | null, dest: string, records: boolean, jobId: string, onProgress: OnProgress): Reply<RestoreReport>;
  templates(): Reply<Template[]>;
  saveTemplate(id: string, name: string): Reply<Template>;

  listFiles(id: string, prefix: string | null): Reply<FileEntry[]>;
  previewFile(id: string, path: string): Reply<FilePreview>;
  uploadFiles(id: string, sources: string[], destDir: string, jobId: string, onProgress: OnProgress): Reply<UploadReport>;
  /** Uploads files dropped into a browser page (their bytes) into `destDir` of the project. */
  uploadDropped(id: string, files: DroppedFile[], destDir: string, jobId: string, onProgress: OnProgress): Reply<UploadReport>;

  snapshot(id: string, message: string | null, jobId: string, onProgress: OnProgress): Reply<SnapshotReport>;
  snapshotChanged(): Reply<SnapshotReport[]>;
  versions(id: string, limit: number | null): Reply<Version[]>;
  fileVersions(id: string, path: string): Reply<Version[]>;
  diff(id: string, from: string, to: string | null, path: string | null): Reply<Diff>;
  /** What restoring the project to `version` would write and remove, before it runs. */
  restorePlan(id: string, version: string): Reply<RestorePlan>;
  restoreProject(id: string, version: string, jobId: string, onProgress: OnProgress): Reply<RestoreReport>;
  restoreFile(id: string, version: string, path: string, jobId: string, onProgress: OnProgress): Reply<RestoreReport>;

  folderGitStatus(id: string): Reply<FolderGitStatus>;
  folderGitLog(id: string, limit: number): Reply<FolderGitCommit[]>;
  initFolderGit(id: string): Reply<null>;

  stats(): Reply<Stats>;
  config(): Reply<Config>;
  setConfig(key: string, value: string): Reply<Config>;
  verify(jobId: string, onProgress: OnProgress): Reply<VerifyReport>;
  gc(jobId: string, onProgress: OnProgress): Reply<GcReport>;
  cancelJob(jobId: string): Reply<null>;

  /** Reads what was typed in the command bar (changes nothing). */
  planCommand(input: CommandInput): Reply<CommandPlan>;

  /** Uploads a version to an S3 target as a tar.zst and returns its download link. */
  shareProject(request: ShareRequest, jobId: string, onProgress: OnProgress): Reply<Share>;
  /** Shared links, newest first; only one project's when `project` is given. */
  shares(project: string | null): Reply<Share[]>;
  /** Deletes a shared copy, so its link stops working. */
  revokeShare(id: string): Reply<Share>;

  archives(): Reply<ArchiveInfo[]>;
  archiveProject(id: string, jobId: string, onProgress: OnProgress): Reply<ArchiveInfo>;
  /** `reference`: an archive id, or the archived project's id or name. */
  unarchiveProject(reference: string, jobId: string, onProgress: OnProgress): Reply<Project>;
  extractArchive(archive: string, dest: string, jobId: string, onProgress: OnProgress): Reply<ExtractReport>;
  verifyArchive(archive: string, jobId: string, onProgress: OnProgress): Reply<ArchiveVerifyReport>;
  importArchive(path: string, options: ImportArchiveOptions, jobId: string, onProgress: OnProgress): Reply<Project>;
  quotaStatus(): Reply<QuotaStatus>;
  cleanup(options: CleanupOptions, jobId: string, onProgress: OnProgress): Reply<CleanupReport>;
  cleanupRuns(): Reply<CleanupReport[]>;
  nextCleanupAt(): Reply<number | null>;

  backupStatus(): Reply<BackupStatus>;
  addBackupTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean): Reply<TestReport>;
  updateBackupTarget(name: string, changes: TargetChanges): Reply<Target>;
  removeBackupTarget(name: string): Reply<null>;
  testBackupTarget(name: string): Reply<TestReport>;
  /** Starts a backup now; its progress arrives with the backup status (`onBackupStatus`). */
  startBackup(target: string): Reply<null>;
  cancelBackup(target: string): Reply<boolean>;
  backupRuns(target: string | null): Reply<RunRecord[]>;
  backupsAt(target: string): Reply<BackupInfo[]>;
  backupContents(target: string, backup: string): Reply<BackupContents>;
  /** What restoring `project` (or everything) of a backup into `destination` would write where. */
  restorePreview(target: string, backup: string, project: string | null, destination: string): Reply<RestorePreview>;
  /** The environment variables a target reads its secrets from when they are not in the keyring. */
  secretVariables(name: string, kind: LocationKind, encrypt: boolean): Reply<SecretVariable[]>;
  restoreBackup(
    target: string,
    backup: string,
    project: string | null,
    destination: string,
    jobId: string,
    onProgress: OnProgress,
  ): Reply<BackupRestoreReport>;
  verifyBackups(target: string, mode: VerifyMode, jobId: string, onProgress: OnProgress): Reply<BackupVerifyReport>;
  pruneBackups(target: string, dryRun: boolean, jobId: string, onProgress: OnProgress): Reply<PruneReport>;
  /** Pauses scheduled backups for `length`, or resumes them with `null`. */
  pauseBackups(length: PauseLength | null): Reply<null>;

  /** The collections of a project's records (`project` null: the vault's own). */
  recordCollections(project: string | null): Reply<CollectionInfo[]>;
  recordQuery(project: string | null, collection: string, query: RecordQuery): Reply<RecordPage>;
  recordGet(project: string | null, collection: string, key: string): Reply<StoredRecord>;
  recordPut(project: string | null, put: RecordPut): Reply<StoredRecord>;
  /** Whether there was a record to delete. */
  recordDelete(project: string | null, del: RecordDelete): Reply<boolean>;
  recordConfigure(project: string | null, collection: string, settings: CollectionSettings): Reply<CollectionInfo>;

  /** State changed in the vault (by this window, another window, the CLI or the watcher). */
  onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten>;
  /** Records were written or deleted (by this window, an agent over HTTP or MCP, the watcher). */
  onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten>;
  /** Files dragged over and dropped onto the window. */
  onDrop(listener: (event: DropEvent) => void): Promise<Unlisten>;
  /** The backup status changed (a run started, progressed or ended; a pause; a target). */
  onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten>;
  /** Asks the person for a folder (a path on the machine Kura runs on); `null` when they cancel. */
  pickFolder(title: string): Promise<string | null>;
  /** Asks the person for a file with one of `extensions` (without dots); `null` when they cancel. */
  pickFile(title: string, extensions: string[]): Promise<string | null>;
}
