// The projects list: its filters, the projects they match, and the choices for the filter menus.

import type { Client } from "../api/client";
import type { Project, ProjectSort, ProjectStatus } from "../api/types";

/** "live" is the engine's default: active and archived, not the trash. */
export type StatusChoice = "live" | ProjectStatus;

export type Facets = { languages: string[]; frameworks: string[]; tags: string[] };

export class ProjectList {
  text = $state("");
  status = $state<StatusChoice>("live");
  language = $state("");
  framework = $state("");
  tag = $state("");
  sort = $state<ProjectSort>("name");

  items = $state.raw<Project[]>([]);
  loading = $state(false);
  loaded = $state(false);
  error = $state<string | null>(null);
  facets = $state.raw<Facets>({ languages: [], frameworks: [], tags: [] });
  /** Milliseconds the last load took (request and answer). */
  lastLoadMs = $state(0);

  private generation = 0;

  constructor(private readonly client: Client) {}

  get filtered(): boolean {
    return this.text.trim() !== "" || this.language !== "" || this.framework !== "" || this.tag !== "";
  }

  clearFilters() {
    this.text = "";
    this.language = "";
    this.framework = "";
    this.tag = "";
  }

  async load() {
    const generation = ++this.generation;
    const started = performance.now();
    this.loading = true;
    try {
      const items = await this.client.projects({
        status: this.status === "live" ? null : this.status,
        language: this.language || null,
        framework: this.framework || null,
        tags: this.tag ? [this.tag] : [],
        text: this.text.trim() || null,
        sort: this.sort,
      });
      if (generation !== this.generation) return; // a newer load is on its way
      this.items = items;
      this.error = null;
      this.updateFacets(items);
      this.lastLoadMs = performance.now() - started;
    } catch (e) {
      if (generation === this.generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.loaded = true;
      }
    }
  }

  /** Filter choices come from the unfiltered list, and stay while filters narrow it. */
  private updateFacets(items: Project[]) {
    const collect = (pick: (p: Project) => string[], keep: string) => {
      const set = new Set<string>();
      for (const p of items) for (const v of pick(p)) set.add(v);
      if (keep) set.add(keep);
      return [...set].sort((a, b) => a.localeCompare(b));
    };
    const next = {
      languages: collect((p) => p.languages, this.language),
      frameworks: collect((p) => p.frameworks, this.framework),
      tags: collect((p) => p.tags, this.tag),
    };
    if (this.filtered) {
      const union = (a: string[], b: string[]) => [...new Set([...a, ...b])].sort((x, y) => x.localeCompare(y));
      this.facets = {
        languages: union(this.facets.languages, next.languages),
        frameworks: union(this.facets.frameworks, next.frameworks),
        tags: union(this.facets.tags, next.tags),
      };
    } else {
      this.facets = next;
    }
  }
}
