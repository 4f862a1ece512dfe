// The archives view: every archive in the vault, their totals, and what checking each one found.

import type { Client } from "../api/client";
import type { ArchiveInfo, ArchiveVerifyReport, ColdReport } from "../api/types";
import { archiveTotals, type ArchiveTotals } from "../archives";
import { isCancelled, type Jobs } from "./jobs.svelte";

/** Where checking an archive stands. */
export type ArchiveCheck =
  | { state: "running" }
  | { state: "done"; report: ArchiveVerifyReport }
  | { state: "failed"; message: string };

export class ArchiveList {
  items = $state.raw<ArchiveInfo[]>([]);
  loaded = $state(false);
  error = $state<string | null>(null);
  /** Checks by archive id, kept until the list changes. */
  checks = $state<Record<string, ArchiveCheck>>({});
  /** The backup target archives move to (`archive.cold_target`); null when the cold tier is off. */
  coldTarget = $state<string | null>(null);
  /** Whether archives are being moved to the cold tier now. */
  moving = $state(false);
  private generation = 0;

  constructor(
    private readonly client: Client,
    private readonly jobs: Jobs,
  ) {}

  get totals(): ArchiveTotals {
    return archiveTotals(this.items);
  }

  async load() {
    const generation = ++this.generation;
    try {
      const [items, config] = await Promise.all([this.client.listArchives(), this.client.getConfig()]);
      if (generation !== this.generation) return;
      this.items = items;
      this.coldTarget = config.archive?.cold_target || null;
      this.error = null;
      // Forget checks of archives that are gone.
      for (const id of Object.keys(this.checks)) if (!items.some((a) => a.id === id)) delete this.checks[id];
    } catch (e) {
      if (generation === this.generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.generation) this.loaded = true;
    }
  }

  /** Checks one archive's checksum and contents; the result stays on its row. */
  async verify(archive: ArchiveInfo) {
    this.checks[archive.id] = { state: "running" };
    try {
      const report = await this.jobs.run(`Verify ${archive.project_name}`, (job) => this.client.verifyArchive(archive.id, job));
      this.checks[archive.id] = { state: "done", report };
      return report;
    } catch (e) {
      if (isCancelled(e)) delete this.checks[archive.id];
      else this.checks[archive.id] = { state: "failed", message: (e as Error).message };
      return null;
    }
  }

  /** Moves archives to the cold tier now; null when cancelled. */
  async moveToColdTier(): Promise<ColdReport | null> {
    this.moving = true;
    try {
      return await this.jobs.run("Move archives to the cold tier", (job) => this.client.moveArchivesToColdTier(job));
    } catch (e) {
      if (isCancelled(e)) return null;
      throw e;
    } finally {
      this.moving = false;
    }
  }
}
