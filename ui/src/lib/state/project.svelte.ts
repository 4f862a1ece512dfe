// One project's page: its metadata, the files of its folder, the version timeline, a diff
// between two picked versions and the folder's own git repository.

import type { Client } from "../api/client";
import { KuraError } from "../api/client";
import type {
  ArchiveInfo,
  Diff,
  FileEntry,
  FilePreview,
  FolderGitCommit,
  FolderGitStatus,
  Project,
  QuotaUsage,
  Version,
} from "../api/types";

export type GitView = { status: FolderGitStatus | null; log: FolderGitCommit[] };

export class ProjectPage {
  project = $state.raw<Project | null>(null);
  missing = $state(false);
  error = $state<string | null>(null);

  files = $state.raw<FileEntry[]>([]);
  filesError = $state<string | null>(null);
  dir = $state("");

  selected = $state<string | null>(null);
  preview = $state.raw<FilePreview | null>(null);
  previewError = $state<string | null>(null);
  fileHistory = $state.raw<Version[]>([]);

  versions = $state.raw<Version[]>([]);
  /** Up to two version ids picked for comparing. */
  compare = $state<string[]>([]);
  diff = $state.raw<Diff | null>(null);
  diffError = $state<string | null>(null);
  diffLoading = $state(false);

  git = $state.raw<GitView | null>(null);
  gitError = $state<string | null>(null);

  /** The project against `quota.max_project_size` (active projects only). */
  quota = $state.raw<QuotaUsage | null>(null);
  /** Where an archived project is packed. */
  archive = $state.raw<ArchiveInfo | null>(null);

  constructor(
    private readonly client: Client,
    readonly id: string,
  ) {}

  async load() {
    try {
      this.project = await this.client.getProject(this.id);
      this.missing = false;
      this.error = null;
    } catch (e) {
      if (e instanceof KuraError && e.code === "not_found") this.missing = true;
      else this.error = (e as Error).message;
      return;
    }
    if (this.project.status === "archived") {
      // Its folder and history are in the archive: there is nothing else to read.
      this.files = [];
      this.versions = [];
      this.quota = null;
      await this.loadArchive();
      return;
    }
    this.archive = null;
    await Promise.all([this.loadFiles(), this.loadVersions(), this.loadQuota()]);
  }

  async loadQuota() {
    try {
      const status = await this.client.getQuota();
      this.quota = status.projects.find((u) => u.project_id === this.id) ?? null;
    } catch {
      // The gauge is extra: the page works without it.
      this.quota = null;
    }
  }

  async loadArchive() {
    try {
      const archives = await this.client.listArchives();
      this.archive = archives.find((a) => a.project_id === this.id) ?? null;
    } catch (e) {
      this.archive = null;
      this.error = (e as Error).message;
    }
  }

  async loadFiles() {
    try {
      this.files = await this.client.listFiles(this.id, null);
      this.filesError = null;
    } catch (e) {
      this.files = [];
      this.filesError = (e as Error).message;
    }
  }

  async loadVersions() {
    try {
      this.versions = await this.client.versions(this.id, null);
      // Forget picks of versions that no longer exist.
      this.compare = this.compare.filter((id) => this.versions.some((v) => v.id === id));
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  openDir(dir: string) {
    this.dir = dir;
  }

  async select(path: string | null) {
    this.selected = path;
    this.preview = null;
    this.previewError = null;
    this.fileHistory = [];
    if (path === null) return;
    const entry = this.files.find((f) => f.path === path);
    const [preview, history] = await Promise.allSettled([
      entry?.state === "deleted" ? Promise.resolve(null) : this.client.previewFile(this.id, path),
      this.client.fileVersions(this.id, path),
    ]);
    if (this.selected !== path) return;
    if (preview.status === "fulfilled") this.preview = preview.value;
    else this.previewError = (preview.reason as Error).message;
    this.fileHistory = history.status === "fulfilled" ? history.value : [];
  }

  /** Picks or unpicks a version for comparing; with two picked, loads their diff. */
  async toggleCompare(id: string) {
    if (this.compare.includes(id)) this.compare = this.compare.filter((v) => v !== id);
    else this.compare = [...this.compare.slice(-1), id];
    await this.loadDiff();
  }

  /** Compares a version with the one before it. */
  async compareWithParent(version: Version) {
    if (!version.parent) return;
    this.compare = [version.parent, version.id];
    await this.loadDiff();
  }

  clearCompare() {
    this.compare = [];
    this.diff = null;
    this.diffError = null;
  }

  /** The two picked versions, older first. */
  get comparePair(): [Version, Version] | null {
    if (this.compare.length !== 2) return null;
    const picked = this.compare
      .map((id) => this.versions.find((v) => v.id === id))
      .filter((v): v is Version => v !== undefined);
    if (picked.length !== 2) return null;
    // `versions` is newest first: the larger index is the older one.
    picked.sort((a, b) => this.versions.indexOf(b) - this.versions.indexOf(a));
    return [picked[0], picked[1]];
  }

  async loadDiff() {
    const pair = this.comparePair;
    if (!pair) {
      this.diff = null;
      this.diffError = null;
      return;
    }
    this.diffLoading = true;
    try {
      const diff = await this.client.diff(this.id, pair[0].id, pair[1].id, null);
      if (this.comparePair?.[0].id === pair[0].id && this.comparePair?.[1].id === pair[1].id) {
        this.diff = diff;
        this.diffError = null;
      }
    } catch (e) {
      this.diffError = (e as Error).message;
    } finally {
      this.diffLoading = false;
    }
  }

  async loadGit() {
    try {
      const status = await this.client.folderGitStatus(this.id);
      const log = status ? await this.client.folderGitLog(this.id, 50) : [];
      this.git = { status, log };
      this.gitError = null;
    } catch (e) {
      this.gitError = (e as Error).message;
    }
  }

  /** After a change event for this project (or the whole vault). */
  async refresh() {
    await this.load();
    if (this.missing) return;
    if (this.selected) {
      const still = this.files.some((f) => f.path === this.selected);
      await this.select(still ? this.selected : null);
    }
    if (this.diff) await this.loadDiff();
    if (this.git) await this.loadGit();
  }
}
