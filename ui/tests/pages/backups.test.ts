// Page tests of backups: the built UI (mock mode) in headless Chromium, used the way a person
// would — add a target, back up, pause, edit a schedule, restore a project, see a failure.

import type { Browser, Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

/** The text a person reads (white space as the browser shows it). */
const text = async (l: Locator) => ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();

const card = (page: Page, name: string) => page.locator(`[data-testid=target-card][data-target="${name}"]`);

describe("backups", () => {
  it("adds a folder target and shows it tested, after saying a missing drive is missing", async () => {
    const page = await openApp(browser, server.url, "", "#/backups");
    await card(page, "usb-drive").waitFor();
    await page.getByTestId("add-target").click();
    const dialog = page.getByRole("dialog", { name: "Add a backup target" });
    await dialog.getByLabel(/^Name/).fill("home-copy");
    await dialog.getByLabel(/^Folder/).fill("/media/dev/other-drive/kura");
    await dialog.getByRole("button", { name: "Add and test" }).click();
    await expect.poll(() => text(dialog.getByTestId("location-error"))).toContain("/media/dev/other-drive does not exist (is the drive connected?)");

    await dialog.getByLabel(/^Folder/).fill("/home/dev/backups/kura");
    await dialog.getByRole("button", { name: "Add and test" }).click();
    const done = page.getByRole("dialog", { name: "home-copy is ready" });
    await done.waitFor();
    expect(await text(done.getByTestId("test-result"))).toContain("It holds no backups yet; not encrypted.");
    await done.getByRole("button", { name: "Done" }).click();

    const added = card(page, "home-copy");
    await added.waitFor();
    expect(await text(added.getByTestId("target-health"))).toBe("Healthy");
    expect(await text(added.getByTestId("target-location"))).toContain("/home/dev/backups/kura");
    expect(await text(added.getByTestId("target-schedule"))).toBe("every day at 02:00");
    expect(await text(added.getByTestId("target-last-run"))).toContain("never");

    // Testing it again says the same; a disconnected drive is reported as unreachable.
    await page.evaluate(() => window.kuraMock!.backups.unplug("/home/dev/backups/kura"));
    await added.getByTestId("test-target").click();
    await expect.poll(() => text(added.getByTestId("test-result"))).toContain("Not reachable");
    // The card's health follows once the targets are read again, a moment after the result.
    await expect.poll(() => text(added.getByTestId("target-health"))).toBe("Unreachable");
    await expectNoErrors(page);
  });

  it("backs up now with progress, then shows the new run and the new last backup on the dashboard", async () => {
    const page = await openApp(browser, server.url, "step=60", "#/backups");
    const usb = card(page, "usb-drive");
    await usb.waitFor();
    const rows = page.getByTestId("run-row");
    await expect.poll(() => rows.count()).toBeGreaterThan(10);
    const runsBefore = await rows.count();
    const lastBefore = await page.getByTestId("last-backup").locator("time").getAttribute("title");

    await usb.getByTestId("backup-now").click();
    const running = usb.getByTestId("target-running");
    await expect.poll(() => text(running)).toMatch(/Backing up — \d+ of \d+ files/);
    expect(await running.getByRole("progressbar").getAttribute("aria-valuenow")).not.toBeNull();
    expect(await text(page.getByTestId("backup-state"))).toBe("running");
    expect(await usb.getByTestId("backup-now").isDisabled()).toBe(true);

    await expect.poll(() => text(page.getByTestId("backup-state")), { timeout: 10_000 }).toBe("up to date");
    expect(await running.count()).toBe(0);
    await expect.poll(() => rows.count()).toBe(runsBefore + 1);
    expect(await rows.first().getAttribute("data-result")).toBe("ok");
    expect(await text(rows.first())).toContain("today at");
    expect(await text(usb.getByTestId("target-last-run"))).toContain("just now");
    expect(await page.getByTestId("last-backup").locator("time").getAttribute("title")).not.toBe(lastBefore);

    await page.keyboard.press("Control+1");
    const strip = page.getByTestId("card-backups");
    await expect.poll(() => text(strip.getByTestId("dashboard-last-backup"))).toBe("just now");
    expect(await text(strip)).toContain("Backups are up to date");
    await expectNoErrors(page);
  });

  it("cancels a running backup", async () => {
    const page = await openApp(browser, server.url, "step=80", "#/backups");
    const usb = card(page, "usb-drive");
    await usb.getByTestId("backup-now").click();
    await usb.getByTestId("cancel-backup").click();
    await expect.poll(() => page.getByTestId("run-row").first().getAttribute("data-result"), { timeout: 10_000 }).toBe("cancelled");
    expect(await usb.getByTestId("target-running").count()).toBe(0);
    expect(await text(usb.getByTestId("target-health"))).toBe("Healthy");
    await expectNoErrors(page);
  });

  it("pauses scheduled backups until resumed, from the keyboard, and resumes them", async () => {
    const page = await openApp(browser, server.url, "", "#/backups");
    await card(page, "usb-drive").waitFor();
    await page.getByTestId("pause-menu").focus();
    await page.keyboard.press("Enter");
    await page.getByRole("menu", { name: "Pause scheduled backups" }).waitFor();
    await page.keyboard.press("ArrowDown");
    await page.keyboard.press("ArrowDown");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Until I resume");
    await page.keyboard.press("Enter");

    await expect.poll(() => text(page.getByTestId("backup-state"))).toBe("paused");
    expect(await text(page.getByTestId("pause-banner"))).toContain("paused until you resume them");
    expect(await text(page.getByTestId("next-backup"))).toContain("paused until you resume them");
    expect(await text(card(page, "usb-drive").getByTestId("target-next-run"))).toContain("paused");

    await page.getByTestId("resume-backups").click();
    await expect.poll(() => text(page.getByTestId("backup-state"))).toBe("up to date");
    expect(await page.getByTestId("pause-banner").count()).toBe(0);
    expect(await text(page.getByTestId("next-backup"))).toMatch(/at 02:00/);
    await expectNoErrors(page);
  });

  it("shows the engine's message for a bad schedule, then saves a good one", async () => {
    const page = await openApp(browser, server.url, "", "#/backups");
    const usb = card(page, "usb-drive");
    await usb.getByTestId("edit-target").click();
    const dialog = page.getByRole("dialog", { name: "Edit usb-drive" });
    const schedule = dialog.getByLabel(/^Schedule/);
    await schedule.fill("daily at 25:00");
    await dialog.getByRole("button", { name: "Save" }).click();
    await expect
      .poll(() => text(dialog.getByTestId("schedule-error")))
      .toBe("the schedule of target 'usb-drive' is not valid: '25:00' is not a time of day; write it as HH:MM (24-hour), e.g. 02:00");
    expect(await schedule.getAttribute("aria-invalid")).toBe("true");

    await dialog.getByRole("button", { name: "weekly on sun at 04:00" }).click();
    expect(await schedule.inputValue()).toBe("weekly on sun at 04:00");
    await dialog.getByRole("button", { name: "Save" }).click();
    await dialog.waitFor({ state: "detached" });
    await expect.poll(() => text(usb.getByTestId("target-schedule"))).toBe("every Sunday at 04:00");
    // A Sunday 04:00 already past since the last run is due at once, as the scheduler catches it up.
    expect(await text(usb.getByTestId("target-next-run"))).toMatch(/^(now|.* at 04:00)$/);
    await expectNoErrors(page);
  });

  it("restores one project through the wizard, refusing a folder that holds files", async () => {
    const page = await openApp(browser, server.url, "step=5", "#/backups");
    await card(page, "usb-drive").getByTestId("restore-target").click();
    const wizard = page.getByTestId("restore-wizard");
    const next = page.getByTestId("restore-next");
    await expect.poll(() => wizard.getAttribute("data-step")).toBe("backup");
    expect(await wizard.getByRole("radio").first().isChecked()).toBe(true);
    expect(await text(wizard.locator("[data-backup]").first())).toContain("newest");
    await next.click();

    await wizard.locator("[data-choice=kura-site] input").check();
    await next.click();
    await wizard.getByLabel(/^Restore into/).fill("/home/dev/code/weather-app");
    await next.click();
    const preview = wizard.getByTestId("restore-preview");
    expect(await text(preview)).toContain("Kura writes the folder of kura-site");
    expect(await text(preview)).toContain("/home/dev/code/weather-app");
    await page.getByTestId("restore-go").click();

    // The folder holds a project already: back to the folder step, with the engine's message.
    await expect.poll(() => text(wizard.getByTestId("destination-error"))).toContain("/home/dev/code/weather-app is not empty; restore into a new or empty folder");
    expect(await text(wizard.locator("[aria-current=step]"))).toContain("Where");
    await wizard.getByLabel(/^Restore into/).fill("/home/dev/restored/kura-site");
    await next.click();
    await page.getByTestId("restore-go").click();

    const report = wizard.getByTestId("restore-report");
    await expect.poll(() => text(report), { timeout: 10_000 }).toMatch(/Restored \d+ files \(.+\) of kura-site into \/home\/dev\/restored\/kura-site/);
    await page.getByRole("button", { name: "Close", exact: true }).last().click();
    await wizard.waitFor({ state: "detached" });
    expect(await page.evaluate(() => window.kuraMock!.vault.disk.get("/home/dev/restored/kura-site")?.has("index.html"))).toBe(true);
    await expectNoErrors(page);
  });

  it("shows a failing target as failed, with the engine's error, on the view and the dashboard", async () => {
    const page = await openApp(browser, server.url, "step=5", "#/backups");
    const usb = card(page, "usb-drive");
    await usb.waitFor();
    await page.evaluate(() => window.kuraMock!.backups.setDiskFull("/media/dev/usb-backup"));
    await usb.getByTestId("backup-now").click();

    await expect.poll(() => text(page.getByTestId("backup-state")), { timeout: 10_000 }).toBe("failed");
    expect(await text(page.getByTestId("backup-overview"))).toContain("Backups to usb-drive failed");
    expect(await text(usb.getByTestId("target-health"))).toBe("Failing");
    const detail = await text(usb.getByTestId("target-health-detail"));
    expect(detail).toContain("1 failed run in a row.");
    expect(detail).toContain("target 'usb-drive' (/media/dev/usb-backup) is full");
    const first = page.getByTestId("run-row").first();
    await expect.poll(() => first.getAttribute("data-result")).toBe("failed");
    expect(await text(page.getByTestId("run-error").first())).toContain("free space there or prune old backups");

    await page.keyboard.press("Control+1");
    const strip = page.getByTestId("card-backups");
    await expect.poll(() => text(strip)).toContain("Backups to usb-drive failed");
    await expectNoErrors(page);
  });

  it("prunes after showing which backups go, and verify names damaged data", async () => {
    const page = await openApp(browser, server.url, "step=5", "#/backups");
    const usb = card(page, "usb-drive");
    await usb.getByTestId("prune-target").click();
    const prune = page.getByRole("dialog", { name: "Prune old backups at usb-drive" });
    const plan = prune.getByTestId("prune-plan");
    await plan.waitFor();
    const removed = Number(await plan.getAttribute("data-removed"));
    expect(removed).toBeGreaterThan(0);
    expect(await text(plan)).toMatch(new RegExp(`${removed} backups would go, freeing [\\d.]+ [KMG]iB`));
    await prune.getByTestId("prune-go").click();
    await expect.poll(() => text(prune.getByTestId("prune-report"))).toContain(`Removed ${removed} backups`);
    await prune.getByRole("button", { name: "Close", exact: true }).last().click();

    await page.evaluate(() => window.kuraMock!.backups.damagePack("usb-drive"));
    await usb.getByTestId("verify-target").click();
    const verify = page.getByRole("dialog", { name: "Verify the backups at usb-drive" });
    await verify.getByLabel("Everything").check();
    await verify.getByTestId("verify-go").click();
    const report = verify.getByTestId("verify-report");
    await expect.poll(() => report.getAttribute("data-problems")).toBe("1");
    expect(await text(report)).toContain("the pack is damaged: its content does not match its hash");
    expect(await text(report)).toMatch(/It affects:\s*backup \S+: /);
    await expectNoErrors(page);
  });

  it("starts empty in an empty vault and says how to begin", async () => {
    const page = await openApp(browser, server.url, "empty=1", "#/backups");
    await expect.poll(() => text(page.getByTestId("backup-state"))).toBe("not set up");
    expect(await page.getByTestId("target-card").count()).toBe(0);
    expect(await page.getByText("No backup target yet").count()).toBe(1);
    expect(await text(page.getByTestId("runs-timeline"))).toContain("No runs yet");
    await page.keyboard.press("Control+1");
    await expect.poll(() => text(page.getByTestId("card-backups"))).toContain("Nothing is backed up yet.");
    await expectNoErrors(page);
  });
});
