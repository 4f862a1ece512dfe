// Backups: the words and numbers people read, the fake engine behaving like the real one (so
// the mock build and page tests tell the truth), the state store, the add-target form and the
// restore wizard's steps.

import { describe, expect, it } from "vitest";
import { Client, KuraError } from "../../src/lib/api/client";
import { MockTransport } from "../../src/lib/api/mock";
import { selectKept } from "../../src/lib/api/mock/backups";
import { Schedule } from "../../src/lib/api/mock/schedule";
import type { BackupContents, BackupProject, RunRecord, Target, TargetHealth } from "../../src/lib/api/types";
import { formatProgress } from "../../src/lib/format";
import {
  describeLocation,
  formatRate,
  formatWhen,
  healthSummary,
  overview,
  parseRate,
  restorePreview,
  retentionText,
  runDuration,
  secretEnvVar,
  secretVariables,
  targetErrorField,
} from "../../src/lib/backups";
import { BackupsState } from "../../src/lib/state/backups.svelte";
import { Changes } from "../../src/lib/state/changes.svelte";
import { Jobs } from "../../src/lib/state/jobs.svelte";
import { RestoreWizard } from "../../src/lib/state/restore-wizard.svelte";
import { TargetForm } from "../../src/lib/state/target-form.svelte";

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => Math.floor(new Date(y, mo - 1, d, h, mi).getTime() / 1000);

async function until(check: () => boolean | Promise<boolean>, ms = 3000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

function setup(options: ConstructorParameters<typeof MockTransport>[0] = {}) {
  const transport = new MockTransport(options);
  return { transport, client: new Client(transport) };
}

const folder = (name: string, path: string, extra: Partial<Target> = {}): Target => ({ name, location: { kind: "folder", path }, schedule: "daily at 02:00", ...extra });
const noSecrets = { access_key_id: null, secret_access_key: null, passphrase: null };

async function runToEnd(client: Client, target: string): Promise<RunRecord> {
  await client.startBackup(target);
  await until(async () => (await client.backupStatus()).targets.find((t) => t.target.name === target)?.running === null);
  return (await client.backupRuns(target))[0];
}

describe("words and numbers", () => {
  it("describes where a target is, as the engine does", () => {
    expect(describeLocation({ kind: "folder", path: "/media/usb/kura" })).toBe("/media/usb/kura");
    expect(describeLocation({ kind: "s3", endpoint: "http://127.0.0.1:9000", region: "us-east-1", bucket: "b", prefix: "kura" })).toBe("s3://b/kura at http://127.0.0.1:9000");
  });

  it("says when, near now, in local time", () => {
    const now = local(2026, 11, 21, 10, 20); // a Saturday
    expect(formatWhen(local(2026, 11, 21, 14, 5), now)).toBe("today at 14:05");
    expect(formatWhen(local(2026, 11, 22, 2, 0), now)).toBe("tomorrow at 02:00");
    expect(formatWhen(local(2026, 11, 20, 2, 0), now)).toBe("yesterday at 02:00");
    expect(formatWhen(local(2026, 11, 23, 2, 0), now)).toBe("Mon at 02:00");
    expect(formatWhen(local(2026, 12, 30, 3, 0), now)).toBe("Dec 30 at 03:00");
  });

  it("puts retention and upload limits in words, and reads limits people type", () => {
    expect(retentionText({})).toBe("Keeps every backup");
    expect(retentionText({ keep_last: 3, daily: 7, weekly: 4, monthly: 6 })).toBe("Keeps the newest 3, 7 daily, 4 weekly and 6 monthly");
    expect(retentionText({ daily: 7, retention_days: 90 })).toBe("Keeps 7 daily; none older than 90 days (the newest is always kept)");
    expect(retentionText({ retention_days: 30 })).toBe("Keeps every backup up to 30 days old (the newest is always kept)");
    expect(parseRate("")).toEqual({ ok: true, value: null });
    expect(parseRate("5 MiB/s")).toEqual({ ok: true, value: 5 * 1024 * 1024 });
    expect(parseRate("512kib")).toEqual({ ok: true, value: 512 * 1024 });
    expect(parseRate("1.5 MB / s")).toEqual({ ok: true, value: Math.round(1.5 * 1024 * 1024) });
    expect(parseRate("fast").ok).toBe(false);
    expect(formatRate(5 * 1024 * 1024)).toBe("5 MiB/s");
    expect(formatRate(null)).toBe("no limit");
  });

  it("says what progress counts", () => {
    expect(formatProgress({ phase: "verifying", done: 3, total: 12, unit: "packs", item: null })).toBe("Verifying — 3 of 12 packs");
    expect(formatProgress({ phase: "restoring", done: 1536, total: null, unit: "bytes", item: null })).toBe("Restoring — 1.5 KiB");
  });

  it("says how long a run took", () => {
    const run = { started: 1000, finished: 1072, result: "ok" } as RunRecord;
    expect(runDuration(run)).toBe("1 min 12 s");
    expect(runDuration({ ...run, finished: null, result: "interrupted" })).toBe("—");
  });

  it("explains a target's health, with the cool-down of an unhealthy one", () => {
    const now = local(2026, 11, 21, 10, 0);
    const h: TargetHealth = { target: "usb", state: "ok", consecutive_failures: 0, last_error: null, last_success: null, last_attempt: null, unhealthy_until: null };
    expect(healthSummary(h, now)).toEqual({ label: "Healthy", tone: "success", detail: null });
    const failing = healthSummary({ ...h, state: "failing", consecutive_failures: 2, last_error: "disk full" }, now);
    expect(failing.label).toBe("Failing");
    expect(failing.detail).toBe("2 failed runs in a row. Last error: disk full");
    const unhealthy = healthSummary({ ...h, state: "unhealthy", consecutive_failures: 3, last_error: "disk full", unhealthy_until: now + 2700 }, now);
    expect(unhealthy.detail).toContain("skipped until today at 10:45");
    expect(unhealthy.detail).toContain("a successful connection test ends this now");
    const away = healthSummary({ ...h, state: "unavailable", last_attempt: now - 60, last_error: "drive not connected" }, now);
    expect(away.tone).toBe("warning");
    expect(away.detail).toContain("Nothing failed");
  });

  it("names the environment variables the engine reads", () => {
    expect(secretEnvVar("usb-drive", "PASSPHRASE")).toBe("KURA_BACKUP_USB_DRIVE_PASSPHRASE");
    expect(secretVariables("nas_1", "s3", true).map((v) => [v.variable, v.alternative])).toEqual([
      ["KURA_BACKUP_NAS_1_ACCESS_KEY_ID", "AWS_ACCESS_KEY_ID"],
      ["KURA_BACKUP_NAS_1_SECRET_ACCESS_KEY", "AWS_SECRET_ACCESS_KEY"],
      ["KURA_BACKUP_NAS_1_PASSPHRASE", null],
    ]);
    expect(secretVariables("usb", "folder", false)).toEqual([]);
  });

  it("puts an engine error at the field it is about", () => {
    // The field the engine names wins; without one, the code decides.
    expect(targetErrorField("already_exists", null)).toBe("name");
    expect(targetErrorField("wrong_passphrase", null)).toBe("passphrase");
    expect(targetErrorField("unavailable", null)).toBe("location");
    expect(targetErrorField("unavailable", "secrets")).toBe("secrets");
    expect(targetErrorField("invalid_input", "schedule")).toBe("schedule");
    expect(targetErrorField("invalid_input", "passphrase")).toBe("passphrase");
    expect(targetErrorField("invalid_input", "bucket")).toBe("bucket");
    expect(targetErrorField("invalid_input", "no_such_field")).toBe("form");
    expect(targetErrorField("io", null)).toBe("form");
  });

  it("shows what a restore writes where", () => {
    const p = (name: string, extra: Partial<BackupProject> = {}): BackupProject => ({
      id: `${name}-0123456789`,
      name,
      workspace: "default",
      linked: false,
      status: "active",
      head: null,
      logical_size: 100,
      file_count: 2,
      path: `/v/projects/${name}`,
      prefix: `vault/projects/${name}`,
      ...extra,
    });
    const contents: BackupContents = {
      info: { id: "b", started: 0, finished: 0, host: "h", vault: "/v", files: 40, bytes: 9000, projects: 3 },
      projects: [p("site"), p("tool", { linked: true, prefix: "folders/tool-0123456789" }), p("Tool", { id: "other-987654", linked: true, prefix: "folders/other" })],
    };
    const one = restorePreview(contents, "site-0123456789", "/home/me/out/");
    expect(one).toMatchObject({ whole: false, destination: "/home/me/out", files: 2, bytes: 100 });
    expect(one.rows[0].to).toBe("/home/me/out");
    const all = restorePreview(contents, null, "/restore");
    expect(all.files).toBe(40);
    expect(all.rows.map((r) => r.to)).toEqual(["/restore/projects/site", "/restore/linked/tool", "/restore/linked/Tool-other-98"]);
  });
});

describe("the mock's schedules read like the engine's", () => {
  it("accepts every form and describes it", () => {
    expect(Schedule.parse("daily 2:00").toString()).toBe("daily at 02:00");
    expect(Schedule.parse("Weekly on Saturday at 10:21").describe()).toBe("every Saturday at 10:21");
    expect(Schedule.parse("monthly on last at 23:30").describe()).toBe("on the last day of every month at 23:30");
    expect(Schedule.parse("hourly :5").describe()).toBe("every hour at :05");
    expect(Schedule.parse("cron 0 3 * * 1-5").describe()).toBe("cron: At 03:00, on Monday, Tuesday, Wednesday, Thursday and Friday.");
  });

  it("refuses bad ones saying what to write", () => {
    expect(() => Schedule.parse("daily at 25:00")).toThrow("'25:00' is not a time of day; write it as HH:MM (24-hour), e.g. 02:00");
    expect(() => Schedule.parse("monthly on 31")).toThrow("write a day from 1 to 28, or 'last'");
    expect(() => Schedule.parse("sometimes")).toThrow("cannot read 'sometimes' as a schedule; write one of:");
    expect(() => Schedule.parse("cron 99 * * * *")).toThrow("is not a valid cron expression");
  });

  it("finds the next time in local time", () => {
    const now = local(2026, 11, 21, 10, 20);
    expect(Schedule.parse("daily at 02:00").nextAfter(now)).toBe(local(2026, 11, 22, 2, 0));
    expect(Schedule.parse("hourly at :45").nextAfter(now)).toBe(local(2026, 11, 21, 10, 45));
    expect(Schedule.parse("weekly on mon at 02:00").nextAfter(now)).toBe(local(2026, 11, 23, 2, 0));
    expect(Schedule.parse("monthly on last at 23:00").nextAfter(now)).toBe(local(2026, 11, 30, 23, 0));
    expect(Schedule.parse("cron 0 3 * * 1-5").nextAfter(now)).toBe(local(2026, 11, 23, 3, 0));
    expect(Schedule.parse("daily at 02:00").nextAfter(local(2026, 11, 22, 2, 0))).toBe(local(2026, 11, 23, 2, 0));
  });
});

describe("the mock engine", () => {
  it("starts with one folder target backed up every night, and an empty vault with none", async () => {
    const { client } = setup();
    const status = await client.backupStatus();
    expect(status.state).toBe("ok");
    expect(status.targets.map((t) => t.target.name)).toEqual(["usb-drive"]);
    expect(status.targets[0].schedule_text).toBe("every day at 02:00");
    const runs = await client.backupRuns(null);
    expect(runs.length).toBeGreaterThan(10);
    expect(runs.some((r) => r.result === "unavailable")).toBe(true);
    const empty = setup({ empty: true }).client;
    expect(await empty.backupStatus()).toMatchObject({ state: "no_targets", targets: [], last_success: null, next_run: null });
    expect(await empty.backupRuns(null)).toEqual([]);
  });

  it("adds a folder target when its parent exists, and says the drive is missing otherwise", async () => {
    const { client } = setup({ empty: true });
    await expect(client.addBackupTarget(folder("usb", "/media/elsewhere/kura"), noSecrets, true)).rejects.toMatchObject({
      code: "unavailable",
      message: expect.stringContaining("/media/elsewhere does not exist (is the drive connected?)"),
    });
    await expect(client.addBackupTarget(folder("bad name", "/home/dev/backups/k"), noSecrets, true)).rejects.toMatchObject({ code: "invalid_input" });
    await expect(client.addBackupTarget(folder("usb", "/home/dev/backups/k", { schedule: "daily at 25:00" }), noSecrets, true)).rejects.toThrow(
      "the schedule of target 'usb' is not valid: '25:00' is not a time of day",
    );
    const report = await client.addBackupTarget(folder("usb", "/home/dev/backups/kura"), noSecrets, true);
    expect(report).toMatchObject({ target: "usb", backups: 0, encrypted: false });
    expect(report.health.state).toBe("ok");
    await expect(client.addBackupTarget(folder("usb", "/home/dev/backups/x"), noSecrets, true)).rejects.toMatchObject({ code: "already_exists" });
    const status = await client.backupStatus();
    expect(status.state).toBe("ok");
    expect(status.targets[0].next_run).not.toBeNull();
  });

  it("backs up with progress, and records what it read and sent", async () => {
    const { client, transport } = setup({ stepDelay: 1 });
    const seen: string[] = [];
    await transport.onBackupStatus((s) => seen.push(s.state));
    const before = (await client.backupRuns("usb-drive")).length;
    const run = await runToEnd(client, "usb-drive");
    expect(run.result).toBe("ok");
    expect(run.files).toBeGreaterThan(0);
    expect(run.bytes_sent).toBeGreaterThan(0);
    expect((await client.backupRuns("usb-drive")).length).toBe(before + 1);
    expect(seen).toContain("running");
    // The last event (sent a moment after the run ends) says all is well again.
    await until(() => seen[seen.length - 1] === "ok");
    const backups = await client.backupsAt("usb-drive");
    expect(backups[backups.length - 1].id).toBe(run.backup_id);
    await expect(client.startBackup("usb-drive").then(() => client.startBackup("usb-drive"))).rejects.toMatchObject({ code: "busy" });
  });

  it("reads again only what changed since the last backup", async () => {
    // Noon: a project changed this morning, after the night's backup.
    const { client } = setup({ now: () => local(2026, 11, 21, 12, 0) });
    const first = await runToEnd(client, "usb-drive");
    const second = await runToEnd(client, "usb-drive");
    expect(second.files).toBe(first.files);
    expect(second.bytes_read).toBeLessThan(1024 * 1024);
    expect(second.bytes_read).toBeLessThan(first.bytes_read);
  });

  it("cancels a run at its next step", async () => {
    const { client } = setup({ stepDelay: 5 });
    await client.startBackup("usb-drive");
    await until(async () => (await client.backupStatus()).targets[0].running?.phase === "backing up");
    expect(await client.cancelBackup("usb-drive")).toBe(true);
    await until(async () => (await client.backupStatus()).targets[0].running === null);
    const [run] = await client.backupRuns("usb-drive");
    expect(run).toMatchObject({ result: "cancelled", error_code: "cancelled" });
    expect((await client.backupStatus()).targets[0].health.state).toBe("ok");
  });

  it("waits for a missing drive without calling it a failure", async () => {
    const { client, transport } = setup();
    transport.backups.unplug("/media/dev/usb-backup");
    const run = await runToEnd(client, "usb-drive");
    expect(run.result).toBe("unavailable");
    const status = await client.backupStatus();
    expect(status.targets[0].health.state).toBe("unavailable");
    expect(status.state).toBe("ok");
    await expect(client.testBackupTarget("usb-drive")).rejects.toMatchObject({ code: "unavailable" });
    transport.backups.plug("/media/dev/usb-backup");
    expect((await client.testBackupTarget("usb-drive")).health.state).toBe("ok");
  });

  it("opens the circuit breaker after three failures in a row, and a good test closes it", async () => {
    const { client, transport } = setup();
    transport.backups.setDiskFull("/media/dev/usb-backup");
    for (let i = 1; i <= 3; i++) {
      const run = await runToEnd(client, "usb-drive");
      expect(run).toMatchObject({ result: "failed", error_code: "disk_full" });
      expect(run.error).toContain("is full");
    }
    const status = await client.backupStatus();
    expect(status.state).toBe("failed");
    const h = status.targets[0].health;
    expect(h).toMatchObject({ state: "unhealthy", consecutive_failures: 3 });
    expect(h.unhealthy_until! - h.last_attempt!).toBe(3600);
    // A run while unhealthy is refused before it starts: nothing is recorded.
    const runs = (await client.backupRuns("usb-drive")).length;
    await runToEnd(client, "usb-drive");
    expect((await client.backupRuns("usb-drive")).length).toBe(runs);
    transport.backups.setDiskFull("/media/dev/usb-backup", false);
    expect((await client.testBackupTarget("usb-drive")).health.state).toBe("ok");
    expect((await runToEnd(client, "usb-drive")).result).toBe("ok");
    expect((await client.backupStatus()).state).toBe("ok");
  });

  it("keeps secrets in the keyring or reads them from the environment; a wrong passphrase is refused", async () => {
    const { client, transport } = setup({ empty: true });
    const target = folder("safe", "/home/dev/backups/safe", { encrypt: true });
    await expect(client.addBackupTarget(target, noSecrets, false)).rejects.toThrow("set KURA_BACKUP_SAFE_PASSPHRASE");
    transport.backups.env.KURA_BACKUP_SAFE_PASSPHRASE = "correct horse";
    expect(await client.addBackupTarget(target, noSecrets, false)).toMatchObject({ encrypted: true });
    await client.removeBackupTarget("safe");
    // The backups stay at the target; the same place with another passphrase does not open.
    transport.backups.env = {};
    await expect(client.addBackupTarget(target, { ...noSecrets, passphrase: "wrong" }, true)).rejects.toMatchObject({ code: "wrong_passphrase" });
    expect(await client.addBackupTarget(target, { ...noSecrets, passphrase: "correct horse" }, true)).toMatchObject({ encrypted: true, backups: 0 });
    expect(transport.backups.keyring.get("safe/PASSPHRASE")).toBe("correct horse");
  });

  it("finds backups left at a place after its target was removed", async () => {
    const { client } = setup();
    const held = (await client.backupsAt("usb-drive")).length;
    await client.removeBackupTarget("usb-drive");
    expect((await client.backupStatus()).state).toBe("no_targets");
    // Past runs stay in the timeline.
    expect((await client.backupRuns(null)).length).toBeGreaterThan(0);
    const report = await client.addBackupTarget(folder("usb-drive", "/media/dev/usb-backup"), noSecrets, true);
    expect(report.backups).toBe(held);
  });

  it("pauses for an hour, until tomorrow or until resumed", async () => {
    const now = local(2026, 11, 21, 22, 30);
    const { client } = setup({ now: () => now });
    await client.pauseBackups("one_hour");
    expect((await client.backupStatus()).paused).toEqual({ until: now + 3600 });
    await client.pauseBackups("until_tomorrow");
    expect((await client.backupStatus()).paused).toEqual({ until: local(2026, 11, 22, 0, 0) });
    await client.pauseBackups("until_resumed");
    const status = await client.backupStatus();
    expect(status).toMatchObject({ state: "paused", paused: { until: null } });
    await client.pauseBackups(null);
    expect((await client.backupStatus()).paused).toBeNull();
  });

  it("says which backups prune removes before removing them", async () => {
    const { client } = setup();
    const before = await client.backupsAt("usb-drive");
    const plan = await client.pruneBackups("usb-drive", true);
    expect(plan.dry_run).toBe(true);
    expect(plan.removed.length).toBeGreaterThan(0);
    expect(plan.bytes_freed).toBeGreaterThan(0);
    expect(plan.kept).toContain(before[before.length - 1].id);
    expect((await client.backupsAt("usb-drive")).length).toBe(before.length);
    const done = await client.pruneBackups("usb-drive", false);
    expect(done.removed).toEqual(plan.removed);
    expect((await client.backupsAt("usb-drive")).map((b) => b.id)).toEqual(plan.kept.slice().sort());
  });

  it("selects the backups to keep exactly as the engine does", () => {
    const day = 86_400;
    const now = Date.UTC(2026, 10, 21, 12) / 1000;
    const backups = Array.from({ length: 10 }, (_, i) => ({ id: `b${i}`, started: now - i * day }));
    expect(selectKept(backups, {}, now).size).toBe(10);
    expect([...selectKept(backups, { keep_last: 2 }, now)].sort()).toEqual(["b0", "b1"]);
    expect(selectKept(backups, { daily: 3 }, now)).toEqual(new Set(["b0", "b1", "b2"]));
    expect([...selectKept(backups, { retention_days: 3 }, now)].sort()).toEqual(["b0", "b1", "b2", "b3"]);
    // The newest is always kept, whatever the age limit says.
    expect(selectKept(backups.slice(5), { retention_days: 1 }, now)).toEqual(new Set(["b5"]));
  });

  it("verify names what a damaged pack affects", async () => {
    const { client, transport } = setup();
    expect((await client.verifyBackups("usb-drive", "full")).problems).toEqual([]);
    const pack = transport.backups.damagePack("usb-drive");
    const structure = await client.verifyBackups("usb-drive", "structure");
    expect(structure.problems).toEqual([]);
    expect(structure.packs_read).toBe(0);
    const full = await client.verifyBackups("usb-drive", "full");
    expect(full.problems).toHaveLength(1);
    expect(full.problems[0].object).toBe(`data/${pack.slice(0, 2)}/${pack}`);
    expect(full.problems[0].message).toContain("damaged");
    expect(full.problems[0].affects[0]).toMatch(/^backup \S+: /);
  });

  it("restores one project into a new folder, and never into one that holds files", async () => {
    const { client, transport } = setup();
    const contents = await client.backupContents("usb-drive", "latest");
    const site = contents.projects.find((p) => p.name === "kura-site")!;
    await expect(client.restoreBackup("usb-drive", "latest", site.id, "/home/dev/code/weather-app")).rejects.toMatchObject({
      code: "already_exists",
      message: "/home/dev/code/weather-app is not empty; restore into a new or empty folder (nothing was changed)",
    });
    const report = await client.restoreBackup("usb-drive", contents.info.id, site.id, "/home/dev/restored/site");
    expect(report.projects).toEqual(["kura-site"]);
    expect(report.files).toBeGreaterThan(0);
    expect(transport.vault.disk.get("/home/dev/restored/site")?.has("index.html")).toBe(true);
    await expect(client.backupContents("usb-drive", "nope")).rejects.toMatchObject({ code: "not_found" });
  });
});

describe("BackupsState", () => {
  it("follows the status as a backup runs, and reloads the runs when it ends", async () => {
    const { client } = setup({ stepDelay: 1 });
    const state = new BackupsState(client, new Changes());
    await state.start();
    expect(state.status?.state).toBe("ok");
    await state.loadRuns(null);
    const before = state.runs.length;
    await client.startBackup("usb-drive");
    await until(() => state.status?.state === "running");
    expect(state.target("usb-drive")?.running).not.toBeNull();
    await until(() => state.status?.state === "ok" && state.runs.length === before + 1 && state.runs[0].result === "ok");
    expect(state.status?.targets[0].last_success).toBe(state.runs[0].finished);
  });

  it("says what a failed target is", async () => {
    const { client, transport } = setup();
    const state = new BackupsState(client, new Changes());
    await state.start();
    transport.backups.setDiskFull("/media/dev/usb-backup");
    await client.startBackup("usb-drive");
    await until(() => state.status?.state === "failed");
    expect(overview(state.status!)).toEqual({ title: "Backups to usb-drive failed", tone: "danger" });
  });
});

describe("TargetForm", () => {
  it("checks the passphrase typed twice and the rate before asking the engine", () => {
    const form = new TargetForm();
    form.name = "usb";
    form.path = "/media/usb";
    form.encrypt = true;
    form.passphrase = "a";
    form.passphrase2 = "b";
    form.bandwidth = "fast";
    expect(form.check()).toBe(false);
    expect(form.errors.passphrase2).toBe("The two passphrases differ.");
    expect(form.errors.bandwidth).toContain("is not a rate");
    form.passphrase2 = "a";
    form.bandwidth = "2 MiB/s";
    expect(form.check()).toBe(true);
    expect(form.target()).toMatchObject({ name: "usb", encrypt: true, bandwidth_limit: 2 * 1024 * 1024, schedule: "daily at 02:00" });
    expect(form.secrets()).toEqual({ access_key_id: null, secret_access_key: null, passphrase: "a" });
  });

  it("types nothing into secrets kept in the environment", () => {
    const form = new TargetForm();
    form.name = "nas";
    form.kind = "s3";
    form.endpoint = "http://127.0.0.1:9000";
    form.accessKeyId = "id";
    form.secretsIn = "env";
    expect(form.check()).toBe(true);
    expect(form.secrets()).toEqual(noSecrets);
    expect(form.variables.map((v) => v.variable)).toEqual(["KURA_BACKUP_NAS_ACCESS_KEY_ID", "KURA_BACKUP_NAS_SECRET_ACCESS_KEY"]);
    expect(form.showError(new KuraError("already_exists", "a backup target 'nas' already exists"))).toBe("name");
    expect(form.errors.name).toContain("already exists");
  });
});

describe("RestoreWizard", () => {
  it("goes target → backup → project → folder → preview → restore → report", async () => {
    const { client, transport } = setup();
    const jobs = new Jobs(client);
    const wizard = new RestoreWizard(client, ["usb-drive"], "usb-drive");
    expect(wizard.step).toBe("backup");
    await until(() => wizard.contents !== null);
    expect(wizard.backup).toBe(wizard.backups[0].id);
    expect(wizard.backups[0].started).toBeGreaterThan(wizard.backups[wizard.backups.length - 1].started);
    wizard.next();
    expect(wizard.step).toBe("what");
    expect(wizard.canNext).toBe(false);
    const site = wizard.contents!.projects.find((p) => p.name === "kura-site")!;
    wizard.choose(site.id);
    wizard.next();
    expect(wizard.step).toBe("destination");
    wizard.setDestination("restored/site");
    wizard.next();
    expect(wizard.destinationError).toContain("starting with /");
    wizard.setDestination("/home/dev/code/weather-app");
    wizard.next();
    expect(wizard.step).toBe("preview");
    expect(wizard.preview).toMatchObject({ whole: false, destination: "/home/dev/code/weather-app", files: site.file_count });
    // The engine refuses a folder that holds files: back to the folder, with its message.
    await wizard.run(jobs, "Restore kura-site");
    expect(wizard.step).toBe("destination");
    expect(wizard.destinationError).toContain("is not empty");
    wizard.setDestination("/home/dev/restored/site");
    wizard.next();
    await wizard.run(jobs, "Restore kura-site");
    expect(wizard.step).toBe("done");
    expect(wizard.report).toMatchObject({ projects: ["kura-site"], destination: "/home/dev/restored/site" });
    expect(transport.vault.disk.get("/home/dev/restored/site")?.size).toBe(wizard.report!.files);
  });

  it("keeps the person on the target step when the target cannot be read", async () => {
    const { client, transport } = setup();
    transport.backups.unplug("/media/dev/usb-backup");
    const wizard = new RestoreWizard(client, ["usb-drive"]);
    expect(wizard.step).toBe("target");
    await until(() => !wizard.backupsLoading);
    expect(wizard.backupsError?.code).toBe("unavailable");
    expect(wizard.canNext).toBe(false);
  });
});
