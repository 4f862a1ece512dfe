// Backups: the words and numbers people read, the state store, the add-target form and the
// restore wizard's steps (what the engine does is tested against it in the page tests).

import { describe, expect, it } from "vitest";
import { Client, KuraError } from "../../src/lib/api/client";
import type { RunRecord, TargetHealth } from "../../src/lib/api/types";
import { formatProgress } from "../../src/lib/format";
import {
  behindText,
  describeLocation,
  formatRate,
  rateInput,
  formatWhen,
  healthSummary,
  overview,
  retentionText,
  runDuration,
  targetErrorField,
} from "../../src/lib/backups";
import { BackupsState } from "../../src/lib/state/backups.svelte";
import { Changes } from "../../src/lib/state/changes.svelte";
import { RestoreWizard } from "../../src/lib/state/restore-wizard.svelte";
import { TargetForm } from "../../src/lib/state/target-form.svelte";
import { fail, fakeTransport } from "./fake";

const local = (y: number, mo: number, d: number, h = 0, mi = 0) => Math.floor(new Date(y, mo - 1, d, h, mi).getTime() / 1000);

async function until(check: () => boolean | Promise<boolean>, ms = 3000) {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error("timed out waiting");
    await new Promise((r) => setTimeout(r, 5));
  }
}

const noSecrets = { access_key_id: null, secret_access_key: null, passphrase: null };

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

  it("puts retention and upload limits in words", () => {
    expect(retentionText({})).toBe("Keeps every backup");
    expect(retentionText({ keep_last: 3, daily: 7, weekly: 4, monthly: 6 })).toBe("Keeps the newest 3, 7 daily, 4 weekly and 6 monthly");
    expect(retentionText({ daily: 7, retention_days: 90 })).toBe("Keeps 7 daily; none older than 90 days (the newest is always kept)");
    expect(retentionText({ retention_days: 30 })).toBe("Keeps every backup up to 30 days old (the newest is always kept)");
    expect(formatRate(5 * 1024 * 1024)).toBe("5 MiB/s");
    expect(formatRate(null)).toBe("no limit");
    // The text to edit is exact: saved unchanged, the limit stays what it was.
    expect(rateInput(1_500_000)).toBe("1500 KB/s");
    expect(rateInput(5 * 1024 * 1024)).toBe("5 MiB/s");
    expect(rateInput(null)).toBe("");
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
    const away = healthSummary({ ...h, state: "unavailable", last_attempt: now - 60, last_error: "drive not connected" }, now, now + 540);
    expect(away.tone).toBe("warning");
    expect(away.detail).toContain("Nothing failed");
    expect(away.detail).toContain("Kura tries again today at 10:09");
    const unscheduled = healthSummary({ ...h, state: "unavailable", last_attempt: now - 60, last_error: null }, now, null);
    expect(unscheduled.detail).toContain("back up again when it is back");
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
});

describe("overview", () => {
  const status = (last_success: number | null) => ({ state: "ok", paused: null, targets: [], last_success, next_run: null }) as never;

  it("says a target with nothing due has no backup yet, not that backups are up to date", () => {
    expect(overview(status(null))).toEqual({ title: "No backup yet", tone: "neutral", label: "nothing due yet" });
    expect(overview(status(local(2026, 11, 23, 2)))).toEqual({ title: "Backups are up to date", tone: "success", label: "up to date" });
  });

  it("says how far a target backed up after every change is behind", () => {
    const now = local(2026, 11, 23, 10);
    const target = (after_every_change: boolean, behind_since: number | null) =>
      ({ target: { name: "nas" }, after_every_change, behind_since, running: null, overdue: false, health: { state: "ok" } }) as never;
    expect(behindText(target(false, null), now)).toBeNull();
    expect(behindText(target(true, null), now)).toBe("up to date");
    expect(behindText(target(true, now - 12), now)).toBe("behind since 09:59:48");
    expect(behindText(target(true, now - 86_400), now)).toMatch(/^behind since .*22.* 10:00:00$/);
    const waiting = { state: "ok", paused: null, targets: [target(true, now - 3)], last_success: now - 60, next_run: now } as never;
    expect(overview(waiting).title).toBe("The latest changes go to nas in a moment");
  });
});

describe("BackupsState", () => {
  it("follows the status the engine sends", async () => {
    const status = (state: string) => ({ state, paused: null, targets: [] });
    const transport = fakeTransport({ getBackupStatus: status("ok"), listBackupRuns: [] });
    const state = new BackupsState(new Client(transport), new Changes());
    await state.start();
    expect(state.status?.state).toBe("ok");
    transport.emitBackupStatus(status("running") as never);
    await until(() => state.status?.state === "running");
  });
});

describe("TargetForm", () => {
  it("checks the passphrase typed twice before asking the engine, and sends the limit as typed", () => {
    const form = new TargetForm();
    form.name = "usb";
    form.path = "/media/usb";
    form.encrypt = true;
    form.passphrase = "a";
    form.passphrase2 = "b";
    expect(form.check()).toBe(false);
    expect(form.errors.passphrase2).toBe("The two passphrases differ.");
    form.passphrase2 = "a";
    form.bandwidth = " 2 MiB/s ";
    expect(form.check()).toBe(true);
    expect(form.target()).toMatchObject({ name: "usb", encrypt: true, bandwidth_limit: "2 MiB/s", schedule: "daily at 02:00" });
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
    expect(form.showError(new KuraError("already_exists", "a backup target 'nas' already exists"))).toBe("name");
    expect(form.errors.name).toContain("already exists");
  });
});

describe("RestoreWizard", () => {
  it("keeps the person on the target step when the target cannot be read", async () => {
    const client = new Client(fakeTransport({ listBackups: fail("unavailable", "the folder /media/dev/usb-backup is not there; plug the drive in") }));
    const wizard = new RestoreWizard(client, ["usb-drive"]);
    expect(wizard.step).toBe("target");
    await until(() => !wizard.backupsLoading);
    expect(wizard.backupsError?.code).toBe("unavailable");
    expect(wizard.canNext).toBe(false);
  });
});
