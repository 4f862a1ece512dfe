// The browser's transport: `kura serve`'s HTTP API (`docs/api/openapi.json`; each call's route is in `routes.ts`, written from it) from the page it
// serves. The session is a cookie set by the one-time sign-in link or by a token pasted in the
// sign-in screen (`signIn`, shown by connect.ts); every write carries the
// `X-Kura-CSRF` header copied from the readable `kura_csrf` cookie. Long commands start an
// operation (202) under the UI's job id and are followed to their end: progress through the
// shared event stream, the result through `GET /v1/operations/{id}?wait=true`.
//
// What only the desktop has degrades honestly: the folder and file pickers ask for a path in a
// page dialog (`askPath`), and dropped files arrive as `File`s that are uploaded as bytes.

import { ROUTES, type OperationId } from "./routes";
import type { DroppedFile, DropEvent, OnProgress, Reply, Transport, Unlisten } from "./transport";
import type {
  AppInfo,
  ApiError,
  ArchiveInfo,
  ArchiveReference,
  ArchiveVerifyReport,
  BackupContents,
  BackupInfo,
  BackupRestoreReport,
  Cancelled,
  BackupStatus,
  BackupVerifyReport,
  CleanupOptions,
  CleanupReport,
  CollectionInfo,
  CollectionSettings,
  CommandInput,
  CommandPlan,
  Config,
  Deleted,
  Diff,
  DiffRequest,
  ErrorCode,
  ExtractReport,
  FileEntry,
  FilePreview,
  FolderGitCommit,
  FolderGitStatus,
  GcReport,
  ImportArchiveOptions,
  ImportOptions,
  LocationKind,
  NewProject,
  PauseLength,
  Progress,
  Project,
  ProjectFilter,
  PruneReport,
  QuotaStatus,
  RecordDelete,
  RecordPage,
  RecordPut,
  RecordQuery,
  RecordsChanged,
  RestorePlan,
  RestorePreview,
  RestoreReport,
  RestoreRequest,
  Result,
  RunRecord,
  SecretVariable,
  Share,
  ShareOptions,
  SnapshotReport,
  SnapshotRequest,
  Stats,
  StoredRecord,
  Target,
  TargetChanges,
  TargetSecrets,
  Template,
  TestReport,
  UploadReport,
  VaultChanged,
  VerifyMode,
  VerifyReport,
  VerifyVault,
  Version,
  VersionsRequest,
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

/** The names of the `{parameters}` of a path. */
type ParamsOf<Path extends string> = Path extends `${string}{${infer Name}}${infer Rest}` ? Name | ParamsOf<Rest> : never;

/** An operation's method and its path with its parameters filled in. */
type At = { method: string; path: string };

/**
 * Where operation `id` of the document is: `params` fills its path, one string per parameter, no
 * more and no less (the type check holds the names to the document's).
 */
function route<Id extends OperationId>(id: Id, params: Record<ParamsOf<(typeof ROUTES)[Id][1]>, string>): At {
  const [method, template] = ROUTES[id];
  const values = params as Record<string, string>;
  return { method, path: template.replace(/\{(\w+)\}/g, (_, name: string) => seg(values[name])) };
}

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
      response = await fetch(`${this.base}${path}`, init);
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
    if (response.status === 401 && path !== ROUTES.signIn[1]) {
      value = { code: "unauthorized", message: "This browser is not signed in to Kura (a server that restarted forgets its sessions). Reload the page to sign in again." };
    }
    return { status: response.status, value: value as T };
  }

  // ---- the session

  /** Whether the server knows this browser's session (false: show the sign-in screen). */
  async signedIn(): Promise<boolean> {
    const { method, path } = route("getStatus", {});
    const { status } = await this.send<AppInfo>(method, path);
    return status !== 401;
  }

  /** Exchanges an API token pasted by a person for a session cookie of the token's scope. */
  async signIn(token: string): Promise<SignInReply> {
    const { method, path } = route("signIn", {});
    const { status, value } = await this.send<{ scope: "read" | "write" | "admin" }>(method, path, { json: { token } });
    if (status === 200 && typeof value === "object" && value !== null && "scope" in value) return { status: "ok", scope: value.scope };
    return { status: "error", message: toApiError(value, status).message };
  }

  /** Calls an operation with its query and JSON body (a write without one sends `{}`). */
  private async call<T>(at: At, options: { query?: Query; json?: unknown } = {}): Reply<T> {
    const body = at.method === "GET" || at.method === "DELETE" ? null : { json: options.json ?? {} };
    const { status, value } = await this.send<T>(at.method, withQuery(at.path, options.query), body);
    if (status >= 200 && status < 300) return { status: "ok", data: value as T };
    return { status: "error", error: toApiError(value, status) };
  }

  /** A call that returns nothing (the server answers `{ "ok": true }` or similar). */
  private async nothing(pending: Reply<unknown>): Reply<null> {
    const reply = await pending;
    return reply.status === "ok" ? { status: "ok", data: null } : reply;
  }

  /** Starts a long operation under `jobId` and follows it to its end. */
  private async operation<T>(at: At, body: Body, jobId: string, onProgress: OnProgress, query: Query = {}): Reply<T> {
    this.progress.set(jobId, onProgress);
    this.openEvents();
    try {
      const { status, value } = await this.send<Operation>(at.method, withQuery(at.path, query), body ?? { json: {} }, { "Kura-Operation-Id": jobId });
      if (!isOperation(value)) {
        if (status >= 200 && status < 300) return { status: "ok", data: value as T };
        return { status: "error", error: toApiError(value, status) };
      }
      let op = value;
      while (op.state === "running") {
        const next = route("getOperation", { id: op.id });
        const answer = await this.send<Operation>(next.method, withQuery(next.path, { wait: true, timeout_secs: WAIT_SECS }));
        if (!isOperation(answer.value)) return { status: "error", error: toApiError(answer.value, answer.status) };
        op = answer.value;
      }
      if (op.progress) onProgress(op.progress);
      return settled<T>(op);
    } finally {
      this.progress.delete(jobId);
    }
  }

  private op<T>(at: At, json: unknown, jobId: string, onProgress: OnProgress) {
    return this.operation<T>(at, { json }, jobId, onProgress);
  }

  // ---- events

  /** The one event stream of this page; the browser reconnects it with `Last-Event-ID`. */
  private openEvents() {
    if (this.events) return;
    const source = new EventSource(withQuery(`${this.base}${ROUTES.streamEvents[1]}`, { types: EVENT_TYPES.join(",") }), { withCredentials: true });
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
    return this.operation<UploadReport>(route("uploadFiles", { id }), { form }, jobId, onProgress, { dest_dir: destDir });
  }

  // ---- the operations, named as the shell's commands; each finds its route by its operationId

  getStatus() {
    return this.call<AppInfo>(route("getStatus", {}));
  }
  listWorkspaces() {
    return this.call<Workspace[]>(route("listWorkspaces", {}));
  }
  createWorkspace(name: string) {
    return this.call<Workspace>(route("createWorkspace", {}), { json: { name } });
  }
  renameWorkspace(name: string, newName: string) {
    return this.call<Workspace>(route("renameWorkspace", { name }), { json: { name: newName } });
  }
  switchWorkspace(name: string) {
    return this.call<Workspace>(route("switchWorkspace", { name }));
  }
  deleteWorkspace(name: string, moveTo: string | null) {
    return this.nothing(this.call(route("deleteWorkspace", { name }), { query: { move_to: moveTo } }));
  }

  listProjects(filter: ProjectFilter) {
    return this.call<Project[]>(route("listProjects", {}), { query: filterQuery(filter) });
  }
  getProject(id: string) {
    return this.call<Project>(route("getProject", { id }));
  }
  createProject(newProject: NewProject) {
    return this.call<Project>(route("createProject", {}), { json: newProject });
  }
  importFolder(path: string, options: ImportOptions, jobId: string, onProgress: OnProgress) {
    return this.op<Project>(route("importFolder", {}), { path, options }, jobId, onProgress);
  }
  renameProject(id: string, name: string) {
    return this.call<Project>(route("editProject", { id }), { json: { name } });
  }
  moveProject(id: string, workspace: string) {
    return this.call<Project>(route("editProject", { id }), { json: { workspace } });
  }
  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null) {
    return this.call<Project>(route("editProject", { id }), { json: { description, kind, git_remote: gitRemote } });
  }
  tagProject(id: string, add: string[], remove: string[]) {
    return this.call<Project>(route("tagProject", { id }), { json: { add, remove } });
  }
  setProjectMetadata(id: string, changes: [string, string | null][]) {
    const json = { changes: changes.map(([key, value]) => ({ key, value })) };
    return this.call<Project>(route("setProjectMetadata", { id }), { json });
  }
  trashProject(id: string) {
    return this.call<Project>(route("trashProject", { id }));
  }
  untrashProject(id: string) {
    return this.call<Project>(route("untrashProject", { id }));
  }
  deleteProject(id: string) {
    return this.nothing(this.call(route("deleteProject", { id })));
  }
  exportProject(id: string, version: string | null, dest: string, records: boolean, jobId: string, onProgress: OnProgress) {
    return this.op<RestoreReport>(route("exportProject", { id }), { version, dest, records }, jobId, onProgress);
  }
  listTemplates() {
    return this.call<Template[]>(route("listTemplates", {}));
  }
  saveProjectAsTemplate(id: string, name: string) {
    return this.call<Template>(route("saveProjectAsTemplate", { id }), { json: { name } });
  }

  // Records: the vault's own collections with `project` null, else the project's.
  recordCollections(project: string | null) {
    const at = project === null ? route("listVaultCollections", {}) : route("listProjectCollections", { id: project });
    return this.call<CollectionInfo[]>(at);
  }
  recordQuery(project: string | null, collection: string, query: RecordQuery) {
    const at = project === null ? route("queryVaultRecords", { collection }) : route("queryProjectRecords", { id: project, collection });
    return this.call<RecordPage>(at, { json: query });
  }
  recordGet(project: string | null, collection: string, key: string) {
    const at = project === null ? route("getVaultRecord", { collection, key }) : route("getProjectRecord", { id: project, collection, key });
    return this.call<StoredRecord>(at);
  }
  recordPut(project: string | null, put: RecordPut) {
    const { collection, key } = put;
    const at = project === null ? route("putVaultRecord", { collection, key }) : route("putProjectRecord", { id: project, collection, key });
    return this.call<StoredRecord>(at, { query: { if_rev: put.if_rev, ttl_secs: put.ttl_secs }, json: put.value });
  }
  recordDelete(project: string | null, del: RecordDelete) {
    const { collection, key } = del;
    const at = project === null ? route("deleteVaultRecord", { collection, key }) : route("deleteProjectRecord", { id: project, collection, key });
    return this.call<Deleted>(at, { query: { if_rev: del.if_rev } });
  }
  recordConfigure(project: string | null, collection: string, settings: CollectionSettings) {
    const at = project === null ? route("configureVaultCollection", { collection }) : route("configureProjectCollection", { id: project, collection });
    return this.call<CollectionInfo>(at, { json: settings });
  }

  listFiles(id: string, prefix: string | null) {
    return this.call<FileEntry[]>(route("listFiles", { id }), { query: { prefix } });
  }
  previewFile(id: string, path: string) {
    return this.call<FilePreview>(route("previewFile", { id }), { query: { path } });
  }
  uploadFiles(id: string, sources: string[], destDir: string, jobId: string, onProgress: OnProgress) {
    return this.op<UploadReport>(route("uploadFiles", { id }), { sources, dest_dir: destDir }, jobId, onProgress);
  }

  snapshotProject(id: string, request: SnapshotRequest, jobId: string, onProgress: OnProgress) {
    return this.op<SnapshotReport>(route("snapshotProject", { id }), request, jobId, onProgress);
  }
  snapshotChangedProjects() {
    return this.call<SnapshotReport[]>(route("snapshotChangedProjects", {}));
  }
  listVersions(id: string, request: VersionsRequest) {
    return this.call<Version[]>(route("listVersions", { id }), { query: { ...request } });
  }
  diffVersions(id: string, request: DiffRequest) {
    return this.call<Diff>(route("diffVersions", { id }), { query: { ...request } });
  }
  planRestore(id: string, version: string) {
    return this.call<RestorePlan>(route("planRestore", { id }), { query: { version } });
  }
  restoreProject(id: string, request: RestoreRequest, jobId: string, onProgress: OnProgress) {
    return this.op<RestoreReport>(route("restoreProject", { id }), request, jobId, onProgress);
  }

  getGitStatus(id: string) {
    return this.call<FolderGitStatus>(route("getGitStatus", { id }));
  }
  getGitLog(id: string, limit: number) {
    return this.call<FolderGitCommit[]>(route("getGitLog", { id }), { query: { limit } });
  }
  initGitRepository(id: string) {
    return this.nothing(this.call(route("initGitRepository", { id })));
  }

  getStats() {
    return this.call<Stats>(route("getStats", {}));
  }
  getConfig() {
    return this.call<Config>(route("getConfig", {}));
  }
  setConfig(key: string, value: string) {
    return this.call<Config>(route("setConfig", {}), { json: { key, value } });
  }
  verifyVault(request: VerifyVault, jobId: string, onProgress: OnProgress) {
    return this.op<VerifyReport>(route("verifyVault", {}), request, jobId, onProgress);
  }
  collectGarbage(jobId: string, onProgress: OnProgress) {
    return this.op<GcReport>(route("collectGarbage", {}), {}, jobId, onProgress);
  }
  cancelOperation(jobId: string) {
    return this.nothing(this.call(route("cancelOperation", { id: jobId })));
  }

  planCommand(input: CommandInput) {
    return this.call<CommandPlan>(route("planCommand", {}), { query: { text: input.text, project: input.project } });
  }
  shareProject(id: string, options: ShareOptions, jobId: string, onProgress: OnProgress) {
    return this.op<Share>(route("shareProject", { id }), options, jobId, onProgress);
  }
  listShares(project: string | null) {
    return this.call<Share[]>(route("listShares", {}), { query: { project } });
  }
  revokeShare(id: string) {
    return this.call<Share>(route("revokeShare", { id }));
  }

  listArchives() {
    return this.call<ArchiveInfo[]>(route("listArchives", {}));
  }
  archiveProject(id: string, jobId: string, onProgress: OnProgress) {
    return this.op<ArchiveInfo>(route("archiveProject", { id }), {}, jobId, onProgress);
  }
  unarchiveProject(reference: ArchiveReference, jobId: string, onProgress: OnProgress) {
    return this.op<Project>(route("unarchiveProject", {}), reference, jobId, onProgress);
  }
  extractArchive(archive: string, dest: string, jobId: string, onProgress: OnProgress) {
    return this.op<ExtractReport>(route("extractArchive", { archive }), { dest }, jobId, onProgress);
  }
  verifyArchive(archive: string, jobId: string, onProgress: OnProgress) {
    return this.op<ArchiveVerifyReport>(route("verifyArchive", { archive }), {}, jobId, onProgress);
  }
  importArchive(path: string, options: ImportArchiveOptions, jobId: string, onProgress: OnProgress) {
    return this.op<Project>(route("importArchive", {}), { path, options }, jobId, onProgress);
  }
  getQuota() {
    return this.call<QuotaStatus>(route("getQuota", {}));
  }
  runCleanup(options: CleanupOptions, jobId: string, onProgress: OnProgress) {
    return this.op<CleanupReport>(route("runCleanup", {}), options, jobId, onProgress);
  }
  listCleanupRuns() {
    return this.call<CleanupReport[]>(route("listCleanupRuns", {}));
  }
  getNextCleanup() {
    return this.call<number | null>(route("getNextCleanup", {}));
  }

  getBackupStatus() {
    return this.call<BackupStatus>(route("getBackupStatus", {}));
  }
  addBackupTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean) {
    return this.call<TestReport>(route("addBackupTarget", {}), { json: { target, secrets, use_keyring: useKeyring } });
  }
  updateBackupTarget(name: string, changes: TargetChanges) {
    return this.call<Target>(route("updateBackupTarget", { name }), { json: changes });
  }
  removeBackupTarget(name: string) {
    return this.nothing(this.call(route("removeBackupTarget", { name })));
  }
  testBackupTarget(name: string) {
    return this.call<TestReport>(route("testBackupTarget", { name }));
  }
  /** The run is an operation (202); its progress and end arrive as `backup.status` events. */
  runBackup(target: string) {
    return this.nothing(this.call(route("runBackup", { name: target })));
  }
  cancelBackup(target: string) {
    return this.call<Cancelled>(route("cancelBackup", { name: target }));
  }
  listBackupRuns(target: string | null) {
    return this.call<RunRecord[]>(route("listBackupRuns", {}), { query: { target } });
  }
  listBackups(target: string) {
    return this.call<BackupInfo[]>(route("listBackups", { name: target }));
  }
  getBackupContents(target: string, backup: string) {
    return this.call<BackupContents>(route("getBackupContents", { name: target, backup }));
  }
  previewBackupRestore(target: string, backup: string, project: string | null, destination: string) {
    return this.call<RestorePreview>(route("previewBackupRestore", { name: target, backup }), { query: { project, destination } });
  }
  getBackupSecretVariables(name: string, kind: LocationKind, encrypt: boolean) {
    return this.call<SecretVariable[]>(route("getBackupSecretVariables", {}), { query: { name, kind, encrypt } });
  }
  restoreBackup(target: string, backup: string, project: string | null, destination: string, jobId: string, onProgress: OnProgress) {
    return this.op<BackupRestoreReport>(route("restoreBackup", { name: target, backup }), { project, destination }, jobId, onProgress);
  }
  verifyBackups(target: string, mode: VerifyMode, jobId: string, onProgress: OnProgress) {
    return this.op<BackupVerifyReport>(route("verifyBackups", { name: target }), { mode }, jobId, onProgress);
  }
  pruneBackups(target: string, dryRun: boolean, jobId: string, onProgress: OnProgress) {
    return this.op<PruneReport>(route("pruneBackups", { name: target }), { dry_run: dryRun }, jobId, onProgress);
  }
  pauseBackups(length: PauseLength | null) {
    return this.nothing(this.call(route("pauseBackups", {}), { json: { length } }));
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
