// The test transport: answers every command from an in-memory fake vault (`mock/vault.ts`),
// reports progress for long jobs step by step, honours cancellation, emits `vaultChanged` after
// changes and lets tests simulate drops and folder picks. Used by unit tests, page tests and the
// `mock` build mode only.

import type { DropEvent, OnProgress, Reply, Transport, Unlisten } from "./transport";
import type { ImportOptions, ApiError, NewProject, ProjectFilter, Result, VaultChanged } from "./types";
import type { CleanupOptions, ImportArchiveOptions } from "./types";
import { MockFailure, MockVault, type Blob, type MockVaultOptions } from "./mock/vault";
import type { BackupStatus, PauseLength, Target, TargetChanges, TargetSecrets, VerifyMode } from "./types";
import { MockBackups } from "./mock/backups";

export { MockVault } from "./mock/vault";

export type MockTransportOptions = MockVaultOptions & {
  /** Milliseconds before each answer. */
  latency?: number;
  /** Milliseconds between progress steps of long jobs. */
  stepDelay?: number;
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export class MockTransport implements Transport {
  readonly vault: MockVault;
  /** What the next folder pick answers (`null`: the person cancelled). */
  nextPick: string | null = "/home/dev/code/weather-app";
  /** What the next file pick answers (`null`: the person cancelled). */
  nextFilePick: string | null = "/home/dev/Downloads/landing-page.tar.gz";
  /** Every command called, by name, for tests that check what was asked. */
  readonly calls: string[] = [];
  latency: number;
  stepDelay: number;
  private changeListeners = new Set<(event: VaultChanged) => void>();
  private dropListeners = new Set<(event: DropEvent) => void>();
  private cancelled = new Set<string>();
  /** Backups: targets, runs, pause; `unplug`, `setDiskFull`, `env`... play the world around the app. */
  readonly backups: MockBackups;
  private statusListeners = new Set<(status: BackupStatus) => void>();

  constructor(options: MockTransportOptions = {}) {
    this.vault = new MockVault(options);
    this.latency = options.latency ?? 0;
    this.stepDelay = options.stepDelay ?? 0;
    this.vault.onChange = (event) => {
      setTimeout(() => {
        for (const listener of this.changeListeners) listener(event);
      }, 0);
    };
    this.backups = new MockBackups(this.vault, { empty: options.empty, stepDelay: () => this.stepDelay });
    this.backups.onChange = (event) => this.vault.onChange?.(event);
    this.backups.onStatus = (status) => {
      setTimeout(() => {
        for (const listener of this.statusListeners) listener(status);
      }, 0);
    };
  }

  private async reply<T>(name: string, work: () => T): Reply<T> {
    this.calls.push(name);
    if (this.latency > 0) await sleep(this.latency);
    return this.settle(work);
  }

  private settle<T>(work: () => T): Result<T, ApiError> {
    try {
      return { status: "ok", data: work() };
    } catch (e) {
      if (e instanceof MockFailure) return { status: "error", error: { code: e.code, message: e.message } };
      return { status: "error", error: { code: "internal", message: String(e) } };
    }
  }

  /** Runs `steps` with progress, checking for cancellation between them, then `finish`. */
  private async job<T>(
    name: string,
    jobId: string,
    onProgress: OnProgress,
    phase: string,
    unit: "files" | "bytes" | "packs",
    steps: { item: string; amount: number; run?: () => void }[],
    finish: () => T,
  ): Reply<T> {
    this.calls.push(name);
    const total = steps.reduce((n, s) => n + s.amount, 0);
    let done = 0;
    onProgress({ phase, done: 0, total, unit, item: null });
    for (const step of steps) {
      if (this.stepDelay > 0) await sleep(this.stepDelay);
      else await Promise.resolve();
      if (this.cancelled.has(jobId)) {
        this.cancelled.delete(jobId);
        return { status: "error", error: { code: "cancelled", message: `${name} was cancelled; nothing more was written` } };
      }
      const failed = step.run ? this.settle(step.run) : null;
      if (failed && failed.status === "error") return failed;
      done += step.amount;
      onProgress({ phase, done, total, unit, item: step.item });
    }
    this.cancelled.delete(jobId);
    return this.settle(finish);
  }

  private plan<T>(work: () => T): { ok: true; value: T } | { ok: false; error: Result<never, ApiError> } {
    const r = this.settle(work);
    return r.status === "ok" ? { ok: true, value: r.data } : { ok: false, error: r as Result<never, ApiError> };
  }

  appInfo() {
    return this.reply("appInfo", () => this.vault.appInfo());
  }
  workspaces() {
    return this.reply("workspaces", () => this.vault.workspaces());
  }
  createWorkspace(name: string) {
    return this.reply("createWorkspace", () => this.vault.createWorkspace(name));
  }
  renameWorkspace(name: string, newName: string) {
    return this.reply("renameWorkspace", () => this.vault.renameWorkspace(name, newName));
  }
  switchWorkspace(name: string) {
    return this.reply("switchWorkspace", () => this.vault.switchWorkspace(name));
  }
  deleteWorkspace(name: string, moveTo: string | null) {
    return this.reply("deleteWorkspace", () => this.vault.deleteWorkspace(name, moveTo));
  }
  projects(filter: ProjectFilter) {
    return this.reply("projects", () => this.vault.projects(filter));
  }
  project(id: string) {
    return this.reply("project", () => this.vault.project(id));
  }
  createProject(newProject: NewProject) {
    return this.reply("createProject", () => this.vault.createProject(newProject));
  }
  async importFolder(path: string, options: ImportOptions, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.planImport(path, options));
    if (!planned.ok) return planned.error;
    const steps = [...planned.value.tree.entries()].map(([item, blob]) => ({ item, amount: blob.size }));
    return this.job("importFolder", jobId, onProgress, "storing", "bytes", steps, () =>
      this.vault.finishImport(path, options, planned.value),
    );
  }
  renameProject(id: string, newName: string) {
    return this.reply("renameProject", () => this.vault.renameProject(id, newName));
  }
  moveProject(id: string, workspace: string) {
    return this.reply("moveProject", () => this.vault.moveProject(id, workspace));
  }
  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null) {
    return this.reply("editProject", () => this.vault.editProject(id, description, kind, gitRemote));
  }
  tagProject(id: string, add: string[], remove: string[]) {
    return this.reply("tagProject", () => this.vault.tagProject(id, add, remove));
  }
  setMetadata(id: string, changes: [string, string | null][]) {
    return this.reply("setMetadata", () => this.vault.setMetadata(id, changes));
  }
  trashProject(id: string) {
    return this.reply("trashProject", () => this.vault.trashProject(id));
  }
  untrashProject(id: string) {
    return this.reply("untrashProject", () => this.vault.untrashProject(id));
  }
  deleteProject(id: string) {
    return this.reply("deleteProject", () => this.vault.deleteProject(id));
  }
  async exportProject(id: string, version: string | null, dest: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.exportTree(id, version));
    if (!planned.ok) return planned.error;
    const { tree, version: v } = planned.value;
    const steps = [...tree.entries()].map(([item]) => ({ item, amount: 1 }));
    return this.job("exportProject", jobId, onProgress, "writing", "files", steps, () => this.vault.writeExport(dest, tree, v.id));
  }
  templates() {
    return this.reply("templates", () => this.vault.templates());
  }
  saveTemplate(id: string, name: string) {
    return this.reply("saveTemplate", () => this.vault.saveTemplate(id, name));
  }
  listFiles(id: string, prefix: string | null) {
    return this.reply("listFiles", () => this.vault.listFiles(id, prefix));
  }
  previewFile(id: string, path: string) {
    return this.reply("previewFile", () => this.vault.previewFile(id, path));
  }
  async uploadFiles(id: string, sources: string[], destDir: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.planUpload(id, sources, destDir));
    if (!planned.ok) return planned.error;
    let files = 0;
    let bytes = 0;
    const steps = planned.value.map(({ target, blob }: { target: string; blob: Blob }) => ({
      item: target,
      amount: blob.size,
      run: () => {
        this.vault.writeUploaded(id, target, blob);
        files++;
        bytes += blob.size;
      },
    }));
    return this.job("uploadFiles", jobId, onProgress, "uploading", "bytes", steps, () => this.vault.finishUpload(id, files, bytes));
  }
  async snapshot(id: string, message: string | null, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.folderFiles(id));
    if (!planned.ok) return planned.error;
    const steps = planned.value.map(([item]) => ({ item, amount: 1 }));
    return this.job("snapshot", jobId, onProgress, "scanning", "files", steps, () => this.vault.snapshot(id, message));
  }
  snapshotChanged() {
    return this.reply("snapshotChanged", () => this.vault.snapshotChanged());
  }
  versions(id: string, limit: number | null) {
    return this.reply("versions", () => this.vault.versions(id, limit));
  }
  fileVersions(id: string, path: string) {
    return this.reply("fileVersions", () => this.vault.fileVersions(id, path));
  }
  diff(id: string, from: string, to: string | null, path: string | null) {
    return this.reply("diff", () => this.vault.diff(id, from, to, path));
  }
  async restoreProject(id: string, version: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.folderFiles(id));
    if (!planned.ok) return planned.error;
    const steps = planned.value.map(([item]) => ({ item, amount: 1 }));
    return this.job("restoreProject", jobId, onProgress, "writing", "files", steps, () => this.vault.restoreProject(id, version));
  }
  async restoreFile(id: string, version: string, path: string, jobId: string, onProgress: OnProgress) {
    return this.job("restoreFile", jobId, onProgress, "writing", "files", [{ item: path, amount: 1 }], () =>
      this.vault.restoreFile(id, version, path),
    );
  }
  folderGitStatus(id: string) {
    return this.reply("folderGitStatus", () => this.vault.folderGitStatus(id));
  }
  folderGitLog(id: string, limit: number) {
    return this.reply("folderGitLog", () => this.vault.folderGitLog(id, limit));
  }
  initFolderGit(id: string) {
    return this.reply("initFolderGit", () => this.vault.initFolderGit(id));
  }
  stats() {
    return this.reply("stats", () => this.vault.stats());
  }
  config() {
    return this.reply("config", () => this.vault.config());
  }
  setConfig(key: string, value: string) {
    return this.reply("setConfig", () => this.vault.setConfig(key, value));
  }
  async verify(jobId: string, onProgress: OnProgress) {
    const ids = this.vault.projectIds();
    const steps = ids.map((id) => ({ item: id, amount: 1 }));
    return this.job("verify", jobId, onProgress, "verifying", "files", steps, () => ({
      projects_checked: ids.length,
      versions_checked: ids.reduce((n, id) => n + this.vault.versionCount(id), 0),
      objects_checked: ids.length * 12,
      chunks_checked: 40,
      problems: [],
    }));
  }
  async gc(jobId: string, onProgress: OnProgress) {
    return this.job("gc", jobId, onProgress, "collecting", "files", [{ item: "packs", amount: 1 }], () => ({
      chunks_removed: 0,
      packs_deleted: 0,
      packs_rewritten: 0,
      bytes_freed: 0,
    }));
  }
  cancelJob(jobId: string) {
    this.cancelled.add(jobId);
    return this.reply("cancelJob", () => null);
  }

  archives() {
    return this.reply("archives", () => this.vault.archiver.list());
  }
  async archiveProject(id: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.archiver.planArchive(id));
    if (!planned.ok) return planned.error;
    return this.job("archiveProject", jobId, onProgress, "archiving", "bytes", planned.value, () => this.vault.archiver.archive(id));
  }
  async unarchiveProject(reference: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.archiver.planUnarchive(reference));
    if (!planned.ok) return planned.error;
    return this.job("unarchiveProject", jobId, onProgress, "unpacking", "bytes", planned.value, () => this.vault.archiver.unarchive(reference));
  }
  async extractArchive(archive: string, dest: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.archiver.planExtract(archive, dest));
    if (!planned.ok) return planned.error;
    return this.job("extractArchive", jobId, onProgress, "unpacking", "bytes", planned.value, () => this.vault.archiver.extract(archive, dest));
  }
  async verifyArchive(archive: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.archiver.planVerify(archive));
    if (!planned.ok) return planned.error;
    return this.job("verifyArchive", jobId, onProgress, "checking", "bytes", planned.value, () => this.vault.archiver.verify(archive));
  }
  async importArchive(path: string, options: ImportArchiveOptions, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.vault.archiver.planImport(path, options));
    if (!planned.ok) return planned.error;
    return this.job("importArchive", jobId, onProgress, "unpacking", "bytes", planned.value, () => this.vault.archiver.importArchive(path, options));
  }
  quotaStatus() {
    return this.reply("quotaStatus", () => this.vault.archiver.quotaStatus());
  }
  async cleanup(options: CleanupOptions, jobId: string, onProgress: OnProgress) {
    const run = this.vault.archiver.startCleanup(options);
    // Like the engine: the category about to run, with nothing counted.
    const categories = run.steps.map((s) => s.item);
    const report: OnProgress = (p) =>
      onProgress({ phase: categories[Math.min(p.done, categories.length - 1)] ?? "cleanup", done: 0, total: null, unit: "files", item: null });
    return this.job("cleanup", jobId, report, "cleaning", "files", run.steps, run.finish);
  }
  cleanupRuns() {
    return this.reply("cleanupRuns", () => this.vault.archiver.cleanupRuns());
  }
  nextCleanupAt() {
    return this.reply("nextCleanupAt", () => this.vault.archiver.nextCleanupAt());
  }

  backupStatus() {
    return this.reply("backupStatus", () => this.backups.status());
  }
  addBackupTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean) {
    // Empty fields are no secret (as the shell's command reads them).
    const given = {
      access_key_id: secrets.access_key_id || null,
      secret_access_key: secrets.secret_access_key || null,
      passphrase: secrets.passphrase || null,
    };
    return this.reply("addBackupTarget", () => this.backups.addTarget(target, given, useKeyring));
  }
  updateBackupTarget(name: string, changes: TargetChanges) {
    return this.reply("updateBackupTarget", () => this.backups.updateTarget(name, changes));
  }
  removeBackupTarget(name: string) {
    return this.reply("removeBackupTarget", () => this.backups.removeTarget(name));
  }
  testBackupTarget(name: string) {
    return this.reply("testBackupTarget", () => this.backups.testTarget(name));
  }
  startBackup(target: string) {
    return this.reply("startBackup", () => this.backups.startBackup(target));
  }
  cancelBackup(target: string) {
    return this.reply("cancelBackup", () => this.backups.cancelBackup(target));
  }
  backupRuns(target: string | null) {
    return this.reply("backupRuns", () => this.backups.runsOf(target));
  }
  backupsAt(target: string) {
    return this.reply("backupsAt", () => this.backups.backupsAt(target));
  }
  backupContents(target: string, backup: string) {
    return this.reply("backupContents", () => this.backups.backupContents(target, backup));
  }
  async restoreBackup(target: string, backup: string, project: string | null, destination: string, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.backups.planRestore(target, backup, project, destination));
    if (!planned.ok) return planned.error;
    // The engine cannot know the total ahead: it reports bytes written so far.
    const report: OnProgress = (p) => onProgress({ ...p, total: null });
    return this.job("restoreBackup", jobId, report, "restoring", "bytes", planned.value.steps, planned.value.finish);
  }
  async verifyBackups(target: string, mode: VerifyMode, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.backups.planVerify(target, mode));
    if (!planned.ok) return planned.error;
    return this.job("verifyBackups", jobId, onProgress, "verifying", "packs", planned.value.steps, planned.value.finish);
  }
  async pruneBackups(target: string, dryRun: boolean, jobId: string, onProgress: OnProgress) {
    const planned = this.plan(() => this.backups.planPrune(target, dryRun));
    if (!planned.ok) return planned.error;
    // The engine's prune says nothing until it ends.
    return this.job("pruneBackups", jobId, () => {}, "pruning", "files", planned.value.steps, planned.value.finish);
  }
  pauseBackups(length: PauseLength | null) {
    return this.reply("pauseBackups", () => this.backups.pauseBackups(length));
  }
  async onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten> {
    this.statusListeners.add(listener);
    return () => this.statusListeners.delete(listener);
  }

  async onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten> {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }
  async onDrop(listener: (event: DropEvent) => void): Promise<Unlisten> {
    this.dropListeners.add(listener);
    return () => this.dropListeners.delete(listener);
  }
  async pickFolder(): Promise<string | null> {
    return this.nextPick;
  }
  async pickFile(): Promise<string | null> {
    return this.nextFilePick;
  }

  private emitDrop(event: DropEvent) {
    for (const listener of this.dropListeners) listener(event);
  }

  /** Plays files dragged from the desktop over the window (not dropped yet). */
  simulateDrag(paths: string[], x = 400, y = 300) {
    this.emitDrop({ type: "enter", paths, x, y });
    this.emitDrop({ type: "over", x, y });
  }

  /** Plays the drag leaving the window. */
  simulateLeave() {
    this.emitDrop({ type: "leave" });
  }

  /** Plays a drag of `paths` from the desktop onto the window, ending in a drop at (x, y). */
  simulateDrop(paths: string[], x = 400, y = 300) {
    this.simulateDrag(paths, x, y);
    this.emitDrop({ type: "drop", paths, x, y });
  }

  /** Emits an event as if another program changed the vault. */
  emitChange(event: VaultChanged) {
    for (const listener of this.changeListeners) listener(event);
  }
}
