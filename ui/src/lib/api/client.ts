// The typed client components and stores use. It turns the transport's `Result`s into values or
// thrown `KuraError`s (with the engine's `code`), fills in defaults, and carries job handles.

import type { DesktopTransport, DroppedFile, DropEvent, OnProgress, Operations, Transport, Unlisten } from "./transport";
import type { SETTING_KEYS } from "../bindings";
import { refusal, refusalAt, type Scope } from "./access";
import type { CallName } from "./calls";
import type {
  BackupStatus,
  OpenWith,
  Preferences,
  ShareOptions,
  CleanupCategory,
  RecordsChanged,
  ErrorCode,
  ImportArchiveOptions,
  ImportOptions,
  Rate,
  Retention,
  VerifyMode,
  ApiError,
  Subject,
  NewProject,
  ProjectEdit,
  ProjectFilter,
  Result,
  VaultChanged,
} from "./types";

// Every code of the generated union, once: the compiler fails when the engine adds or drops one.
const CODES: Record<ErrorCode, true> = {
  not_found: true,
  invalid_input: true,
  already_exists: true,
  conflict: true,
  path_escape: true,
  quota_exceeded: true,
  disk_full: true,
  corrupt: true,
  busy: true,
  cancelled: true,
  io: true,
  internal: true,
  unavailable: true,
  wrong_passphrase: true,
};
export const ERROR_CODES = Object.keys(CODES) as readonly ErrorCode[];

/**
 * A failed command. Switch on `code`; show `message` to people; `subject` says what it is about
 * (a field of the form, a project, a target) when the engine knows it.
 */
export class KuraError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly subject: Subject | null = null,
  ) {
    super(message);
    this.name = "KuraError";
  }

  /** The input field this error is about (`name`, `tags`, `path`, `schedule`, ...), if one. */
  get field(): string | null {
    return this.subject?.kind === "field" ? this.subject.name : null;
  }
}

function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && (ERROR_CODES as readonly string[]).includes(value);
}

/** Whatever a command failed with, as a `KuraError`; unknown shapes become `internal`. */
export function toKuraError(error: unknown): KuraError {
  if (error instanceof KuraError) return error;
  if (typeof error === "object" && error !== null && "code" in error) {
    const { code, message, subject } = error as Partial<ApiError> & { code: unknown };
    const text = typeof message === "string" ? message : "The app reported an error without a message.";
    return isErrorCode(code) ? new KuraError(code, text, subject ?? null) : new KuraError("internal", `${text} (${String(code)})`);
  }
  if (error instanceof Error) return new KuraError("internal", error.message);
  if (typeof error === "string") return new KuraError("internal", error);
  return new KuraError("internal", "Something went wrong inside the app.");
}

async function unwrap<T>(reply: Promise<Result<T, ApiError>>): Promise<T> {
  let result: Result<T, ApiError>;
  try {
    result = await reply;
  } catch (e) {
    throw toKuraError(e);
  }
  if (result.status === "ok") return result.data;
  throw toKuraError(result.error);
}

/** What a long command needs: an id to cancel it by and where its progress goes. */
export type JobHandle = { id: string; onProgress: OnProgress };

let jobCounter = 0;
export function newJobId(): string {
  jobCounter += 1;
  return `job-${Date.now().toString(36)}-${jobCounter}`;
}

/** A job nobody watches (progress is dropped). */
export function quietJob(): JobHandle {
  return { id: newJobId(), onProgress: () => {} };
}

/** A filter with every field set (empty fields do not filter). */
export function projectFilter(partial: ProjectFilter = {}): Required<ProjectFilter> {
  return {
    workspace: null,
    all_workspaces: false,
    status: null,
    language: null,
    framework: null,
    tags: [],
    min_size: null,
    max_size: null,
    updated_since: null,
    updated_before: null,
    text: null,
    metadata: [],
    sort: "name",
    limit: null,
    ...partial,
  };
}

/** Every setting a person can change, by its dotted key (the engine's `Config::known_keys`). */
export type SettingKey = (typeof SETTING_KEYS)[number];

/** The app's own side (start at login, the tray, its log, the vault folder): the window only. */
export class DesktopClient {
  constructor(private readonly desktop: DesktopTransport) {}

  state() {
    return unwrap(this.desktop.desktop());
  }
  setStartAtLogin(on: boolean) {
    return unwrap(this.desktop.setStartAtLogin(on));
  }
  setPreferences(preferences: Preferences) {
    return unwrap(this.desktop.setPreferences(preferences));
  }
  answerStartAtLogin(start: boolean) {
    return unwrap(this.desktop.answerStartAtLogin(start));
  }
  dismissTrayHint() {
    return unwrap(this.desktop.dismissTrayHint());
  }
  appLog(lines: number) {
    return unwrap(this.desktop.appLog(lines));
  }
  openLogFolder() {
    return unwrap(this.desktop.openLogFolder());
  }
  openProjectWith(id: string, with_: OpenWith) {
    return unwrap(this.desktop.openProjectWith(id, with_));
  }
  openVaultFolder(path: string, create: boolean) {
    return unwrap(this.desktop.openVaultFolder(path, create));
  }
  quit() {
    return unwrap(this.desktop.quit());
  }
}

/** An operation of the transport, its `Result` turned into its value or a thrown `KuraError`. */
type Unwrapped<F> = F extends (...args: infer Args) => Promise<Result<infer Data, ApiError>> ? (...args: Args) => Promise<Data> : never;

/**
 * The UI's own ways to call some operations: defaults filled in, a job handle for progress, a
 * friendlier shape. Every other operation is called as the transport names it (see `Client`).
 */
class Conveniences {
  constructor(readonly transport: Transport) {}

  /** Why this session may not ask for command `name` (see access.ts); null when it may. */
  refusal(name: CallName): string | null {
    return refusal(this.transport.scope, name);
  }

  /** Why this session may not do what needs `need` (a run that is not dry); null when it may. */
  refusalAt(need: Scope): string | null {
    return refusalAt(this.transport.scope, need);
  }

  projects(filter: Partial<ProjectFilter> = {}) {
    return unwrap(this.transport.listProjects(projectFilter(filter)));
  }
  createProject(input: Partial<NewProject> & { name: string }) {
    return unwrap(
      this.transport.createProject({
        workspace: null,
        template: null,
        kind: null,
        description: "",
        tags: [],
        ...input,
      }),
    );
  }
  importFolder(path: string, options: Partial<ImportOptions>, job: JobHandle = quietJob()) {
    const full: ImportOptions = { name: null, workspace: null, link: false, kind: null, ...options };
    return unwrap(this.transport.importFolder(path, full, job.id, job.onProgress));
  }
  /**
   * Changes a project's name, workspace, description, kind and git remote in one change (all or
   * nothing); fields left `undefined` stay as they are, and an empty git remote clears it.
   */
  editProject(
    id: string,
    changes: { name?: string; workspace?: string; description?: string; kind?: string; gitRemote?: string },
  ) {
    const { gitRemote, ...rest } = changes;
    const edit: ProjectEdit = { ...rest, ...(gitRemote === undefined ? {} : { git_remote: gitRemote }) };
    return unwrap(this.transport.editProject(id, edit));
  }
  exportProject(id: string, version: string | null, dest: string, records: boolean, job: JobHandle = quietJob()) {
    return unwrap(this.transport.exportProject(id, version, dest, records, job.id, job.onProgress));
  }
  listFiles(id: string, prefix: string | null = null) {
    return unwrap(this.transport.listFiles(id, prefix));
  }
  uploadFiles(id: string, sources: string[], destDir: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.uploadFiles(id, sources, destDir, job.id, job.onProgress));
  }

  /** Uploads files dropped into a browser page into `destDir` of the project. */
  uploadDropped(id: string, files: DroppedFile[], destDir: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.uploadDropped(id, files, destDir, job.id, job.onProgress));
  }

  snapshot(id: string, message: string | null, job: JobHandle = quietJob()) {
    return unwrap(this.transport.snapshotProject(id, { message }, job.id, job.onProgress));
  }
  /** Takes a version of every active project that changed. */
  snapshotChangedProjects(job: JobHandle = quietJob()) {
    return unwrap(this.transport.snapshotChangedProjects(job.id, job.onProgress));
  }
  versions(id: string, limit: number | null = null) {
    return unwrap(this.transport.listVersions(id, { limit, path: null }));
  }
  /** The versions in which the file `path` changed, newest first. */
  fileVersions(id: string, path: string) {
    return unwrap(this.transport.listVersions(id, { limit: null, path }));
  }
  diff(id: string, from: string, to: string | null, path: string | null = null) {
    return unwrap(this.transport.diffVersions(id, { from, to, path }));
  }
  /** Restores the project's folder to a version, or only the file `path` when given. */
  restoreProject(id: string, version: string, path: string | null = null, job: JobHandle = quietJob()) {
    return unwrap(this.transport.restoreProject(id, { version, path }, job.id, job.onProgress));
  }

  /** The folder's own git status, or `null` when the folder is not a git repository. */
  async folderGitStatus(id: string) {
    try {
      return await unwrap(this.transport.getGitStatus(id));
    } catch (e) {
      if (e instanceof KuraError && e.code === "not_found") return null;
      throw e;
    }
  }
  folderGitLog(id: string, limit = 50) {
    return unwrap(this.transport.getGitLog(id, limit));
  }
  setConfig(key: SettingKey, value: string) {
    return unwrap(this.transport.setConfig(key, value));
  }
  verify(job: JobHandle = quietJob()) {
    return unwrap(this.transport.verifyVault({}, job.id, job.onProgress));
  }
  gc(job: JobHandle = quietJob()) {
    return unwrap(this.transport.collectGarbage(job.id, job.onProgress));
  }
  shareProject(id: string, options: ShareOptions, job: JobHandle = quietJob()) {
    return unwrap(this.transport.shareProject(id, options, job.id, job.onProgress));
  }
  archiveProject(id: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.archiveProject(id, job.id, job.onProgress));
  }
  /** `reference`: an archive id, or the archived project's id or name. */
  /** Brings back an archived project, named by its name or id or its archive's id. */
  unarchiveProject(archive: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.unarchiveProject({ archive }, job.id, job.onProgress));
  }
  extractArchive(archive: string, dest: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.extractArchive(archive, dest, job.id, job.onProgress));
  }
  /** Moves archives to the cold tier now (`archive.cold_target`): uploads and checks those not there yet, then drops the local files that may go. */
  moveArchivesToColdTier(job: JobHandle = quietJob()) {
    return unwrap(this.transport.moveArchivesToColdTier(job.id, job.onProgress));
  }
  verifyArchive(archive: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.verifyArchive(archive, job.id, job.onProgress));
  }
  importArchive(path: string, options: ImportArchiveOptions = {}, job: JobHandle = quietJob()) {
    const full: ImportArchiveOptions = { name: null, workspace: null, kind: null, ...options };
    return unwrap(this.transport.importArchive(path, full, job.id, job.onProgress));
  }
  /** Runs cleanup (every category when `only` is empty); `dryRun` lists what would go. */
  cleanup(dryRun: boolean, only: CleanupCategory[] = [], job: JobHandle = quietJob()) {
    return unwrap(this.transport.runCleanup({ dry_run: dryRun, only }, job.id, job.onProgress));
  }
  updateBackupTarget(name: string, changes: { schedule: string; retention: Retention; bandwidthLimit: Rate | null }) {
    return unwrap(
      this.transport.updateBackupTarget(name, {
        schedule: changes.schedule,
        retention: changes.retention,
        bandwidth_limit: changes.bandwidthLimit,
      }),
    );
  }
  backupRuns(target: string | null = null) {
    return unwrap(this.transport.listBackupRuns(target));
  }
  /** Restores one project (by name), or everything with `project` null, into `destination`. */
  restoreBackup(target: string, backup: string, project: string | null, destination: string, job: JobHandle = quietJob()) {
    return unwrap(this.transport.restoreBackup(target, backup, project, destination, job.id, job.onProgress));
  }
  verifyBackups(target: string, mode: VerifyMode, job: JobHandle = quietJob()) {
    return unwrap(this.transport.verifyBackups(target, mode, job.id, job.onProgress));
  }
  pruneBackups(target: string, dryRun: boolean, job: JobHandle = quietJob()) {
    return unwrap(this.transport.pruneBackups(target, dryRun, job.id, job.onProgress));
  }
  onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten> {
    return this.transport.onRecordsChanged(listener);
  }
  onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten> {
    return this.transport.onVaultChanged(listener);
  }
  onDrop(listener: (event: DropEvent) => void): Promise<Unlisten> {
    return this.transport.onDrop(listener);
  }
  onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten> {
    return this.transport.onBackupStatus(listener);
  }
  pickFolder(title: string) {
    return this.transport.pickFolder(title);
  }
  pickFile(title: string, extensions: string[]) {
    return this.transport.pickFile(title, extensions);
  }
}

/**
 * The typed client components and stores use: every operation of the transport under its own
 * name (`client.listWorkspaces()`, `client.runBackup(name)`), answering its value or throwing a
 * `KuraError`, and the conveniences above. An operation added to the shell is a method here
 * without a line written.
 */
export interface Client extends Omit<{ [Name in keyof Operations]: Unwrapped<Operations[Name]> }, keyof Conveniences> {}

export class Client extends Conveniences {
  /** The app's own side; `null` in a browser, which does not offer it. */
  readonly desktop: DesktopClient | null;

  constructor(transport: Transport) {
    super(transport);
    this.desktop = transport.desktop ? new DesktopClient(transport.desktop) : null;
    return new Proxy(this, {
      get(client, name, receiver) {
        if (name in client) return Reflect.get(client, name, receiver);
        const call = (transport as unknown as Record<PropertyKey, unknown>)[name];
        if (typeof call !== "function") return undefined;
        return (...args: unknown[]) => unwrap(call.apply(transport, args) as Promise<Result<unknown, ApiError>>);
      },
    });
  }
}
