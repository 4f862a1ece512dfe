// Everything the views share: the client, the router, jobs, notices, drops, change events and
// the vault-wide state. Made once at start-up and handed to components through context.

import { getContext, setContext } from "svelte";
import { Client } from "../api/client";
import type { Transport } from "../api/transport";
import { BackupsState } from "./backups.svelte";
import { Changes } from "./changes.svelte";
import { Desktop } from "./desktop.svelte";
import { DropZone } from "./drop.svelte";
import { Jobs } from "./jobs.svelte";
import { Notices } from "./notices.svelte";
import { ProjectList } from "./projects.svelte";
import { Router } from "./router.svelte";
import { StatsState } from "./stats.svelte";
import { VaultState } from "./vault.svelte";

export type DialogName = "new-project" | "import-folder" | "help" | null;

export class AppState {
  readonly client: Client;
  readonly router = new Router();
  readonly notices = new Notices();
  readonly changes = new Changes();
  readonly drops = new DropZone();
  readonly jobs: Jobs;
  readonly vault: VaultState;
  /** The projects list keeps its filters while the person looks elsewhere. */
  readonly projects: ProjectList;
  /** The dashboard's numbers, kept between visits: shown at once, refreshed behind. */
  readonly stats: StatsState;
  /** Backups at a glance, followed as they change (the dashboard and the Backups view). */
  readonly backups: BackupsState;
  /** The app's own side (start at login, the tray, its log); unavailable in a browser. */
  readonly desktop: Desktop;
  /** A dialog opened from anywhere (menus, shortcuts). */
  dialog = $state<DialogName>(null);
  /** Folder chosen for the import dialog (from a pick or a drop). */
  importPath = $state<string | null>(null);
  /** The project page on screen registers its snapshot action here (for Ctrl+S). */
  snapshotAction = $state.raw<(() => void) | null>(null);
  /** The search field in the top bar, for Ctrl+K. */
  searchInput = $state.raw<HTMLInputElement | null>(null);

  constructor(transport: Transport) {
    this.client = new Client(transport);
    this.jobs = new Jobs(this.client);
    this.vault = new VaultState(this.client);
    this.projects = new ProjectList(this.client);
    this.stats = new StatsState(this.client);
    this.backups = new BackupsState(this.client, this.changes);
    this.desktop = new Desktop(this.client.desktop);
  }

  async start() {
    await Promise.all([this.changes.start(this.client), this.drops.start(this.client)]);
    this.changes.subscribe(() => void this.vault.load());
    await Promise.all([this.vault.load(), this.desktop.load()]);
    void this.backups.start();
  }

  /** Shows an error as a notice (cancelled jobs are not errors). */
  report(e: unknown) {
    const err = e as { code?: string; message?: string };
    if (err?.code === "cancelled") this.notices.info("Cancelled.");
    else this.notices.error(err?.message ?? String(e));
  }
}

const KEY = Symbol("kura-app");

export function provideApp(app: AppState) {
  setContext(KEY, app);
}

export function useApp(): AppState {
  return getContext<AppState>(KEY);
}
