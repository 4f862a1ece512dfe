// The vault as a whole: where it is, its workspaces and which one is active.

import type { Client } from "../api/client";
import type { AppInfo, Workspace } from "../api/types";

export class VaultState {
  info = $state<AppInfo | null>(null);
  workspaces = $state<Workspace[]>([]);
  error = $state<string | null>(null);
  loaded = $state(false);

  constructor(private readonly client: Client) {}

  get active(): Workspace | null {
    return this.workspaces.find((w) => w.active) ?? null;
  }

  async load() {
    try {
      const [info, workspaces] = await Promise.all([
        this.info ? Promise.resolve(this.info) : this.client.getStatus(),
        this.client.listWorkspaces(),
      ]);
      this.info = info;
      this.workspaces = workspaces;
      this.error = null;
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.loaded = true;
    }
  }

  async switchTo(name: string) {
    await this.client.switchWorkspace(name);
    await this.load();
  }

  async create(name: string) {
    const ws = await this.client.createWorkspace(name);
    await this.load();
    return ws;
  }

  async rename(name: string, newName: string) {
    const ws = await this.client.renameWorkspace(name, newName);
    await this.load();
    return ws;
  }

  async remove(name: string, moveTo: string | null) {
    await this.client.deleteWorkspace(name, moveTo);
    await this.load();
  }
}
