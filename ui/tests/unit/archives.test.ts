// Archives, quotas and cleanup: how their numbers read, and what the archive store keeps.

import { describe, expect, it } from "vitest";
import { Client } from "../../src/lib/api/client";
import type { ArchiveInfo, QuotaUsage } from "../../src/lib/api/types";
import { archiveTotals, extractDestination, formatRatio } from "../../src/lib/archives";
import { categoryAbout, cleanupStep, freedIn, itemCount } from "../../src/lib/cleanup";
import { hasLimit, quotaFill, quotaLevelText, quotaSummary } from "../../src/lib/quota";
import { ArchiveList } from "../../src/lib/state/archives.svelte";
import { Jobs } from "../../src/lib/state/jobs.svelte";
import { fakeTransport } from "./fake";

const GIB = 1024 ** 3;

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
    cold_target: null,
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

describe("ArchiveList", () => {
  it("lists archives with totals and keeps a verify result per archive", async () => {
    const client = new Client(
      fakeTransport({
        listArchives: [archive({}), archive({ id: "fedcba9876543210", size: 50, content_size: 100 })],
        getConfig: { archive: {} },
        verifyArchive: { problems: [] },
      }),
    );
    const list = new ArchiveList(client, new Jobs(client));
    await list.load();
    expect(list.totals.count).toBe(2);
    // No cold tier set: the view offers no move to one.
    expect(list.coldTarget).toBeNull();
    const report = await list.verify(list.items[0]);
    expect(report?.problems).toEqual([]);
    expect(list.checks[list.items[0].id]).toMatchObject({ state: "done" });
  });

  it("names the cold tier's target and moves archives there as a job", async () => {
    const report = { target: "usb", uploaded: ["0123456789abcdef"], dropped: [], bytes_freed: 0 };
    const fake = fakeTransport({ listArchives: [archive({})], getConfig: { archive: { cold_target: "usb" } }, moveArchivesToColdTier: report });
    const client = new Client(fake);
    const list = new ArchiveList(client, new Jobs(client));
    await list.load();
    expect(list.coldTarget).toBe("usb");
    expect(await list.moveToColdTier()).toEqual(report);
    expect(list.moving).toBe(false);
    expect(fake.calls).toContain("moveArchivesToColdTier");
  });
});
