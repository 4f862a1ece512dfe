// An in-memory fake of the engine's backups (`kura-backup`) and of the desktop scheduler's status,
// for unit tests, page tests and the `mock` build. It follows the engine where a person would
// notice: target validation and its messages, a target whose folder is missing is `unavailable`
// (not a failure), secrets from the environment or the keyring, `wrong_passphrase`, the health
// circuit breaker (3 failures in a row, an hour's cool-down), runs that progress and can be
// cancelled, backups kept at the target after the target is removed, retention exactly as the
// engine selects, verify naming what a damaged pack affects, restore into a new or empty folder.
// Runs start only when asked: the fake has no clock-driven scheduler.

import {
  describeLocation,
  fullRetention,
  secretEnvVar,
  type SecretKind,
} from "../../backups";
import type {
  BackupContents,
  BackupInfo,
  BackupProject,
  BackupRestoreReport,
  BackupState,
  BackupStatus,
  BackupVerifyReport,
  ErrorCode,
  Pause,
  PauseLength,
  Progress,
  Project,
  PruneReport,
  Retention,
  RunRecord,
  Target,
  TargetChanges,
  TargetHealth,
  TargetSecrets,
  TargetStatus,
  TestReport,
  VerifyMode,
  VerifyProblem,
} from "../types";
import { Schedule, ScheduleError } from "./schedule";
import { MockFailure, type Blob, type MockVault } from "./vault";

/** Consecutive failed runs after which a target is marked unhealthy (the engine's constant). */
export const FAILURES_BEFORE_UNHEALTHY = 3;
/** How long an unhealthy target is skipped (the engine's constant). */
export const UNHEALTHY_COOL_DOWN_SECS = 3600;
/** A scheduled time missed by more than this without a success makes a target overdue. */
const OVERDUE_GRACE_SECS = 3600;
/** Most affected files named per verify problem. */
const AFFECTS_SHOWN = 10;
/** Steps a backup run goes through (progress updates). */
const RUN_STEPS = 30;
const DAY = 86_400;

type Tree = Map<string, Blob>;
type Step = { item: string; amount: number; run?: () => void };
/** Work for the transport to step through with progress and cancellation, then finish. */
export type Plan<T> = { steps: Step[]; finish: () => T };

type Pack = { id: string; size: number; files: string[]; damaged: boolean; missing: boolean; base: boolean };
type StoredBackup = {
  info: BackupInfo;
  projects: BackupProject[];
  /** Each project's working folder as backed up, by project id (read when restored). */
  trees: Map<string, () => Tree>;
  /** Files of the vault itself (catalog, settings, histories), relative to the vault. */
  vaultFiles: Tree;
  packs: string[];
};
type Repo = { encrypted: boolean; passphrase: string | null; backups: StoredBackup[]; packs: Map<string, Pack>; sequence: number };
/** What one run reads: a group of files (the vault's own, always read; or a project's folder, read when it changed since `changed`). */
type Group = { item: string; files: number; bytes: number; changed: true | number; sample: string[] };

const fail = (code: ErrorCode, message: string): never => {
  throw new MockFailure(code, message);
};

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function hash(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hexId(seed: string, length: number): string {
  let out = "";
  for (let i = 0; out.length < length; i++) out += hash(`${seed}:${i}`).toString(16).padStart(8, "0");
  return out.slice(0, length);
}

let randomCounter = 0;
const randomHex = (length: number) => hexId(`${Date.now()}:${Math.random()}:${randomCounter++}`, length);

const binary = (size: number, tag: string): Blob => ({ text: null, size, image: null, tag: `b${tag}:${size}` });

const pad = (n: number, width = 2) => String(n).padStart(width, "0");

/** `20261121T020000Z-0000-1a2b`: the start in UTC, a sequence number, random digits. */
function backupId(started: number, sequence: number, random: string): string {
  const d = new Date(started * 1000);
  const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}${pad(d.getUTCSeconds())}Z`;
  return `${stamp}-${pad(sequence % 10_000, 4)}-${random.slice(0, 4)}`;
}

function locationKey(target: Target): string {
  const l = target.location;
  return l.kind === "folder" ? `folder:${l.path.replace(/\/+$/, "")}` : `s3:${l.endpoint}|${l.bucket}|${(l.prefix ?? "").replace(/^\/+|\/+$/g, "")}`;
}

function parentOf(path: string): string {
  const trimmed = path.replace(/\/+$/, "");
  const i = trimmed.lastIndexOf("/");
  return i <= 0 ? "/" : trimmed.slice(0, i);
}

const WHAT: Record<SecretKind, string> = {
  ACCESS_KEY_ID: "the S3 access key id",
  SECRET_ACCESS_KEY: "the S3 secret access key",
  PASSPHRASE: "the encryption passphrase",
};
const AWS_FALLBACK: Partial<Record<SecretKind, string>> = { ACCESS_KEY_ID: "AWS_ACCESS_KEY_ID", SECRET_ACCESS_KEY: "AWS_SECRET_ACCESS_KEY" };

/** The hour/day/ISO-week/month periods retention counts in: those of the local clock, as the engine's. */
function period(t: number, kind: 0 | 1 | 2 | 3): string {
  const d = new Date(t * 1000);
  const y = d.getFullYear();
  // Calendar arithmetic on the local date, done in UTC so that no daylight-saving shift counts.
  const date = Date.UTC(y, d.getMonth(), d.getDate());
  const ordinal = Math.round((date - Date.UTC(y, 0, 1)) / 86_400_000) + 1;
  if (kind === 0) return `${y}:${ordinal * 24 + d.getHours()}`;
  if (kind === 1) return `${y}:${ordinal}`;
  if (kind === 2) {
    // ISO week: the week with the year's first Thursday is week 1.
    const day = new Date(date);
    const dow = day.getUTCDay() || 7;
    day.setUTCDate(day.getUTCDate() + 4 - dow);
    const isoYear = day.getUTCFullYear();
    const week = Math.ceil(((day.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 + 1) / 7);
    return `${isoYear}:${week}`;
  }
  return `${y}:${d.getMonth() + 1}`;
}

/** The backups `policy` keeps among `backups` at `now` (the engine's `select_kept`). */
export function selectKept(backups: { id: string; started: number }[], policy: Retention, now: number): Set<string> {
  const p = fullRetention(policy);
  const sorted = [...backups].sort((a, b) => b.started - a.started || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const keepsAll = !p.keep_last && !p.hourly && !p.daily && !p.weekly && !p.monthly && !p.retention_days;
  if (keepsAll) return new Set(sorted.map((b) => b.id));
  const kept = new Set<string>();
  for (const b of sorted.slice(0, p.keep_last)) kept.add(b.id);
  for (const [kind, count] of [
    [0, p.hourly],
    [1, p.daily],
    [2, p.weekly],
    [3, p.monthly],
  ] as const) {
    const seen = new Set<string>();
    for (const b of sorted) {
      if (seen.size >= count) break;
      const key = period(b.started, kind);
      if (!seen.has(key)) {
        seen.add(key);
        kept.add(b.id);
      }
    }
  }
  if (p.retention_days > 0) {
    const oldest = now - p.retention_days * DAY;
    for (const b of sorted) if (b.started < oldest) kept.delete(b.id);
    if (!p.keep_last && !p.hourly && !p.daily && !p.weekly && !p.monthly) for (const b of sorted) if (b.started >= oldest) kept.add(b.id);
  }
  if (sorted.length) kept.add(sorted[0].id);
  return kept;
}

function validate(target: Target) {
  const bad = (m: string) => fail("invalid_input", m);
  const name = target.name;
  if (!name || name.length > 64 || !/^[A-Za-z0-9_-]+$/.test(name)) bad(`'${name}' is not a valid target name; use up to 64 letters, digits, '-' or '_'`);
  if (target.schedule) {
    try {
      Schedule.parse(target.schedule);
    } catch (e) {
      if (e instanceof ScheduleError) bad(`the schedule of target '${name}' is not valid: ${e.message}`);
      throw e;
    }
  }
  const l = target.location;
  if (l.kind === "folder" && !l.path.startsWith("/")) bad(`the folder of target '${name}' must be an absolute path, not ${l.path}`);
  if (l.kind === "s3") {
    if (!(l.endpoint.startsWith("http://") || l.endpoint.startsWith("https://")))
      bad(`the endpoint of target '${name}' must start with http:// or https://, not '${l.endpoint}'`);
    if (!l.bucket) bad(`target '${name}' needs a bucket`);
  }
  if (target.bandwidth_limit === 0) bad(`the bandwidth limit of target '${name}' must be above 0 bytes/s (leave it unset for no limit)`);
}

function parseSchedule(text: string | undefined): Schedule | null {
  if (!text?.trim()) return null;
  try {
    return Schedule.parse(text);
  } catch {
    return null;
  }
}

export type MockBackupsOptions = {
  /** No target, no run (the `?empty=1` vault). */
  empty?: boolean;
  /** Milliseconds between the steps of a backup run. */
  stepDelay?: () => number;
};

export class MockBackups {
  private targets = new Map<string, { target: Target; since: number }>();
  /** Every run, newest first (runs of removed targets stay, as in the engine's state). */
  private runs: RunRecord[] = [];
  private health = new Map<string, TargetHealth>();
  /** Repositories by location: what a target holds stays there when the target is removed. */
  private repos = new Map<string, Repo>();
  private pause: Pause | null = null;
  private progress = new Map<string, Progress>();
  private cancelling = new Set<string>();
  private lastSent = "";
  /** Folders that exist on this machine (drives come and go with `unplug` and `plug`). */
  private dirs = new Set(["/", "/home", "/home/dev", "/home/dev/backups", "/media", "/media/dev", "/mnt", "/tmp"]);
  /** Target folders whose disk is full. */
  private fullDisks = new Set<string>();
  /** S3 endpoints that do not answer. */
  private downEndpoints = new Set<string>();
  /** The app's environment (secrets by variable name). */
  env: Record<string, string> = {};
  /** The OS keyring: `<target>/<KIND>` → secret. */
  readonly keyring = new Map<string, string>();
  /** Whether this machine has a usable OS keyring. */
  keyringAvailable = true;
  /** The status changed (the shell's `backup-status` event). */
  onStatus: ((status: BackupStatus) => void) | null = null;
  /** Something in the vault changed (the shell's `vaultChanged`). */
  onChange: ((event: { project_id: string | null; reason: string }) => void) | null = null;
  private readonly stepDelay: () => number;
  readonly host = "dev-laptop";

  constructor(
    private readonly vault: MockVault,
    options: MockBackupsOptions = {},
  ) {
    this.stepDelay = options.stepDelay ?? (() => 0);
    if (!options.empty) this.seed();
  }

  private now(): number {
    return this.vault.clock();
  }

  // ----- the test hooks: the world around the app

  /** Disconnects the drive at `path` (the folder and everything under it disappear). */
  unplug(path: string) {
    for (const d of [...this.dirs]) if (d === path || d.startsWith(`${path}/`)) this.dirs.delete(d);
    this.publish();
  }

  /** Connects the drive at `path` again. */
  plug(path: string) {
    this.makeDirs(path);
    this.publish();
  }

  /** Makes writes into the folder `path` fail with a full disk (or work again with `false`). */
  setDiskFull(path: string, full = true) {
    if (full) this.fullDisks.add(path);
    else this.fullDisks.delete(path);
  }

  /** Makes an S3 endpoint stop answering (or answer again with `false`). */
  setEndpointDown(endpoint: string, down = true) {
    if (down) this.downEndpoints.add(endpoint);
    else this.downEndpoints.delete(endpoint);
  }

  /** Damages the newest pack at a target: its bytes change (`content`) or it goes (`missing`). */
  damagePack(target: string, how: "content" | "missing" = "content"): string {
    const repo = this.repos.get(locationKey(this.targetNamed(target)));
    const packs = repo ? [...repo.packs.values()] : [];
    const pack = packs[packs.length - 1] ?? fail("not_found", `target '${target}' holds no pack`);
    if (how === "content") pack.damaged = true;
    else pack.missing = true;
    return pack.id;
  }

  private makeDirs(path: string) {
    for (let p = path.replace(/\/+$/, "") || "/"; ; p = parentOf(p)) {
      this.dirs.add(p);
      if (p === "/") break;
    }
  }

  private dirExists(path: string): boolean {
    const p = path.replace(/\/+$/, "") || "/";
    if (this.dirs.has(p)) return true;
    for (const k of this.vault.disk.keys()) if (k === p || k.startsWith(`${p}/`)) return true;
    return false;
  }

  /** Whether a folder exists and holds something. */
  private dirHasContent(path: string): boolean {
    const p = path.replace(/\/+$/, "");
    const tree = this.vault.disk.get(p);
    if (tree && tree.size > 0) return true;
    for (const k of this.vault.disk.keys()) if (k.startsWith(`${p}/`)) return true;
    for (const d of this.dirs) if (d.startsWith(`${p}/`)) return true;
    for (const k of this.vault.diskFiles.keys()) if (k.startsWith(`${p}/`)) return true;
    return false;
  }

  // ----- the status (what the scheduler publishes)

  status(): BackupStatus {
    const now = this.now();
    const paused = this.pause && (this.pause.until === null || now < this.pause.until) ? { ...this.pause } : null;
    const targets: TargetStatus[] = [...this.targets.values()]
      .sort((a, b) => (a.target.name < b.target.name ? -1 : 1))
      .map(({ target, since }) => {
        const schedule = parseSchedule(target.schedule);
        const runs = this.runs.filter((r) => r.target === target.name);
        const lastRun = runs[0] ?? null;
        const lastSuccess = runs.find((r) => r.result === "ok") ?? null;
        const due = schedule?.nextAfter(lastRun?.started ?? since) ?? null;
        const missed = schedule?.nextAfter(lastSuccess?.started ?? since) ?? null;
        return {
          target: structuredClone(target),
          schedule_text: schedule?.describe() ?? "",
          health: this.healthOf(target.name),
          last_run: lastRun ? { ...lastRun } : null,
          last_success: lastSuccess?.finished ?? null,
          next_run: due === null ? null : Math.max(due, now),
          overdue: missed !== null && missed + OVERDUE_GRACE_SECS < now,
          running: this.progress.has(target.name) ? { ...this.progress.get(target.name)! } : null,
        };
      });
    return {
      state: overallState(targets, paused !== null),
      paused,
      targets,
      last_success: targets.reduce<number | null>((m, t) => (t.last_success !== null && (m === null || t.last_success > m) ? t.last_success : m), null),
      next_run: targets.reduce<number | null>((m, t) => (t.next_run !== null && (m === null || t.next_run < m) ? t.next_run : m), null),
      error: null,
    };
  }

  /** Sends the status when it changed, as the scheduler does. */
  private publish() {
    const status = this.status();
    const text = JSON.stringify(status);
    if (text === this.lastSent) return;
    this.lastSent = text;
    this.onStatus?.(status);
  }

  private healthOf(name: string): TargetHealth {
    return { ...(this.health.get(name) ?? this.freshHealth(name)) };
  }

  private freshHealth(name: string): TargetHealth {
    return { target: name, state: "ok", consecutive_failures: 0, last_error: null, last_success: null, last_attempt: null, unhealthy_until: null };
  }

  /** The engine's `record_outcome`: a success resets, unavailable waits, failures count. */
  private recordOutcome(name: string, now: number, error: MockFailure | null): TargetHealth {
    const h = this.healthOf(name);
    h.last_attempt = now;
    if (error === null) {
      Object.assign(h, { state: "ok", consecutive_failures: 0, last_error: null, last_success: now, unhealthy_until: null });
    } else if (error.code === "cancelled") {
      return h;
    } else if (error.code === "unavailable" && h.state !== "unhealthy") {
      h.state = "unavailable";
      h.last_error = error.message;
    } else {
      h.consecutive_failures += 1;
      h.last_error = error.message;
      if (h.consecutive_failures >= FAILURES_BEFORE_UNHEALTHY) {
        h.state = "unhealthy";
        h.unhealthy_until = now + UNHEALTHY_COOL_DOWN_SECS;
      } else h.state = "failing";
    }
    this.health.set(name, h);
    return { ...h };
  }

  // ----- secrets and connections

  private secret(target: string, kind: SecretKind): string {
    const variable = secretEnvVar(target, kind);
    if (this.env[variable]) return this.env[variable];
    const aws = AWS_FALLBACK[kind];
    if (aws && this.env[aws]) return this.env[aws];
    const stored = this.keyringAvailable ? this.keyring.get(`${target}/${kind}`) : undefined;
    if (stored !== undefined) return stored;
    const said = this.keyringAvailable ? "it is not in the OS keyring" : "there is no usable OS keyring here (no secret service)";
    return fail("invalid_input", `target '${target}' needs ${WHAT[kind]}, and ${said}; set ${variable} (or store it with \`kura backup target add ... --keyring\`)`);
  }

  private storeSecret(target: string, kind: SecretKind, value: string) {
    if (!this.keyringAvailable)
      fail(
        "unavailable",
        `cannot store ${WHAT[kind]} of target '${target}' in the OS keyring (no secret service); there may be no keyring on this machine: set ${secretEnvVar(target, kind)} in the environment of every run instead`,
      );
    this.keyring.set(`${target}/${kind}`, value);
  }

  private label(t: Target): string {
    return `target '${t.name}' (${describeLocation(t.location)})`;
  }

  /** Connects to a target and opens its repository (creating it when `create`). */
  private open(t: Target, create: boolean): Repo {
    const l = t.location;
    if (l.kind === "folder") {
      if (!this.dirExists(l.path)) fail("unavailable", `${this.label(t)} is unavailable: ${l.path} does not exist (is its drive connected?); the backup waits for it`);
    } else {
      this.secret(t.name, "ACCESS_KEY_ID");
      this.secret(t.name, "SECRET_ACCESS_KEY");
      if (this.downEndpoints.has(l.endpoint))
        fail("unavailable", `${this.label(t)} is unavailable: cannot read config: error sending request for url (${l.endpoint}): connection refused; the failed uploads wait in the outbox and are retried at the next run`);
    }
    const key = locationKey(t);
    const repo = this.repos.get(key);
    if (repo) {
      if (repo.encrypted && this.secret(t.name, "PASSPHRASE") !== repo.passphrase)
        fail("wrong_passphrase", `the passphrase does not open target '${t.name}'; check it (nothing was changed)`);
      return repo;
    }
    if (!create) return fail("not_found", `target '${t.name}' holds no Kura backup repository (no config object); add the target again to initialise it`);
    const created: Repo = { encrypted: !!t.encrypt, passphrase: t.encrypt ? this.secret(t.name, "PASSPHRASE") : null, backups: [], packs: new Map(), sequence: 0 };
    this.repos.set(key, created);
    return created;
  }

  private targetNamed(name: string): Target {
    return this.targets.get(name)?.target ?? fail("not_found", `there is no backup target '${name}'; \`kura backup target list\` shows them`);
  }

  private repoOf(name: string): Repo {
    return this.open(this.targetNamed(name), false);
  }

  private lock(name: string) {
    if (this.progress.has(name)) fail("busy", `target '${name}' is busy: a backup is running there; try again when it ends`);
  }

  // ----- targets

  addTarget(target: Target, secrets: TargetSecrets, useKeyring: boolean): TestReport {
    const t: Target = { encrypt: false, schedule: "", retention: fullRetention(undefined), bandwidth_limit: null, ...structuredClone(target) };
    validate(t);
    if (this.targets.has(t.name)) fail("already_exists", `a backup target '${t.name}' already exists; remove it first or pick another name`);
    if (useKeyring) {
      const given: [SecretKind, string | null][] = [
        ["ACCESS_KEY_ID", secrets.access_key_id],
        ["SECRET_ACCESS_KEY", secrets.secret_access_key],
        ["PASSPHRASE", secrets.passphrase],
      ];
      for (const [kind, value] of given) if (value) this.storeSecret(t.name, kind, value);
    }
    if (t.location.kind === "folder") {
      const parent = parentOf(t.location.path);
      if (!this.dirExists(parent))
        fail("unavailable", `${parent} does not exist (is the drive connected?); the target folder's parent must exist`);
      this.makeDirs(t.location.path);
    }
    const repo = this.open(t, true);
    this.health.delete(t.name);
    this.targets.set(t.name, { target: t, since: this.now() });
    const health = this.recordOutcome(t.name, this.now(), null);
    this.onChange?.({ project_id: null, reason: "backup-targets" });
    this.publish();
    return { target: t.name, backups: repo.backups.length, encrypted: repo.encrypted, health };
  }

  updateTarget(name: string, changes: TargetChanges): Target {
    const entry = this.targets.get(name) ?? fail("not_found", `there is no backup target '${name}'`);
    const updated: Target = {
      ...structuredClone(entry.target),
      schedule: changes.schedule.trim(),
      retention: fullRetention(changes.retention),
      bandwidth_limit: changes.bandwidth_limit,
    };
    validate(updated);
    entry.target = updated;
    this.publish();
    return structuredClone(updated);
  }

  removeTarget(name: string): null {
    if (!this.targets.has(name)) fail("not_found", `there is no backup target '${name}'`);
    this.lock(name);
    this.targets.delete(name);
    this.health.delete(name);
    for (const kind of ["ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "PASSPHRASE"]) this.keyring.delete(`${name}/${kind}`);
    this.onChange?.({ project_id: null, reason: "backup-targets" });
    this.publish();
    return null;
  }

  testTarget(name: string): TestReport {
    const t = this.targetNamed(name);
    let repo: Repo | null = null;
    let error: MockFailure | null = null;
    try {
      repo = this.open(t, false);
    } catch (e) {
      if (!(e instanceof MockFailure)) throw e;
      error = e;
    }
    const health = this.recordOutcome(name, this.now(), error);
    this.publish();
    if (error) throw error;
    return { target: name, backups: repo!.backups.length, encrypted: repo!.encrypted, health };
  }

  pauseBackups(length: PauseLength | null): null {
    const now = this.now();
    if (length === null) this.pause = null;
    else if (length === "one_hour") this.pause = { until: now + 3600 };
    else if (length === "until_resumed") this.pause = { until: null };
    else {
      const d = new Date(now * 1000);
      this.pause = { until: Math.floor(new Date(d.getFullYear(), d.getMonth(), d.getDate() + 1).getTime() / 1000) };
    }
    this.publish();
    return null;
  }

  // ----- runs

  runsOf(target: string | null): RunRecord[] {
    return this.runs.filter((r) => target === null || r.target === target).slice(0, 200).map((r) => ({ ...r }));
  }

  /** Starts a backup now; it runs on, step by step, and its progress goes out with the status. */
  startBackup(name: string): null {
    if (this.progress.has(name)) fail("busy", `a backup to '${name}' is already running`);
    this.progress.set(name, { phase: "starting", done: 0, total: null, unit: "files", item: null });
    this.publish();
    void this.run(name);
    return null;
  }

  cancelBackup(name: string): boolean {
    if (!this.progress.has(name)) return false;
    this.cancelling.add(name);
    return true;
  }

  /** Waits one step of a run. */
  private async step() {
    const ms = this.stepDelay();
    await sleep(ms > 0 ? ms : 0);
  }

  private async run(name: string) {
    try {
      await this.step();
      await this.runBackup(name);
    } catch (e) {
      if (!(e instanceof MockFailure)) throw e;
      // Refused before a run began (unknown or unhealthy target): nothing is recorded.
    } finally {
      this.progress.delete(name);
      this.cancelling.delete(name);
      this.onChange?.({ project_id: null, reason: "backup" });
      this.publish();
    }
  }

  /** The engine's `run_backup`: refuses an unhealthy target, records the run whatever happens. */
  private async runBackup(name: string) {
    const t = this.targetNamed(name);
    const now = this.now();
    const h = this.healthOf(name);
    if (h.unhealthy_until !== null && h.unhealthy_until > now)
      fail(
        "unavailable",
        `target '${name}' is unhealthy after ${h.consecutive_failures} failed runs in a row (last: ${h.last_error ?? "unknown"}); it is tried again after ${h.unhealthy_until - now} seconds, or now after a successful \`kura backup target test ${name}\``,
      );
    const run: RunRecord = {
      id: randomHex(16),
      target: name,
      started: now,
      finished: null,
      result: "running",
      backup_id: null,
      files: 0,
      bytes_read: 0,
      bytes_sent: 0,
      new_blobs: 0,
      error_code: null,
      error: null,
    };
    this.runs.unshift(run);
    this.publish();
    let error: MockFailure | null = null;
    // Counted as the run goes; written to its record when it ends, as the engine does.
    const counters = { files: 0, bytes_read: 0, bytes_sent: 0, new_blobs: 0 };
    try {
      const repo = this.open(t, false);
      const info = await this.write(t, repo, run.started, counters);
      run.backup_id = info.id;
    } catch (e) {
      if (!(e instanceof MockFailure)) throw e;
      error = e;
    }
    Object.assign(run, counters);
    run.finished = this.now();
    if (error) {
      run.result = error.code === "unavailable" ? "unavailable" : error.code === "cancelled" ? "cancelled" : "failed";
      run.error_code = error.code;
      run.error = error.message;
    } else run.result = "ok";
    this.recordOutcome(name, run.finished, error);
  }

  /** What a run reads: the vault's own files, then each project's folder. */
  private collect(): { groups: Group[]; projects: BackupProject[]; trees: Map<string, () => Tree>; vaultFiles: Tree } {
    const all: Project[] = [];
    for (const status of ["active", "archived", "deleted"] as const) all.push(...this.vault.projects({ all_workspaces: true, status }));
    const root = this.vault.root;
    const vaultFiles: Tree = new Map([
      ["catalog.db", binary(96 * 1024 + all.length * 2048, "catalog")],
      ["config.toml", binary(1180, "config")],
    ]);
    // The catalog is copied and read at every run; the rest only when it changed.
    const groups: Group[] = [{ item: "vault/catalog.db", files: 2, bytes: vaultFiles.get("catalog.db")!.size + 1180, changed: true, sample: ["vault/catalog.db"] }];
    const projects: BackupProject[] = [];
    const trees = new Map<string, () => Tree>();
    for (const p of all) {
      const prefix = p.path.startsWith(`${root}/`) ? `vault/${p.path.slice(root.length + 1)}` : `folders/${p.id}`;
      projects.push({
        id: p.id,
        name: p.name,
        workspace: p.workspace,
        linked: p.linked,
        status: p.status,
        head: p.head,
        logical_size: p.logical_size,
        file_count: p.file_count,
        path: p.path,
        prefix,
      });
      let tree: () => Tree;
      let files = p.file_count;
      let bytes = p.logical_size;
      let sample: string[] = [];
      if (p.status === "archived") {
        // Its working folder was freed when it was archived.
        const empty: Tree = new Map();
        tree = () => empty;
        files = bytes = 0;
      } else if (this.vault.versionCount(p.id) > 0) {
        const copy: Tree = new Map(this.vault.folderFiles(p.id));
        tree = () => copy;
        files = copy.size;
        bytes = 0;
        for (const b of copy.values()) bytes += b.size;
        sample = [...copy.keys()].slice(0, 12).map((f) => `${prefix}/${f}`);
      } else {
        // A generated project not looked into yet: its files are made when first needed.
        let made: Tree | null = null;
        const id = p.id;
        tree = () => (made ??= new Map(this.vault.folderFiles(id)));
      }
      trees.set(p.id, tree);
      // Its history goes with it: read again when the project changed.
      if (p.stored_size > 0) {
        vaultFiles.set(`histories/${p.id}.git/objects/pack/pack-${p.id}.pack`, binary(p.stored_size, p.id));
        files += 1;
        bytes += p.stored_size;
      }
      if (files > 0) groups.push({ item: `${prefix}/`, files, bytes, changed: p.updated_at, sample });
    }
    return { groups, projects, trees, vaultFiles };
  }

  /** Writes one backup to `repo`, step by step; checks for cancel, a missing drive, a full disk. */
  private async write(
    t: Target,
    repo: Repo,
    started: number,
    counters: { files: number; bytes_read: number; bytes_sent: number; new_blobs: number },
  ): Promise<BackupInfo> {
    const { groups, projects, trees, vaultFiles } = this.collect();
    const previous = repo.backups[repo.backups.length - 1] ?? null;
    const since = previous?.info.started ?? null;
    const isChanged = (g: Group) => since === null || g.changed === true || g.changed >= since;
    const totalFiles = groups.reduce((n, g) => n + g.files, 0);
    const totalBytes = groups.reduce((n, g) => n + g.bytes, 0);
    let read = 0;
    let changedFiles = 0;
    for (const g of groups)
      if (isChanged(g)) {
        read += g.bytes;
        changedFiles += g.files;
      }
    const sent = Math.max(2048, Math.round(read * 0.38));
    const at = (done: number) => {
      let n = 0;
      for (const g of groups) {
        n += g.files;
        if (n >= done) return g.sample[0] ?? g.item;
      }
      return groups[groups.length - 1].item;
    };
    const steps = Math.max(1, Math.min(RUN_STEPS, totalFiles));
    this.progress.set(t.name, { phase: "backing up", done: 0, total: totalFiles, unit: "files", item: null });
    this.publish();
    for (let i = 1; i <= steps; i++) {
      await this.step();
      if (this.cancelling.has(t.name)) {
        this.cancelling.delete(t.name);
        fail("cancelled", "the operation was cancelled");
      }
      // The drive went away, or filled up, in the middle of the run.
      if (t.location.kind === "folder") {
        const path = t.location.path;
        if (!this.dirExists(path))
          fail("unavailable", `${this.label(t)} is unavailable: cannot write data/${randomHex(2)}/${randomHex(64)}: No such file or directory (os error 2); the failed uploads wait in the outbox and are retried at the next run`);
        if (this.fullDisks.has(path) && i >= steps / 3)
          fail("disk_full", `${this.label(t)} is full: cannot write data/${randomHex(2)}/${randomHex(64)}; free space there or prune old backups (\`kura backup prune\`)`);
      } else if (this.downEndpoints.has(t.location.endpoint)) {
        fail("unavailable", `${this.label(t)} is unavailable: cannot write data/${randomHex(2)}/${randomHex(64)}: connection refused; the failed uploads wait in the outbox and are retried at the next run`);
      }
      const done = Math.round((totalFiles * i) / steps);
      counters.files = done;
      counters.bytes_read = Math.round((read * i) / steps);
      counters.bytes_sent = Math.round((sent * i) / steps);
      this.progress.set(t.name, { phase: "backing up", done, total: totalFiles, unit: "files", item: at(done) });
      this.publish();
    }
    const info: BackupInfo = {
      id: backupId(started, repo.sequence++, randomHex(4)),
      started,
      finished: this.now(),
      host: this.host,
      vault: this.vault.root,
      files: totalFiles,
      bytes: totalBytes,
      projects: projects.length,
    };
    const sample = groups.filter(isChanged).flatMap((g) => (g.sample.length ? g.sample : [g.item]));
    this.store(repo, { info, projects, trees, vaultFiles, packs: [] }, sent, sample);
    counters.files = totalFiles;
    counters.bytes_read = read;
    counters.bytes_sent = sent;
    counters.new_blobs = changedFiles + 1;
    return info;
  }

  /** Adds a backup and its packs: new data in a long-lived pack, changed data in one the next backup replaces. */
  private store(repo: Repo, backup: StoredBackup, sent: number, files: string[]) {
    const first = repo.backups.length === 0;
    const seed = `${backup.info.id}:${repo.packs.size}`;
    const base: Pack = { id: hexId(`${seed}:base`, 64), size: first ? sent : Math.round(sent * 0.4), files: files.slice(0, 40), damaged: false, missing: false, base: true };
    repo.packs.set(base.id, base);
    const own = [base.id];
    if (!first) {
      const churn: Pack = { id: hexId(`${seed}:churn`, 64), size: sent - base.size, files: files.slice(0, 40), damaged: false, missing: false, base: false };
      repo.packs.set(churn.id, churn);
      own.push(churn.id);
    }
    const olderBase = [...repo.packs.values()].filter((p) => p.base && !own.includes(p.id)).map((p) => p.id);
    backup.packs = [...olderBase, ...own];
    repo.backups.push(backup);
  }

  // ----- the backups at a target

  backupsAt(name: string): BackupInfo[] {
    return this.repoOf(name).backups.map((b) => ({ ...b.info }));
  }

  private find(repo: Repo, target: string, reference: string): StoredBackup {
    if (reference === "latest")
      return repo.backups[repo.backups.length - 1] ?? fail("not_found", `target '${target}' holds no backup yet; run \`kura backup run ${target}\` first`);
    const matching = repo.backups.filter((b) => b.info.id.startsWith(reference));
    if (matching.length === 0) fail("not_found", `target '${target}' has no backup '${reference}'; \`kura backup list ${target}\` shows them`);
    if (matching.length > 1) fail("invalid_input", `'${reference}' names several backups; give more of the id`);
    return matching[0];
  }

  backupContents(name: string, backup: string): BackupContents {
    const b = this.find(this.repoOf(name), name, backup);
    return { info: { ...b.info }, projects: b.projects.map((p) => ({ ...p })) };
  }

  /** Plans a restore: checks everything first; the files appear at the destination at the end, all at once. */
  planRestore(name: string, backup: string, project: string | null, destination: string): Plan<BackupRestoreReport> {
    const b = this.find(this.repoOf(name), name, backup);
    let tree: Tree;
    let names: string[];
    if (project !== null) {
      const r = project.toLowerCase();
      const found = b.projects.filter((p) => p.id === project || p.name.toLowerCase() === r || `${p.workspace}/${p.name}`.toLowerCase() === r);
      if (found.length === 0) fail("not_found", `backup ${b.info.id} holds no project '${project}'`);
      if (found.length > 1) fail("invalid_input", `several projects in backup ${b.info.id} are called '${project}'; use workspace/name or the id`);
      tree = new Map(b.trees.get(found[0].id)!());
      names = [found[0].name];
    } else {
      tree = new Map(b.vaultFiles);
      const used = new Set<string>();
      for (const p of b.projects) {
        let folder: string;
        if (p.prefix.startsWith("vault/")) folder = p.prefix.slice("vault/".length);
        else {
          folder = `${p.linked ? "linked" : "projects"}/${p.name}`;
          if (used.has(folder.toLowerCase())) folder = `${folder}-${p.id.slice(0, 8)}`;
          used.add(folder.toLowerCase());
        }
        for (const [path, blob] of b.trees.get(p.id)!()) tree.set(`${folder}/${path}`, blob);
      }
      names = b.projects.map((p) => p.name);
    }
    const dest = destination.replace(/\/+$/, "");
    if (this.dirHasContent(dest)) fail("already_exists", `${dest} is not empty; restore into a new or empty folder (nothing was changed)`);
    let bytes = 0;
    for (const blob of tree.values()) bytes += blob.size;
    const entries = [...tree.entries()];
    const per = Math.max(1, Math.ceil(entries.length / 20));
    const steps: Step[] = [];
    for (let i = 0; i < entries.length; i += per) {
      const slice = entries.slice(i, i + per);
      steps.push({ item: slice[0][0], amount: slice.reduce((n, [, blob]) => n + blob.size, 0) });
    }
    return {
      steps,
      finish: () => {
        if (this.dirHasContent(dest)) fail("already_exists", `${dest} is not empty; restore into a new or empty folder (nothing was changed)`);
        this.vault.disk.set(dest, tree);
        this.makeDirs(dest);
        return { backup: b.info.id, destination: dest, files: tree.size, bytes, projects: names };
      },
    };
  }

  /** Plans a verify: structure always; the packs to read back (with progress) by mode. */
  planVerify(name: string, mode: VerifyMode): Plan<BackupVerifyReport> {
    this.lock(name);
    const repo = this.repoOf(name);
    const problems: VerifyProblem[] = [];
    const users = (pack: string) => {
      const lines: string[] = [];
      for (const b of repo.backups) if (b.packs.includes(pack)) for (const f of repo.packs.get(pack)!.files) lines.push(`backup ${b.info.id}: ${f}`);
      if (lines.length > AFFECTS_SHOWN) return [...lines.slice(0, AFFECTS_SHOWN), `... and ${lines.length - AFFECTS_SHOWN} more`];
      return lines;
    };
    const object = (pack: string) => `data/${pack.slice(0, 2)}/${pack}`;
    for (const pack of repo.packs.values()) if (pack.missing) problems.push({ object: object(pack.id), message: "the pack is missing", affects: [] });
    for (const b of repo.backups) {
      const missing = b.packs.filter((p) => repo.packs.get(p)?.missing);
      if (missing.length)
        problems.push({
          object: `backups/${b.info.id}`,
          message: "data of some files is missing at the target",
          affects: missing.flatMap((p) => repo.packs.get(p)!.files.map((f) => `backup ${b.info.id}: ${f}`)).slice(0, AFFECTS_SHOWN),
        });
    }
    let toRead = [...repo.packs.values()].filter((p) => !p.missing).sort((a, b) => (a.id < b.id ? -1 : 1));
    if (mode === "structure") toRead = [];
    else if (mode !== "full") {
      const want = Math.ceil((toRead.length * Math.min(100, Math.max(1, mode.sample))) / 100);
      toRead = toRead.map((p) => ({ p, k: Math.random() })).sort((a, b) => a.k - b.k).slice(0, want).map((x) => x.p);
    }
    let bytesRead = 0;
    const steps: Step[] = toRead.map((pack) => ({
      item: pack.id,
      amount: 1,
      run: () => {
        bytesRead += pack.size;
        if (pack.damaged) problems.push({ object: object(pack.id), message: "the pack is damaged: its content does not match its hash", affects: users(pack.id) });
      },
    }));
    return {
      steps,
      finish: () => ({ target: name, backups: repo.backups.length, packs: repo.packs.size, packs_read: toRead.length, bytes_read: bytesRead, problems }),
    };
  }

  /** Plans a prune by the target's retention; with `dryRun` nothing is removed. */
  planPrune(name: string, dryRun: boolean): Plan<PruneReport> {
    this.lock(name);
    const t = this.targetNamed(name);
    const repo = this.repoOf(name);
    const kept = selectKept(
      repo.backups.map((b) => ({ id: b.info.id, started: b.info.started })),
      t.retention ?? {},
      this.now(),
    );
    const keptBackups = repo.backups.filter((b) => kept.has(b.info.id));
    const removed = repo.backups.filter((b) => !kept.has(b.info.id));
    const needed = new Set(keptBackups.flatMap((b) => b.packs));
    const doomed = [...repo.packs.values()].filter((p) => !needed.has(p.id));
    const steps: Step[] = repo.backups.map((b) => ({ item: b.info.id, amount: 1 }));
    return {
      steps,
      finish: () => {
        if (!dryRun) {
          repo.backups = keptBackups;
          for (const p of doomed) repo.packs.delete(p.id);
        }
        return {
          target: name,
          kept: keptBackups.map((b) => b.info.id),
          removed: removed.map((b) => b.info.id),
          packs_deleted: doomed.length,
          bytes_freed: doomed.reduce((n, p) => n + p.size, 0),
          dry_run: dryRun,
        };
      },
    };
  }

  // ----- the seed: one drive, backed up every night for three weeks

  private seed() {
    const now = this.now();
    const path = "/media/dev/usb-backup";
    this.makeDirs(path);
    const target: Target = {
      name: "usb-drive",
      location: { kind: "folder", path },
      encrypt: false,
      schedule: "daily at 02:00",
      retention: { keep_last: 3, hourly: 0, daily: 7, weekly: 4, monthly: 6, retention_days: 0 },
      bandwidth_limit: null,
    };
    this.targets.set(target.name, { target, since: now - 40 * DAY });
    const repo: Repo = { encrypted: false, passphrase: null, backups: [], packs: new Map(), sequence: 0 };
    this.repos.set(locationKey(target), repo);
    const { groups, projects, trees, vaultFiles } = this.collect();
    const totalFiles = groups.reduce((n, g) => n + g.files, 0);
    const totalBytes = groups.reduce((n, g) => n + g.bytes, 0);
    // The most recent 02:00 before now, then the nights before it.
    const today = new Date(now * 1000);
    let last = new Date(today.getFullYear(), today.getMonth(), today.getDate(), 2, 0, 0);
    if (last.getTime() / 1000 > now) last = new Date(today.getFullYear(), today.getMonth(), today.getDate() - 1, 2, 0, 0);
    const record = (started: number, result: RunRecord["result"], read: number, error: string | null) => {
      const h = hash(`${started}`);
      const finished = started + (result === "ok" ? 35 + (h % 60) : 2);
      const run: RunRecord = {
        id: hexId(`run:${started}`, 16),
        target: target.name,
        started,
        finished,
        result,
        backup_id: null,
        files: result === "ok" ? totalFiles : 0,
        bytes_read: read,
        bytes_sent: result === "ok" ? Math.max(2048, Math.round(read * 0.38)) : 0,
        new_blobs: result === "ok" ? 1 + (h % 40) : 0,
        error_code: error ? "unavailable" : null,
        error,
      };
      if (result === "ok") {
        const info: BackupInfo = {
          id: backupId(started, repo.sequence++, hexId(`b:${started}`, 4)),
          started,
          finished,
          host: this.host,
          vault: this.vault.root,
          files: totalFiles,
          bytes: totalBytes,
          projects: projects.length,
        };
        run.backup_id = info.id;
        const sample = groups.flatMap((g) => g.sample).filter((_, i) => (i + h) % 5 === 0);
        this.store(repo, { info, projects, trees, vaultFiles, packs: [] }, run.bytes_sent, sample.length ? sample : ["vault/catalog.db"]);
      }
      this.runs.unshift(run);
    };
    for (let daysAgo = 20; daysAgo >= 0; daysAgo--) {
      const night = Math.floor(new Date(last.getFullYear(), last.getMonth(), last.getDate() - daysAgo, 2, 0, 0).getTime() / 1000);
      const read = daysAgo === 20 ? totalBytes : Math.round(totalBytes * (0.02 + (hash(`r${daysAgo}`) % 60) / 1000));
      if (daysAgo === 4) {
        record(night, "unavailable", 0, `target 'usb-drive' (${path}) is unavailable: ${path} does not exist (is its drive connected?); the backup waits for it`);
        record(night + 7 * 3600 + 14 * 60, "ok", read, null);
      } else record(night, "ok", read, null);
    }
    const newest = this.runs[0];
    this.health.set(target.name, { ...this.freshHealth(target.name), last_success: newest.finished, last_attempt: newest.finished });
  }
}

/** The state at a glance, most pressing first (the scheduler's `overall_state`). */
export function overallState(targets: TargetStatus[], paused: boolean): BackupState {
  if (targets.length === 0) return "no_targets";
  if (targets.some((t) => t.running !== null)) return "running";
  if (targets.some((t) => t.health.state === "failing" || t.health.state === "unhealthy")) return "failed";
  if (paused) return "paused";
  if (targets.some((t) => t.overdue)) return "overdue";
  return "ok";
}
