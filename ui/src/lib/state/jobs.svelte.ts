// Long operations in flight (import, snapshot, restore, export, upload, verify, gc): their
// progress for the status area, and cancelling them.

import { KuraError, newJobId, type Client, type JobHandle } from "../api/client";
import type { Progress } from "../api/types";

export type Job = {
  id: string;
  label: string;
  progress: Progress | null;
  cancelling: boolean;
  startedAt: number;
};

export class Jobs {
  list = $state<Job[]>([]);

  constructor(private readonly client: Client) {}

  get running(): boolean {
    return this.list.length > 0;
  }

  /** Runs `work` as a job; it shows in the status area until it ends. */
  async run<T>(label: string, work: (job: JobHandle) => Promise<T>): Promise<T> {
    const id = newJobId();
    this.list.push({ id, label, progress: null, cancelling: false, startedAt: Date.now() });
    const handle: JobHandle = {
      id,
      onProgress: (progress) => {
        const job = this.list.find((j) => j.id === id);
        if (job) job.progress = progress;
      },
    };
    try {
      return await work(handle);
    } finally {
      this.list = this.list.filter((j) => j.id !== id);
    }
  }

  async cancel(id: string) {
    const job = this.list.find((j) => j.id === id);
    if (!job || job.cancelling) return;
    job.cancelling = true;
    await this.client.cancelOperation(id).catch(() => {});
  }
}

/** True for the error a cancelled job ends with (not worth an error message). */
export function isCancelled(e: unknown): boolean {
  return e instanceof KuraError && e.code === "cancelled";
}
