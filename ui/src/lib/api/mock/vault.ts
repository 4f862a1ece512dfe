// An in-memory fake of the engine's vault, for unit tests, page tests and the `mock` build.
// It follows the engine's rules where a person would notice them: unique names, the trash,
// versions only when something changed, restores that keep the current state first, setting
// validation with the engine's messages, error codes.

import type {
  AppInfo,
  AutoSnapshot,
  ChangeCounts,
  Config,
  Diff,
  ErrorCode,
  FileDiff,
  FileEntry,
  FilePreview,
  FolderGitCommit,
  FolderGitStatus,
  FullConfig,
  ImportOptions,
  NewProject,
  Project,
  ProjectFilter,
  RestoreReport,
  SnapshotReport,
  Stats,
  Template,
  Trigger,
  UploadReport,
  UsageSample,
  Version,
  Workspace,
} from "../types";
import { projectFilter } from "../client";
import {
  LANGUAGES,
  SEED_DISK,
  SEED_DISK_FILES,
  SEED_PROJECTS,
  SEED_WORKSPACES,
  type SeedFile,
  type SeedProject,
} from "./seed";
import { unifiedDiff } from "./textdiff";
import { ARCHIVE_SETTING_KEYS, MockArchiver, type VaultInner } from "./archives";

/** A failure with the engine's error code. */
export class MockFailure extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const fail = (code: ErrorCode, message: string): never => {
  throw new MockFailure(code, message);
};

export type Blob = { text: string | null; size: number; image: string | null; tag: string };
export type Tree = Map<string, Blob>;

type StoredVersion = { version: Version; tree: Tree };

export type MockProject = {
  meta: Project;
  /** The working folder; `null` until first needed for generated projects. */
  folder: Tree | null;
  /** Newest first. */
  versions: StoredVersion[];
  git: { branch: string | null; commits: FolderGitCommit[]; committed: Tree } | null;
  seed: number;
};

const DAY = 86_400;
const KIB = 1024;
const MIB = 1024 * KIB;
const GIB = 1024 * MIB;

function hash(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hex(n: number, width = 8): string {
  return (n >>> 0).toString(16).padStart(width, "0").slice(-width);
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

export function blobOf(file: SeedFile): Blob {
  if (typeof file === "string") return { text: file, size: utf8Length(file), image: null, tag: `t${hash(file)}:${file.length}` };
  if ("image" in file) return { text: null, size: Math.round(file.image.length * 0.75), image: file.image, tag: `i${hash(file.image)}` };
  return { text: null, size: file.binary, image: null, tag: `b${file.binary}` };
}

function extOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  return dot > 0 && name.length - dot - 1 <= 12 ? name.slice(dot + 1).toLowerCase() : "";
}

function baseName(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

const CHUNK_EXTENSIONS = new Set(["png", "jpg", "jpeg", "gif", "webp", "zip", "gz", "db", "sqlite", "bin", "parquet", "pdf", "wasm"]);

function checkName(what: string, raw: string): string {
  const name = raw.trim();
  if (!name) fail("invalid_input", `a ${what} name cannot be empty`);
  if ([...name].length > 120) fail("invalid_input", `the ${what} name '${name}' is longer than 120 characters`);
  // eslint-disable-next-line no-control-regex
  if (name === "." || name === ".." || /[/\\\u0000-\u001f]/.test(name))
    fail("invalid_input", `'${name}' is not a valid ${what} name: it may not contain '/', '\\' or control characters`);
  return name;
}

function parseByteSize(raw: string, key: string): number {
  const t = raw.trim();
  const m = /^([0-9.]+)\s*([a-zA-Z]*)$/.exec(t);
  if (!m || Number.isNaN(Number(m[1]))) fail("invalid_input", `${key}: '${raw}' is not a size; write e.g. 512 KiB, 64 MiB or 2 GiB`);
  const units: Record<string, number> = { "": 1, b: 1, k: KIB, kb: KIB, kib: KIB, m: MIB, mb: MIB, mib: MIB, g: GIB, gb: GIB, gib: GIB, t: GIB * 1024, tb: GIB * 1024, tib: GIB * 1024 };
  const mult = units[m![2].toLowerCase()];
  if (mult === undefined) fail("invalid_input", `${key}: unknown size unit '${m![2]}' in '${raw}'`);
  return Math.round(Number(m![1]) * mult);
}

function showByteSize(n: number): string {
  const units: [string, number][] = [
    ["TiB", GIB * 1024],
    ["GiB", GIB],
    ["MiB", MIB],
    ["KiB", KIB],
  ];
  for (const [unit, size] of units) if (n >= size && n % size === 0) return `${n / size} ${unit}`;
  return `${n} B`;
}

export function defaultConfig(): FullConfig {
  return {
    paths: {},
    storage: {
      large_file_threshold: "1 MiB",
      binary_min_size: "64 KiB",
      chunk_extensions: ["zip", "gz", "png", "jpg", "pdf", "db", "bin", "wasm"],
      compression_level: 3,
      history_compression_level: 4,
      cache_size: "64 MiB",
    },
    snapshots: {
      excludes: [".DS_Store", "Thumbs.db", "*.swp"],
      honor_gitignore: true,
      auto_snapshot: "managed",
      quiet_period_secs: 10,
    },
    archive: { archive_after_days: 90, compression_level: 3, threads: 0, unpack_max_ratio: 200, unpack_free_reserve: "256 MiB" },
    quota: { max_project_size: "0 B", total_quota: "0 B" },
    cleanup: { schedule: "daily at 03:00", trash_days: 30 },
    versions: { keep_all_days: 1, hourly_days: 7, daily_days: 30 },
    network: { connect_timeout_secs: 10, io_timeout_secs: 60, operation_timeout_secs: 600 },
  };
}

export type MockVaultOptions = {
  /** Extra generated projects in the default workspace (for big-list tests). */
  extraProjects?: number;
  /** Seconds since the epoch; defaults to the real clock. */
  now?: () => number;
  /** Start empty: one default workspace and no projects. */
  empty?: boolean;
};

export class MockVault {
  readonly root = "/home/dev/.local/share/kura";
  private workspaceList: { id: number; name: string; created_at: number }[] = [];
  private activeWorkspace = 1;
  private nextWorkspaceId = 1;
  private projectMap = new Map<string, MockProject>();
  private nextId = 1;
  private templateList: Template[] = [
    { name: "empty", builtin: true, description: "A README and nothing else", file_count: 1 },
    { name: "backend", builtin: true, description: "A small HTTP service in Rust", file_count: 4 },
    { name: "frontend", builtin: true, description: "A static web page with a little script", file_count: 5 },
    { name: "fullstack", builtin: true, description: "Backend and frontend together", file_count: 9 },
  ];
  private savedTemplates = new Map<string, Tree>();
  cfg: FullConfig = defaultConfig();
  /** Folders outside the vault, by absolute path. */
  readonly disk = new Map<string, Tree>();
  /** Single files outside the vault. */
  readonly diskFiles = new Map<string, Blob>();
  readonly clock: () => number;
  /** What the archiver (`mock/archives.ts`) works on. */
  readonly inner: VaultInner = {
    root: this.root,
    cfg: () => this.cfg,
    now: () => this.now(),
    disk: this.disk,
    diskFiles: this.diskFiles,
    fail,
    projects: () => [...this.projectMap.values()],
    find: (id) => this.projectMap.get(id),
    withFolder: (id) => this.withFolder(id),
    sizes: (p) => this.sizes(p),
    layerOf: (path, blob) => this.layerOf(path, blob),
    changed: (id, reason) => this.onChange?.({ project_id: id, reason }),
    workspace: (name) => (name ? this.workspaceNamed(name).name : this.activeName()),
    checkName: (raw) => checkName("project", raw),
    nameTaken: (workspace, name) => this.nameTaken(workspace, name),
    create: (name, workspace, kind, at, id = this.newProjectId()) => {
      const p: MockProject = { meta: this.baseProject(id, name, workspace, kind, at), folder: new Map(), versions: [], git: null, seed: hash(name) };
      this.projectMap.set(id, p);
      return p;
    },
    record: (p, tree, message, trigger, at) => this.record(p, tree, message, trigger, at),
    snapshot: (id, message, trigger) => this.snapshot(id, message, trigger),
    deleteProject: (id) => void this.deleteProject(id),
    parseSize: parseByteSize,
    showSize: showByteSize,
  };
  /** Archives, quotas and cleanup. */
  readonly archiver = new MockArchiver(this.inner);

  constructor(options: MockVaultOptions = {}) {
    this.clock = options.now ?? (() => Math.floor(Date.now() / 1000));
    for (const [path, tree] of Object.entries(SEED_DISK)) {
      this.disk.set(path, new Map(Object.entries(tree).map(([p, f]) => [p, blobOf(f)])));
    }
    for (const [path, f] of Object.entries(SEED_DISK_FILES)) this.diskFiles.set(path, blobOf(f));
    if (options.empty) {
      this.addWorkspace("default", this.clock() - 40 * DAY);
      return;
    }
    for (const name of SEED_WORKSPACES) this.addWorkspace(name, this.clock() - 200 * DAY);
    for (const seed of SEED_PROJECTS) this.addSeedProject(seed);
    this.archiver.seed();
    for (let i = 0; i < (options.extraProjects ?? 0); i++) this.addGeneratedProject(i);
  }

  // ----- helpers

  private now(): number {
    return this.clock();
  }

  private addWorkspace(name: string, at: number) {
    const id = this.nextWorkspaceId++;
    this.workspaceList.push({ id, name, created_at: at });
    return id;
  }

  private newProjectId(): string {
    const n = this.nextId++;
    return `p${hex(hash(String(n), 0x9e3779b9))}${hex(n, 6)}`;
  }

  private versionId(projectId: string, n: number, at: number): string {
    let out = "";
    for (let i = 0; out.length < 40; i++) out += hex(hash(`${projectId}:${n}:${at}:${i}`));
    return out.slice(0, 40);
  }

  private workspaceNamed(name: string) {
    const ws = this.workspaceList.find((w) => w.name.toLowerCase() === name.trim().toLowerCase());
    if (!ws) return fail("not_found", `there is no workspace named '${name}'`);
    return ws;
  }

  private activeName(): string {
    return this.workspaceList.find((w) => w.id === this.activeWorkspace)?.name ?? this.workspaceList[0].name;
  }

  private byId(id: string): MockProject {
    const p = this.projectMap.get(id);
    if (!p) return fail("not_found", `there is no project '${id}'`);
    return p;
  }

  /** A project whose history is in the vault (an archived project's is in its archive). */
  private withHistory(id: string): MockProject {
    const p = this.byId(id);
    this.materialize(p);
    if (p.meta.status === "archived") fail("conflict", `project '${p.meta.name}' is archived; unarchive it (\`kura unarchive ${p.meta.name}\`) to see its versions`);
    return p;
  }

  private withFolder(id: string): MockProject & { folder: Tree } {
    const p = this.byId(id);
    this.materialize(p);
    if (p.meta.status === "archived") fail("conflict", `project '${p.meta.name}' is archived; unarchive it first`);
    return p as MockProject & { folder: Tree };
  }

  private nameTaken(workspace: string, name: string, except?: string): boolean {
    for (const p of this.projectMap.values()) {
      if (p.meta.workspace === workspace && p.meta.name === name && p.meta.id !== except) return true;
    }
    return false;
  }

  private layerOf(path: string, blob: Blob): "git" | "chunks" {
    const threshold = parseByteSize(this.cfg.storage.large_file_threshold, "large_file_threshold");
    const binMin = parseByteSize(this.cfg.storage.binary_min_size, "binary_min_size");
    if (blob.size >= threshold) return "chunks";
    if (blob.text === null && blob.size >= binMin) return "chunks";
    if (CHUNK_EXTENSIONS.has(extOf(path)) && blob.size >= 4096) return "chunks";
    return "git";
  }

  private detect(p: MockProject) {
    const tree = p.versions[0]?.tree ?? p.folder ?? new Map();
    const langs = new Set<string>();
    const frameworks = new Set<string>();
    for (const [path, blob] of tree) {
      const lang = LANGUAGES[extOf(path)];
      if (lang) langs.add(lang);
      if (blob.text && path.endsWith("package.json")) {
        for (const fw of ["svelte", "react", "vite", "vue", "next"]) if (blob.text.includes(`"${fw}"`)) frameworks.add(fw);
      }
      if (blob.text && path.endsWith("Cargo.toml")) {
        for (const fw of ["axum", "tokio", "tauri"]) if (blob.text.includes(`${fw} =`)) frameworks.add(fw);
      }
    }
    p.meta.languages = [...langs].sort();
    p.meta.frameworks = [...frameworks].sort();
  }

  private sizes(p: MockProject) {
    const latest = p.versions[0];
    const tree = latest?.tree ?? new Map<string, Blob>();
    let logical = 0;
    for (const b of tree.values()) logical += b.size;
    p.meta.logical_size = logical;
    p.meta.file_count = tree.size;
    p.meta.stored_size = Math.round(logical * 0.42) + p.versions.length * 3 * KIB;
    p.meta.head = latest?.version.id ?? null;
  }

  private counts(older: Tree | null, newer: Tree): ChangeCounts {
    const c = { added: 0, modified: 0, removed: 0 };
    for (const [path, blob] of newer) {
      const prev = older?.get(path);
      if (!prev) c.added++;
      else if (prev.tag !== blob.tag) c.modified++;
    }
    if (older) for (const path of older.keys()) if (!newer.has(path)) c.removed++;
    return c;
  }

  private record(p: MockProject, tree: Tree, message: string, trigger: Trigger, at: number): Version {
    const parent = p.versions[0] ?? null;
    let size = 0;
    for (const b of tree.values()) size += b.size;
    const id = this.versionId(p.meta.id, p.versions.length, at);
    const version: Version = {
      id,
      short_id: id.slice(0, 10),
      message,
      author: "dev <dev@localhost>",
      trigger,
      created_at: at,
      parent: parent?.version.id ?? null,
      changes: this.counts(parent?.tree ?? null, tree),
      file_count: tree.size,
      size,
    };
    p.versions.unshift({ version, tree: new Map(tree) });
    this.sizes(p);
    this.detect(p);
    p.meta.updated_at = Math.max(p.meta.updated_at, at);
    return version;
  }

  private baseProject(id: string, name: string, workspace: string, kind: string, at: number): Project {
    return {
      id,
      name,
      workspace,
      kind,
      description: "",
      status: "active",
      linked: false,
      path: `${this.root}/projects/${name}`,
      git_remote: null,
      languages: [],
      frameworks: [],
      tags: [],
      metadata: {},
      created_at: at,
      updated_at: at,
      last_opened_at: null,
      deleted_at: null,
      logical_size: 0,
      stored_size: 0,
      file_count: 0,
      head: null,
    };
  }

  private addSeedProject(seed: SeedProject) {
    const now = this.now();
    const first = seed.history[0];
    const id = this.newProjectId();
    const meta = this.baseProject(id, seed.name, seed.workspace, seed.kind, Math.round(now - first.daysAgo * DAY));
    meta.description = seed.description;
    meta.tags = [...seed.tags].sort();
    meta.metadata = { ...(seed.metadata ?? {}) };
    meta.git_remote = seed.gitRemote ?? null;
    if (seed.linked) {
      meta.linked = true;
      meta.path = seed.linked;
    }
    const p: MockProject = { meta, folder: new Map(), versions: [], git: null, seed: hash(seed.name) };
    const tree: Tree = new Map();
    for (const step of seed.history) {
      for (const [path, file] of Object.entries(step.files)) {
        if (file === null) tree.delete(path);
        else tree.set(path, blobOf(file));
      }
      this.record(p, tree, step.message, step.trigger, Math.round(now - step.daysAgo * DAY));
    }
    p.folder = new Map(tree);
    for (const [path, file] of Object.entries(seed.pending ?? {})) {
      if (file === null) p.folder.delete(path);
      else p.folder.set(path, blobOf(file));
    }
    if (seed.folderGit) {
      p.git = {
        branch: seed.folderGit.branch,
        commits: seed.folderGit.commits.map((c, i) => ({
          id: this.versionId(id, 1000 + i, c.daysAgo),
          summary: c.summary,
          author: "Dana Developer <dana@example.com>",
          time: Math.round(now - c.daysAgo * DAY),
        })),
        committed: new Map(p.versions[0].tree),
      };
    }
    if (seed.status === "archived") meta.status = "archived";
    if (seed.status === "deleted") {
      meta.status = "deleted";
      meta.deleted_at = now - 4 * DAY;
    }
    this.projectMap.set(id, p);
  }

  private addGeneratedProject(i: number) {
    const now = this.now();
    const langs = ["rust", "typescript", "python", "go", "svelte"];
    const seed = hash(`gen${i}`);
    const id = this.newProjectId();
    const name = `project-${String(i + 1).padStart(5, "0")}`;
    const meta = this.baseProject(id, name, "default", i % 7 === 0 ? "generation" : "manual", now - (seed % 400) * DAY);
    meta.languages = [langs[i % langs.length]];
    meta.tags = i % 3 === 0 ? ["batch"] : [];
    meta.description = `Generated project number ${i + 1}`;
    meta.logical_size = 2_000 + (seed % 50_000_000);
    meta.stored_size = Math.round(meta.logical_size * 0.4);
    meta.file_count = 3 + (seed % 400);
    meta.updated_at = now - (seed % 90) * DAY - (seed % 3600);
    this.projectMap.set(id, { meta, folder: null, versions: [], git: null, seed });
  }

  /** Generated projects get files and a first version when first looked into. */
  private materialize(p: MockProject) {
    if (p.folder) return;
    const tree: Tree = new Map([
      ["README.md", blobOf(`# ${p.meta.name}\n\n${p.meta.description}\n`)],
      ["src/main.rs", blobOf(`fn main() {\n    println!("{}");\n}\n`.replace("{}", p.meta.name))],
    ]);
    const languages = p.meta.languages;
    this.record(p, tree, "Created from the empty template", "api", p.meta.created_at);
    p.meta.languages = languages;
    p.folder = new Map(tree);
  }

  private changed(id: string, reason: string) {
    this.onChange?.({ project_id: id, reason });
  }

  /** Called after every change, as the shell emits `vaultChanged`. */
  onChange: ((event: { project_id: string | null; reason: string }) => void) | null = null;

  // ----- app and workspaces

  appInfo(): AppInfo {
    return { vault: this.root, version: "0.1.0 (mock)", config_path: `${this.root}/config.toml` };
  }

  workspaces(): Workspace[] {
    return this.workspaceList
      .map((w) => ({
        id: w.id,
        name: w.name,
        created_at: w.created_at,
        project_count: [...this.projectMap.values()].filter((p) => p.meta.workspace === w.name && p.meta.status !== "deleted").length,
        active: w.id === this.activeWorkspace,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  private workspaceView(name: string): Workspace {
    return this.workspaces().find((w) => w.name === name)!;
  }

  createWorkspace(raw: string): Workspace {
    const name = checkName("workspace", raw);
    if (this.workspaceList.some((w) => w.name.toLowerCase() === name.toLowerCase()))
      fail("already_exists", `a workspace named '${name}' already exists`);
    this.addWorkspace(name, this.now());
    this.onChange?.({ project_id: null, reason: "workspace_created" });
    return this.workspaceView(name);
  }

  renameWorkspace(name: string, rawNew: string): Workspace {
    const ws = this.workspaceNamed(name);
    const newName = checkName("workspace", rawNew);
    if (this.workspaceList.some((w) => w.id !== ws.id && w.name.toLowerCase() === newName.toLowerCase()))
      fail("already_exists", `a workspace named '${newName}' already exists`);
    for (const p of this.projectMap.values()) if (p.meta.workspace === ws.name) p.meta.workspace = newName;
    ws.name = newName;
    this.onChange?.({ project_id: null, reason: "workspace_renamed" });
    return this.workspaceView(newName);
  }

  switchWorkspace(name: string): Workspace {
    const ws = this.workspaceNamed(name);
    this.activeWorkspace = ws.id;
    this.onChange?.({ project_id: null, reason: "workspace_switched" });
    return this.workspaceView(ws.name);
  }

  deleteWorkspace(name: string, moveTo: string | null): null {
    const ws = this.workspaceNamed(name);
    const target = moveTo === null ? null : this.workspaceNamed(moveTo);
    if (target && target.id === ws.id) fail("invalid_input", "cannot move projects to the workspace being deleted");
    if (this.workspaceList.length <= 1) fail("conflict", `'${ws.name}' is the only workspace; create another one before deleting it`);
    const held = [...this.projectMap.values()].filter((p) => p.meta.workspace === ws.name);
    if (held.length > 0) {
      if (!target)
        return fail(
          "conflict",
          `workspace '${ws.name}' still holds ${held.length} project(s) (trash included); move them with --move-to <workspace> or delete them first`,
        );
      const clash = held.find((p) => this.nameTaken(target.name, p.meta.name));
      if (clash) fail("conflict", `workspace '${target.name}' already has a project named '${clash.meta.name}'; rename one of them first`);
      for (const p of held) p.meta.workspace = target.name;
    }
    this.workspaceList = this.workspaceList.filter((w) => w.id !== ws.id);
    if (this.activeWorkspace === ws.id) this.activeWorkspace = this.workspaceList[0].id;
    this.onChange?.({ project_id: null, reason: "workspace_deleted" });
    return null;
  }

  // ----- projects

  projects(partial: ProjectFilter): Project[] {
    const filter = projectFilter(partial);
    const workspace = filter.all_workspaces ? null : (filter.workspace ?? this.activeName());
    const text = filter.text?.trim().toLowerCase() || null;
    const out: Project[] = [];
    for (const { meta } of this.projectMap.values()) {
      if (workspace !== null && meta.workspace.toLowerCase() !== workspace.toLowerCase()) continue;
      if (filter.status ? meta.status !== filter.status : meta.status === "deleted") continue;
      if (filter.language && !meta.languages.includes(filter.language.toLowerCase())) continue;
      if (filter.framework && !meta.frameworks.includes(filter.framework.toLowerCase())) continue;
      if (filter.tags.some((t) => !meta.tags.includes(t))) continue;
      if (filter.min_size !== null && meta.logical_size < filter.min_size) continue;
      if (filter.max_size !== null && meta.logical_size > filter.max_size) continue;
      if (filter.updated_since !== null && meta.updated_at < filter.updated_since) continue;
      if (filter.updated_before !== null && meta.updated_at >= filter.updated_before) continue;
      if (
        text &&
        !meta.name.toLowerCase().includes(text) &&
        !meta.description.toLowerCase().includes(text) &&
        !meta.tags.some((t) => t.toLowerCase().includes(text))
      )
        continue;
      if (filter.metadata.some(([k, v]) => (v === null ? !(k in meta.metadata) : meta.metadata[k] !== v))) continue;
      out.push(structuredClone(meta));
    }
    const byName = (a: Project, b: Project) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.workspace < b.workspace ? -1 : 1);
    const sorts: Record<string, (a: Project, b: Project) => number> = {
      name: byName,
      size: (a, b) => b.logical_size - a.logical_size || byName(a, b),
      updated: (a, b) => b.updated_at - a.updated_at || byName(a, b),
      created: (a, b) => b.created_at - a.created_at || byName(a, b),
    };
    out.sort(sorts[filter.sort] ?? byName);
    return filter.limit === null ? out : out.slice(0, filter.limit);
  }

  project(id: string): Project {
    return structuredClone(this.byId(id).meta);
  }

  templates(): Template[] {
    return structuredClone(this.templateList);
  }

  private templateTree(name: string): Tree {
    const saved = this.savedTemplates.get(name);
    if (saved) return new Map(saved);
    const files: Record<string, Record<string, string>> = {
      empty: { "README.md": "# New project\n" },
      backend: {
        "README.md": "# Backend\n\nA small HTTP service in Rust.\n",
        ".gitignore": "target/\n",
        "Cargo.toml": '[package]\nname = "backend"\nversion = "0.1.0"\nedition = "2021"\n',
        "src/main.rs": 'fn main() {\n    println!("listening on http://127.0.0.1:8080");\n}\n',
      },
      frontend: {
        "README.md": "# Frontend\n\nA static web page with a little script.\n",
        ".gitignore": "node_modules/\ndist/\n",
        "index.html": '<!doctype html>\n<title>Hello</title>\n<script type="module" src="main.js"></script>\n',
        "main.js": 'document.body.append("Hello");\n',
        "style.css": "body { font-family: system-ui; }\n",
      },
      fullstack: {
        "README.md": "# Fullstack\n",
        "backend/Cargo.toml": '[package]\nname = "backend"\n',
        "backend/src/main.rs": "fn main() {}\n",
        "frontend/index.html": "<!doctype html>\n",
        "frontend/main.js": "console.log('hi');\n",
      },
    };
    const chosen = files[name];
    if (!chosen) return fail("not_found", `there is no template named '${name}'`);
    return new Map(Object.entries(chosen).map(([p, t]) => [p, blobOf(t)]));
  }

  createProject(partial: NewProject): Project {
    const input = { name: "", workspace: null, template: null, kind: null, description: "", tags: [] as string[], ...partial };
    const name = checkName("project", input.name);
    const workspace = input.workspace ? this.workspaceNamed(input.workspace).name : this.activeName();
    const template = input.template ?? "empty";
    const tree = this.templateTree(template);
    if (this.nameTaken(workspace, name)) fail("already_exists", `workspace '${workspace}' already has a project named '${name}'`);
    for (const t of input.tags) if (!t.trim() || /\s/.test(t.trim())) fail("invalid_input", `'${t}' is not a valid tag: tags are single words`);
    const id = this.newProjectId();
    const meta = this.baseProject(id, name, workspace, input.kind ?? "manual", this.now());
    meta.description = input.description;
    meta.tags = [...new Set(input.tags.map((t) => t.trim()))].sort();
    const p: MockProject = { meta, folder: new Map(tree), versions: [], git: null, seed: hash(name) };
    this.record(p, tree, `Created from the ${template} template`, "api", this.now());
    this.projectMap.set(id, p);
    this.changed(id, "project_created");
    return structuredClone(meta);
  }

  /** Checks an import; returns the files to copy. */
  planImport(path: string, options: ImportOptions): { name: string; workspace: string; tree: Tree } {
    const tree = this.disk.get(path.replace(/\/+$/, ""));
    if (!tree) {
      if (this.diskFiles.has(path)) fail("invalid_input", `${path} is not a folder`);
      fail("io", `cannot open folder ${path}: No such file or directory (os error 2)`);
    }
    const name = checkName("project", options.name?.trim() || baseName(path));
    const workspace = options.workspace ? this.workspaceNamed(options.workspace).name : this.activeName();
    if (this.nameTaken(workspace, name)) fail("already_exists", `workspace '${workspace}' already has a project named '${name}'`);
    let bytes = 0;
    for (const b of tree!.values()) bytes += b.size;
    this.archiver.checkQuota(null, name, bytes);
    return { name, workspace, tree: new Map(tree!) };
  }

  finishImport(path: string, options: ImportOptions, plan: { name: string; workspace: string; tree: Tree }): Project {
    const id = this.newProjectId();
    const meta = this.baseProject(id, plan.name, plan.workspace, options.kind ?? "imported", this.now());
    if (options.link) {
      meta.linked = true;
      meta.path = path;
    }
    const p: MockProject = { meta, folder: new Map(plan.tree), versions: [], git: null, seed: hash(plan.name) };
    this.record(p, plan.tree, `Imported from ${path}`, "api", this.now());
    this.projectMap.set(id, p);
    this.changed(id, "project_imported");
    return structuredClone(meta);
  }

  renameProject(id: string, raw: string): Project {
    const p = this.byId(id);
    const name = checkName("project", raw);
    if (this.nameTaken(p.meta.workspace, name, id)) fail("already_exists", `workspace '${p.meta.workspace}' already has a project named '${name}'`);
    p.meta.name = name;
    p.meta.updated_at = this.now();
    this.changed(id, "project_renamed");
    return this.project(id);
  }

  moveProject(id: string, workspace: string): Project {
    const p = this.byId(id);
    const ws = this.workspaceNamed(workspace);
    if (this.nameTaken(ws.name, p.meta.name, id)) fail("already_exists", `workspace '${ws.name}' already has a project named '${p.meta.name}'`);
    p.meta.workspace = ws.name;
    p.meta.updated_at = this.now();
    this.changed(id, "project_moved");
    return this.project(id);
  }

  editProject(id: string, description: string | null, kind: string | null, gitRemote: string | null): Project {
    const p = this.byId(id);
    if (kind !== null) checkName("project kind", kind);
    if (description !== null) p.meta.description = description;
    if (kind !== null) p.meta.kind = kind.trim();
    if (gitRemote !== null) p.meta.git_remote = gitRemote.trim() === "" ? null : gitRemote.trim();
    p.meta.updated_at = this.now();
    this.changed(id, "project_edited");
    return this.project(id);
  }

  tagProject(id: string, add: string[], remove: string[]): Project {
    const p = this.byId(id);
    for (const t of add) {
      const tag = t.trim();
      if (!tag || /[\s,]/.test(tag) || tag.length > 64) fail("invalid_input", `'${t}' is not a valid tag: use one word of at most 64 characters`);
    }
    const tags = new Set(p.meta.tags);
    for (const t of add) tags.add(t.trim());
    for (const t of remove) tags.delete(t.trim());
    p.meta.tags = [...tags].sort();
    p.meta.updated_at = this.now();
    this.changed(id, "project_tagged");
    return this.project(id);
  }

  setMetadata(id: string, changes: [string, string | null][]): Project {
    const p = this.byId(id);
    for (const [raw] of changes) {
      const key = raw.trim();
      if (!key || key.length > 128) fail("invalid_input", "a metadata key must have 1 to 128 characters");
    }
    for (const [raw, value] of changes) {
      if (value === null) delete p.meta.metadata[raw.trim()];
      else p.meta.metadata[raw.trim()] = value;
    }
    p.meta.updated_at = this.now();
    this.changed(id, "project_metadata");
    return this.project(id);
  }

  trashProject(id: string): Project {
    const p = this.byId(id);
    if (p.meta.status === "deleted") fail("conflict", `project '${p.meta.name}' is already in the trash`);
    p.meta.status = "deleted";
    p.meta.deleted_at = this.now();
    p.meta.updated_at = this.now();
    this.changed(id, "project_trashed");
    return this.project(id);
  }

  untrashProject(id: string): Project {
    const p = this.byId(id);
    if (p.meta.status !== "deleted") fail("conflict", `project '${p.meta.name}' is not in the trash`);
    p.meta.status = "active";
    p.meta.deleted_at = null;
    p.meta.updated_at = this.now();
    this.changed(id, "project_restored");
    return this.project(id);
  }

  deleteProject(id: string): null {
    this.byId(id);
    this.projectMap.delete(id);
    this.changed(id, "project_deleted");
    return null;
  }

  saveTemplate(id: string, raw: string): Template {
    const p = this.withFolder(id);
    const name = checkName("template", raw);
    if (this.templateList.some((t) => t.name === name)) fail("already_exists", `a template named '${name}' already exists`);
    const tree = new Map(p.versions[0]?.tree ?? p.folder);
    this.savedTemplates.set(name, tree);
    const t: Template = { name, builtin: false, description: `Saved from project '${p.meta.name}'`, file_count: tree.size };
    this.templateList.push(t);
    this.onChange?.({ project_id: id, reason: "template_saved" });
    return { ...t };
  }

  // ----- files

  private lastChange(p: MockProject, path: string): string | null {
    // Walk from the newest version back while the file is unchanged.
    let found: string | null = null;
    for (let i = 0; i < p.versions.length; i++) {
      const blob = p.versions[i].tree.get(path);
      if (!blob) break;
      const older = p.versions[i + 1]?.tree.get(path);
      found = p.versions[i].version.id;
      if (!older || older.tag !== blob.tag) break;
    }
    return found;
  }

  listFiles(id: string, prefix: string | null): FileEntry[] {
    const p = this.withFolder(id);
    const latest = p.versions[0]?.tree ?? new Map<string, Blob>();
    const pre = prefix?.replace(/^\/+|\/+$/g, "") || null;
    const under = (path: string) => pre === null || path === pre || path.startsWith(`${pre}/`);
    const now = this.now();
    const out: FileEntry[] = [];
    for (const [path, blob] of p.folder) {
      if (!under(path)) continue;
      const stored = latest.get(path);
      out.push({
        path,
        size: blob.size,
        file_type: extOf(path),
        layer: stored ? this.layerOf(path, stored) : null,
        last_version: stored ? this.lastChange(p, path) : null,
        state: !stored ? "new" : stored.tag === blob.tag ? "unchanged" : "modified",
        modified_at: stored && stored.tag === blob.tag ? (p.versions[0]?.version.created_at ?? now) : now - 600,
      });
    }
    for (const [path, blob] of latest) {
      if (!under(path) || p.folder.has(path)) continue;
      out.push({
        path,
        size: blob.size,
        file_type: extOf(path),
        layer: this.layerOf(path, blob),
        last_version: this.lastChange(p, path),
        state: "deleted",
        modified_at: null,
      });
    }
    return out.sort((a, b) => (a.path < b.path ? -1 : 1));
  }

  previewFile(id: string, path: string): FilePreview {
    const p = this.withFolder(id);
    const rel = path.replace(/^\/+/, "");
    if (rel.split("/").includes("..")) fail("path_escape", `'${path}' leaves the project folder`);
    const blob = p.folder.get(rel);
    if (!blob) {
      if ([...p.folder.keys()].some((k) => k.startsWith(`${rel}/`))) fail("invalid_input", `'${rel}' is a folder, not a file`);
      return fail("io", `cannot read ${p.meta.path}/${rel}: No such file or directory (os error 2)`);
    }
    const language = LANGUAGES[extOf(rel)] ?? null;
    if (blob.image) return { kind: "image", size: blob.size, text: null, data_url: blob.image, language };
    if (blob.size > MIB) return { kind: "too_large", size: blob.size, text: null, data_url: null, language };
    if (blob.text === null) return { kind: "binary", size: blob.size, text: null, data_url: null, language };
    return { kind: "text", size: blob.size, text: blob.text, data_url: null, language };
  }

  /** Checks an upload; returns what to write, relative to the project. */
  planUpload(id: string, sources: string[], destDir: string): { target: string; blob: Blob }[] {
    const p = this.withFolder(id);
    const dest = destDir.replace(/^\/+|\/+$/g, "");
    if (dest.split("/").includes("..")) fail("path_escape", `'${destDir}' leaves the project folder`);
    const plan: { target: string; blob: Blob }[] = [];
    for (const src of sources) {
      const name = baseName(src);
      const base = dest ? `${dest}/${name}` : name;
      const folder = this.disk.get(src.replace(/\/+$/, ""));
      const file = this.diskFiles.get(src);
      if (folder) for (const [rel, blob] of folder) plan.push({ target: `${base}/${rel}`, blob });
      else if (file) plan.push({ target: base, blob: file });
      else fail("io", `cannot read ${src}: No such file or directory (os error 2)`);
    }
    for (const { target } of plan) {
      if ([...p.folder.keys()].some((k) => k.startsWith(`${target}/`)))
        fail("conflict", `'${target}' is a folder in the project; rename one of them first`);
    }
    const adding = plan.reduce((n, { blob }) => n + blob.size, 0);
    const replacing = plan.reduce((n, { target }) => n + (p.folder.get(target)?.size ?? 0), 0);
    this.archiver.checkQuota(p.meta, p.meta.name, adding, replacing);
    return plan;
  }

  writeUploaded(id: string, target: string, blob: Blob) {
    this.withFolder(id).folder.set(target, blob);
  }

  finishUpload(id: string, files: number, bytes: number): UploadReport {
    this.byId(id).meta.updated_at = this.now();
    this.changed(id, "files_uploaded");
    return { files, bytes };
  }

  /** Edits the folder directly, as an editor would (tests use this). */
  writeFile(id: string, path: string, text: string | null) {
    const p = this.withFolder(id);
    if (text === null) p.folder.delete(path);
    else p.folder.set(path, blobOf(text));
    this.changed(id, "folder_changed");
  }

  // ----- versions

  snapshot(id: string, message: string | null, trigger: Trigger = "manual", allowEmpty = false): SnapshotReport {
    const p = this.withFolder(id);
    const latest = p.versions[0]?.tree ?? null;
    const changes = this.counts(latest, p.folder);
    let size = 0;
    for (const b of p.folder.values()) size += b.size;
    const nothing = changes.added + changes.modified + changes.removed === 0 && latest !== null;
    const defaults: Record<Trigger, string> = {
      manual: "Snapshot",
      auto: "Automatic version after changes",
      before_restore: "Before restore",
      before_archive: "Before archiving",
      api: "Snapshot through the API",
    };
    const version = nothing && !allowEmpty ? null : this.record(p, p.folder, message?.trim() || defaults[trigger], trigger, this.now());
    if (version) this.changed(id, "snapshot");
    return {
      project_id: id,
      version: version ? { ...version } : null,
      changes,
      files: p.folder.size,
      size,
      files_read: changes.added + changes.modified,
      bytes_read: [...p.folder.entries()].filter(([k, b]) => latest?.get(k)?.tag !== b.tag).reduce((n, [, b]) => n + b.size, 0),
      new_chunk_bytes: 0,
      skipped: [],
    };
  }

  snapshotChanged(): SnapshotReport[] {
    const out: SnapshotReport[] = [];
    for (const p of this.projectMap.values()) {
      if (p.meta.status !== "active" || !p.folder) continue;
      const r = this.snapshot(p.meta.id, null, "auto");
      if (r.version) out.push(r);
    }
    return out;
  }

  /** The files of a project's folder, for a job to step through. */
  folderFiles(id: string): [string, Blob][] {
    return [...this.withFolder(id).folder.entries()];
  }

  versions(id: string, limit: number | null): Version[] {
    const p = this.withHistory(id);
    const list = p.versions.map((v) => structuredClone(v.version));
    return limit === null ? list : list.slice(0, limit);
  }

  private resolve(p: MockProject, ref: string): StoredVersion {
    this.withHistory(p.meta.id);
    const r = ref.trim();
    const m = /^latest(?:~(\d+))?$/.exec(r);
    if (m) {
      const v = p.versions[Number(m[1] ?? 0)];
      if (!v) fail("not_found", `project '${p.meta.name}' has no version ${r}`);
      return v!;
    }
    if (!/^[0-9a-f]{4,40}$/.test(r)) fail("invalid_input", `'${ref}' is not a version; use an id, latest or latest~N`);
    const found = p.versions.filter((v) => v.version.id.startsWith(r));
    if (found.length === 0) fail("not_found", `project '${p.meta.name}' has no version ${r}`);
    if (found.length > 1) fail("invalid_input", `'${r}' names more than one version; give more digits`);
    return found[0];
  }

  fileVersions(id: string, path: string): Version[] {
    const p = this.withHistory(id);
    const rel = path.replace(/^\/+|\/+$/g, "");
    const out: Version[] = [];
    let ever = false;
    p.versions.forEach((v, i) => {
      const mine = v.tree.get(rel);
      const parent = p.versions[i + 1]?.tree.get(rel);
      ever ||= !!mine;
      if (mine?.tag !== parent?.tag) out.push(structuredClone(v.version));
    });
    if (!ever) fail("not_found", `'${rel}' is not in any version of project '${p.meta.name}'`);
    return out;
  }

  diff(id: string, from: string, to: string | null, path: string | null): Diff {
    const p = this.byId(id);
    const a = this.resolve(p, from);
    const b = this.resolve(p, to ?? "latest");
    const prefix = path?.replace(/^\/+|\/+$/g, "") || null;
    const keep = (k: string) => prefix === null || k === prefix || k.startsWith(`${prefix}/`);
    const paths = [...new Set([...a.tree.keys(), ...b.tree.keys()])].filter(keep).sort();
    const files: FileDiff[] = [];
    const changes = { added: 0, modified: 0, removed: 0 };
    for (const k of paths) {
      const x = a.tree.get(k);
      const y = b.tree.get(k);
      if (x && y && x.tag === y.tag) continue;
      const change = !x ? "added" : !y ? "deleted" : "modified";
      if (change === "added") changes.added++;
      else if (change === "deleted") changes.removed++;
      else changes.modified++;
      const binary = (!!x && x.text === null) || (!!y && y.text === null);
      files.push({
        path: k,
        change,
        old_size: x?.size ?? null,
        new_size: y?.size ?? null,
        binary,
        patch: binary ? null : unifiedDiff(x?.text ?? "", y?.text ?? "", x ? `a/${k}` : "/dev/null", y ? `b/${k}` : "/dev/null"),
      });
    }
    return { from: a.version.id, to: b.version.id, changes, files };
  }

  /** Restores the whole folder; the current state is kept first. */
  restoreProject(id: string, version: string): RestoreReport {
    const p = this.withFolder(id);
    const target = this.resolve(p, version);
    const short = target.version.id.slice(0, 10);
    const safety = this.snapshot(id, `Before restoring version ${short}`, "before_restore");
    const current = p.folder;
    let written = 0;
    let bytes = 0;
    let removed = 0;
    for (const [k, blob] of target.tree) {
      if (current.get(k)?.tag !== blob.tag) {
        written++;
        bytes += blob.size;
      }
    }
    for (const k of current.keys()) if (!target.tree.has(k)) removed++;
    p.folder = new Map(target.tree);
    this.snapshot(id, `Restored version ${short}`, "manual");
    this.changed(id, "restored");
    return { version: target.version.id, files_written: written, bytes_written: bytes, files_removed: removed, safety_version: safety.version };
  }

  restoreFile(id: string, version: string, path: string): RestoreReport {
    const p = this.withFolder(id);
    const rel = path.replace(/^\/+|\/+$/g, "");
    if (rel.split("/").includes("..")) fail("path_escape", `'${path}' leaves the project folder`);
    const target = this.resolve(p, version);
    const short = target.version.id.slice(0, 10);
    const blob = target.tree.get(rel);
    if (!blob) return fail("not_found", `'${rel}' is not in version ${short} of project '${p.meta.name}'`);
    const safety = this.snapshot(id, `Before restoring ${rel} from version ${short}`, "before_restore");
    p.folder.set(rel, blob);
    this.snapshot(id, `Restored ${rel} from version ${short}`, "manual");
    this.changed(id, "restored");
    return { version: target.version.id, files_written: 1, bytes_written: blob.size, files_removed: 0, safety_version: safety.version };
  }

  exportTree(id: string, version: string | null): { version: Version; tree: Tree } {
    const p = this.byId(id);
    const v = this.resolve(p, version ?? "latest");
    return { version: v.version, tree: v.tree };
  }

  writeExport(dest: string, tree: Tree, version: string): RestoreReport {
    if (!dest.startsWith("/")) fail("invalid_input", `${dest} is not an absolute path`);
    const existing = this.disk.get(dest);
    if (existing && existing.size > 0) fail("already_exists", `${dest} is not empty; choose an empty or new folder`);
    this.disk.set(dest, new Map(tree));
    let bytes = 0;
    for (const b of tree.values()) bytes += b.size;
    return { version, files_written: tree.size, bytes_written: bytes, files_removed: 0, safety_version: null };
  }

  // ----- the folder's own git

  folderGitStatus(id: string): FolderGitStatus {
    const p = this.withFolder(id);
    if (!p.git) return fail("not_found", `${p.meta.path} is not a git repository`);
    const changes: { path: string; status: string }[] = [];
    for (const [k, blob] of p.folder) {
      const c = p.git.committed.get(k);
      if (!c) changes.push({ path: k, status: "??" });
      else if (c.tag !== blob.tag) changes.push({ path: k, status: " M" });
    }
    for (const k of p.git.committed.keys()) if (!p.folder.has(k)) changes.push({ path: k, status: " D" });
    changes.sort((a, b) => (a.path < b.path ? -1 : 1));
    return { branch: p.git.branch, head: p.git.commits[0]?.id ?? null, changes };
  }

  folderGitLog(id: string, limit: number): FolderGitCommit[] {
    const p = this.withFolder(id);
    if (!p.git) return fail("not_found", `${p.meta.path} is not a git repository`);
    return p.git.commits.slice(0, limit).map((c) => ({ ...c }));
  }

  initFolderGit(id: string): null {
    const p = this.withFolder(id);
    if (p.git) fail("already_exists", `${p.meta.path} is already a git repository`);
    p.git = { branch: "main", commits: [], committed: new Map() };
    this.changed(id, "folder_git_initialized");
    return null;
  }

  // ----- statistics and settings

  stats(): Stats {
    const all = [...this.projectMap.values()];
    const counts = { active: 0, archived: 0, deleted: 0 };
    let logical = 0;
    let stored = 0;
    const layers = { git: { files: 0, bytes: 0 }, chunks: { files: 0, bytes: 0 } };
    const types = new Map<string, { files: number; bytes: number }>();
    const largest: Stats["largest_files"] = [];
    for (const p of all) {
      counts[p.meta.status]++;
      logical += p.meta.logical_size;
      stored += p.meta.stored_size;
      // An archived project's files are in its archive (the archives layer).
      if (p.meta.status === "archived") continue;
      const tree = p.versions[0]?.tree;
      if (!tree) {
        layers.git.files += p.meta.file_count;
        layers.git.bytes += p.meta.logical_size;
        const t = types.get("rs") ?? { files: 0, bytes: 0 };
        t.files += p.meta.file_count;
        t.bytes += p.meta.logical_size;
        types.set("rs", t);
        continue;
      }
      for (const [path, blob] of tree) {
        const layer = this.layerOf(path, blob);
        layers[layer].files++;
        layers[layer].bytes += blob.size;
        const t = types.get(extOf(path)) ?? { files: 0, bytes: 0 };
        t.files++;
        t.bytes += blob.size;
        types.set(extOf(path), t);
        largest.push({ project: p.meta.name, path, size: blob.size, layer });
      }
    }
    largest.sort((a, b) => b.size - a.size);
    const usage = (p: MockProject) => ({
      name: p.meta.name,
      id: p.meta.id,
      workspace: p.meta.workspace,
      projects: 1,
      files: p.meta.file_count,
      logical_bytes: p.meta.logical_size,
      stored_bytes: p.meta.stored_size,
    });
    const workspaces = this.workspaceList
      .map((w) => {
        const mine = all.filter((p) => p.meta.workspace === w.name);
        return {
          name: w.name,
          id: "",
          workspace: w.name,
          projects: mine.length,
          files: mine.reduce((n, p) => n + p.meta.file_count, 0),
          logical_bytes: mine.reduce((n, p) => n + p.meta.logical_size, 0),
          stored_bytes: mine.reduce((n, p) => n + p.meta.stored_size, 0),
        };
      })
      .sort((a, b) => b.stored_bytes - a.stored_bytes || a.name.localeCompare(b.name));
    const storedTotal = Math.round(stored + 2 * MIB);
    const gitStored = Math.round(layers.git.bytes * 0.3);
    const archives = this.archiver.layer();
    const chunkStored = Math.max(0, storedTotal - gitStored - 2 * MIB - archives.stored_bytes);
    const now = this.now();
    const growth: UsageSample[] = [];
    for (let i = 29; i >= 0; i--) {
      const f = 1 - i * 0.025 + Math.sin(i) * 0.01;
      growth.push({ at: now - i * DAY, logical_bytes: Math.round(logical * f), stored_bytes: Math.round(storedTotal * f) });
    }
    return {
      vault: this.root,
      projects: counts,
      logical_bytes: logical,
      stored_bytes: storedTotal,
      chunk_logical_bytes: layers.chunks.bytes,
      chunk_unique_bytes: Math.round(layers.chunks.bytes * 0.8),
      chunk_stored_bytes: chunkStored,
      saved_bytes: Math.max(0, logical - storedTotal),
      quota: this.archiver.quotaStatus(),
      layers: [
        { layer: "git", files: layers.git.files, logical_bytes: layers.git.bytes, stored_bytes: gitStored },
        { layer: "chunks", files: layers.chunks.files, logical_bytes: layers.chunks.bytes, stored_bytes: chunkStored },
        archives,
        { layer: "catalog", files: 0, logical_bytes: 0, stored_bytes: 2 * MIB },
        { layer: "cache", files: 0, logical_bytes: 0, stored_bytes: parseByteSize(this.cfg.storage.cache_size, "cache_size") },
      ],
      workspaces,
      projects_usage: all
        .map(usage)
        .sort((a, b) => b.stored_bytes - a.stored_bytes || (a.name < b.name ? -1 : 1))
        .slice(0, 200),
      file_types: [...types.entries()]
        .map(([file_type, t]) => ({ file_type, files: t.files, bytes: t.bytes }))
        .sort((a, b) => b.bytes - a.bytes)
        .slice(0, 20),
      largest_files: largest.slice(0, 20),
      disk_free_bytes: 187 * GIB + 412 * MIB,
      disk_total_bytes: 476 * GIB,
      growth,
    };
  }

  config(): Config {
    return structuredClone(this.cfg);
  }

  setConfig(key: string, raw: string): Config {
    const known = [
      "paths.projects",
      "storage.large_file_threshold",
      "storage.binary_min_size",
      "storage.chunk_extensions",
      "storage.compression_level",
      "storage.history_compression_level",
      "storage.cache_size",
      "snapshots.excludes",
      "snapshots.honor_gitignore",
      "snapshots.auto_snapshot",
      "snapshots.quiet_period_secs",
      "network.connect_timeout_secs",
      "network.io_timeout_secs",
      "network.operation_timeout_secs",
      ...ARCHIVE_SETTING_KEYS,
    ];
    if (!known.includes(key)) fail("not_found", `there is no setting '${key}'; known settings: ${known.join(", ")}`);
    const next = structuredClone(this.cfg);
    const bad = (what: string): never => fail("invalid_input", `${key} must be ${what}, not '${raw}'`);
    const int = () => (/^\s*-?\d+\s*$/.test(raw) ? Number(raw.trim()) : bad("a whole number"));
    const list = () =>
      raw
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
    switch (key) {
      case "paths.projects":
        next.paths.projects = raw.trim() || null;
        break;
      case "storage.large_file_threshold":
        next.storage.large_file_threshold = showByteSize(parseByteSize(raw, key));
        break;
      case "storage.binary_min_size":
        next.storage.binary_min_size = showByteSize(parseByteSize(raw, key));
        break;
      case "storage.cache_size":
        next.storage.cache_size = showByteSize(parseByteSize(raw, key));
        break;
      case "storage.chunk_extensions":
        next.storage.chunk_extensions = list();
        break;
      case "storage.compression_level":
        next.storage.compression_level = int();
        break;
      case "storage.history_compression_level":
        next.storage.history_compression_level = int();
        break;
      case "snapshots.excludes":
        next.snapshots.excludes = list();
        break;
      case "snapshots.honor_gitignore": {
        const v = raw.trim();
        if (["true", "1", "yes", "on"].includes(v)) next.snapshots.honor_gitignore = true;
        else if (["false", "0", "no", "off"].includes(v)) next.snapshots.honor_gitignore = false;
        else bad("true or false");
        break;
      }
      case "snapshots.auto_snapshot": {
        const v = raw.trim();
        if (v !== "off" && v !== "managed" && v !== "all") fail("invalid_input", `${key}: unknown variant \`${v}\`, expected one of \`off\`, \`managed\`, \`all\``);
        next.snapshots.auto_snapshot = v as AutoSnapshot;
        break;
      }
      case "snapshots.quiet_period_secs":
        next.snapshots.quiet_period_secs = int();
        break;
      case "network.connect_timeout_secs":
      case "network.io_timeout_secs":
      case "network.operation_timeout_secs":
        next.network[key.slice("network.".length) as keyof FullConfig["network"]] = int();
        break;
      default:
        this.archiver.applySetting(next, key, raw);
    }
    const s = next.storage;
    if (s.compression_level < 1 || s.compression_level > 19)
      fail("invalid_input", `storage.compression_level is ${s.compression_level}; it must be between 1 and 19`);
    if (s.history_compression_level < 1 || s.history_compression_level > 9)
      fail("invalid_input", `storage.history_compression_level is ${s.history_compression_level}; it must be between 1 and 9`);
    if (next.snapshots.quiet_period_secs < 1 || next.snapshots.quiet_period_secs > 86_400)
      fail("invalid_input", "snapshots.quiet_period_secs must be between 1 and 86400 seconds");
    if (parseByteSize(s.large_file_threshold, key) < 4096) fail("invalid_input", "storage.large_file_threshold must be at least 4 KiB");
    this.archiver.validate(next);
    this.cfg = next;
    this.onChange?.({ project_id: null, reason: "config_changed" });
    return this.config();
  }

  /** Projects whose histories `verify` reads. */
  projectIds(): string[] {
    return [...this.projectMap.keys()];
  }

  versionCount(id: string): number {
    return this.projectMap.get(id)?.versions.length ?? 0;
  }
}
