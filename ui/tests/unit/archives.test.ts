// Archives, quotas and cleanup: how their numbers read, and what the stores show over the fake
// vault after each action (the fake follows the engine's rules, so these pin them for the UI).

import { describe, expect, it } from "vitest";
import { Client, KuraError } from "../../src/lib/api/client";
import { MockTransport } from "../../src/lib/api/mock";
import type { ArchiveInfo, QuotaUsage } from "../../src/lib/api/types";
import { archiveTotals, extractDestination, formatRatio } from "../../src/lib/archives";
import { categoryAbout, cleanupStep, freedIn, itemCount } from "../../src/lib/cleanup";
import { hasLimit, quotaFill, quotaLevelText, quotaSummary } from "../../src/lib/quota";
import { ArchiveList } from "../../src/lib/state/archives.svelte";
import { CleanupState } from "../../src/lib/state/cleanup.svelte";
import { Jobs } from "../../src/lib/state/jobs.svelte";
import { ProjectPage } from "../../src/lib/state/project.svelte";

const GIB = 1024 ** 3;

function setup(options: ConstructorParameters<typeof MockTransport>[0] = {}) {
  const transport = new MockTransport(options);
  const client = new Client(transport);
  return { transport, client, jobs: new Jobs(client) };
}

async function projectId(client: Client, name: string) {
  const [p] = await client.projects({ text: name, all_workspaces: true, status: null });
  return p.id;
}

function archive(partial: Partial<ArchiveInfo>): ArchiveInfo {
  return {
    id: "0123456789abcdef",
    project_id: "p1",
    project_name: "site",
    workspace: "default",
    path: "/vault/archives/2026/11/site-20261121-01234567.tar.zst",
    size: 100,
    content_size: 300,
    compression_ratio: 3,
    file_count: 3,
    versions: 2,
    sha256: "ab".repeat(32),
    created_at: 0,
    present: true,
    ...partial,
  };
}

function usage(used: number, limit: number, level: QuotaUsage["level"]): QuotaUsage {
  return { project_id: null, name: "vault", used, limit, fraction: limit ? used / limit : 0, level };
}

describe("archive numbers", () => {
  it.each([
    [3.04, "3.0×"],
    [1.25, "1.3×"],
    [12.6, "13×"],
    [0.98, "1.0×"],
    [null, "—"],
    [Number.POSITIVE_INFINITY, "—"],
  ])("a ratio of %s reads %s", (ratio, text) => {
    expect(formatRatio(ratio)).toBe(text);
  });

  it("totals the archives and what compression saved", () => {
    const totals = archiveTotals([archive({ size: 100, content_size: 300 }), archive({ id: "b", size: 50, content_size: 40 })]);
    expect(totals).toEqual({ count: 2, onDisk: 150, original: 340, saved: 190 });
    expect(archiveTotals([])).toEqual({ count: 0, onDisk: 0, original: 0, saved: 0 });
  });

  it("extracts into a folder named after the archive file", () => {
    expect(extractDestination("/home/dev/out/", archive({}))).toBe("/home/dev/out/site-20261121-01234567");
  });
});

describe("quota words", () => {
  it("fills the gauge by usage and caps it when over", () => {
    expect(quotaFill(usage(5 * GIB, 10 * GIB, "ok"))).toBe(0.5);
    expect(quotaFill(usage(12 * GIB, 10 * GIB, "exceeded"))).toBe(1);
    expect(quotaFill(usage(12 * GIB, 0, "ok"))).toBe(0);
    expect(hasLimit(usage(1, 0, "ok"))).toBe(false);
  });

  it("says how close to the limit, and by how much it is over", () => {
    expect(quotaLevelText("ok")).toBe("");
    expect(quotaLevelText("warning80")).toBe("Over 80% of the limit");
    expect(quotaLevelText("warning90")).toBe("Over 90% of the limit");
    expect(quotaLevelText("exceeded")).toBe("Over the limit");
    expect(quotaSummary(usage(8.5 * GIB, 10 * GIB, "warning80"))).toBe("8.5 GiB of 10 GiB (85%)");
    expect(quotaSummary(usage(10.4 * GIB, 10 * GIB, "exceeded"))).toBe("10.4 GiB of 10 GiB (104%), 410 MiB over");
    expect(quotaSummary(usage(GIB, 0, "ok"))).toBe("1 GiB (no limit)");
  });
});

describe("cleanup words", () => {
  it("follows the settings, and says when a category is off", () => {
    const config = { cleanup: { trash_days: 0 }, archive: { archive_after_days: 45 } };
    expect(categoryAbout("trash", config)).toEqual({ text: expect.stringContaining("Off"), off: true });
    expect(categoryAbout("archive", config).text).toContain("45 days");
    expect(categoryAbout("trash", { cleanup: { trash_days: 1 } }).text).toContain("more than 1 day.");
  });

  it("names the step a running cleanup is on", () => {
    expect(cleanupStep({ phase: "trash", done: 0, total: null, unit: "files", item: null })).toBe("Emptying the trash…");
    // Archiving an idle project reports the archiver's own steps.
    expect(cleanupStep({ phase: "archiving", done: 5, total: 9, unit: "bytes", item: null })).toBeNull();
    expect(cleanupStep(null)).toBeNull();
  });

  it("reads a run's bytes per category, and marks categories it did not run", () => {
    const run = {
      id: 1,
      dry_run: false,
      started_at: 0,
      finished_at: 1,
      bytes_freed: 10,
      categories: [{ category: "cache" as const, bytes_freed: 10, items: [{ description: "wal", project: null, bytes: 10 }] }],
    };
    expect(freedIn(run, "cache")).toBe(10);
    expect(freedIn(run, "trash")).toBeNull();
    expect(itemCount(run)).toBe(1);
  });
});

describe("archiving in the fake vault", () => {
  it("archives a project: a version first, then an archive, its folder freed and its history out of reach", async () => {
    const { transport, client } = setup();
    const id = await projectId(client, "kura-site");
    const before = await client.versions(id);
    const info = await client.archiveProject(id);
    expect(info.project_name).toBe("kura-site");
    expect(info.compression_ratio).toBeGreaterThan(1);
    expect(info.content_size).toBeGreaterThan(info.size);
    expect(info.path).toMatch(/\/archives\/\d{4}\/\d{2}\/kura-site-\d{8}-[0-9a-f]{8}\.tar\.zst$/);
    // kura-site had changes in its folder: they were kept as a version first.
    expect(info.versions).toBe(before.length + 1);
    const p = await client.project(id);
    expect(p.status).toBe("archived");
    expect(p.stored_size).toBe(info.size);
    await expect(client.versions(id)).rejects.toMatchObject({ code: "conflict" });
    await expect(client.listFiles(id)).rejects.toMatchObject({ code: "conflict" });
    await expect(client.archiveProject(id)).rejects.toMatchObject({ code: "conflict", message: "project 'kura-site' is already archived" });
    expect((await client.archives()).map((a) => a.project_name)).toEqual(["kura-site", "ml-notebooks"]);
    expect(transport.vault.stats().layers.find((l) => l.layer === "archives")).toMatchObject({ files: 2 });

    const back = await client.unarchiveProject(info.id);
    expect(back.status).toBe("active");
    expect((await client.archives()).map((a) => a.project_name)).toEqual(["ml-notebooks"]);
    expect((await client.versions(id)).length).toBe(info.versions);
    expect((await client.listFiles(id)).some((f) => f.path === "index.html")).toBe(true);
  });

  it("keeps a linked project's folder, and refuses a damaged archive", async () => {
    const { transport, client } = setup();
    const linked = await client.importFolder("/home/dev/code/rust-cli", { link: true });
    const info = await client.archiveProject(linked.id);
    transport.vault.archiver.damage(info.id);
    const report = await client.verifyArchive(info.id);
    expect(report.problems[0]).toContain("the checksum does not match");
    await expect(client.unarchiveProject(info.id)).rejects.toMatchObject({ code: "corrupt" });
    expect((await client.project(linked.id)).status).toBe("archived");
  });

  it("imports archives, and refuses escaping and truncated ones by code", async () => {
    const { client } = setup();
    const p = await client.importArchive("/home/dev/Downloads/landing-page.tar.gz");
    expect(p.name).toBe("landing-page");
    expect(p.kind).toBe("imported");
    expect((await client.listFiles(p.id)).map((f) => f.path)).toContain("index.html");
    await expect(client.importArchive("/home/dev/Downloads/suspicious.tar.gz")).rejects.toMatchObject({ code: "path_escape" });
    await expect(client.importArchive("/home/dev/Downloads/cut-off.tar.zst")).rejects.toMatchObject({ code: "corrupt" });
    await expect(client.importArchive("/home/dev/Downloads/notes.md")).rejects.toMatchObject({ code: "invalid_input" });
    await expect(client.importArchive("/home/dev/Downloads/landing-page.tar.gz")).rejects.toMatchObject({ code: "already_exists" });
  });

  it("extracts an archive into an empty folder only", async () => {
    const { client } = setup();
    const [a] = await client.archives();
    const report = await client.extractArchive(a.id, "/home/dev/out/ml");
    expect(report.files).toBe(a.file_count + 2);
    await expect(client.extractArchive(a.id, "/home/dev/out/ml")).rejects.toMatchObject({ code: "conflict" });
  });
});

describe("quotas in the fake vault", () => {
  it("computes levels from the limits, and refuses writes past them", async () => {
    const { client } = setup();
    let q = await client.quotaStatus();
    expect(q.total).toMatchObject({ limit: 0, level: "ok" });
    const used = q.total.used;
    await client.setConfig("quota.total_quota", String(Math.ceil(used / 0.85)));
    q = await client.quotaStatus();
    expect(q.total.level).toBe("warning80");
    expect(q.warnings[0]).toMatch(/^the vault uses .* limit \(85%\); raise quota.total_quota/);
    await client.setConfig("quota.total_quota", String(used - 1));
    expect((await client.stats()).quota.total.level).toBe("exceeded");
    const err = await client.importFolder("/home/dev/code/rust-cli", {}).catch((e: KuraError) => e);
    expect(err).toMatchObject({ code: "quota_exceeded" });
    expect((err as KuraError).message).toContain("nothing was written");

    await client.setConfig("quota.total_quota", "0");
    await client.setConfig("quota.max_project_size", "1 MiB");
    q = await client.quotaStatus();
    expect(q.projects.find((u) => u.name === "billing-api")?.level).toBe("exceeded");
    expect((await client.config()).quota?.max_project_size).toBe("1 MiB");
  });

  it("rejects bad values with the engine's messages", async () => {
    const { client } = setup();
    await expect(client.setConfig("quota.total_quota", "lots")).rejects.toThrow("quota.total_quota: 'lots' is not a size; write e.g. 512 KiB, 64 MiB or 2 GiB");
    await expect(client.setConfig("cleanup.schedule", "sometimes")).rejects.toThrow(/^cleanup.schedule 'sometimes' is not a schedule: cannot read/);
    await expect(client.setConfig("archive.compression_level", "25")).rejects.toThrow("archive.compression_level is 25; it must be between 1 and 19");
    await expect(client.setConfig("versions.hourly_days", "0")).rejects.toThrow("must hold");
    await client.setConfig("cleanup.schedule", "off");
    expect(await client.nextCleanupAt()).toBeNull();
  });
});

describe("cleanup in the fake vault", () => {
  it("previews without changing anything, then cleans up and records both runs", async () => {
    const { client, jobs } = setup();
    await client.setConfig("cleanup.trash_days", "1");
    const state = new CleanupState(client, jobs);
    await state.load();
    expect(state.nextAt).not.toBeNull();
    const preview = await state.runPreview();
    expect(preview?.dry_run).toBe(true);
    const trash = preview!.categories.find((c) => c.category === "trash")!;
    expect(trash.items.map((i) => i.project)).toEqual(["old-prototype"]);
    expect(trash.bytes_freed).toBeGreaterThan(0);
    expect((await client.projects({ status: "deleted" })).map((p) => p.name)).toEqual(["old-prototype"]);

    const result = await state.runNow();
    expect(result?.bytes_freed).toBeGreaterThan(0);
    expect(await client.projects({ status: "deleted" })).toEqual([]);
    expect(state.runs.map((r) => r.dry_run)).toEqual([false, true]);
    expect(state.preview).toBeNull();
    // What the first run freed is gone: a second preview finds less.
    const again = await state.runPreview();
    expect(again!.bytes_freed).toBeLessThan(preview!.bytes_freed);
  });

  it("runs only the picked categories, and never all of them when none is picked", async () => {
    const { client, jobs, transport } = setup();
    const state = new CleanupState(client, jobs);
    for (const c of ["trash", "archive", "versions", "chunks"] as const) state.toggle(c, false);
    const report = await state.runPreview();
    expect(report!.categories.map((c) => c.category)).toEqual(["cache"]);
    state.toggle("cache", false);
    expect(await state.runPreview()).toBeNull();
    expect(transport.calls.filter((c) => c === "cleanup")).toHaveLength(1);
  });
});

describe("archive and project stores", () => {
  it("lists archives with totals and keeps a verify result per archive", async () => {
    const { client, jobs } = setup();
    const list = new ArchiveList(client, jobs);
    await list.load();
    expect(list.totals.count).toBe(1);
    const report = await list.verify(list.items[0]);
    expect(report?.problems).toEqual([]);
    expect(list.checks[list.items[0].id]).toMatchObject({ state: "done" });
  });

  it("shows an archived project with its archive instead of files, and its size limit when active", async () => {
    const { client } = setup();
    const archived = new ProjectPage(client, await projectId(client, "ml-notebooks"));
    await archived.load();
    expect(archived.error).toBeNull();
    expect(archived.archive?.project_name).toBe("ml-notebooks");
    expect(archived.files).toEqual([]);
    const active = new ProjectPage(client, await projectId(client, "billing-api"));
    await active.load();
    expect(active.quota).toMatchObject({ name: "billing-api", limit: 0 });
  });
});
