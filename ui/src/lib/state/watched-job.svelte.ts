// One job a dialog or panel runs and shows itself: its progress, and cancelling it. It also
// shows in the status bar like every job.

import type { JobHandle } from "../api/client";
import type { Progress } from "../api/types";
import type { Jobs } from "./jobs.svelte";

export class WatchedJob {
  id = $state<string | null>(null);
  progress = $state.raw<Progress | null>(null);

  constructor(private readonly jobs: Jobs) {}

  get running(): boolean {
    return this.id !== null;
  }

  async run<T>(label: string, work: (job: JobHandle) => Promise<T>): Promise<T> {
    return this.jobs.run(label, async (job) => {
      this.id = job.id;
      this.progress = null;
      try {
        return await work({
          id: job.id,
          onProgress: (p) => {
            this.progress = p;
            job.onProgress(p);
          },
        });
      } finally {
        this.id = null;
        this.progress = null;
      }
    });
  }

  cancel() {
    if (this.id) void this.jobs.cancel(this.id);
  }
}
