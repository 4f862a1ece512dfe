// Page tests: the built UI (mock mode) in headless Chromium, used the way a person would.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MockVault } from "../../src/lib/api/mock";
import { formatBytes } from "../../src/lib/format";
import { launch, openApp, pageErrors, RESULTS, serve } from "./harness";

let browser: Browser;
let server: { url: string; close: () => Promise<void> };
const timings: Record<string, number> = {};

beforeAll(async () => {
  server = await serve();
  browser = await launch();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, "timings.json"), JSON.stringify({ recorded_at: new Date().toISOString(), ...timings }, null, 2) + "\n");
});

async function expectNoErrors(page: Page) {
  expect(pageErrors(page)).toEqual([]);
  await page.close();
}

describe("dashboard", () => {
  it("shows the vault's numbers", async () => {
    const stats = new MockVault().stats();
    const page = await openApp(browser, server.url);
    const projects = page.getByTestId("card-projects");
    await expect.poll(() => projects.textContent()).toContain("7");
    expect(await projects.textContent()).toContain("5 active · 1 archived · 1 in trash");
    expect(await page.getByTestId("card-logical").textContent()).toContain(formatBytes(stats.logical_bytes));
    expect(await page.getByTestId("card-stored").textContent()).toContain(formatBytes(stats.stored_bytes));
    expect(await page.getByTestId("card-saved").textContent()).toContain(formatBytes(stats.saved_bytes));
    expect(await page.getByTestId("disk-gauge").textContent()).toContain(`${formatBytes(stats.disk_free_bytes)} free of ${formatBytes(stats.disk_total_bytes)}`);
    // Exact numbers on hover, in the treemap.
    await page.hover('[data-project="billing-api"]');
    const billing = stats.projects_usage.find((p) => p.name === "billing-api")!;
    expect(await page.getByTestId("treemap-detail").textContent()).toContain(`${billing.stored_bytes.toLocaleString("en-US")} bytes stored`);
    await expectNoErrors(page);
  });
});

describe("projects", () => {
  it("creates a project, and highlights the name when it is taken", async () => {
    const page = await openApp(browser, server.url, "", "#/projects");
    await page.waitForSelector('[data-project="kura-site"]');
    await page.keyboard.press("Control+n");
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("kura-site");
    await dialog.getByRole("button", { name: "Create project" }).click();
    const name = dialog.getByLabel("Name");
    await expect.poll(() => name.getAttribute("aria-invalid")).toBe("true");
    expect(await dialog.locator("[data-field-error=name]").textContent()).toContain("already has a project named 'kura-site'");

    await name.fill("notes-app");
    await dialog.getByLabel("Start from").selectOption("backend");
    await dialog.getByLabel(/Tags/).fill("notes, rust");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await page.waitForSelector("h1:text('notes-app')");
    expect(await page.locator("[data-file='Cargo.toml']").count()).toBe(1);
    expect(await page.locator(".project-header").textContent()).toContain("#notes");

    await page.keyboard.press("Control+2");
    await page.waitForSelector('[data-project="notes-app"]');
    await expectNoErrors(page);
  });

  it("imports a folder dropped onto the list", async () => {
    const page = await openApp(browser, server.url, "", "#/projects");
    await page.waitForSelector('[data-project="kura-site"]');
    await page.evaluate(() => window.kuraMock!.simulateDrag(["/home/dev/code/weather-app"]));
    const overlay = page.getByTestId("drop-overlay");
    await overlay.waitFor();
    expect(await overlay.textContent()).toContain("Drop to import as a new project");
    await page.evaluate(() => window.kuraMock!.simulateDrop(["/home/dev/code/weather-app"]));
    await page.waitForSelector('[data-project="weather-app"]');
    expect(await overlay.count()).toBe(0);
    expect(await page.locator('[data-project="weather-app"]').textContent()).toContain("typescript");
    await page.waitForSelector(".notice:has-text('Imported weather-app')");
    await expectNoErrors(page);
  });

  it("renders and scrolls ten thousand projects", async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    const started = Date.now();
    await page.goto(`${server.url}?projects=10000&step=0#/projects`);
    await page.waitForSelector('[data-project="project-00001"]');
    timings.projects_10000_first_render_ms = Date.now() - started;
    const list = page.getByRole("list", { name: "Projects" });
    expect(await list.getAttribute("data-count")).toBe("10003");
    const rendered = await page.locator(".project-row").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(80);

    const scrollStart = Date.now();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await page.waitForSelector('[data-project="project-10000"]');
    timings.projects_10000_scroll_to_end_ms = Date.now() - scrollStart;
    expect(await page.locator(".project-row").count()).toBeLessThan(80);

    // Scrolling through the middle in steps, as a wheel would.
    const stepStart = Date.now();
    for (let i = 1; i <= 20; i++) {
      await list.evaluate((el, f) => (el.scrollTop = el.scrollHeight * f), i / 21);
      await page.evaluate(() => new Promise(requestAnimationFrame));
    }
    timings.projects_10000_twenty_scroll_steps_ms = Date.now() - stepStart;

    const filterStart = Date.now();
    await page.getByLabel("Search projects").fill("project-0999");
    await page.waitForSelector('[data-project="project-09999"]');
    await expect.poll(() => list.getAttribute("data-count")).toBe("10");
    timings.projects_10000_search_ms = Date.now() - filterStart;
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });
});

describe("dashboard with ten thousand projects", () => {
  it("renders its cards and treemap", async () => {
    const page = await browser.newPage({ viewport: { width: 1360, height: 860 } });
    const started = Date.now();
    await page.goto(`${server.url}?projects=10000&step=0#/`);
    await page.getByTestId("card-projects").waitFor();
    await expect.poll(() => page.getByTestId("card-projects").textContent()).toMatch(/10[,.\u202f\s]?00\d/);
    await page.locator("[data-project]").first().waitFor();
    timings.dashboard_10000_first_render_ms = Date.now() - started;
    // Switching views once the app is loaded: the render alone, data included.
    await page.evaluate(() => (window.location.hash = "#/settings"));
    await page.getByRole("heading", { name: "Settings" }).waitFor();
    timings.dashboard_10000_switch_render_ms = await page.evaluate(async () => {
      const t0 = performance.now();
      window.location.hash = "#/";
      while (!document.querySelector("[data-project]")) await new Promise(requestAnimationFrame);
      return Math.round(performance.now() - t0);
    });
    timings.projects_10000_switch_render_ms = await page.evaluate(async () => {
      const t0 = performance.now();
      window.location.hash = "#/projects";
      while (!document.querySelector(".project-row")) await new Promise(requestAnimationFrame);
      return Math.round(performance.now() - t0);
    });
    expect(pageErrors(page)).toEqual([]);
    await page.close();
  });
});

describe("project", () => {
  it("uploads a dropped file, snapshots with Ctrl+S and shows two versions, then their diff", async () => {
    const page = await openApp(browser, server.url, "step=0", "#/projects");
    await page.keyboard.press("Control+n");
    const dialog = page.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("journal");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await page.waitForSelector("h1:text('journal')");

    await page.evaluate(() => window.kuraMock!.simulateDrag(["/home/dev/Downloads/notes.md"]));
    expect(await page.getByTestId("drop-overlay").textContent()).toContain("Drop to upload into journal/");
    await page.evaluate(() => window.kuraMock!.simulateDrop(["/home/dev/Downloads/notes.md"]));
    const row = page.locator("[data-file='notes.md']");
    await row.waitFor();
    expect(await row.textContent()).toContain("new");

    await page.keyboard.press("Control+s");
    const snap = page.getByRole("dialog", { name: "Snapshot journal" });
    await snap.getByLabel(/Message/).fill("Add notes");
    await snap.getByLabel(/Message/).press("Enter");
    await page.waitForSelector(".notice:has-text('Version')");

    await page.getByRole("tab", { name: /History/ }).click();
    const versions = page.locator("[data-version]");
    await expect.poll(() => versions.count()).toBe(2);
    expect(await versions.nth(0).textContent()).toContain("Add notes");
    expect(await versions.nth(1).textContent()).toContain("Created from the empty template");

    // Pick both versions to compare them.
    await page.getByLabel(/Compare version/).nth(1).check();
    await page.getByLabel(/Compare version/).nth(0).check();
    const diff = page.getByRole("region", { name: "Changes in notes.md" });
    await diff.waitFor();
    expect(await diff.textContent()).toContain("Things to remember.");
    expect(await page.locator(".diff .counts").textContent()).toContain("+1");
    await expectNoErrors(page);
  });

  it("restores a file through the confirmation", async () => {
    const page = await openApp(browser, server.url, "step=0", "#/projects");
    await page.click("text=kura-site");
    await page.click("[data-folder=src] button");
    await page.click("[data-file='src/main.ts'] button");
    const preview = page.getByRole("region", { name: "Contents of src/main.ts" });
    await expect.poll(() => preview.textContent()).toContain("Every project, every version");
    const history = page.locator(".preview .history li");
    await expect.poll(() => history.count()).toBe(2);
    await history.nth(1).getByRole("button", { name: "Restore" }).click();

    const confirm = page.getByRole("dialog", { name: "Restore src/main.ts?" });
    const explanation = await confirm.getByTestId("restore-explanation").textContent();
    expect(explanation).toContain("Kura first keeps the current state as a version");
    expect(explanation).toContain("replaces src/main.ts in the folder with its content from that version");
    await confirm.getByRole("button", { name: "Restore file" }).click();

    await page.waitForSelector(".notice:has-text('Restored src/main.ts')");
    await expect.poll(() => preview.textContent()).toContain("Keep every project");
    await page.getByRole("tab", { name: /History/ }).click();
    const versions = page.locator("[data-version]");
    await expect.poll(() => versions.nth(0).textContent()).toContain("Restored src/main.ts from version");
    expect(await versions.nth(1).textContent()).toContain("Before restoring src/main.ts");
    expect(await versions.nth(1).textContent()).toContain("before restore");
    await expectNoErrors(page);
  });
});

describe("settings", () => {
  it("shows the engine's message at a field given an invalid value", async () => {
    const page = await openApp(browser, server.url, "", "#/settings");
    const field = page.getByLabel("Chunk compression level");
    await field.fill("40");
    await field.press("Enter");
    const setting = page.locator('[data-setting="storage.compression_level"]');
    await expect.poll(() => setting.getByRole("alert").textContent()).toContain("storage.compression_level is 40; it must be between 1 and 19");
    expect(await field.getAttribute("aria-invalid")).toBe("true");

    await field.fill("9");
    await field.press("Enter");
    await setting.getByText("Saved").waitFor();
    expect(await setting.getByRole("alert").count()).toBe(0);
    expect(await field.inputValue()).toBe("9");
    await expectNoErrors(page);
  });
});
