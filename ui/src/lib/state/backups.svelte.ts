// Backups at a glance and their runs: the status the scheduler publishes (targets, health, the
// pause, progress of running backups), followed as it changes, and the runs timeline, reloaded
// when a run starts or ends. Held by the app, so the dashboard and the Backups view share it.

import type { Client } from "../api/client";
import type { BackupStatus, RunRecord, TargetStatus } from "../api/types";
import type { Changes } from "./changes.svelte";

export class BackupsState {
  status = $state.raw<BackupStatus | null>(null);
  error = $state<string | null>(null);
  loaded = $state(false);
  /** Runs, newest first, of `runsTarget` (or of every target). */
  runs = $state.raw<RunRecord[]>([]);
  runsTarget = $state<string | null>(null);
  runsError = $state<string | null>(null);
  runsLoaded = $state(false);
  private generation = 0;
  private runsGeneration = 0;
  private runsKey = "";
  private started: Promise<void> | null = null;

  constructor(
    private readonly client: Client,
    private readonly changes: Changes,
  ) {}

  /** Starts following the status (once; later calls wait for the first). */
  start(): Promise<void> {
    this.started ??= this.follow();
    return this.started;
  }

  private async follow() {
    await this.client.onBackupStatus((status) => this.receive(status));
    this.changes.subscribe((event) => {
      if (event.reason.startsWith("backup")) void this.load();
    });
    await this.load();
  }

  private receive(status: BackupStatus) {
    // Newer than any load still on its way.
    this.generation++;
    this.status = status;
    this.error = null;
    this.loaded = true;
    this.followRuns(status);
  }

  async load() {
    const generation = ++this.generation;
    try {
      const status = await this.client.getBackupStatus();
      if (generation !== this.generation) return;
      this.status = status;
      this.error = status.error;
      this.followRuns(status);
    } catch (e) {
      if (generation === this.generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.generation) this.loaded = true;
    }
  }

  target(name: string): TargetStatus | null {
    return this.status?.targets.find((t) => t.target.name === name) ?? null;
  }

  /** Loads the runs of `target` (null: every target), and keeps them fresh from then on. */
  async loadRuns(target: string | null = this.runsTarget) {
    this.runsTarget = target;
    const generation = ++this.runsGeneration;
    try {
      const runs = await this.client.backupRuns(target);
      if (generation !== this.runsGeneration) return;
      this.runs = runs;
      this.runsError = null;
    } catch (e) {
      if (generation === this.runsGeneration) this.runsError = (e as Error).message;
    } finally {
      if (generation === this.runsGeneration) this.runsLoaded = true;
    }
  }

  /** A run started, ended or changed result: the timeline reloads (once it was shown). */
  private followRuns(status: BackupStatus) {
    const key = status.targets.map((t) => `${t.target.name}:${t.last_run?.id ?? ""}:${t.last_run?.result ?? ""}`).join("|");
    if (key === this.runsKey) return;
    this.runsKey = key;
    if (this.runsLoaded) void this.loadRuns();
  }
}
