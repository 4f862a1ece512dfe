// The app's transport: the Tauri shell's commands through the generated bindings, progress
// through a Tauri channel per call, `vaultChanged` events, the webview's drag-and-drop and the
// dialog plugin's folder picker. The only file that knows about Tauri.

import { Channel } from "@tauri-apps/api/core";
import { getCurrentWebview } from "@tauri-apps/api/webview";
import { open } from "@tauri-apps/plugin-dialog";
import { commands, events } from "../bindings";
import type { DesktopTransport, DroppedFile, DropEvent, OnProgress, Reply, Transport, Unlisten } from "./transport";
import type {
  BackupStatus,
  CommandInput,
  ShareRequest,
  CleanupOptions,
  CollectionSettings,
  RecordDelete,
  RecordPut,
  RecordQuery,
  RecordsChanged,
  ImportArchiveOptions,
  ImportOptions,
  LocationKind,
  NewProject,
  PauseLength,
  Progress,
  ProjectFilter,
  SecretVariable,
  Target,
  TargetChanges,
  TargetSecrets,
  UploadReport,
  VaultChanged,
  VerifyMode,
} from "./types";

function channel(onProgress: OnProgress): Channel<Progress> {
  const ch = new Channel<Progress>();
  ch.onmessage = onProgress;
  return ch;
}

const desktop: DesktopTransport = {
  state: () => commands.desktop(),
  setStartAtLogin: (on) => commands.setStartAtLogin(on),
  setPreferences: (preferences) => commands.setPreferences(preferences),
  answerStartAtLogin: (start) => commands.answerStartAtLogin(start),
  dismissTrayHint: () => commands.dismissTrayHint(),
  appLog: (lines) => commands.appLog(lines),
  openLogFolder: () => commands.openLogFolder(),
  openProjectWith: (id, with_) => commands.openProjectWith(id, with_),
  openVaultFolder: (path, create) => commands.openVaultFolder(path, create),
  quit: () => commands.quit(),
};

export class TauriTransport implements Transport {
  readonly desktop = desktop;
  appInfo() {
    return commands.getStatus();
  }
  workspaces() {
    return commands.listWorkspaces();
  }
  createWorkspace(name: string) {
    return commands.createWorkspace(name);
  }
  renameWorkspace(name: string, newName: string) {
    return commands.renameWorkspace(name, newName);
  }
  switchWorkspace(name: string) {
    return commands.switchWorkspace(name);
  }
  deleteWorkspace(name: string, moveTo: string | null) {
    return commands.deleteWorkspace(name, moveTo);
  }
  projects(filter: ProjectFilter) {
    return commands.listProjects(filter);
  }
  project(id: string) {
    return commands.getProject(id);
  }
  createProject(newProject: NewProject) {
    return commands.createProject(newProject);
  }
  importFolder(path: string, options: ImportOptions, jobId: string, onProgress: OnProgress) {
    return commands.importFolder(path, options, jobId, channel(onProgress));
  }
  renameProject(id: string, newName: string) {
    return commands.renameProject(id, newName);
  }
  moveProject(id: string, workspace: string) {
    return commands.moveProject(id, workspace);
  }
  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null) {
    return commands.editProject(id, description, kind, gitRemote);
  }
  tagProject(id: string, add: string[], remove: string[]) {
    return commands.tagProject(id, add, remove);
  }
  recordCollections(project: string | null) {
    return commands.recordCollections(project);
  }
  recordQuery(project: string | null, collection: string, query: RecordQuery) {
    return commands.recordQuery(project, collection, query);
  }
  recordGet(project: string | null, collection: string, key: string) {
    return commands.recordGet(project, collection, key);
  }
  recordPut(project: string | null, put: RecordPut) {
    return commands.recordPut(project, put);
  }
  recordDelete(project: string | null, del: RecordDelete) {
    return commands.recordDelete(project, del);
  }
  recordConfigure(project: string | null, collection: string, settings: CollectionSettings) {
    return commands.recordConfigure(project, collection, settings);
  }
  setMetadata(id: string, changes: [string, string | null][]) {
    return commands.setProjectMetadata(id, changes);
  }
  trashProject(id: string) {
    return commands.trashProject(id);
  }
  untrashProject(id: string) {
    return commands.untrashProject(id);
  }
  deleteProject(id: string) {
    return commands.deleteProject(id);
  }
  exportProject(id: string, version: string | null, dest: string, records: boolean, jobId: string, onProgress: OnProgress) {
    return commands.exportProject(id, version, dest, records, jobId, channel(onProgress));
  }
  templates() {
    return commands.listTemplates();
  }
  saveTemplate(id: string, name: string) {
    return commands.saveProjectAsTemplate(id, name);
  }
  listFiles(id: string, prefix: string | null) {
    return commands.listFiles(id, prefix);
  }
  previewFile(id: string, path: string) {
    return commands.previewFile(id, path);
  }
  uploadFiles(id: string, sources: string[], destDir: string, jobId: string, onProgress: OnProgress) {
    return commands.uploadFiles(id, sources, destDir, jobId, channel(onProgress));
  }
  /** The window's drops carry paths (`uploadFiles`); it never has dropped bytes to send. */
  async uploadDropped(_id: string, files: DroppedFile[]): Reply<UploadReport> {
    return { status: "error", error: { code: "invalid_input", message: `The app uploads dropped files by their paths; ${files.length} file(s) came without one.` } };
  }
  snapshot(id: string, message: string | null, jobId: string, onProgress: OnProgress) {
    return commands.snapshotProject(id, message, jobId, channel(onProgress));
  }
  snapshotChanged() {
    return commands.snapshotChangedProjects();
  }
  versions(id: string, limit: number | null) {
    return commands.versions(id, limit);
  }
  fileVersions(id: string, path: string) {
    return commands.fileVersions(id, path);
  }
  diff(id: string, from: string, to: string | null, path: string | null) {
    return commands.diffVersions(id, from, to, path);
  }
  restorePlan(id: string, version: string) {
    return commands.planRestore(id, version);
  }
  restoreProject(id: string, version: string, jobId: string, onProgress: OnProgress) {
    return commands.restoreProject(id, version, jobId, channel(onProgress));
  }
  restoreFile(id: string, version: string, path: string, jobId: string, onProgress: OnProgress) {
    return commands.restoreFile(id, version, path, jobId, channel(onProgress));
  }
  folderGitStatus(id: string) {
    return commands.getGitStatus(id);
  }
  folderGitLog(id: string, limit: number) {
    return commands.getGitLog(id, limit);
  }
  initFolderGit(id: string) {
    return commands.initGitRepository(id);
  }
  stats() {
    return commands.getStats();
  }
  config() {
    return commands.getConfig();
  }
  setConfig(key: string, value: string) {
    return commands.setConfig(key, value);
  }
  verify(jobId: string, onProgress: OnProgress) {
    return commands.verifyVault(jobId, channel(onProgress));
  }
  gc(jobId: string, onProgress: OnProgress) {
    return commands.collectGarbage(jobId, channel(onProgress));
  }
  cancelJob(jobId: string) {
    return commands.cancelOperation(jobId);
  }

  archives() {
    return commands.listArchives();
  }
  planCommand(input: CommandInput) {
    return commands.planCommand(input);
  }
  shareProject(request: ShareRequest, jobId: string, onProgress: OnProgress) {
    return commands.shareProject(request, jobId, channel(onProgress));
  }
  shares(project: string | null) {
    return commands.listShares(project);
  }
  revokeShare(id: string) {
    return commands.revokeShare(id);
  }
  archiveProject(id: string, jobId: string, onProgress: OnProgress) {
    return commands.archiveProject(id, jobId, channel(onProgress));
  }
  unarchiveProject(reference: string, jobId: string, onProgress: OnProgress) {
    return commands.unarchiveProject(reference, jobId, channel(onProgress));
  }
  extractArchive(archive: string, dest: string, jobId: string, onProgress: OnProgress) {
    return commands.extractArchive(archive, dest, jobId, channel(onProgress));
  }
  verifyArchive(archive: string, jobId: string, onProgress: OnProgress) {
    return commands.verifyArchive(archive, jobId, channel(onProgress));
  }
  importArchive(path: string, options: ImportArchiveOptions, jobId: string, onProgress: OnProgress) {
    return commands.importArchive(path, options, jobId, channel(onProgress));
  }
  quotaStatus() {
    return commands.getQuota();
  }
  cleanup(options: CleanupOptions, jobId: string, onProgress: OnProgress) {
    return commands.runCleanup(options, jobId, channel(onProgress));
  }
  cleanupRuns() {
    return commands.listCleanupRuns();
  }
  nextCleanupAt() {
    return commands.getNextCleanup();
  }

  backupStatus() {
    return commands.getBackupStatus();
  }
  addBackupTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean) {
    return commands.addBackupTarget(target, secrets, useKeyring);
  }
  updateBackupTarget(name: string, changes: TargetChanges) {
    return commands.updateBackupTarget(name, changes);
  }
  removeBackupTarget(name: string) {
    return commands.removeBackupTarget(name);
  }
  testBackupTarget(name: string) {
    return commands.testBackupTarget(name);
  }
  startBackup(target: string) {
    return commands.runBackup(target);
  }
  cancelBackup(target: string) {
    return commands.cancelBackup(target);
  }
  backupRuns(target: string | null) {
    return commands.listBackupRuns(target);
  }
  backupsAt(target: string) {
    return commands.listBackups(target);
  }
  backupContents(target: string, backup: string) {
    return commands.getBackupContents(target, backup);
  }
  restorePreview(target: string, backup: string, project: string | null, destination: string) {
    return commands.previewBackupRestore(target, backup, project, destination);
  }
  async secretVariables(name: string, kind: LocationKind, encrypt: boolean): Reply<SecretVariable[]> {
    return { status: "ok", data: await commands.getBackupSecretVariables(name, kind, encrypt) };
  }
  restoreBackup(
    target: string,
    backup: string,
    project: string | null,
    destination: string,
    jobId: string,
    onProgress: OnProgress,
  ) {
    return commands.restoreBackup(target, backup, project, destination, jobId, channel(onProgress));
  }
  verifyBackups(target: string, mode: VerifyMode, jobId: string, onProgress: OnProgress) {
    return commands.verifyBackups(target, mode, jobId, channel(onProgress));
  }
  pruneBackups(target: string, dryRun: boolean, jobId: string, onProgress: OnProgress) {
    return commands.pruneBackups(target, dryRun, jobId, channel(onProgress));
  }
  pauseBackups(length: PauseLength | null) {
    return commands.pauseBackups(length);
  }

  async onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten> {
    return events.backupStatusChanged.listen((event) => listener(event.payload));
  }

  async onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten> {
    return events.vaultChanged.listen((event) => listener(event.payload));
  }

  async onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten> {
    return events.recordsChanged.listen((event) => listener(event.payload));
  }

  async onDrop(listener: (event: DropEvent) => void): Promise<Unlisten> {
    // Positions arrive in physical pixels; the UI works in CSS pixels.
    const scale = () => window.devicePixelRatio || 1;
    return getCurrentWebview().onDragDropEvent(({ payload }) => {
      switch (payload.type) {
        case "enter":
          listener({ type: "enter", paths: payload.paths, x: payload.position.x / scale(), y: payload.position.y / scale() });
          break;
        case "over":
          listener({ type: "over", x: payload.position.x / scale(), y: payload.position.y / scale() });
          break;
        case "drop":
          listener({ type: "drop", paths: payload.paths, x: payload.position.x / scale(), y: payload.position.y / scale() });
          break;
        default:
          listener({ type: "leave" });
      }
    });
  }

  async pickFolder(title: string): Promise<string | null> {
    const picked = await open({ directory: true, multiple: false, title });
    return typeof picked === "string" ? picked : null;
  }

  async pickFile(title: string, extensions: string[]): Promise<string | null> {
    const picked = await open({ directory: false, multiple: false, title, filters: [{ name: title, extensions }] });
    return typeof picked === "string" ? picked : null;
  }
}
