// Where the space goes, for the dashboard.

import type { Client } from "../api/client";
import type { Stats } from "../api/types";

export class StatsState {
  stats = $state.raw<Stats | null>(null);
  error = $state<string | null>(null);
  loading = $state(false);

  constructor(private readonly client: Client) {}

  async load() {
    this.loading = true;
    try {
      this.stats = await this.client.stats();
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loading = false;
    }
  }
}
