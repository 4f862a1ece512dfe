// One subscription to the shell's `vaultChanged` events, fanned out to every open view.

import type { Client } from "../api/client";
import type { VaultChanged } from "../api/types";

export type ChangeListener = (event: VaultChanged) => void;

export class Changes {
  private listeners = new Set<ChangeListener>();
  /** Bumped on every event; views can `$derived` from it. */
  count = $state(0);

  async start(client: Client) {
    return client.onVaultChanged((event) => {
      this.count++;
      for (const listener of [...this.listeners]) listener(event);
    });
  }

  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

/** Calls `fn` once, `ms` after the last of a burst of calls. */
export function debounce(fn: () => void, ms: number): (() => void) & { cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  run.cancel = () => {
    if (timer) clearTimeout(timer);
    timer = null;
  };
  return run;
}
