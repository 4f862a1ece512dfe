// Where the space goes, for the dashboard.

import type { Client } from "../api/client";
import type { Stats } from "../api/types";

export class StatsState {
  stats = $state.raw<Stats | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);
  private generation = 0;

  constructor(private readonly client: Client) {}

  async load() {
    const generation = ++this.generation;
    this.loading = true;
    try {
      const stats = await this.client.getStats();
      if (generation !== this.generation) return; // a newer load is on its way
      this.stats = stats;
      this.error = null;
    } catch (e) {
      if (generation === this.generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }
}
