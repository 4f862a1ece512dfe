// The archiver, quotas and cleanup of the fake vault (`vault.ts`), following the engine
// (`crates/kura-core/src/archive.rs`, `quota.rs`, `cleanup.rs`, `config.rs`):
// - archiving takes a version first when the folder changed ("Before archive"), packs the
//   project into one `.tar.zst` with its checksum and ratio, marks it archived and frees a
//   managed folder (a linked project's folder is the person's and stays);
// - unarchive checks the checksum, brings the project back (recreated with its id if it was
//   deleted meanwhile) and removes the archive file;
// - quotas compare usage with `quota.*` and warn at 80% and 90%; writes past a limit are refused;
// - cleanup purges the trash, archives idle projects, thins automatic versions, collects chunks
//   no version uses and clears leftovers; a dry run only lists; every run is recorded.
// Messages are the engine's, so what a page test reads is what the app says.

import type {
  ArchiveInfo,
  ArchiveVerifyReport,
  CleanupCategory,
  CleanupCategoryReport,
  CleanupItem,
  CleanupOptions,
  CleanupReport,
  ErrorCode,
  ExtractReport,
  FullConfig,
  ImportArchiveOptions,
  LayerUsage,
  Project,
  QuotaLevel,
  QuotaStatus,
  QuotaUsage,
  SnapshotReport,
  Trigger,
  Version,
} from "../types";
import { Schedule, ScheduleError } from "./schedule";
import type { Blob, MockProject, Tree } from "./vault";

const DAY = 86_400;
const KIB = 1024;
const MIB = 1024 * KIB;

/** What the archiver needs of the fake vault (`MockVault.inner`). */
export type VaultInner = {
  root: string;
  cfg(): FullConfig;
  now(): number;
  disk: Map<string, Tree>;
  diskFiles: Map<string, Blob>;
  fail(code: ErrorCode, message: string): never;
  projects(): MockProject[];
  find(id: string): MockProject | undefined;
  withFolder(id: string): MockProject & { folder: Tree };
  sizes(p: MockProject): void;
  layerOf(path: string, blob: Blob): "git" | "chunks";
  changed(id: string | null, reason: string): void;
  /** The workspace's name (the active one for `null`); fails when there is none. */
  workspace(name: string | null): string;
  checkName(raw: string): string;
  nameTaken(workspace: string, name: string): boolean;
  /** A new, empty project in the catalog. */
  create(name: string, workspace: string, kind: string, at: number, id?: string): MockProject;
  record(p: MockProject, tree: Tree, message: string, trigger: Trigger, at: number): Version;
  snapshot(id: string, message: string | null, trigger: Trigger): SnapshotReport;
  deleteProject(id: string): void;
  parseSize(raw: string, key: string): number;
  showSize(bytes: number): string;
};

/** The settings of this area, by dotted key, as `config.rs` knows them. */
export const ARCHIVE_SETTING_KEYS = [
  "archive.archive_after_days",
  "archive.compression_level",
  "archive.threads",
  "archive.unpack_max_ratio",
  "archive.unpack_free_reserve",
  "quota.max_project_size",
  "quota.total_quota",
  "cleanup.schedule",
  "cleanup.trash_days",
  "versions.keep_all_days",
  "versions.hourly_days",
  "versions.daily_days",
];

/** Every category, in the order a run does them. */
const CATEGORIES: CleanupCategory[] = ["trash", "archive", "versions", "chunks", "cache"];

type StoredArchive = {
  info: ArchiveInfo;
  /** The project as it was packed: its catalog row, folder and history. */
  saved: MockProject;
  /** Damaged on disk since it was made (tests set this). */
  damaged: boolean;
};

/** An archive file outside the vault, to import. */
type DiskArchive =
  | { kind: "files"; files: Record<string, string | number> }
  | { kind: "escape"; entry: string }
  | { kind: "truncated" };

/** Archives on the person's disk: a plain tarball, a zip, one that escapes, one cut off. */
const DISK_ARCHIVES: Record<string, DiskArchive> = {
  "/home/dev/Downloads/landing-page.tar.gz": {
    kind: "files",
    files: {
      "landing-page/index.html": '<!doctype html>\n<title>Landing</title>\n<link rel="stylesheet" href="style.css" />\n<h1>Hello</h1>\n',
      "landing-page/style.css": "body { font-family: system-ui; margin: 4rem; }\n",
      "landing-page/README.md": "# landing-page\n\nExported from the old host.\n",
      "landing-page/hero.webp": 820_000,
    },
  },
  "/home/dev/Downloads/design-assets.zip": {
    kind: "files",
    files: { "logo.svg": '<svg xmlns="http://www.w3.org/2000/svg"/>\n', "palette.json": '{ "accent": "#4c5fd5" }\n', "mockups/home.png": 2_400_000 },
  },
  "/home/dev/Downloads/suspicious.tar.gz": { kind: "escape", entry: "../../.bashrc" },
  "/home/dev/Downloads/cut-off.tar.zst": { kind: "truncated" },
};

function hash(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hexOf(text: string, digits: number): string {
  let out = "";
  for (let i = 0; out.length < digits; i++) out += hash(`${text}:${i}`).toString(16).padStart(8, "0");
  return out.slice(0, digits);
}

function textBlob(text: string): Blob {
  return { text, size: new TextEncoder().encode(text).length, image: null, tag: `t${hash(text)}:${text.length}` };
}

function binaryBlob(size: number, name: string): Blob {
  return { text: null, size, image: null, tag: `b${size}:${hash(name)}` };
}

function treeBytes(tree: Tree): number {
  let n = 0;
  for (const b of tree.values()) n += b.size;
  return n;
}

/** The engine's `project::folder_name`: a name safe as a file name. */
function folderName(name: string): string {
  const s = [...name].map((c) => (/[\p{L}\p{N}._-]/u.test(c) ? c : "-")).join("").replace(/^[-.]+|[-.]+$/g, "");
  return s || "project";
}

function ymd(at: number): [string, string, string] {
  const d = new Date(at * 1000);
  return [String(d.getUTCFullYear()), String(d.getUTCMonth() + 1).padStart(2, "0"), String(d.getUTCDate()).padStart(2, "0")];
}

/** A file name without its archive extension. */
function stemOf(path: string): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  return name.replace(/\.(tar\.zst|tar\.gz|tgz|tzst|zip|tar)$/i, "") || name;
}

/** What packing a project gives: bytes inside, bytes of the file, entries. */
function pack(p: MockProject, files: Tree, level: number) {
  let text = 0;
  let binary = 0;
  for (const b of files.values()) {
    if (b.text === null) binary += b.size;
    else text += b.size;
  }
  const latest = new Set([...files.values()].map((b) => b.tag));
  const seen = new Set<string>();
  let history = 0;
  let oldLarge = 0;
  let oldLargeCount = 0;
  for (const v of p.versions) {
    for (const b of v.tree.values()) {
      if (seen.has(b.tag)) continue;
      seen.add(b.tag);
      if (b.text !== null) history += b.size;
      else if (!latest.has(b.tag)) {
        oldLarge += b.size;
        oldLargeCount++;
      }
    }
  }
  const entries = files.size + oldLargeCount + 2;
  const headers = 512 * (entries + 4) + 1400;
  const bundle = Math.round(history * 0.35) + p.versions.length * 420;
  const content = text + binary + oldLarge + bundle + headers;
  const textFactor = 2.6 + level * 0.08;
  const size = Math.max(1, Math.round(text / textFactor + (binary + oldLarge) / 1.02 + bundle / 1.05 + headers / 12));
  return { content, size, entries, oldLargeCount };
}

function level(used: number, limit: number): QuotaLevel {
  if (limit === 0) return "ok";
  if (used > limit) return "exceeded";
  if (used * 10 >= limit * 9) return "warning90";
  if (used * 10 >= limit * 8) return "warning80";
  return "ok";
}

function usage(projectId: string | null, name: string, used: number, limit: number): QuotaUsage {
  return {
    project_id: projectId,
    name,
    used,
    limit,
    fraction: limit === 0 ? 0 : Math.round((used / limit) * 1000) / 1000,
    level: level(used, limit),
  };
}

/** The versions the retention rule keeps (`cleanup.rs` `retained`), given oldest first. */
function retained(chain: { id: string; at: number; trigger: Trigger }[], rule: FullConfig["versions"], now: number): Set<string> {
  const keep = new Set<string>();
  const buckets = new Map<string, { at: number; id: string }>();
  chain.forEach(({ id, at, trigger }, i) => {
    const age = now - at;
    if (trigger !== "auto" || i + 1 === chain.length || age < rule.keep_all_days * DAY) {
      keep.add(id);
      return;
    }
    const bucket =
      age < rule.hourly_days * DAY ? `h${Math.floor(at / 3600)}` : age < rule.daily_days * DAY ? `d${Math.floor(at / DAY)}` : `w${Math.floor(at / (7 * DAY))}`;
    const slot = buckets.get(bucket);
    if (!slot || at >= slot.at) buckets.set(bucket, { at, id });
  });
  for (const slot of buckets.values()) keep.add(slot.id);
  return keep;
}

export class MockArchiver {
  /** Newest first. */
  private stored: StoredArchive[] = [];
  /** Newest first. */
  private runs: CleanupReport[] = [];
  private nextRun = 1;
  private made = 0;
  /** The chunk store: content (by blob tag) → bytes. */
  private chunks = new Map<string, number>();
  /** Temporary leftovers of interrupted operations. */
  private leftovers: { path: string; bytes: number; at: number }[] = [];
  /** The catalog's write-ahead log. */
  private wal = 4_404_019;
  readonly diskArchives = new Map(Object.entries(DISK_ARCHIVES));

  constructor(private readonly v: VaultInner) {}

  /** For the seeded vault: the archives its archived projects were packed into, and a leftover. */
  seed() {
    this.leftovers = [{ path: `${this.v.root}/projects/.kura-tmp-import-7c1f02`, bytes: 18_874_368, at: this.v.now() - 5 * 3600 }];
    for (const p of this.v.projects()) {
      if (p.meta.status !== "archived" || this.stored.some((a) => a.info.project_id === p.meta.id)) continue;
      const at = Math.min(p.meta.updated_at + 95 * DAY, this.v.now() - DAY);
      this.pack(p, at);
    }
    this.syncChunks();
  }

  list(): ArchiveInfo[] {
    return this.stored.map((a) => structuredClone(a.info));
  }

  /** Test hook: the archive file changes on disk after it was made. */
  damage(reference: string) {
    this.find(reference).damaged = true;
  }

  /** An archive by id (or at least 4 of its first digits), else the latest of a project. */
  private find(reference: string): StoredArchive {
    const r = reference.trim();
    if (r.length >= 4 && /^[0-9a-f]+$/i.test(r)) {
      const hits = this.stored.filter((a) => a.info.id.startsWith(r.toLowerCase()));
      if (hits.length === 1) return hits[0];
      if (hits.length > 1) this.v.fail("invalid_input", `'${r}' matches several archives; give more digits`);
    }
    const p = this.v.projects().find((q) => q.meta.id === r || q.meta.name === r);
    if (!p) return this.v.fail("not_found", `there is no archive or project '${r}'; \`kura archive list\` shows the archives`);
    const hit = this.stored.find((a) => a.info.project_id === p.meta.id);
    return hit ?? this.v.fail("not_found", `project '${p.meta.name}' has no archive`);
  }

  private pack(p: MockProject, at: number): ArchiveInfo {
    const files = new Map(p.folder && p.folder.size > 0 ? p.folder : (p.versions[0]?.tree ?? new Map()));
    const packed = pack(p, files, this.v.cfg().archive.compression_level);
    const id = hexOf(`${p.meta.id}:${at}:${this.made++}`, 16);
    const [y, m, d] = ymd(at);
    const info: ArchiveInfo = {
      id,
      project_id: p.meta.id,
      project_name: p.meta.name,
      workspace: p.meta.workspace,
      path: `${this.v.root}/archives/${y}/${m}/${folderName(p.meta.name)}-${y}${m}${d}-${id.slice(0, 8)}.tar.zst`,
      size: packed.size,
      content_size: packed.content,
      compression_ratio: packed.content / packed.size,
      file_count: files.size,
      versions: p.versions.length,
      sha256: hexOf(`sha:${id}:${packed.size}`, 64),
      created_at: at,
      present: true,
    };
    p.meta.status = "archived";
    p.meta.updated_at = at;
    p.meta.stored_size = packed.size;
    const saved: MockProject = { ...p, meta: structuredClone(p.meta), folder: files, versions: [...p.versions] };
    // The working folder is freed; a linked project's folder is the person's and stays.
    if (!p.meta.linked) p.folder = new Map();
    this.stored.unshift({ info, saved, damaged: false });
    return info;
  }

  /** Checks that a project can be archived; returns the files to pack, for progress. */
  planArchive(id: string): { item: string; amount: number }[] {
    const p = this.v.find(id) ?? this.v.fail("not_found", `there is no project '${id}'`);
    if (p.meta.status === "archived") this.v.fail("conflict", `project '${p.meta.name}' is already archived`);
    if (p.meta.status === "deleted") this.v.fail("conflict", `project '${p.meta.name}' is in the trash; restore it before archiving`);
    return [...this.v.withFolder(id).folder.entries()].map(([item, b]) => ({ item, amount: b.size }));
  }

  archive(id: string): ArchiveInfo {
    this.planArchive(id);
    this.v.snapshot(id, "Before archive", "before_archive");
    this.syncChunks();
    const info = this.pack(this.v.withFolder(id), this.v.now());
    this.wal += 96 * KIB;
    this.v.changed(id, "archived");
    return structuredClone(info);
  }

  /** Checks an unarchive; returns the files to unpack, for progress. */
  planUnarchive(reference: string): { item: string; amount: number }[] {
    const a = this.find(reference);
    const existing = this.v.find(a.info.project_id);
    if (existing && existing.meta.status !== "archived")
      this.v.fail(
        "conflict",
        `project '${existing.meta.name}' is not archived (it is ${existing.meta.status === "deleted" ? "deleted" : "active"}); extract the archive elsewhere with \`kura extract\``,
      );
    if (a.damaged)
      this.v.fail(
        "corrupt",
        `the archive ${a.info.path} is damaged: its SHA-256 is ${hexOf(`bad:${a.info.id}`, 64)}, ${a.info.sha256} was recorded; the project stays archived`,
      );
    const files = a.saved.folder ?? new Map<string, Blob>();
    this.budget(existing?.meta.name ?? a.info.project_name, treeBytes(files));
    if (!existing) {
      const ws = this.v.workspace(a.info.workspace);
      if (this.v.nameTaken(ws, a.info.project_name))
        this.v.fail("already_exists", `workspace '${ws}' already has a project named '${a.info.project_name}'; pass another name`);
    }
    return [...files.entries()].map(([item, b]) => ({ item, amount: b.size }));
  }

  unarchive(reference: string): Project {
    this.planUnarchive(reference);
    const a = this.find(reference);
    let p = this.v.find(a.info.project_id);
    if (!p) {
      // Deleted since it was archived: recreated with the same id.
      p = this.v.create(a.saved.meta.name, this.v.workspace(a.info.workspace), a.saved.meta.kind, a.saved.meta.created_at, a.info.project_id);
      Object.assign(p.meta, structuredClone({ ...a.saved.meta, workspace: p.meta.workspace }));
      p.versions = [...a.saved.versions];
    }
    p.meta.status = "active";
    p.meta.updated_at = this.v.now();
    if (!p.meta.linked || !p.folder || p.folder.size === 0) p.folder = new Map(a.saved.folder ?? new Map());
    this.v.sizes(p);
    this.v.snapshot(p.meta.id, "Unarchived", "manual");
    this.stored = this.stored.filter((s) => s !== a);
    this.wal += 96 * KIB;
    this.v.changed(p.meta.id, "unarchived");
    return structuredClone(p.meta);
  }

  verify(reference: string): ArchiveVerifyReport {
    const a = this.find(reference);
    const entries = a.info.file_count + 2 + Math.max(0, a.info.versions - 1);
    if (!a.damaged) return { archive: structuredClone(a.info), sha256: a.info.sha256, entries, problems: [] };
    const now = hexOf(`bad:${a.info.id}`, 64);
    return {
      archive: structuredClone(a.info),
      sha256: now,
      entries: Math.floor(entries / 2),
      problems: [
        `the checksum does not match: the file's SHA-256 is ${now}, ${a.info.sha256} was recorded when it was made`,
        `the archive ${a.info.path} is damaged or truncated (zstd: corrupted block detected); nothing was kept from it`,
      ],
    };
  }

  /** The steps of checking an archive's bytes, for progress. */
  planVerify(reference: string): { item: string; amount: number }[] {
    const a = this.find(reference);
    const parts = 8;
    return Array.from({ length: parts }, (_, i) => ({ item: a.info.path, amount: Math.round(a.info.size / parts) + (i === 0 ? a.info.size % parts : 0) }));
  }

  /** What an archive file or a vault archive unpacks to, or the failure it gives. */
  private unpacked(archive: string): { tree: Tree; top: string | null; kura: StoredArchive | null } {
    const disk = this.diskArchives.get(archive);
    const kura = this.stored.find((a) => a.info.path === archive) ?? null;
    if (!disk && !kura) {
      if (this.v.diskFiles.has(archive)) this.v.fail("invalid_input", `${archive} is not a .tar.zst, .tar.gz or .zip archive (its first bytes say otherwise)`);
      if (archive.startsWith("/")) this.v.fail("not_found", `there is no archive file ${archive}`);
      const a = this.find(archive);
      return this.unpacked(a.info.path);
    }
    if (kura) {
      if (kura.damaged) this.v.fail("corrupt", `the archive ${kura.info.path} is damaged or truncated (zstd: corrupted block detected); nothing was kept from it`);
      const top = folderName(kura.info.project_name);
      const tree: Tree = new Map();
      tree.set(`${top}/metadata.json`, textBlob(JSON.stringify({ format: "kura-archive v1", id: kura.info.project_id, name: kura.info.project_name }, null, 2)));
      tree.set(`${top}/history.bundle`, binaryBlob(Math.round(kura.info.size * 0.1) + 2048, kura.info.id));
      for (const [path, b] of kura.saved.folder ?? []) tree.set(`${top}/files/${path}`, b);
      return { tree, top, kura };
    }
    if (disk!.kind === "escape")
      this.v.fail("path_escape", `the archive entry '${disk!.entry}' is refused: it goes up with '..'; nothing was written outside the destination`);
    if (disk!.kind === "truncated") this.v.fail("corrupt", `the archive ${archive} is damaged or truncated (unexpected end of file); nothing was kept from it`);
    const files = (disk as { files: Record<string, string | number> }).files;
    const tree: Tree = new Map(Object.entries(files).map(([path, f]) => [path, typeof f === "string" ? textBlob(f) : binaryBlob(f, path)]));
    const tops = new Set([...tree.keys()].map((k) => k.split("/")[0]));
    const top = tops.size === 1 && [...tree.keys()].every((k) => k.includes("/")) ? [...tops][0] : null;
    return { tree, top, kura: null };
  }

  /** Checks an extraction; returns the entries to write, for progress. */
  planExtract(archive: string, dest: string): { item: string; amount: number }[] {
    const { tree } = this.unpacked(archive);
    if (!dest.startsWith("/")) this.v.fail("invalid_input", `${dest} is not an absolute path`);
    const there = this.v.disk.get(dest.replace(/\/+$/, ""));
    if ((there && there.size > 0) || this.v.diskFiles.has(dest)) this.v.fail("conflict", `${dest} is not empty; extract into a new or empty folder`);
    return [...tree.entries()].map(([item, b]) => ({ item, amount: b.size }));
  }

  extract(archive: string, dest: string): ExtractReport {
    this.planExtract(archive, dest);
    const { tree } = this.unpacked(archive);
    const folder = dest.replace(/\/+$/, "");
    this.v.disk.set(folder, new Map(tree));
    const path = this.diskArchives.has(archive) || archive.startsWith("/") ? archive : this.find(archive).info.path;
    return { archive: path, dest: folder, files: tree.size, bytes: treeBytes(tree) };
  }

  /** Checks an import; returns the entries to unpack, for progress. */
  planImport(path: string, options: ImportArchiveOptions): { item: string; amount: number }[] {
    if (this.v.disk.has(path.replace(/\/+$/, ""))) this.v.fail("not_found", `there is no archive file ${path}`);
    if (!path.startsWith("/")) this.v.fail("not_found", `there is no archive file ${path}`);
    const ws = this.v.workspace(options.workspace ?? null);
    if (options.name) {
      const name = this.v.checkName(options.name);
      if (this.v.nameTaken(ws, name)) this.v.fail("already_exists", `workspace '${ws}' already has a project named '${name}'; pass another name`);
    }
    const { tree } = this.unpacked(path);
    const name = this.importName(path, options);
    this.budget(name, treeBytes(tree));
    if (this.v.nameTaken(ws, name)) this.v.fail("already_exists", `workspace '${ws}' already has a project named '${name}'; pass another name`);
    return [...tree.entries()].map(([item, b]) => ({ item, amount: b.size }));
  }

  private importName(path: string, options: ImportArchiveOptions): string {
    if (options.name) return this.v.checkName(options.name);
    const { top, kura } = this.unpacked(path);
    return this.v.checkName(kura ? kura.saved.meta.name : (top ?? stemOf(path)));
  }

  importArchive(path: string, options: ImportArchiveOptions): Project {
    this.planImport(path, options);
    const { tree, top, kura } = this.unpacked(path);
    const name = this.importName(path, options);
    const ws = this.v.workspace(options.workspace ?? null);
    const now = this.v.now();
    if (kura) {
      // A Kura archive brings its history, kind, description, tags and metadata.
      const saved = kura.saved.meta;
      const p = this.v.create(name, ws, options.kind ?? saved.kind, saved.created_at);
      Object.assign(p.meta, { description: saved.description, tags: [...saved.tags], metadata: { ...saved.metadata }, git_remote: saved.git_remote });
      p.versions = [...kura.saved.versions];
      p.folder = new Map(kura.saved.folder ?? new Map());
      this.v.sizes(p);
      p.meta.updated_at = now;
      this.v.changed(p.meta.id, "created");
      return structuredClone(p.meta);
    }
    const prefix = top ? `${top}/` : "";
    const files: Tree = new Map([...tree.entries()].map(([k, b]) => [k.slice(prefix.length), b]));
    const p = this.v.create(name, ws, options.kind ?? "imported", now);
    p.folder = new Map(files);
    this.v.record(p, files, `Imported from ${path}`, "api", now);
    this.v.changed(p.meta.id, "created");
    return structuredClone(p.meta);
  }

  // ----- quotas

  private limits() {
    const q = this.v.cfg().quota;
    return { project: this.v.parseSize(q.max_project_size, "quota.max_project_size"), total: this.v.parseSize(q.total_quota, "quota.total_quota") };
  }

  /** What the vault counts against `quota.total_quota`: active files plus everything stored. */
  private totalUsage(): number {
    let used = 0;
    for (const p of this.v.projects()) used += (p.meta.status === "active" ? p.meta.logical_size : 0) + p.meta.stored_size;
    return used;
  }

  quotaStatus(): QuotaStatus {
    const limits = this.limits();
    const total = usage(null, "vault", this.totalUsage(), limits.total);
    const projects = this.v
      .projects()
      .filter((p) => p.meta.status === "active")
      .sort((a, b) => b.meta.logical_size - a.meta.logical_size || (a.meta.name < b.meta.name ? -1 : 1))
      .map((p) => usage(p.meta.id, p.meta.name, p.meta.logical_size, limits.project));
    const warnings: string[] = [];
    const warn = (u: QuotaUsage, what: string, key: string) => {
      if (u.level === "ok") return;
      const pct = `${Math.round(u.fraction! * 100)}%`;
      const [used, limit] = [approxSize(u.used), approxSize(u.limit)];
      warnings.push(
        u.level === "exceeded"
          ? `${what} is over its limit: ${used} of ${limit} (${pct}); raise ${key} in config.toml or free space`
          : `${what} uses ${used} of its ${limit} limit (${pct}); raise ${key} in config.toml or free space`,
      );
    };
    warn(total, "the vault", "quota.total_quota");
    for (const u of projects) warn(u, `project '${u.name}'`, "quota.max_project_size");
    return { total, projects, warnings };
  }

  private quotaError(what: string, key: string, limit: number, or: string): never {
    return this.v.fail(
      "quota_exceeded",
      `${what}, over ${key} (${this.v.showSize(limit)}); nothing was written. Raise ${key} in config.toml (\`kura config set ${key} SIZE\`) or ${or}`,
    );
  }

  /** Refuses a write that takes project `p` (`null`: a new one) past a limit (`quota.rs` `check_quota`). */
  checkQuota(p: Project | null, name: string, adding: number, removing = 0) {
    const limits = this.limits();
    const current = p?.logical_size ?? 0;
    const after = Math.max(0, current + adding - removing);
    if (limits.project > 0 && after > limits.project && after > current)
      this.quotaError(`project '${name}' would grow to ${approxSize(after)}`, "quota.max_project_size", limits.project, "delete files");
    if (limits.total > 0 && adding > removing) {
      const total = this.totalUsage() + adding - removing;
      if (total > limits.total)
        this.quotaError(`the vault would grow to ${approxSize(total)}`, "quota.total_quota", limits.total, "run `kura cleanup`, archive or delete projects");
    }
  }

  /** Refuses unpacking more than the quotas leave for a new project (`quota_budget`). */
  private budget(name: string, bytes: number) {
    const limits = this.limits();
    let room: number | null = limits.project > 0 ? limits.project : null;
    if (limits.total > 0) room = Math.min(room ?? Infinity, Math.max(0, limits.total - this.totalUsage()));
    if (room === null || bytes <= room) return;
    const [key, limit] = limits.project > 0 && bytes > limits.project ? ["quota.max_project_size", limits.project] : ["quota.total_quota", limits.total];
    this.quotaError(`project '${name}' would hold more than ${approxSize(bytes)}`, key, limit, "free space");
  }

  /** The archives layer of the statistics. */
  layer(): LayerUsage {
    return { layer: "archives", files: this.stored.length, logical_bytes: 0, stored_bytes: this.stored.reduce((n, a) => n + a.info.size, 0) };
  }

  // ----- cleanup

  /** The run of `options` as steps (one per category) and its record at the end. */
  startCleanup(options: CleanupOptions): { steps: { item: string; amount: number; run: () => void }[]; finish: () => CleanupReport } {
    const dry = options.dry_run ?? false;
    const only = options.only ?? [];
    const startedAt = this.v.now();
    this.syncChunks();
    const categories: CleanupCategoryReport[] = [];
    const steps = CATEGORIES.filter((c) => only.length === 0 || only.includes(c)).map((category) => ({
      item: category,
      amount: 1,
      run: () => {
        const items = this.clean(category, dry);
        categories.push({ category, items, bytes_freed: items.reduce((n, i) => n + i.bytes, 0) });
      },
    }));
    const finish = () => {
      const report: CleanupReport = {
        id: this.nextRun++,
        dry_run: dry,
        started_at: startedAt,
        finished_at: this.v.now(),
        categories,
        bytes_freed: categories.reduce((n, c) => n + c.bytes_freed, 0),
      };
      this.runs.unshift(structuredClone(report));
      if (!dry) this.v.changed(null, "cleanup");
      return report;
    };
    return { steps, finish };
  }

  cleanupRuns(limit = 50): CleanupReport[] {
    return structuredClone(this.runs.slice(0, limit));
  }

  nextCleanupAt(): number | null {
    const schedule = this.v.cfg().cleanup.schedule.trim();
    if (!schedule || schedule.toLowerCase() === "off") return null;
    return Schedule.parse(schedule).nextAfter(this.v.now());
  }

  private clean(category: CleanupCategory, dry: boolean): CleanupItem[] {
    switch (category) {
      case "trash":
        return this.purgeTrash(dry);
      case "archive":
        return this.archiveIdle(dry);
      case "versions":
        return this.thinVersions(dry);
      case "chunks":
        return this.collectChunks(dry);
      case "cache":
        return this.clearCache(dry);
    }
  }

  private purgeTrash(dry: boolean): CleanupItem[] {
    const days = this.v.cfg().cleanup.trash_days;
    if (days === 0) return [];
    const cutoff = this.v.now() - days * DAY;
    const items: CleanupItem[] = [];
    for (const p of this.v.projects()) {
      if (p.meta.status !== "deleted" || (p.meta.deleted_at ?? 0) > cutoff) continue;
      const bytes = p.meta.stored_size + (p.meta.linked ? 0 : treeBytes(p.folder ?? new Map()));
      this.syncChunks();
      if (!dry) this.v.deleteProject(p.meta.id);
      items.push({ description: `project '${p.meta.name}' (in the trash since ${localDate(p.meta.deleted_at ?? 0, false)})`, project: p.meta.name, bytes });
    }
    return items;
  }

  private archiveIdle(dry: boolean): CleanupItem[] {
    const days = this.v.cfg().archive.archive_after_days;
    if (days === 0) return [];
    const cutoff = this.v.now() - days * DAY;
    const idle = this.v.projects().filter((p) => p.meta.status === "active" && Math.max(p.meta.updated_at, p.meta.last_opened_at ?? 0) < cutoff);
    return idle.map((p) => {
      const idleSince = p.meta.updated_at;
      const folder = p.meta.linked ? 0 : treeBytes(this.v.withFolder(p.meta.id).folder);
      let bytes = folder;
      if (!dry) {
        this.syncChunks();
        const before = folder + p.meta.stored_size;
        bytes = Math.max(0, before - this.archive(p.meta.id).size);
      }
      return { description: `archive project '${p.meta.name}' (idle since ${localDate(idleSince, false)})`, project: p.meta.name, bytes };
    });
  }

  private thinVersions(dry: boolean): CleanupItem[] {
    const rule = this.v.cfg().versions;
    const now = this.v.now();
    const items: CleanupItem[] = [];
    for (const p of this.v.projects()) {
      if (p.meta.status === "archived" || p.versions.length === 0) continue;
      const chain = [...p.versions].reverse().map((s) => ({ id: s.version.id, at: s.version.created_at, trigger: s.version.trigger }));
      const keep = retained(chain, rule, now);
      const dropped = chain.filter((c) => !keep.has(c.id));
      if (dropped.length === 0) continue;
      const mine = dropped.map((d) => ({
        description: `automatic version ${d.id.slice(0, 10)} of project '${p.meta.name}' from ${localDate(d.at, true)}`,
        project: p.meta.name,
        bytes: 0,
      }));
      if (!dry) {
        this.syncChunks();
        const before = p.meta.stored_size;
        p.versions = p.versions.filter((s) => keep.has(s.version.id));
        p.versions.forEach((s, i) => (s.version.parent = p.versions[i + 1]?.version.id ?? null));
        this.v.sizes(p);
        mine[0].bytes = Math.max(0, before - p.meta.stored_size);
        this.v.changed(p.meta.id, "versions_thinned");
      }
      items.push(...mine);
    }
    return items;
  }

  /** Adds every chunk a history references to the store (what snapshots wrote). */
  private syncChunks() {
    for (const p of this.v.projects()) {
      if (p.meta.status === "archived") continue;
      for (const s of p.versions) for (const [path, b] of s.tree) if (this.v.layerOf(path, b) === "chunks") this.chunks.set(b.tag, b.size);
    }
  }

  private collectChunks(dry: boolean): CleanupItem[] {
    const live = new Set<string>();
    for (const p of this.v.projects()) {
      if (p.meta.status === "archived") continue;
      for (const s of p.versions) for (const [path, b] of s.tree) if (this.v.layerOf(path, b) === "chunks") live.add(b.tag);
    }
    const garbage = [...this.chunks.entries()].filter(([tag]) => !live.has(tag));
    this.syncChunks();
    if (garbage.length === 0) return [];
    const count = garbage.reduce((n, [, size]) => n + Math.max(1, Math.ceil(size / MIB)), 0);
    const bytes = garbage.reduce((n, [, size]) => n + Math.round(size / 1.02), 0);
    if (!dry) for (const [tag] of garbage) this.chunks.delete(tag);
    return [{ description: `${count} chunk(s) no version references`, project: null, bytes }];
  }

  private clearCache(dry: boolean): CleanupItem[] {
    const old = this.leftovers.filter((l) => this.v.now() - l.at >= 3600);
    const items: CleanupItem[] = old.map((l) => ({ description: `left over by an interrupted operation: ${l.path}`, project: null, bytes: l.bytes }));
    if (this.wal > 0) items.push({ description: "the catalog's write-ahead log, folded into the catalog", project: null, bytes: this.wal });
    if (!dry) {
      this.leftovers = this.leftovers.filter((l) => !old.includes(l));
      this.wal = 0;
    }
    return items;
  }

  // ----- settings

  /** Sets one of `ARCHIVE_SETTING_KEYS` in `next` from text, as `Config::set` does. */
  applySetting(next: FullConfig, key: string, raw: string) {
    const whole = (): number => {
      if (!/^\s*-?\d+\s*$/.test(raw)) this.v.fail("invalid_input", `${key} must be a whole number, not '${raw}'`);
      const n = Number(raw.trim());
      if (n < 0 || n > 4_294_967_295) this.v.fail("invalid_input", `${key}: invalid value: integer \`${n}\`, expected u32`);
      return n;
    };
    const size = () => this.v.showSize(this.v.parseSize(raw, key));
    switch (key) {
      case "archive.archive_after_days":
        next.archive.archive_after_days = whole();
        break;
      case "archive.compression_level":
        if (!/^\s*-?\d+\s*$/.test(raw)) this.v.fail("invalid_input", `${key} must be a whole number, not '${raw}'`);
        next.archive.compression_level = Number(raw.trim());
        break;
      case "archive.threads":
        next.archive.threads = whole();
        break;
      case "archive.unpack_max_ratio":
        next.archive.unpack_max_ratio = whole();
        break;
      case "archive.unpack_free_reserve":
        next.archive.unpack_free_reserve = size();
        break;
      case "quota.max_project_size":
        next.quota.max_project_size = size();
        break;
      case "quota.total_quota":
        next.quota.total_quota = size();
        break;
      case "cleanup.schedule":
        next.cleanup.schedule = raw;
        break;
      case "cleanup.trash_days":
        next.cleanup.trash_days = whole();
        break;
      case "versions.keep_all_days":
        next.versions.keep_all_days = whole();
        break;
      case "versions.hourly_days":
        next.versions.hourly_days = whole();
        break;
      case "versions.daily_days":
        next.versions.daily_days = whole();
        break;
    }
  }

  /** The checks `Config::validate` makes for this area, with its messages. */
  validate(next: FullConfig) {
    const a = next.archive;
    if (a.compression_level < 1 || a.compression_level > 19)
      this.v.fail("invalid_input", `archive.compression_level is ${a.compression_level}; it must be between 1 and 19`);
    if (a.threads > 256) this.v.fail("invalid_input", "archive.threads must be between 0 (one per core) and 256");
    const s = next.cleanup.schedule.trim();
    if (s && s.toLowerCase() !== "off") {
      try {
        Schedule.parse(s);
      } catch (e) {
        if (!(e instanceof ScheduleError)) throw e;
        this.v.fail("invalid_input", `cleanup.schedule '${s}' is not a schedule: ${e.message}; or write off`);
      }
    }
    const v = next.versions;
    if (v.hourly_days < v.keep_all_days || v.daily_days < v.hourly_days)
      this.v.fail(
        "invalid_input",
        `versions.keep_all_days (${v.keep_all_days}) ≤ versions.hourly_days (${v.hourly_days}) ≤ versions.daily_days (${v.daily_days}) must hold`,
      );
  }
}

/** The engine's `ByteSize::approx`: "15.5 MiB", "300 MiB", "512 B". */
function approxSize(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB", "PiB"];
  let v = n / 1024;
  let unit = 0;
  while (v >= 1024 && unit + 1 < units.length) {
    v /= 1024;
    unit += 1;
  }
  return `${v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[unit]}`;
}

/** The engine's local dates in cleanup descriptions: "2026-11-21" or "2026-11-21 14:03". */
function localDate(ts: number, withTime: boolean): string {
  const d = new Date(ts * 1000);
  const pad = (x: number) => String(x).padStart(2, "0");
  const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  return withTime ? `${day} ${pad(d.getHours())}:${pad(d.getMinutes())}` : day;
}
