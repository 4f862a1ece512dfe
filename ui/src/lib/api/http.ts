// The browser's transport: `kura serve`'s HTTP API (`docs/api/openapi.json`; each call's route is in `routes.ts`, written from it) from the page it
// serves. The session is a cookie set by the one-time sign-in link or by a token pasted in the
// sign-in screen (`signIn`, shown by connect.ts); every write carries the
// `X-Kura-CSRF` header copied from the readable `kura_csrf` cookie. Long commands start an
// operation (202) under the UI's job id and are followed to their end: progress through the
// shared event stream, the result through `GET /v1/operations/{id}?wait=true`.
//
// What only the desktop has degrades honestly: the folder and file pickers ask for a path in a
// page dialog (`askPath`), and dropped files arrive as `File`s that are uploaded as bytes.

import { CALLS, type Call, type CallName, type Place } from "./calls";
import { ROUTES, type OperationId } from "./routes";
import type { Scope } from "./access";
import type { DroppedFile, DropEvent, OnProgress, Operations, Reply, Transport, Unlisten } from "./transport";
import type {
  ApiError,
  BackupStatus,
  ErrorCode,
  Progress,
  RecordsChanged,
  Result,
  UploadReport,
  VaultChanged,
} from "./types";

/** What the page dialog standing in for the native pickers is asked. */
export type PathRequest = { title: string; kind: "folder" | "file"; extensions: string[] };
export type AskPath = (request: PathRequest) => Promise<string | null>;

/** What signing in with a pasted token came to: the session's scope, or what went wrong. */
export type SignInReply = { status: "ok"; scope: Scope } | { status: "error"; message: string };

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

/**
 * A value as a query parameter: lists comma-separated, `[key, value]` pairs as `key=value` (a
 * bare key when the value is null); left out when null, false or an empty list.
 */
function queryValue(value: unknown): string | number | boolean | undefined {
  if (value === null || value === undefined || value === false) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => (Array.isArray(item) ? (item[1] === null ? String(item[0]) : `${item[0]}=${item[1]}`) : String(item)));
    return items.length ? items.join(",") : undefined;
  }
  return value as string | number | boolean;
}

/** An object's fields as query parameters (a `ProjectFilter`, a `VersionsRequest`). */
export function asQuery(object: object): Query {
  const query: Query = {};
  for (const [key, value] of Object.entries(object)) {
    const v = queryValue(value);
    if (v !== undefined) query[key] = v;
  }
  return query;
}

/** Whether a call's arguments fit an operation: its path has each, and what it lacks is null. */
function fits(places: { readonly [arg: string]: Place }, named: Record<string, unknown>): boolean {
  return Object.entries(places).every(([arg, place]) => {
    if (place === "absent") return named[arg] === null || named[arg] === undefined;
    if (typeof place === "string" && place.startsWith("path:")) return named[arg] !== null && named[arg] !== undefined;
    return true;
  });
}

/** The path parameters, query and JSON body a call's arguments make, each in its place. */
function placed(places: { readonly [arg: string]: Place }, named: Record<string, unknown>) {
  const params: Record<string, string> = {};
  const query: Query = {};
  const fields: Record<string, unknown> = {};
  let body: unknown = undefined;
  const put = (place: Place, value: unknown) => {
    if (typeof place !== "string") {
      const object = (value ?? {}) as Record<string, unknown>;
      for (const [field, inner] of Object.entries(place)) put(inner, object[field]);
      return;
    }
    const [kind, name] = place.split(":");
    if (kind === "path") params[name] = String(value);
    else if (kind === "query") query[name] = queryValue(value);
    else if (kind === "field") fields[name] = value;
    else if (kind === "body") body = value;
    else if (kind === "queries") Object.assign(query, asQuery((value ?? {}) as object));
  };
  for (const [arg, place] of Object.entries(places)) put(place, named[arg]);
  const json = body !== undefined ? body : Object.keys(fields).length ? fields : undefined;
  return { params, query, json };
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

// The operations are sent through one function (`sendCall`), as `calls.ts` places their
// arguments; the interface says they are there, the unit test that every one sends.
export interface HttpTransport extends Operations {}

export class HttpTransport implements Transport {
  private events: EventSource | null = null;
  private readonly listeners = new Map<string, Set<(event: ServerEvent<unknown>) => void>>();
  private readonly progress = new Map<string, OnProgress>();
  private dropTarget: ((event: DropEvent) => void) | null = null;

  constructor(
    private readonly askPath: AskPath,
    private readonly base = "",
  ) {
    for (const name of Object.keys(CALLS) as CallName[]) {
      Object.defineProperty(this, name, { value: (...args: unknown[]) => this.sendCall(name, args) });
    }
  }

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
      return { status: 0, value: { code: "unavailable", message: `Kura's server at ${window.location.host} does not answer; is \`kura serve\` still running?`, subject: null } };
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

  /**
   * The scope of this browser's session (what it may do); null while it is not known (a server
   * that did not answer), when nothing is held back here and the server still refuses.
   */
  scope: Scope | null = null;

  /**
   * Whether the server knows this browser's session (false: show the sign-in screen); learns
   * the session's scope on the way.
   */
  async signedIn(): Promise<boolean> {
    const { method, path } = route("getCaller", {});
    const { status, value } = await this.send<{ scope: Scope }>(method, path);
    if (status === 200 && typeof value === "object" && value !== null && "scope" in value) this.scope = value.scope;
    return status !== 401;
  }

  /** Exchanges an API token pasted by a person for a session cookie of the token's scope. */
  async signIn(token: string): Promise<SignInReply> {
    const { method, path } = route("signIn", {});
    const { status, value } = await this.send<{ scope: Scope }>(method, path, { json: { token } });
    if (status === 200 && typeof value === "object" && value !== null && "scope" in value) {
      this.scope = value.scope;
      return { status: "ok", scope: value.scope };
    }
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

  // ---- the operations, named as the shell's commands

  /**
   * Sends command `name` as `calls.ts` says: as the first of its operations its arguments fit
   * (a vault's records when the project is null, else the project's), each argument in its
   * place in the path, the query or the body.
   */
  private sendCall(name: CallName, args: unknown[]): Reply<unknown> {
    const call: Call = CALLS[name];
    const named = Object.fromEntries(call.args.map((arg, i) => [arg, args[i]]));
    const variant = call.variants.find((v) => fits(v.places, named));
    if (!variant) {
      const error: ApiError = { code: "invalid_input", message: `No operation of Kura's server takes ${name} with these arguments.`, subject: null };
      return Promise.resolve({ status: "error", error });
    }
    const { params, query, json } = placed(variant.places, named);
    const [method, template] = ROUTES[variant.op];
    const at = { method, path: template.replace(/\{(\w+)\}/g, (_, p: string) => seg(params[p])) };
    if (call.long) {
      const [jobId, onProgress] = args.slice(call.args.length) as [string, OnProgress];
      return this.operation(at, { json: json ?? {} }, jobId, onProgress, query);
    }
    const reply = this.call(at, { query, json });
    return call.nothing ? this.nothing(reply) : reply;
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
