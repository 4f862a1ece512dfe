// Page tests: the built UI served by the real `kura serve` on a fresh vault, in headless
// Chromium, used the way a person would. Numbers come from the CLI's `--json` output.

import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { afterAll, describe, expect, it } from "vitest";
import type { Project, Stats, Version } from "../../src/lib/api/types";
import { formatBytes } from "../../src/lib/format";
import { seriousViolations } from "./axe";
import { pageErrors, RESULTS, session, startKura, text, watchErrors } from "./harness";
import { emptyVault, seededVault, writeFiles, type Vault } from "./vault";

const timings: Record<string, number> = {};

const t = session();

afterAll(() => {
  mkdirSync(RESULTS, { recursive: true });
  writeFileSync(join(RESULTS, "timings.json"), JSON.stringify({ recorded_at: new Date().toISOString(), ...timings }, null, 2) + "\n");
});

async function open(hash: string, vault: Vault = seededVault()): Promise<Page> {
  mkdirSync(RESULTS, { recursive: true });
  return t.open(vault, hash);
}

function expectNoErrors(p: Page) {
  expect(pageErrors(p)).toEqual([]);
}

/** Creates `count` projects through the API from the signed-in page, eight at a time. */
async function createProjects(p: Page, count: number) {
  await p.evaluate(async (count) => {
    const csrf = decodeURIComponent(document.cookie.match(/(?:^|; )kura_csrf=([^;]*)/)?.[1] ?? "");
    let next = 1;
    const worker = async () => {
      while (next <= count) {
        const n = next++;
        const response = await fetch("/v1/projects", {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-Kura-CSRF": csrf },
          body: JSON.stringify({ name: `project-${String(n).padStart(5, "0")}`, workspace: null, template: null, kind: null, description: "", tags: [] }),
        });
        if (!response.ok) throw new Error(`creating project ${n}: ${response.status} ${await response.text()}`);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
  }, count);
}

/** Drops `files` (name → text) onto the page as a person dragging them from the desktop would. */
async function dropFiles(p: Page, files: Record<string, string>, at = { x: 600, y: 400 }) {
  await p.evaluate(
    ({ files, at }) => {
      const data = new DataTransfer();
      for (const [name, text] of Object.entries(files)) data.items.add(new File([text], name, { type: "text/plain" }));
      const fire = (type: string) => window.dispatchEvent(new DragEvent(type, { dataTransfer: data, clientX: at.x, clientY: at.y, bubbles: true, cancelable: true }));
      fire("dragenter");
      fire("dragover");
      (window as unknown as { kuraDrop: () => void }).kuraDrop = () => fire("drop");
    },
    { files, at },
  );
}

const MANY = 200;

describe("dashboard", () => {
  it("shows the vault's numbers, as the engine counts them", async () => {
    const vault = seededVault();
    // What the vault takes on disk moves by a few KB as SQLite's write-ahead logs fill and are
    // checkpointed (each command that opens the vault may do either): the engine counts it
    // before the page loads and after the page shows its numbers, and the page shows one of the
    // two counts.
    const before = vault.json<Stats>("stats");
    const p = await open("#/dashboard", vault);
    const projects = p.getByTestId("card-projects");
    const total = before.projects.active + before.projects.archived + before.projects.deleted;
    await expect.poll(() => projects.textContent()).toContain(String(total));
    const shown = {
      projects: await projects.textContent(),
      latest: await p.getByTestId("card-latest").textContent(),
      onDisk: await p.getByTestId("card-on-disk").textContent(),
      saved: await p.getByTestId("card-saved").textContent(),
      gauge: await p.getByTestId("disk-gauge").textContent(),
    };
    const stats = t.kura!.vault.json<Stats>("stats");
    const either = (text: string | null, of: (s: Stats) => string) => {
      const counts = [of(before), of(stats)];
      expect(counts.some((c) => text?.includes(c)), `${JSON.stringify(text)} shows ${counts.join(" or ")}`).toBe(true);
    };
    expect(shown.projects).toContain(`${stats.projects.active} active · ${stats.projects.archived} archived · ${stats.projects.deleted} in trash`);
    either(shown.latest, (s) => formatBytes(s.latest_bytes));
    either(shown.onDisk, (s) => formatBytes(s.on_disk_bytes));
    either(shown.saved, (s) => (s.saved_bytes > 0 ? formatBytes(s.saved_bytes) : `in ${formatBytes(s.versions_on_disk_bytes)}. With this little data`));
    either(shown.gauge, (s) => `free of ${formatBytes(s.disk_total_bytes)}`);
    // Exact numbers on hover, in the treemap.
    await p.hover('[data-project="billing-api"]');
    const billing = stats.projects_usage.find((u) => u.name === "billing-api")!;
    expect(await p.getByTestId("treemap-detail").textContent()).toContain(`${billing.stored_bytes.toLocaleString("en-US")} bytes stored for its versions`);
    await p.screenshot({ path: join(RESULTS, "dashboard.png") });
    expectNoErrors(p);
  });

  it(`renders its cards and treemap with ${MANY} more projects`, async () => {
    const p = await open("#/settings");
    await createProjects(p, MANY);
    const started = Date.now();
    await p.evaluate(() => (window.location.hash = "#/"));
    const total = t.kura!.vault.json<Stats>("stats").projects;
    await expect.poll(() => p.getByTestId("card-projects").textContent()).toContain(String(total.active + total.archived + total.deleted));
    await p.locator("[data-project]").first().waitFor();
    timings[`dashboard_${MANY}_render_ms`] = Date.now() - started;
    expectNoErrors(p);
  });
});

describe("projects", () => {
  it("creates a project, and highlights the name when it is taken", async () => {
    const p = await open("#/projects");
    await p.waitForSelector('[data-project="kura-site"]');
    await p.keyboard.press("Control+n");
    const dialog = p.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("kura-site");
    await dialog.getByRole("button", { name: "Create project" }).click();
    const name = dialog.getByLabel("Name");
    await expect.poll(() => name.getAttribute("aria-invalid")).toBe("true");
    expect(await dialog.locator("[data-field-error=name]").textContent()).toContain("kura-site");

    await name.fill("notes-app");
    await dialog.getByLabel("Start from").selectOption("backend");
    await dialog.getByLabel(/Tags/).fill("notes, rust");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await p.waitForSelector("h1:text('notes-app')");
    // The file list arrives after the header.
    await expect.poll(() => p.locator("[data-file='Cargo.toml']").count()).toBe(1);
    expect(await p.locator(".project-header").textContent()).toContain("#notes");
    const created = t.kura!.vault.json<Project>("project", "show", "notes-app");
    expect(created.tags.sort()).toEqual(["notes", "rust"]);

    await p.keyboard.press("Control+2");
    await p.waitForSelector('[data-project="notes-app"]');
    expectNoErrors(p);
  });

  it("imports a folder whose path is typed in the browser's path dialog", async () => {
    const p = await open("#/projects");
    const vault = t.kura!.vault;
    const folder = join(vault.root, "code", "weather-app");
    writeFiles(folder, { "package.json": '{ "name": "weather-app", "dependencies": { "svelte": "5" } }\n', "src/app.ts": "export const city = 'Oslo';\n" });
    // A link out of the folder: no version holds it, and the import says so.
    symlinkSync("/etc", join(folder, "system-config"));
    await p.getByRole("button", { name: "Import folder…" }).click();
    const dialog = p.getByRole("dialog", { name: "Import a folder" });
    await dialog.getByRole("button", { name: "Choose…" }).click();
    const ask = p.getByRole("dialog", { name: "Choose a folder to import" });
    expect(await ask.textContent()).toContain("a browser cannot open that computer's picker");
    await ask.getByRole("textbox").fill(folder);
    await ask.getByRole("button", { name: "Choose" }).click();
    await expect.poll(() => dialog.getByRole("textbox", { name: "Folder", exact: true }).inputValue()).toBe(folder);
    await dialog.getByRole("button", { name: /^Import/ }).last().click();
    await p.waitForSelector(".notice:has-text('Imported weather-app (2 files)')");
    await p.waitForSelector(".notice:has-text('1 file or folder of weather-app could not be taken in and is not in its first version: system-config.')");
    // The dialog opens the new project's page.
    await p.waitForSelector("h1:text('weather-app')");
    await p.locator("[data-file='package.json']").waitFor();
    const imported = vault.json<Project>("project", "show", "weather-app");
    expect(imported.file_count).toBe(2);
    await p.keyboard.press("Control+2");
    const row = p.locator('[data-project="weather-app"]');
    await row.waitFor();
    for (const language of imported.languages) expect(await row.textContent()).toContain(language);
    expectNoErrors(p);
  });

  it("says dropped loose files need a project page, and shows the overlay while dragging", async () => {
    const p = await open("#/projects");
    await p.waitForSelector('[data-project="kura-site"]');
    await dropFiles(p, { "notes.md": "hello\n" });
    const overlay = p.getByTestId("drop-overlay");
    await overlay.waitFor();
    expect(await overlay.textContent()).toContain("Drop to import as a new project");
    await p.evaluate(() => (window as unknown as { kuraDrop: () => void }).kuraDrop());
    await p.waitForSelector(".notice:has-text('Only folders become projects')");
    expect(await overlay.count()).toBe(0);
    expectNoErrors(p);
  });

  it("follows changes made elsewhere (another client of the API) through the event stream", async () => {
    const p = await open("#/projects");
    await p.waitForSelector('[data-project="kura-site"]');
    const token = t.kura!.vault.run("serve", "token", "--scope", "write").trim();
    const response = await fetch(`${t.kura!.url}/v1/projects`, {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name: "from-an-agent", workspace: null, template: null, kind: "generation", description: "", tags: [] }),
    });
    expect(response.status).toBe(201);
    // No reload: the page hears `vault.changed` and lists it.
    await p.waitForSelector('[data-project="from-an-agent"]');
    await p.keyboard.press("Control+1");
    const total = t.kura!.vault.json<Stats>("stats").projects;
    await expect.poll(() => p.getByTestId("card-projects").textContent()).toContain(`${total.active} active`);
    expectNoErrors(p);
  });

  it(`renders and scrolls ${MANY} more projects`, async () => {
    const p = await open("#/settings");
    await createProjects(p, MANY);
    const started = Date.now();
    await p.evaluate(() => (window.location.hash = "#/projects"));
    await p.waitForSelector('[data-project="project-00001"]');
    timings[`projects_${MANY}_first_render_ms`] = Date.now() - started;
    const expected = t.kura!.vault.json<Project[]>("project", "list").length;
    const list = p.getByRole("list", { name: "Projects" });
    expect(await list.getAttribute("data-count")).toBe(String(expected));
    const rendered = await p.locator(".project-row").count();
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(80);

    const scrollStart = Date.now();
    await list.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await p.waitForSelector(`[data-project="project-${String(MANY).padStart(5, "0")}"]`);
    timings[`projects_${MANY}_scroll_to_end_ms`] = Date.now() - scrollStart;
    expect(await p.locator(".project-row").count()).toBeLessThan(80);

    const filterStart = Date.now();
    await p.getByLabel("Search projects").fill("project-0019");
    await p.waitForSelector('[data-project="project-00199"]');
    await expect.poll(() => list.getAttribute("data-count")).toBe("10");
    timings[`projects_${MANY}_search_ms`] = Date.now() - filterStart;
    expectNoErrors(p);
  });
});

describe("project", () => {
  it("uploads a file dropped into the browser, snapshots with Ctrl+S and shows two versions, then their diff", async () => {
    const p = await open("#/projects");
    await p.keyboard.press("Control+n");
    const dialog = p.getByRole("dialog", { name: "New project" });
    await dialog.getByLabel("Name").fill("journal");
    await dialog.getByRole("button", { name: "Create project" }).click();
    await p.waitForSelector("h1:text('journal')");

    await dropFiles(p, { "notes.md": "# Notes\n\nThings to remember.\n" });
    expect(await p.getByTestId("drop-overlay").textContent()).toContain("Drop to upload into journal/");
    await p.evaluate(() => (window as unknown as { kuraDrop: () => void }).kuraDrop());
    const row = p.locator("[data-file='notes.md']");
    await row.waitFor();
    expect(await row.textContent()).toContain("new");

    await p.keyboard.press("Control+s");
    const snap = p.getByRole("dialog", { name: "Snapshot journal" });
    await snap.getByLabel(/Message/).fill("Add notes");
    await snap.getByLabel(/Message/).press("Enter");
    // The snapshot's own notice ("Version 1a2b3c4 of journal: ..."): `:has-text` ignores case,
    // and the upload's notice before it already says "... keep them as a version".
    await p.locator(".notice", { hasText: /Version \w+ of journal/ }).waitFor();

    const history = t.kura!.vault.json<Version[]>("history", "journal");
    expect(history[0].message).toBe("Add notes");
    await p.getByRole("tab", { name: /History/ }).click();
    const versions = p.locator("[data-version]");
    await expect.poll(() => versions.count()).toBe(history.length);
    expect(await versions.nth(0).textContent()).toContain("Add notes");
    expect(await versions.nth(1).textContent()).toContain(history[1].message);

    // Pick both versions to compare them.
    await p.getByLabel(/Compare version/).nth(1).check();
    await p.getByLabel(/Compare version/).nth(0).check();
    const diff = p.getByRole("region", { name: "Changes in notes.md" });
    await diff.waitFor();
    expect(await diff.textContent()).toContain("Things to remember.");
    // One file added.
    expect(await p.locator(".diff .counts").textContent()).toContain("+1");
    expectNoErrors(p);
  });

  it("uploads files chosen with the browser's file picker into the folder on screen", async () => {
    const p = await open("#/projects");
    await p.click("text=kura-site");
    await p.click("[data-folder=src] button");
    await p.getByTestId("upload-input").setInputFiles([
      { name: "util.ts", mimeType: "text/plain", buffer: Buffer.from("export const id = <T>(x: T) => x;\n") },
      { name: "logo.svg", mimeType: "image/svg+xml", buffer: Buffer.from("<svg xmlns='http://www.w3.org/2000/svg'/>\n") },
    ]);
    await p.waitForSelector(".notice:has-text('Added 2 files')");
    await p.locator("[data-file='src/util.ts']").waitFor();
    expect(await p.locator("[data-file='src/util.ts']").textContent()).toContain("new");
    const files = t.kura!.vault.run("files", "kura-site");
    expect(files).toContain("src/util.ts");
    expect(files).toContain("src/logo.svg");
    await p.screenshot({ path: join(RESULTS, "project-upload.png") });
    expectNoErrors(p);
  });

  it("restores a file through the confirmation, keeping unsaved changes in a version first", async () => {
    const p = await open("#/projects");
    const vault = t.kura!.vault;
    await p.click("text=kura-site");
    await p.click("[data-folder=src] button");
    await p.click("[data-file='src/main.ts'] button");
    const preview = p.getByRole("region", { name: "Contents of src/main.ts" });
    await expect.poll(() => preview.textContent()).toContain("Keep every project, and every version of it.");
    await p.screenshot({ path: join(RESULTS, "project.png") });
    const fileHistory = vault.json<Version[]>("history", "kura-site", "--file", "src/main.ts");
    const history = p.locator(".preview .history li");
    await expect.poll(() => history.count()).toBe(fileHistory.length);
    const first = fileHistory.findIndex((v) => v.message === "First page");
    await history.nth(first).getByRole("button", { name: "Restore" }).click();

    const confirm = p.getByRole("dialog", { name: "Restore src/main.ts?" });
    const explanation = await confirm.getByTestId("restore-explanation").textContent();
    expect(explanation).toContain("Kura first keeps the current state as a version");
    expect(explanation).toContain("replaces src/main.ts in the folder with its content from that version");
    await confirm.getByRole("button", { name: "Restore file" }).click();

    await p.waitForSelector(".notice:has-text('Restored src/main.ts')");
    await expect.poll(() => preview.textContent()).toContain("Every project, every version.");
    const after = vault.json<Version[]>("history", "kura-site");
    await p.getByRole("tab", { name: /History/ }).click();
    const versions = p.locator("[data-version]");
    await expect.poll(() => versions.count()).toBe(after.length);
    expect(await versions.nth(0).textContent()).toContain(after[0].message);
    // kura-site had two unsaved changes: they are in the version before the restore.
    expect(after[1].trigger).toBe("before_restore");
    expect(await versions.nth(1).textContent()).toContain("before restore");
    expectNoErrors(p);
  });
  it("restores a project to its first version after saying which files it writes and removes", async () => {
    const p = await open("#/projects");
    const vault = t.kura!.vault;
    await p.click("text=kura-site");
    await p.getByRole("tab", { name: /History/ }).click();
    const history = vault.json<Version[]>("history", "kura-site");
    const versions = p.locator("[data-version]");
    await expect.poll(() => versions.count()).toBe(history.length);
    const first = history.length - 1;
    await versions.nth(first).getByRole("button", { name: "Restore…" }).click();

    const confirm = p.getByRole("dialog", { name: `Restore kura-site to version ${history[first].short_id}?` });
    const explanation = confirm.getByTestId("restore-explanation");
    await expect.poll(async () => (await explanation.textContent()) ?? "").toMatch(/match that version: it (writes|removes) /);
    const said = (await explanation.textContent()) ?? "";
    const writes = Number(/writes (\d+) files?/.exec(said)?.[1] ?? 0);
    const removes = Number(/removes (\d+) files?/.exec(said)?.[1] ?? 0);
    // The later versions added files the first did not have: the plan removes them.
    expect(removes).toBeGreaterThan(0);
    await confirm.getByRole("button", { name: "Show files" }).click();
    expect(await confirm.locator(".files li").count()).toBe(writes + removes);
    await p.screenshot({ path: join(RESULTS, "project-restore-plan.png") });
    await confirm.getByRole("button", { name: "Restore project" }).click();

    const notice = p.locator(".notice", { hasText: "Restored kura-site to version" });
    await notice.waitFor();
    expect(await notice.textContent()).toContain(`${writes === 1 ? "1 file" : `${writes} files`} written`);
    expect(await notice.textContent()).toContain(`${removes} removed`);
    const files = vault.run("files", "kura-site");
    for (const gone of vault.json<{ files: { path: string; change: string }[] }>("diff", "kura-site", history[first].id, history[0].id).files) {
      if (gone.change === "added") expect(files).not.toContain(gone.path);
    }
    expectNoErrors(p);
  });
});

describe("signing in", () => {
  it("signs a browser in with a pasted token, after saying a wrong one is not valid", async () => {
    t.kura = await startKura(emptyVault());
    const context = await t.browser.newContext({ viewport: { width: 1360, height: 860 } });
    t.page = await context.newPage();
    await t.page.goto(`${t.kura.url}/#/dashboard`);
    const form = t.page.getByRole("form", { name: "Sign in to Kura" });
    await form.waitFor();
    expect(await form.textContent()).toContain("not signed in");
    expect(await form.textContent()).toContain("kura serve link");
    mkdirSync(RESULTS, { recursive: true });
    await t.page.screenshot({ path: join(RESULTS, "signed-out.png") });

    const field = form.getByLabel("Token");
    expect(await field.getAttribute("type")).toBe("password");
    await field.fill(`kura_admin_${"0".repeat(64)}`);
    await form.getByRole("button", { name: "Sign in" }).click();
    await form.getByRole("alert").waitFor();
    expect(await form.getByRole("alert").textContent()).toContain("not valid for this server");
    expect(await field.getAttribute("aria-invalid")).toBe("true");
    expect(await t.page.locator("nav.sidebar").count()).toBe(0);

    // The token `kura serve token` prints, pasted with the blanks a terminal copies along.
    const { token } = t.kura.vault.json<{ token: string }>("serve", "token");
    await field.fill(`  ${token} `);
    await form.getByRole("button", { name: "Sign in" }).click();
    await t.page.waitForSelector("nav.sidebar");
    await t.page.getByTestId("card-projects").waitFor();
    expect(await form.count()).toBe(0);
    // The session is a cookie: the page loads signed in from now on.
    await t.page.reload();
    await t.page.getByTestId("card-projects").waitFor();
    expect(await form.count()).toBe(0);
  });

  it("offers a browser what its token's scope may do, and says why the rest is not offered", async () => {
    const vault = emptyVault();
    const id = vault.json<{ id: string }>("project", "create", "site").id;
    writeFiles(vault.folder("site"), { "index.html": "<h1>Two</h1>\n" });
    vault.run("snapshot", "site", "-m", "second");
    t.kura = await startKura(vault);
    const signIn = async (scope: "read" | "write") => {
      const context = await t.browser.newContext({ viewport: { width: 1360, height: 860 } });
      const page = watchErrors(await context.newPage());
      await page.goto(`${t.kura!.url}/#/project/${id}`);
      const form = page.getByRole("form", { name: "Sign in to Kura" });
      await form.getByLabel("Token").fill(vault.json<{ token: string }>("serve", "token", "--scope", scope).token);
      await form.getByRole("button", { name: "Sign in" }).click();
      await page.waitForSelector("nav.sidebar");
      return page;
    };

    // A write token snapshots, and is told that restoring (which may overwrite what no version
    // holds) needs an admin token, before it tries.
    const writer = await signIn("write");
    expect(await text(writer.getByTestId("session-scope"))).toContain("Signed in with a write token");
    const snapshot = writer.getByTestId("snapshot-project");
    expect(await snapshot.isEnabled()).toBe(true);
    await writer.getByRole("tab", { name: /History/ }).click();
    await writer.getByRole("button", { name: "Restore…" }).first().click();
    expect(await text(writer.getByTestId("restore-refused"))).toContain("this needs an admin token");
    expect(await writer.getByRole("button", { name: "Restore project" }).isDisabled()).toBe(true);
    await writer.screenshot({ path: join(RESULTS, "write-token-restore.png") });
    // What it says and what it disables reach a screen reader too.
    expect(await seriousViolations(writer, "a write session's restore dialog")).toEqual([]);
    // Settings are shown, and changed only by an admin.
    await writer.goto(`${t.kura!.url}/#/settings`);
    expect(await text(writer.getByTestId("settings-refused"))).toContain("this needs an admin token");
    expect(await writer.getByLabel("Chunk compression level").isDisabled()).toBe(true);
    expect(pageErrors(writer)).toEqual([]);
    await writer.context().close();

    // A read token looks: no snapshot, no new project, each saying why.
    const reader = await signIn("read");
    expect(await text(reader.getByTestId("session-scope"))).toContain("you can look, not change");
    expect(await reader.getByTestId("snapshot-project").isDisabled()).toBe(true);
    expect(await reader.getByTestId("snapshot-project").getAttribute("title")).toContain("needs a write token");
    await reader.goto(`${t.kura!.url}/#/projects`);
    await reader.getByTestId("new-project").waitFor();
    expect(await reader.getByTestId("new-project").isDisabled()).toBe(true);
    // Its shortcut says why instead of opening a form that would be refused.
    await reader.keyboard.press("Control+n");
    await expect.poll(() => text(reader.locator(".notices"))).toContain("needs a write token");
    expect(await reader.getByRole("dialog").count()).toBe(0);
    expect(await seriousViolations(reader, "a read session's projects")).toEqual([]);
    expect(pageErrors(reader)).toEqual([]);
    await reader.context().close();
  });

  it("signs a browser in with the one-time link, once", async () => {
    t.kura = await startKura(emptyVault());
    const context = await t.browser.newContext({ viewport: { width: 1360, height: 860 } });
    t.page = await context.newPage();
    await t.page.goto(t.kura.signIn);
    await t.page.waitForSelector("nav.sidebar");
    await t.page.getByTestId("card-projects").waitFor();
    // The link is spent: another browser cannot use it.
    const other = await (await t.browser.newContext()).newPage();
    const response = await other.goto(t.kura.signIn);
    expect(response?.status()).toBeGreaterThanOrEqual(400);
    await other.context().close();
  });
});

describe("settings", () => {
  it("shows the engine's message at a field given an invalid value", async () => {
    const p = await open("#/settings", emptyVault());
    const field = p.getByLabel("Chunk compression level");
    await field.fill("40");
    await field.press("Enter");
    const setting = p.locator('[data-setting="storage.compression_level"]');
    await expect.poll(() => setting.getByRole("alert").textContent()).toContain("storage.compression_level");
    expect(await setting.getByRole("alert").textContent()).toContain("40");
    expect(await field.getAttribute("aria-invalid")).toBe("true");

    await field.fill("9");
    await field.press("Enter");
    await setting.getByText("Saved").waitFor();
    expect(await setting.getByRole("alert").count()).toBe(0);
    expect(await field.inputValue()).toBe("9");
    expect(t.kura!.vault.json<{ storage: { compression_level: number } }>("config", "show").storage.compression_level).toBe(9);
    expectNoErrors(p);
  });

  it("shows a browser only the theme of the app's own settings, which it keeps across reloads", async () => {
    const p = await open("#/settings", emptyVault());
    const section = p.getByTestId("settings-app");
    await section.waitFor();
    // Start at login, the tray, notifications, the editor, the app's log and its first-run
    // question belong to the window.
    expect(await p.getByTestId("settings-logs").count()).toBe(0);
    expect(await p.getByTestId("first-run-banner").count()).toBe(0);
    expect(await p.getByText("Start Kura when I log in").count()).toBe(0);
    expect(await section.getByText("Notifications").count()).toBe(0);
    expect(await section.getByLabel("Editor").count()).toBe(0);

    // The browser runs in a light system theme: "System" is light.
    const background = () => p.evaluate(() => getComputedStyle(document.body).backgroundColor);
    const theme = section.getByRole("radiogroup", { name: "Theme" });
    expect(await theme.getByRole("radio", { name: "System" }).isChecked()).toBe(true);
    expect(await background()).toBe("rgb(251, 251, 252)");
    await theme.getByText("Dark").click();
    expect(await background()).toBe("rgb(22, 24, 29)");
    expect(await p.evaluate(() => document.documentElement.dataset.theme)).toBe("dark");
    await p.reload();
    await p.getByTestId("settings-app").waitFor();
    expect(await background()).toBe("rgb(22, 24, 29)");
    expect(await p.getByRole("radio", { name: "Dark" }).isChecked()).toBe(true);
    // Back to the system's: light again, and dark as soon as the system turns dark.
    await p.getByTestId("theme").getByText("System").click();
    expect(await background()).toBe("rgb(251, 251, 252)");
    await p.emulateMedia({ colorScheme: "dark" });
    await expect.poll(background).toBe("rgb(22, 24, 29)");
    expectNoErrors(p);
  });
});
