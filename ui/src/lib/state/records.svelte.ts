// The Records tab: a project's collections, one collection's records a page at a time (by key,
// or filtered and sorted by the engine's query), and edits through the engine.

import type { Client } from "../api/client";
import type { CollectionInfo, RecordFilter, RecordQuery, StoredRecord } from "../api/types";

/** The comparisons the filter bar offers, as the engine's query names them. */
export type FilterOp = "eq" | "gt" | "gte" | "lt" | "lte" | "prefix" | "exists" | "missing";

export const FILTER_OPS: { op: FilterOp; label: string; takesValue: boolean }[] = [
  { op: "eq", label: "=", takesValue: true },
  { op: "gt", label: ">", takesValue: true },
  { op: "gte", label: "≥", takesValue: true },
  { op: "lt", label: "<", takesValue: true },
  { op: "lte", label: "≤", takesValue: true },
  { op: "prefix", label: "starts with", takesValue: true },
  { op: "exists", label: "is present", takesValue: false },
  { op: "missing", label: "is missing", takesValue: false },
];

export type Condition = { field: string; op: FilterOp; value: string };

/**
 * What a person typed as a value: JSON when it reads as JSON (`3`, `true`, `null`, `"3"`),
 * otherwise the text itself as a string.
 */
export function typedValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A filter row as the engine's filter; `null` while the field is still empty. */
export function toFilter(c: Condition): RecordFilter | null {
  const field = c.field.trim();
  if (!field) return null;
  switch (c.op) {
    case "exists":
      return { field, exists: true };
    case "missing":
      return { field, exists: false };
    case "prefix":
      return { field, prefix: c.value };
    default:
      return { field, [c.op]: typedValue(c.value) } as RecordFilter;
  }
}

export class RecordsPanel {
  collections = $state.raw<CollectionInfo[]>([]);
  collectionsLoaded = $state(false);
  selected = $state<string | null>(null);
  records = $state.raw<StoredRecord[]>([]);
  next = $state<string | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);

  conditions = $state<Condition[]>([]);
  keyPrefix = $state("");
  sort = $state("");
  desc = $state(false);

  private generation = 0;

  constructor(
    private readonly client: Client,
    private readonly project: string,
  ) {}

  get current(): CollectionInfo | null {
    return this.collections.find((c) => c.name === this.selected) ?? null;
  }

  async loadCollections() {
    try {
      this.collections = await this.client.recordCollections(this.project);
      this.error = null;
      if (!this.collections.some((c) => c.name === this.selected)) {
        this.selected = this.collections[0]?.name ?? null;
        this.conditions = [];
      }
    } catch (e) {
      this.error = (e as Error).message;
    } finally {
      this.collectionsLoaded = true;
    }
    await this.load();
  }

  select(name: string) {
    if (name === this.selected) return;
    this.selected = name;
    this.conditions = [];
    this.keyPrefix = "";
    this.sort = "";
    this.desc = false;
    void this.load();
  }

  query(cursor: string | null): RecordQuery {
    const filters = this.conditions.map(toFilter).filter((f): f is RecordFilter => f !== null);
    return {
      where: filters,
      key_prefix: this.keyPrefix || null,
      sort: this.sort.trim() || null,
      desc: this.desc,
      limit: 100,
      cursor,
    };
  }

  /** The first page of the selected collection under the current filters. */
  async load() {
    const collection = this.selected;
    const generation = ++this.generation;
    if (!collection) {
      this.records = [];
      this.next = null;
      return;
    }
    this.loading = true;
    try {
      const page = await this.client.recordQuery(this.project, collection, this.query(null));
      if (generation !== this.generation) return;
      this.records = page.records;
      this.next = page.next;
      this.error = null;
    } catch (e) {
      if (generation === this.generation) this.error = (e as Error).message;
    } finally {
      if (generation === this.generation) this.loading = false;
    }
  }

  async more() {
    const collection = this.selected;
    if (!collection || !this.next) return;
    const generation = this.generation;
    try {
      const page = await this.client.recordQuery(this.project, collection, this.query(this.next));
      if (generation !== this.generation) return;
      this.records = [...this.records, ...page.records];
      this.next = page.next;
    } catch (e) {
      this.error = (e as Error).message;
    }
  }

  addCondition() {
    this.conditions = [...this.conditions, { field: "", op: "eq", value: "" }];
  }

  removeCondition(i: number) {
    this.conditions = this.conditions.filter((_, j) => j !== i);
    void this.load();
  }
}
