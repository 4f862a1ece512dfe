// The cleanup view: which categories to run, the preview (a dry run), the last run's result,
// the history of runs, and the schedule with the next run.

import type { Client } from "../api/client";
import type { CleanupCategory, CleanupReport, Config, Progress } from "../api/types";
import { CLEANUP_CATEGORIES } from "../cleanup";
import { isCancelled, type Jobs } from "./jobs.svelte";

export class CleanupState {
  /** The categories picked, in run order. */
  selected = $state<CleanupCategory[]>([...CLEANUP_CATEGORIES]);
  /** The last dry run, while the picked categories are the ones it covered. */
  preview = $state.raw<CleanupReport | null>(null);
  /** The last real run started here. */
  result = $state.raw<CleanupReport | null>(null);
  runs = $state.raw<CleanupReport[]>([]);
  nextAt = $state<number | null>(null);
  config = $state.raw<Config | null>(null);
  /** What is running now, with its progress and job id (to cancel). */
  busy = $state<{ kind: "preview" | "run"; jobId: string; progress: Progress | null } | null>(null);
  error = $state<string | null>(null);
  loadError = $state<string | null>(null);
  loaded = $state(false);

  constructor(
    private readonly client: Client,
    private readonly jobs: Jobs,
  ) {}

  async load() {
    try {
      const [runs, nextAt, config] = await Promise.all([this.client.listCleanupRuns(), this.client.getNextCleanup(), this.client.getConfig()]);
      this.runs = runs;
      this.nextAt = nextAt;
      this.config = config;
      this.loadError = null;
    } catch (e) {
      this.loadError = (e as Error).message;
    } finally {
      this.loaded = true;
    }
  }

  toggle(category: CleanupCategory, on: boolean) {
    const set = new Set(this.selected);
    if (on) set.add(category);
    else set.delete(category);
    this.selected = CLEANUP_CATEGORIES.filter((c) => set.has(c));
    this.preview = null;
  }

  /** Lists what would go; changes nothing. */
  runPreview() {
    return this.start("preview");
  }

  /** Cleans up the picked categories. */
  runNow() {
    return this.start("run");
  }

  private async start(kind: "preview" | "run"): Promise<CleanupReport | null> {
    // An empty list means every category to the engine: never send it.
    if (this.selected.length === 0 || this.busy) return null;
    const only = [...this.selected];
    this.error = null;
    try {
      const report = await this.jobs.run(kind === "preview" ? "Cleanup preview" : "Clean up", (job) => {
        this.busy = { kind, jobId: job.id, progress: null };
        return this.client.cleanup(kind === "preview", only, {
          id: job.id,
          onProgress: (p) => {
            if (this.busy) this.busy.progress = p;
            job.onProgress(p);
          },
        });
      });
      if (kind === "preview") this.preview = report;
      else {
        this.result = report;
        this.preview = null;
      }
      return report;
    } catch (e) {
      if (!isCancelled(e)) this.error = (e as Error).message;
      return null;
    } finally {
      this.busy = null;
      await this.load();
    }
  }
}
