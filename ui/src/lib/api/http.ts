// The browser's transport: `kura serve`'s HTTP API (/work/contract.md, `/v1/...`) from the page it
// serves. The session is a cookie set by the one-time sign-in link or by a token pasted in the
// sign-in screen (`signIn`, shown by connect.ts); every write carries the
// `X-Kura-CSRF` header copied from the readable `kura_csrf` cookie. Long commands start an
// operation (202) under the UI's job id and are followed to their end: progress through the
// shared event stream, the result through `GET /v1/operations/{id}?wait=true`.
//
// What only the desktop has degrades honestly: the folder and file pickers ask for a path in a
// page dialog (`askPath`), and dropped files arrive as `File`s that are uploaded as bytes.

import type { DroppedFile, DropEvent, OnProgress, Reply, Transport, Unlisten } from "./transport";
import type {
  AppInfo,
  CommandInput,
  CommandPlan,
  Share,
  ShareRequest,
  CollectionInfo,
  CollectionSettings,
  RecordDelete,
  RecordPage,
  RecordPut,
  RecordQuery,
  RecordsChanged,
  StoredRecord,
  ArchiveInfo,
  ArchiveVerifyReport,
  BackupContents,
  BackupInfo,
  BackupRestoreReport,
  BackupStatus,
  BackupVerifyReport,
  CleanupOptions,
  CleanupReport,
  Config,
  Diff,
  ExtractReport,
  FileEntry,
  FilePreview,
  FolderGitCommit,
  FolderGitStatus,
  GcReport,
  ImportArchiveOptions,
  ImportOptions,
  LocationKind,
  ApiError,
  ErrorCode,
  NewProject,
  PauseLength,
  Progress,
  Project,
  ProjectFilter,
  PruneReport,
  QuotaStatus,
  RestorePlan,
  RestorePreview,
  RestoreReport,
  Result,
  RunRecord,
  SecretVariable,
  SnapshotReport,
  Stats,
  Target,
  TargetChanges,
  TargetSecrets,
  Template,
  TestReport,
  UploadReport,
  VaultChanged,
  VerifyMode,
  VerifyReport,
  Version,
  Workspace,
} from "./types";

/** What the page dialog standing in for the native pickers is asked. */
export type PathRequest = { title: string; kind: "folder" | "file"; extensions: string[] };
export type AskPath = (request: PathRequest) => Promise<string | null>;

/** What signing in with a pasted token came to: the session's scope, or what went wrong. */
export type SignInReply = { status: "ok"; scope: "read" | "write" | "admin" } | { status: "error"; message: string };

/** A long operation as the server reports it. */
export type Operation = {
  id: string;
  kind: string;
  project_id: string | null;
  state: "running" | "succeeded" | "failed" | "cancelled";
  progress: Progress | null;
  eta_secs: number | null;
  started_at: number;
  finished_at: number | null;
  result: unknown;
  error: ApiError | null;
};

/** One entry of the event log, as `GET /v1/events` streams it. */
type ServerEvent<T> = { id: number; at: number; type: string; project_id: string | null; data: T };

type Query = Record<string, string | number | boolean | null | undefined>;
type Body = { json: unknown } | { form: FormData } | null;

/** How long one `?wait=true` request may block before it is asked again. */
const WAIT_SECS = 25;
/** The events this page follows; `gap` (events were missed) comes whatever is asked. */
const EVENT_TYPES = ["vault.changed", "records.changed", "backup.status", "operation.progress"];

function readCookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

const seg = (value: string) => encodeURIComponent(value);

/** Where a project's records (or, with `project` null, the vault's) live in the API. */
const records = (project: string | null) => (project === null ? "/records" : `/projects/${seg(project)}/records`);

function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** A `ProjectFilter` as query parameters: nulls left out, lists comma-separated. */
export function filterQuery(filter: ProjectFilter): Query {
  const query: Query = {};
  for (const [key, value] of Object.entries(filter)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "metadata") {
      const pairs = (value as [string, string | null][]).map(([k, v]) => (v === null ? k : `${k}=${v}`));
      if (pairs.length) query.metadata = pairs.join(",");
    } else if (Array.isArray(value)) {
      if (value.length) query[key] = value.join(",");
    } else {
      query[key] = value as string | number | boolean;
    }
  }
  return query;
}

function isOperation(value: unknown): value is Operation {
  return typeof value === "object" && value !== null && "state" in value && "id" in value && "kind" in value;
}

function settled<T>(op: Operation): Result<T, ApiError> {
  if (op.state === "succeeded") return { status: "ok", data: op.result as T };
  const fallback: ApiError =
    op.state === "cancelled"
      ? { code: "cancelled", message: "The operation was cancelled.", subject: null }
      : { code: "internal", message: `The operation ${op.kind} failed without saying why.`, subject: null };
  return { status: "error", error: op.error ?? fallback };
}

export class HttpTransport implements Transport {
  private events: EventSource | null = null;
  private readonly listeners = new Map<string, Set<(event: ServerEvent<unknown>) => void>>();
  private readonly progress = new Map<string, OnProgress>();
  private dropTarget: ((event: DropEvent) => void) | null = null;

  constructor(
    private readonly askPath: AskPath,
    private readonly base = "",
  ) {}

  // ---- requests

  private async send<T>(method: string, path: string, body: Body = null, headers: Record<string, string> = {}): Promise<{ status: number; value: T | ApiError | Operation }> {
    const init: RequestInit = { method, credentials: "same-origin", headers: { Accept: "application/json", ...headers } };
    if (method !== "GET" && method !== "HEAD") {
      const csrf = readCookie("kura_csrf");
      if (csrf) (init.headers as Record<string, string>)["X-Kura-CSRF"] = csrf;
    }
    if (body && "json" in body) {
      (init.headers as Record<string, string>)["Content-Type"] = "application/json";
      init.body = JSON.stringify(body.json);
    } else if (body && "form" in body) {
      init.body = body.form;
    }
    let response: Response;
    try {
      response = await fetch(`${this.base}/v1${path}`, init);
    } catch {
      return { status: 0, value: { code: "unavailable", message: `Kura's server at ${window.location.host} does not answer; is \`kura serve\` still running?` } };
    }
    const text = await response.text();
    let value: unknown = null;
    if (text) {
      try {
        value = JSON.parse(text);
      } catch {
        value = { code: "internal", message: `The server answered ${response.status} with something that is not JSON: ${text.slice(0, 200)}` };
      }
    }
    // A wrong pasted token answers 401 too: the server's message says what to do about it.
    if (response.status === 401 && path !== "/session") {
      value = { code: "unauthorized", message: "This browser is not signed in to Kura (a server that restarted forgets its sessions). Reload the page to sign in again." };
    }
    return { status: response.status, value: value as T };
  }

  // ---- the session

  /** Whether the server knows this browser's session (false: show the sign-in screen). */
  async signedIn(): Promise<boolean> {
    const { status } = await this.send<AppInfo>("GET", "/status");
    return status !== 401;
  }

  /** Exchanges an API token pasted by a person for a session cookie of the token's scope. */
  async signIn(token: string): Promise<SignInReply> {
    const { status, value } = await this.send<{ scope: "read" | "write" | "admin" }>("POST", "/session", { json: { token } });
    if (status === 200 && typeof value === "object" && value !== null && "scope" in value) return { status: "ok", scope: value.scope };
    return { status: "error", message: toApiError(value, status).message };
  }

  private async call<T>(method: string, path: string, body: Body = null): Reply<T> {
    const { status, value } = await this.send<T>(method, path, body);
    if (status >= 200 && status < 300) return { status: "ok", data: value as T };
    return { status: "error", error: toApiError(value, status) };
  }

  /** A call that returns nothing (the server answers `{ "ok": true }` or similar). */
  private async nothing(pending: Reply<unknown>): Reply<null> {
    const reply = await pending;
    return reply.status === "ok" ? { status: "ok", data: null } : reply;
  }

  private get<T>(path: string, query?: Query) {
    return this.call<T>("GET", withQuery(path, query));
  }
  private post<T>(path: string, json: unknown = {}) {
    return this.call<T>("POST", path, { json });
  }
  private patch<T>(path: string, json: unknown) {
    return this.call<T>("PATCH", path, { json });
  }
  private del<T>(path: string, query?: Query) {
    return this.call<T>("DELETE", withQuery(path, query));
  }

  /** Starts a long operation under `jobId` and follows it to its end. */
  private async operation<T>(path: string, body: Body, jobId: string, onProgress: OnProgress): Reply<T> {
    this.progress.set(jobId, onProgress);
    this.openEvents();
    try {
      const { status, value } = await this.send<Operation>("POST", path, body ?? { json: {} }, { "Kura-Operation-Id": jobId });
      if (!isOperation(value)) {
        if (status >= 200 && status < 300) return { status: "ok", data: value as T };
        return { status: "error", error: toApiError(value, status) };
      }
      let op = value;
      while (op.state === "running") {
        const next = await this.send<Operation>("GET", withQuery(`/operations/${seg(op.id)}`, { wait: true, timeout_secs: WAIT_SECS }));
        if (!isOperation(next.value)) return { status: "error", error: toApiError(next.value, next.status) };
        op = next.value;
      }
      if (op.progress) onProgress(op.progress);
      return settled<T>(op);
    } finally {
      this.progress.delete(jobId);
    }
  }

  private op<T>(path: string, json: unknown, jobId: string, onProgress: OnProgress) {
    return this.operation<T>(path, { json }, jobId, onProgress);
  }

  // ---- events

  /** The one event stream of this page; the browser reconnects it with `Last-Event-ID`. */
  private openEvents() {
    if (this.events) return;
    const source = new EventSource(withQuery(`${this.base}/v1/events`, { types: EVENT_TYPES.join(",") }), { withCredentials: true });
    for (const type of [...EVENT_TYPES, "gap"]) {
      source.addEventListener(type, (message) => {
        let event: ServerEvent<unknown>;
        try {
          event = JSON.parse((message as MessageEvent<string>).data);
        } catch {
          return;
        }
        this.dispatch(type, event);
      });
    }
    this.events = source;
  }

  private dispatch(type: string, event: ServerEvent<unknown>) {
    if (type === "operation.progress") {
      const op = event.data as Operation;
      if (op.progress) this.progress.get(op.id)?.(op.progress);
      return;
    }
    if (type === "gap") {
      // Events were missed: everything on screen may be stale, so reload it all.
      const everything: ServerEvent<VaultChanged> = { ...event, type: "vault.changed", project_id: null, data: { project_id: null, reason: "gap" } };
      for (const listener of this.listeners.get("vault.changed") ?? []) listener(everything);
      return;
    }
    for (const listener of this.listeners.get(type) ?? []) listener(event);
  }

  private listen<T>(type: string, listener: (data: T) => void): Unlisten {
    this.openEvents();
    const wrapped = (event: ServerEvent<unknown>) => listener(event.data as T);
    let set = this.listeners.get(type);
    if (!set) this.listeners.set(type, (set = new Set()));
    set.add(wrapped);
    return () => set.delete(wrapped);
  }

  async onVaultChanged(listener: (event: VaultChanged) => void): Promise<Unlisten> {
    return this.listen("vault.changed", listener);
  }
  async onRecordsChanged(listener: (event: RecordsChanged) => void): Promise<Unlisten> {
    return this.listen("records.changed", listener);
  }
  async onBackupStatus(listener: (status: BackupStatus) => void): Promise<Unlisten> {
    return this.listen("backup.status", listener);
  }

  // ---- what the desktop does natively

  async pickFolder(title: string): Promise<string | null> {
    return this.askPath({ title, kind: "folder", extensions: [] });
  }
  async pickFile(title: string, extensions: string[]): Promise<string | null> {
    return this.askPath({ title, kind: "file", extensions });
  }

  /** Files dragged from the desktop into the page: the same events as the window's, with `File`s. */
  async onDrop(listener: (event: DropEvent) => void): Promise<Unlisten> {
    this.dropTarget = listener;
    let depth = 0;
    const carriesFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes("Files");
    const enter = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      depth += 1;
      if (depth === 1) {
        listener({ type: "enter", paths: [], x: e.clientX, y: e.clientY });
      }
    };
    const over = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      e.preventDefault();
      if (e.dataTransfer) e.dataTransfer.dropEffect = "copy";
      listener({ type: "over", x: e.clientX, y: e.clientY });
    };
    const leave = (e: DragEvent) => {
      if (!carriesFiles(e)) return;
      depth = Math.max(0, depth - 1);
      if (depth === 0) listener({ type: "leave" });
    };
    const drop = (e: DragEvent) => {
      if (!carriesFiles(e) || !e.dataTransfer) return;
      e.preventDefault();
      depth = 0;
      const { x, y } = { x: e.clientX, y: e.clientY };
      // Entries must be taken while the event runs; reading them may take longer.
      const entries = [...e.dataTransfer.items].map((item) => item.webkitGetAsEntry?.() ?? null);
      const plain = [...e.dataTransfer.files];
      void droppedFiles(entries, plain).then((files) => listener({ type: "drop", files, x, y }));
    };
    window.addEventListener("dragenter", enter);
    window.addEventListener("dragover", over);
    window.addEventListener("dragleave", leave);
    window.addEventListener("drop", drop);
    return () => {
      window.removeEventListener("dragenter", enter);
      window.removeEventListener("dragover", over);
      window.removeEventListener("dragleave", leave);
      window.removeEventListener("drop", drop);
      if (this.dropTarget === listener) this.dropTarget = null;
    };
  }

  uploadDropped(id: string, files: DroppedFile[], destDir: string, jobId: string, onProgress: OnProgress) {
    const form = new FormData();
    for (const { path, file } of files) form.append("file", file, path);
    return this.operation<UploadReport>(withQuery(`/projects/${seg(id)}/upload`, { dest_dir: destDir }), { form }, jobId, onProgress);
  }

  // ---- commands

  appInfo() {
    return this.get<AppInfo>("/status");
  }
  workspaces() {
    return this.get<Workspace[]>("/workspaces");
  }
  createWorkspace(name: string) {
    return this.post<Workspace>("/workspaces", { name });
  }
  renameWorkspace(name: string, newName: string) {
    return this.patch<Workspace>(`/workspaces/${seg(name)}`, { name: newName });
  }
  switchWorkspace(name: string) {
    return this.post<Workspace>(`/workspaces/${seg(name)}/switch`);
  }
  deleteWorkspace(name: string, moveTo: string | null) {
    return this.nothing(this.del(`/workspaces/${seg(name)}`, { move_to: moveTo }));
  }

  projects(filter: ProjectFilter) {
    return this.get<Project[]>("/projects", filterQuery(filter));
  }
  project(id: string) {
    return this.get<Project>(`/projects/${seg(id)}`);
  }
  createProject(newProject: NewProject) {
    return this.post<Project>("/projects", newProject);
  }
  importFolder(path: string, options: ImportOptions, jobId: string, onProgress: OnProgress) {
    return this.op<Project>("/projects/import", { path, options }, jobId, onProgress);
  }
  renameProject(id: string, newName: string) {
    return this.patch<Project>(`/projects/${seg(id)}`, { name: newName });
  }
  moveProject(id: string, workspace: string) {
    return this.patch<Project>(`/projects/${seg(id)}`, { workspace });
  }
  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null) {
    return this.patch<Project>(`/projects/${seg(id)}`, { description, kind, git_remote: gitRemote });
  }
  tagProject(id: string, add: string[], remove: string[]) {
    return this.post<Project>(`/projects/${seg(id)}/tags`, { add, remove });
  }
  recordCollections(project: string | null) {
    return this.get<CollectionInfo[]>(records(project));
  }
  recordQuery(project: string | null, collection: string, query: RecordQuery) {
    return this.post<RecordPage>(`${records(project)}/${seg(collection)}`, query);
  }
  recordGet(project: string | null, collection: string, key: string) {
    return this.get<StoredRecord>(`${records(project)}/${seg(collection)}/${seg(key)}`);
  }
  recordPut(project: string | null, put: RecordPut) {
    const path = withQuery(`${records(project)}/${seg(put.collection)}/${seg(put.key)}`, { if_rev: put.if_rev, ttl: put.ttl_secs });
    return this.call<StoredRecord>("PUT", path, { json: put.value });
  }
  async recordDelete(project: string | null, del: RecordDelete): Reply<boolean> {
    const reply = await this.del<{ existed: boolean }>(`${records(project)}/${seg(del.collection)}/${seg(del.key)}`, { if_rev: del.if_rev });
    return reply.status === "ok" ? { status: "ok", data: reply.data.existed } : reply;
  }
  recordConfigure(project: string | null, collection: string, settings: CollectionSettings) {
    return this.call<CollectionInfo>("PUT", `${records(project)}/${seg(collection)}`, { json: settings });
  }
  setMetadata(id: string, changes: [string, string | null][]) {
    return this.patch<Project>(`/projects/${seg(id)}/metadata`, { changes: changes.map(([key, value]) => ({ key, value })) });
  }
  trashProject(id: string) {
    return this.post<Project>(`/projects/${seg(id)}/trash`);
  }
  untrashProject(id: string) {
    return this.post<Project>(`/projects/${seg(id)}/untrash`);
  }
  deleteProject(id: string) {
    return this.nothing(this.del(`/projects/${seg(id)}`));
  }
  exportProject(id: string, version: string | null, dest: string, records: boolean, jobId: string, onProgress: OnProgress) {
    return this.op<RestoreReport>(`/projects/${seg(id)}/export`, { version, dest, records }, jobId, onProgress);
  }
  templates() {
    return this.get<Template[]>("/templates");
  }
  saveTemplate(id: string, name: string) {
    return this.post<Template>(`/projects/${seg(id)}/template`, { name });
  }

  listFiles(id: string, prefix: string | null) {
    return this.get<FileEntry[]>(`/projects/${seg(id)}/files`, { prefix });
  }
  previewFile(id: string, path: string) {
    return this.get<FilePreview>(`/projects/${seg(id)}/preview`, { path });
  }
  uploadFiles(id: string, sources: string[], destDir: string, jobId: string, onProgress: OnProgress) {
    return this.op<UploadReport>(`/projects/${seg(id)}/upload`, { sources, dest_dir: destDir }, jobId, onProgress);
  }

  snapshot(id: string, message: string | null, jobId: string, onProgress: OnProgress) {
    return this.op<SnapshotReport>(`/projects/${seg(id)}/snapshot`, { message }, jobId, onProgress);
  }
  snapshotChanged() {
    return this.post<SnapshotReport[]>("/snapshot-changed");
  }
  versions(id: string, limit: number | null) {
    return this.get<Version[]>(`/projects/${seg(id)}/versions`, { limit });
  }
  fileVersions(id: string, path: string) {
    return this.get<Version[]>(`/projects/${seg(id)}/versions`, { path });
  }
  diff(id: string, from: string, to: string | null, path: string | null) {
    return this.get<Diff>(`/projects/${seg(id)}/diff`, { from, to, path });
  }
  restorePlan(id: string, version: string) {
    return this.get<RestorePlan>(`/projects/${seg(id)}/restore-plan`, { version });
  }
  restoreProject(id: string, version: string, jobId: string, onProgress: OnProgress) {
    return this.op<RestoreReport>(`/projects/${seg(id)}/restore`, { version }, jobId, onProgress);
  }
  restoreFile(id: string, version: string, path: string, jobId: string, onProgress: OnProgress) {
    return this.op<RestoreReport>(`/projects/${seg(id)}/restore`, { version, path }, jobId, onProgress);
  }

  folderGitStatus(id: string) {
    return this.get<FolderGitStatus>(`/projects/${seg(id)}/git/status`);
  }
  folderGitLog(id: string, limit: number) {
    return this.get<FolderGitCommit[]>(`/projects/${seg(id)}/git/log`, { limit });
  }
  initFolderGit(id: string) {
    return this.nothing(this.post(`/projects/${seg(id)}/git/init`));
  }

  stats() {
    return this.get<Stats>("/stats");
  }
  config() {
    return this.get<Config>("/config");
  }
  setConfig(key: string, value: string) {
    return this.patch<Config>("/config", { key, value });
  }
  verify(jobId: string, onProgress: OnProgress) {
    return this.op<VerifyReport>("/verify", {}, jobId, onProgress);
  }
  gc(jobId: string, onProgress: OnProgress) {
    return this.op<GcReport>("/gc", {}, jobId, onProgress);
  }
  cancelJob(jobId: string) {
    return this.nothing(this.del(`/operations/${seg(jobId)}`));
  }

  planCommand(input: CommandInput) {
    return this.get<CommandPlan>("/command", { text: input.text, project: input.project });
  }
  shareProject(request: ShareRequest, jobId: string, onProgress: OnProgress) {
    const { project, ...body } = request;
    return this.op<Share>(`/projects/${seg(project)}/shares`, body, jobId, onProgress);
  }
  shares(project: string | null) {
    return this.get<Share[]>("/shares", { project });
  }
  revokeShare(id: string) {
    return this.del<Share>(`/shares/${seg(id)}`);
  }

  archives() {
    return this.get<ArchiveInfo[]>("/archives");
  }
  archiveProject(id: string, jobId: string, onProgress: OnProgress) {
    return this.op<ArchiveInfo>(`/projects/${seg(id)}/archive`, {}, jobId, onProgress);
  }
  unarchiveProject(reference: string, jobId: string, onProgress: OnProgress) {
    return this.op<Project>("/archives/unarchive", { reference }, jobId, onProgress);
  }
  extractArchive(archive: string, dest: string, jobId: string, onProgress: OnProgress) {
    return this.op<ExtractReport>(`/archives/${seg(archive)}/extract`, { dest }, jobId, onProgress);
  }
  verifyArchive(archive: string, jobId: string, onProgress: OnProgress) {
    return this.op<ArchiveVerifyReport>(`/archives/${seg(archive)}/verify`, {}, jobId, onProgress);
  }
  importArchive(path: string, options: ImportArchiveOptions, jobId: string, onProgress: OnProgress) {
    return this.op<Project>("/archives/import", { path, options }, jobId, onProgress);
  }
  quotaStatus() {
    return this.get<QuotaStatus>("/quota");
  }
  cleanup(options: CleanupOptions, jobId: string, onProgress: OnProgress) {
    return this.op<CleanupReport>("/cleanup", options, jobId, onProgress);
  }
  cleanupRuns() {
    return this.get<CleanupReport[]>("/cleanup/runs");
  }
  nextCleanupAt() {
    return this.get<number | null>("/cleanup/next");
  }

  backupStatus() {
    return this.get<BackupStatus>("/backups/status");
  }
  addBackupTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean) {
    return this.post<TestReport>("/backups/targets", { target, secrets, use_keyring: useKeyring });
  }
  updateBackupTarget(name: string, changes: TargetChanges) {
    return this.patch<Target>(`/backups/targets/${seg(name)}`, changes);
  }
  removeBackupTarget(name: string) {
    return this.nothing(this.del(`/backups/targets/${seg(name)}`));
  }
  testBackupTarget(name: string) {
    return this.post<TestReport>(`/backups/targets/${seg(name)}/test`);
  }
  /** The run is an operation (202); its progress and end arrive as `backup.status` events. */
  startBackup(target: string) {
    return this.nothing(this.post(`/backups/targets/${seg(target)}/run`));
  }
  async cancelBackup(target: string): Reply<boolean> {
    const reply = await this.del<{ cancelled: boolean }>(`/backups/targets/${seg(target)}/run`);
    return reply.status === "ok" ? { status: "ok", data: reply.data.cancelled } : reply;
  }
  backupRuns(target: string | null) {
    return this.get<RunRecord[]>("/backups/runs", { target });
  }
  backupsAt(target: string) {
    return this.get<BackupInfo[]>(`/backups/targets/${seg(target)}/backups`);
  }
  backupContents(target: string, backup: string) {
    return this.get<BackupContents>(`/backups/targets/${seg(target)}/backups/${seg(backup)}`);
  }
  restorePreview(target: string, backup: string, project: string | null, destination: string) {
    return this.get<RestorePreview>(`/backups/targets/${seg(target)}/backups/${seg(backup)}/restore-preview`, { project, destination });
  }
  secretVariables(name: string, kind: LocationKind, encrypt: boolean) {
    return this.get<SecretVariable[]>("/backups/secret-variables", { name, kind, encrypt });
  }
  restoreBackup(target: string, backup: string, project: string | null, destination: string, jobId: string, onProgress: OnProgress) {
    return this.op<BackupRestoreReport>(
      `/backups/targets/${seg(target)}/backups/${seg(backup)}/restore`,
      { project, destination },
      jobId,
      onProgress,
    );
  }
  verifyBackups(target: string, mode: VerifyMode, jobId: string, onProgress: OnProgress) {
    return this.op<BackupVerifyReport>(`/backups/targets/${seg(target)}/verify`, { mode }, jobId, onProgress);
  }
  pruneBackups(target: string, dryRun: boolean, jobId: string, onProgress: OnProgress) {
    return this.op<PruneReport>(`/backups/targets/${seg(target)}/prune`, { dry_run: dryRun }, jobId, onProgress);
  }
  pauseBackups(length: PauseLength | null) {
    return this.nothing(this.post("/backups/pause", { length }));
  }
}

/** An error body (or anything else a failed request answered) as the `ApiError` commands return. */
function toApiError(value: unknown, status: number): ApiError {
  if (typeof value === "object" && value !== null && "code" in value && "message" in value) {
    // Door-only codes (unauthorized, forbidden, ...) pass through; the client reports codes it
    // does not know as `internal`, naming them.
    const { code, message, subject } = value as ApiError;
    return { code: String(code) as ErrorCode, message: String(message), subject: subject ?? null };
  }
  if (isOperation(value) && value.error) return value.error;
  return { code: status >= 500 ? "internal" : "invalid_input", message: `The server answered ${status} without saying why.`, subject: null };
}

/** Walks dropped folders (File System entries) into files with paths relative to the drop. */
async function droppedFiles(entries: (FileSystemEntry | null)[], plain: File[]): Promise<DroppedFile[]> {
  if (entries.every((e) => e === null)) return plain.map((file) => ({ path: file.name, file }));
  const out: DroppedFile[] = [];
  const walk = async (entry: FileSystemEntry, prefix: string): Promise<void> => {
    const path = prefix ? `${prefix}/${entry.name}` : entry.name;
    if (entry.isFile) {
      const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
      out.push({ path, file });
    } else if (entry.isDirectory) {
      const reader = (entry as FileSystemDirectoryEntry).createReader();
      // readEntries answers in batches until it answers an empty one.
      for (;;) {
        const batch = await new Promise<FileSystemEntry[]>((resolve, reject) => reader.readEntries(resolve, reject));
        if (batch.length === 0) break;
        for (const child of batch) await walk(child, path);
      }
    }
  };
  for (const [i, entry] of entries.entries()) {
    if (entry) await walk(entry, "");
    else if (plain[i]) out.push({ path: plain[i].name, file: plain[i] });
  }
  return out;
}
