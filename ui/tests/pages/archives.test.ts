// Page tests of archives, quotas and cleanup: the built UI (mock mode) in headless Chromium,
// used the way a person would.

import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatRatio } from "../../src/lib/archives";
import { formatBytes } from "../../src/lib/format";
import { launch, openApp, pageErrors, serve } from "./harness";

let browser: Browser;
let server: { url: string; close: () => Promise<void> };

beforeAll(async () => {
  server = await serve();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function expectNoErrors(page: Page) {
  expect(pageErrors(page)).toEqual([]);
  await page.close();
}

/** Changes one setting on the Settings page the way a person does: type, Enter. */
async function setSetting(page: Page, label: string, value: string) {
  await page.keyboard.press("Control+7");
  const field = page.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.press("Enter");
}

describe("archiving from a project's page", () => {
  it("archives a project, lists it with its ratio, and unarchives it", async () => {
    const page = await openApp(browser, server.url, "", "#/projects");
    await page.click("text=kura-site");
    await page.waitForSelector("h1:text('kura-site')");
    await page.getByTestId("archive-project").click();

    const dialog = page.getByRole("dialog", { name: "Archive kura-site?" });
    const explanation = await dialog.getByTestId("archive-explanation").textContent();
    expect(explanation).toContain("Kura first takes a version of the 2 changes since the last one");
    expect(explanation).toContain("working folder");
    expect(explanation).toContain("Unarchive brings it back");
    await dialog.getByRole("button", { name: "Archive", exact: true }).click();

    // The page now says the project is archived, and offers Unarchive instead of file actions.
    const notice = page.getByTestId("archived-notice");
    await expect.poll(() => notice.textContent()).toContain("kura-site is archived");
    expect(await page.getByRole("button", { name: "Snapshot" }).count()).toBe(0);
    expect(await page.getByRole("tab", { name: /Files/ }).count()).toBe(0);
    expect(await page.getByTestId("unarchive-project").isVisible()).toBe(true);

    await page.keyboard.press("Control+5");
    const row = page.locator('[data-testid="archive-row"][data-archive="kura-site"]');
    await row.waitFor();
    const info = await page.evaluate(() => window.kuraMock!.vault.archiver.list().find((a) => a.project_name === "kura-site")!);
    const ratio = (await row.getByTestId("archive-ratio").textContent())!.trim();
    expect(ratio).toBe(formatRatio(info.compression_ratio));
    expect(ratio).toMatch(/^\d\.\d×$/);
    expect(info.compression_ratio).toBeGreaterThan(1.5);
    expect(await row.getByTestId("archive-size").textContent()).toBe(formatBytes(info.size));
    expect(await row.getByTestId("archive-original").textContent()).toBe(formatBytes(info.content_size));
    expect(await row.getByTestId("archive-sha").getAttribute("title")).toContain(`SHA-256 ${info.sha256}`);
    expect(await page.getByTestId("archives-count").textContent()).toContain("2");

    await row.getByRole("button", { name: "Unarchive" }).click();
    const confirm = page.getByRole("dialog", { name: "Unarchive kura-site?" });
    const what = await confirm.getByTestId("unarchive-explanation").textContent();
    expect(what).toContain("with its folder, files and every version");
    expect(what).toContain(`the archive file (${formatBytes(info.size)}) is removed`);
    await confirm.getByRole("button", { name: "Unarchive", exact: true }).click();
    await page.waitForSelector(".notice:has-text('kura-site is back')");
    await expect.poll(() => row.count()).toBe(0);
    expect(await page.getByTestId("archives-count").textContent()).toContain("1");

    await page.keyboard.press("Control+2");
    await page.click("text=kura-site");
    await page.locator("[data-file='index.html']").waitFor();
    await page.getByRole("tab", { name: /History/ }).click();
    await expect.poll(() => page.locator("[data-version]").first().textContent()).toContain("Before archive");
    await expectNoErrors(page);
  });

  it("cancels archiving and leaves the project active", async () => {
    const page = await openApp(browser, server.url, "step=300", "#/projects");
    await page.click("text=billing-api");
    await page.getByTestId("archive-project").click();
    const dialog = page.getByRole("dialog", { name: "Archive billing-api?" });
    await dialog.getByRole("button", { name: "Archive", exact: true }).click();
    await dialog.getByTestId("job-progress").waitFor();
    await dialog.getByRole("button", { name: "Cancel archiving" }).click();
    await expect.poll(() => dialog.getByRole("alert").textContent()).toContain("the project is unchanged and stays active");
    await dialog.getByRole("button", { name: "Cancel", exact: true }).click();
    expect(await page.getByRole("tab", { name: /Files/ }).isVisible()).toBe(true);
    await page.keyboard.press("Control+5");
    await page.getByTestId("archives-table").waitFor();
    expect(await page.locator('[data-archive="billing-api"]').count()).toBe(0);
    await expectNoErrors(page);
  });
});

describe("the archives view", () => {
  it("verifies an archive, extracts it, and imports archives, refusing bad ones by their code", async () => {
    const page = await openApp(browser, server.url, "", "#/archives");
    const row = page.locator('[data-archive="ml-notebooks"]');
    await row.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => page.getByTestId("archive-verify-result").textContent()).toContain("Sound — the checksum matches");

    await row.getByRole("button", { name: "Extract…" }).click();
    const extract = page.getByRole("dialog", { name: "Extract ml-notebooks" });
    await page.evaluate(() => (window.kuraMock!.nextPick = "/home/dev/restored"));
    await extract.getByRole("button", { name: "Choose…" }).click();
    await expect.poll(() => extract.getByTestId("extract-dest").inputValue()).toMatch(/^\/home\/dev\/restored\/ml-notebooks-\d{8}-[0-9a-f]{8}$/);
    await extract.getByRole("button", { name: "Extract", exact: true }).click();
    await page.waitForSelector(".notice:has-text('Extracted 4 files')");

    await page.getByTestId("import-archive").click();
    const dialog = page.getByRole("dialog", { name: "Import an archive" });
    await page.evaluate(() => (window.kuraMock!.nextFilePick = "/home/dev/Downloads/suspicious.tar.gz"));
    await dialog.getByRole("button", { name: "Choose…" }).click();
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    const refusal = dialog.getByTestId("import-archive-error");
    await expect.poll(() => refusal.getAttribute("data-code")).toBe("path_escape");
    expect(await refusal.textContent()).toContain("an entry would be written outside its folder. Nothing was imported.");
    expect(await refusal.textContent()).toContain("'../../.bashrc' is refused");

    await dialog.getByLabel("Archive file").fill("/home/dev/Downloads/cut-off.tar.zst");
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    await expect.poll(() => refusal.getAttribute("data-code")).toBe("corrupt");
    expect(await refusal.textContent()).toContain("damaged or cut off");

    await page.evaluate(() => (window.kuraMock!.nextFilePick = "/home/dev/Downloads/landing-page.tar.gz"));
    await dialog.getByRole("button", { name: "Choose…" }).click();
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    await page.waitForSelector("h1:text('landing-page')");
    await page.locator("[data-file='index.html']").waitFor();
    await expectNoErrors(page);
  });

  it("says so when there are no archives", async () => {
    const page = await openApp(browser, server.url, "empty=1", "#/archives");
    await page.getByRole("heading", { name: "No archives yet" }).waitFor();
    expect(await page.getByTestId("archives-count").textContent()).toContain("0");
    await expectNoErrors(page);
  });
});

describe("cleanup", () => {
  it("previews what would go, cleans up, and records both runs", async () => {
    const page = await openApp(browser, server.url, "", "#/dashboard");
    // Keep the trash one day: old-prototype has been there four.
    await setSetting(page, "Keep the trash for", "1");
    await page.locator('[data-setting="cleanup.trash_days"]').getByText("Saved").waitFor();

    await page.keyboard.press("Control+6");
    // The default schedule, daily at 03:00.
    await expect.poll(() => page.getByTestId("cleanup-next-run").textContent()).toMatch(/Next run: .*\(\d{4}-\d{2}-\d{2} 03:00:00\)/);
    await page.getByTestId("cleanup-preview-button").click();
    const preview = page.getByTestId("cleanup-preview");
    await preview.waitFor();
    const trash = preview.locator('[data-category="trash"]');
    expect(await trash.textContent()).toContain("project 'old-prototype'");
    const dry = await page.evaluate(() => window.kuraMock!.vault.archiver.cleanupRuns()[0]);
    expect(dry.dry_run).toBe(true);
    const trashBytes = dry.categories.find((c) => c.category === "trash")!.bytes_freed;
    expect(trashBytes).toBeGreaterThan(0);
    expect(await trash.getByTestId("category-bytes").textContent()).toBe(formatBytes(trashBytes));
    expect(await preview.locator('[data-category="cache"]').textContent()).toContain("write-ahead log");
    expect(await page.getByTestId("cleanup-total").textContent()).toContain("Preview, nothing changed yet");
    await expect.poll(() => page.getByTestId("cleanup-run").count()).toBe(1);
    expect(await page.getByTestId("cleanup-run").first().textContent()).toContain("preview");

    await page.getByTestId("cleanup-run-button").click();
    const confirm = page.getByRole("dialog", { name: "Clean up now?" });
    expect(await confirm.getByTestId("cleanup-confirm").textContent()).toContain("Projects purged from the trash are deleted for good.");
    await confirm.getByRole("button", { name: "Clean up", exact: true }).click();
    const result = page.getByTestId("cleanup-result");
    await result.waitFor();
    const done = await page.evaluate(() => window.kuraMock!.vault.archiver.cleanupRuns()[0]);
    expect(done.dry_run).toBe(false);
    expect(await page.getByTestId("cleanup-total").textContent()).toContain(`${formatBytes(done.bytes_freed)} freed`);
    expect(await result.locator('[data-category="trash"]').getByTestId("category-bytes").textContent()).toBe(formatBytes(trashBytes));
    await expect.poll(() => page.getByTestId("cleanup-run").count()).toBe(2);
    const latest = page.getByTestId("cleanup-run").first();
    expect(await latest.textContent()).toContain("cleaned");
    expect(await latest.getByTestId("run-total").textContent()).toBe(formatBytes(done.bytes_freed));
    await page.waitForSelector(`.notice:has-text('Cleanup freed ${formatBytes(done.bytes_freed)}')`);

    // The trash is empty now.
    await page.keyboard.press("Control+2");
    await page.getByRole("radio", { name: "Trash" }).click();
    await expect.poll(() => page.getByTestId("projects-summary").textContent()).toContain("0 projects in the trash");
    await expectNoErrors(page);
  });

  it("does not run with no category picked", async () => {
    const page = await openApp(browser, server.url, "", "#/cleanup");
    for (const c of ["trash", "archive", "versions", "chunks", "cache"]) await page.locator(`[data-category="${c}"] input`).uncheck();
    expect(await page.getByTestId("cleanup-preview-button").isDisabled()).toBe(true);
    expect(await page.getByTestId("cleanup-run-button").isDisabled()).toBe(true);
    expect(await page.getByText("Pick at least one category.").isVisible()).toBe(true);
    await expectNoErrors(page);
  });
});

describe("quotas", () => {
  it("warns on the dashboard once a total quota is set, and says when it is exceeded", async () => {
    const page = await openApp(browser, server.url, "", "#/dashboard");
    const panel = page.getByTestId("quota-panel");
    await expect.poll(() => panel.textContent()).toContain("No total quota set");
    expect(await panel.getByTestId("quota-gauge").count()).toBe(0);

    const used = await page.evaluate(() => window.kuraMock!.vault.archiver.quotaStatus().total.used);
    const mib = Math.ceil(used / 0.85 / 1024 ** 2);
    await setSetting(page, "Total quota", `${mib} MiB`);
    await page.locator('[data-setting="quota.total_quota"]').getByText("Saved").waitFor();
    expect(await page.getByLabel("Total quota", { exact: true }).inputValue()).toBe(`${mib} MiB`);

    await page.keyboard.press("Control+1");
    const gauge = panel.getByTestId("quota-gauge");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe("warning80");
    expect(await gauge.getByTestId("quota-level").textContent()).toBe("Over 80% of the limit");
    expect(await gauge.textContent()).toContain(`${formatBytes(used)} of ${formatBytes(mib * 1024 ** 2)}`);
    expect(await panel.getByTestId("quota-warnings").textContent()).toContain("the vault uses");

    await setSetting(page, "Total quota", `${Math.floor(used / 1024 ** 2) - 1} MiB`);
    await page.locator('[data-setting="quota.total_quota"]').getByText("Saved").waitFor();
    await page.keyboard.press("Control+1");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe("exceeded");
    expect(await gauge.getByTestId("quota-level").textContent()).toBe("Over the limit");
    expect(await panel.getByTestId("quota-warnings").textContent()).toContain("the vault is over its limit");
    await expectNoErrors(page);
  });

  it("shows a project against its size limit, or that there is none", async () => {
    const page = await openApp(browser, server.url, "", "#/projects");
    await page.click("text=billing-api");
    const quota = page.getByTestId("project-quota");
    await expect.poll(() => quota.textContent()).toContain("no limit set");

    // billing-api holds 15.5 MiB: 81% of 19 MiB.
    await setSetting(page, "Largest project", "19 MiB");
    await page.locator('[data-setting="quota.max_project_size"]').getByText("Saved").waitFor();
    await page.keyboard.press("Control+2");
    await page.click("text=billing-api");
    const gauge = quota.getByTestId("quota-gauge");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe("warning80");
    expect(await gauge.textContent()).toContain("of 19 MiB (81%)");
    await expectNoErrors(page);
  });

  it("shows the engine's message at a setting given a bad value", async () => {
    const page = await openApp(browser, server.url, "", "#/settings");
    await setSetting(page, "Total quota", "lots");
    const quota = page.locator('[data-setting="quota.total_quota"]');
    await expect.poll(() => quota.getByRole("alert").textContent()).toBe("quota.total_quota: 'lots' is not a size; write e.g. 512 KiB, 64 MiB or 2 GiB");
    expect(await page.getByLabel("Total quota", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await setSetting(page, "Schedule", "sometimes");
    const schedule = page.locator('[data-setting="cleanup.schedule"]');
    await expect.poll(() => schedule.getByRole("alert").textContent()).toContain("cleanup.schedule 'sometimes' is not a schedule: cannot read 'sometimes' as a schedule");

    await setSetting(page, "Schedule", "weekly on sun at 04:00");
    await schedule.getByText("Saved").waitFor();
    await page.keyboard.press("Control+6");
    await expect.poll(() => page.getByTestId("cleanup-schedule").textContent()).toContain("Runs weekly on sun at 04:00");
    await expectNoErrors(page);
  });
});
