// The restore wizard's steps: pick a target, one of its backups, one project or everything, a
// new or empty folder; check what will be written where; restore with progress; the report.
// Each step says whether the person can go on; errors land on the step they belong to.

import { KuraError, type Client } from "../api/client";
import type { BackupContents, BackupInfo, BackupRestoreReport, Progress, RestorePreview } from "../api/types";
import { isCancelled, type Jobs } from "./jobs.svelte";

export const RESTORE_STEPS = ["target", "backup", "what", "destination", "preview", "restoring", "done"] as const;
export type RestoreStep = (typeof RESTORE_STEPS)[number];

/** The steps as the indicator names them (restoring and done share the last). */
export const STEP_LABELS: { step: RestoreStep; label: string }[] = [
  { step: "target", label: "Target" },
  { step: "backup", label: "Backup" },
  { step: "what", label: "What" },
  { step: "destination", label: "Where" },
  { step: "preview", label: "Check" },
  { step: "restoring", label: "Restore" },
];

/** One project by id, or the whole vault. */
export type RestoreChoice = { project: string | null };

export class RestoreWizard {
  step = $state<RestoreStep>("target");
  target = $state<string | null>(null);
  /** The target's backups, newest first. */
  backups = $state.raw<BackupInfo[]>([]);
  backupsLoading = $state(false);
  backupsError = $state<KuraError | null>(null);
  backup = $state<string | null>(null);
  contents = $state.raw<BackupContents | null>(null);
  contentsLoading = $state(false);
  contentsError = $state<string | null>(null);
  choice = $state<RestoreChoice | null>(null);
  destination = $state("");
  destinationError = $state<string | null>(null);
  jobId = $state<string | null>(null);
  progress = $state.raw<Progress | null>(null);
  report = $state.raw<BackupRestoreReport | null>(null);
  error = $state<string | null>(null);

  /** What the restore will write where, as the engine works it out on the way to the check step. */
  preview = $state.raw<RestorePreview | null>(null);

  constructor(
    private readonly client: Client,
    readonly targets: string[],
    initial: string | null = null,
  ) {
    const first = initial ?? (targets.length === 1 ? targets[0] : null);
    if (first) {
      void this.chooseTarget(first);
      if (initial) this.step = "backup";
    }
  }

  get index(): number {
    return RESTORE_STEPS.indexOf(this.step);
  }

  /** Whether "Next" may be pressed on the current step. */
  get canNext(): boolean {
    switch (this.step) {
      case "target":
        return this.target !== null && !this.backupsLoading && !this.backupsError && this.backups.length > 0;
      case "backup":
        return this.backup !== null && this.contents !== null && !this.contentsLoading;
      case "what":
        return this.choice !== null;
      case "destination":
        return this.destination.trim() !== "";
      default:
        return false;
    }
  }

  get canBack(): boolean {
    return ["backup", "what", "destination", "preview"].includes(this.step);
  }

  next() {
    if (!this.canNext) return;
    if (this.step === "destination") {
      const d = this.destination.trim();
      if (!d.startsWith("/")) {
        this.destinationError = "Write the full path of the folder, starting with /.";
        return;
      }
      this.destination = d;
    }
    this.error = null;
    this.step = RESTORE_STEPS[this.index + 1];
    if (this.step === "preview") void this.loadPreview();
  }

  private async loadPreview() {
    if (!this.target || !this.backup || !this.choice) return;
    const ask = { target: this.target, backup: this.backup, project: this.choice.project, destination: this.destination };
    this.preview = null;
    try {
      const preview = await this.client.previewBackupRestore(ask.target, ask.backup, ask.project, ask.destination);
      // Only if the person is still looking at the same choice.
      if (this.step === "preview" && this.destination === ask.destination && this.choice?.project === ask.project) this.preview = preview;
    } catch (e) {
      if (this.step === "preview") this.error = (e as Error).message;
    }
  }

  back() {
    if (!this.canBack) return;
    this.error = null;
    this.step = RESTORE_STEPS[this.index - 1];
  }

  async chooseTarget(name: string) {
    if (this.target === name && (this.backups.length || this.backupsLoading)) return;
    this.target = name;
    this.backups = [];
    this.backup = null;
    this.contents = null;
    this.choice = null;
    this.backupsError = null;
    this.backupsLoading = true;
    try {
      const list = await this.client.listBackups(name);
      if (this.target !== name) return;
      this.backups = [...list].reverse();
      if (this.backups.length) void this.chooseBackup(this.backups[0].id);
    } catch (e) {
      if (this.target === name) {
        this.backupsError = e as KuraError;
        // An error belongs to the step where the target is picked.
        if (this.step === "backup") this.step = "target";
      }
    } finally {
      if (this.target === name) this.backupsLoading = false;
    }
  }

  async chooseBackup(id: string) {
    if (!this.target) return;
    this.backup = id;
    this.contents = null;
    this.contentsError = null;
    this.contentsLoading = true;
    const target = this.target;
    try {
      const contents = await this.client.getBackupContents(target, id);
      if (this.backup !== id) return;
      this.contents = contents;
      // A project chosen before stays chosen when this backup holds it too.
      if (this.choice?.project && !contents.projects.some((p) => p.id === this.choice?.project)) this.choice = null;
    } catch (e) {
      if (this.backup === id) this.contentsError = (e as Error).message;
    } finally {
      if (this.backup === id) this.contentsLoading = false;
    }
  }

  choose(project: string | null) {
    this.choice = { project };
  }

  setDestination(path: string) {
    this.destination = path;
    this.destinationError = null;
  }

  /** Restores, as a job the status area shows; a destination that is not empty sends the person back to it. */
  async run(jobs: Jobs, label: string) {
    if (this.step !== "preview" || !this.preview || !this.target || !this.backup || !this.choice) return;
    const { target, backup } = this;
    const project = this.choice.project;
    const destination = this.destination;
    this.step = "restoring";
    this.error = null;
    this.progress = null;
    try {
      this.report = await jobs.run(label, (job) => {
        this.jobId = job.id;
        return this.client.restoreBackup(target, backup, project, destination, {
          id: job.id,
          onProgress: (p) => {
            this.progress = p;
            job.onProgress(p);
          },
        });
      });
      this.step = "done";
    } catch (e) {
      const err = e as KuraError;
      if (isCancelled(e)) {
        this.step = "preview";
        this.error = "The restore was cancelled. Nothing was written: the files appear at the destination only once all are restored.";
      } else if (err.code === "already_exists") {
        this.step = "destination";
        this.destinationError = err.message;
      } else {
        this.step = "preview";
        this.error = err.message;
      }
    } finally {
      this.jobId = null;
    }
  }

  cancel(jobs: Jobs) {
    if (this.jobId) void jobs.cancel(this.jobId);
  }
}
