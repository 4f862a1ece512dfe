// Page tests of archives, quotas and cleanup against the real engine (`kura serve` on a fresh
// vault), used the way a person would; the numbers come from the CLI's `--json` output.

import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { ArchiveInfo, CleanupReport, Project, QuotaStatus } from "../../src/lib/api/types";
import { formatRatio } from "../../src/lib/archives";
import { formatBytes } from "../../src/lib/format";
import { pageErrors, session } from "./harness";
import { emptyVault, seededVault, writeFiles, type Vault } from "./vault";

const t = session();

async function open(hash: string, vault: Vault = seededVault()): Promise<Page> {
  return t.open(vault, hash);
}

function expectNoErrors(p: Page) {
  expect(pageErrors(p)).toEqual([]);
}

/** Changes one setting on the Settings page the way a person does: type, Enter. */
async function setSetting(p: Page, label: string, value: string) {
  await p.keyboard.press("Control+7");
  const field = p.getByLabel(label, { exact: true });
  await field.fill(value);
  await field.press("Enter");
}

/** Answers the browser's path dialog (the stand-in for the native picker). */
async function answerPath(p: Page, title: string, path: string) {
  const ask = p.getByRole("dialog", { name: title });
  await ask.getByRole("textbox").fill(path);
  await ask.getByRole("button", { name: "Choose" }).click();
  await ask.waitFor({ state: "detached" });
}

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** A tar.gz made with Python's tarfile: `entries` maps names (any, even `../x`) to text. */
function tarGz(path: string, entries: Record<string, string>) {
  const script = `
import io, json, sys, tarfile
entries = json.loads(sys.argv[2])
with tarfile.open(sys.argv[1], "w:gz") as tar:
    for name, text in entries.items():
        data = text.encode()
        info = tarfile.TarInfo(name)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
`;
  execFileSync("python3", ["-c", script, path, JSON.stringify(entries)]);
}

describe("archiving from a project's page", () => {
  it("archives a project, lists it with its ratio, and unarchives it", async () => {
    const p = await open("#/projects");
    const vault = t.kura!.vault;
    await p.click("text=kura-site");
    await p.waitForSelector("h1:text('kura-site')");
    await p.getByTestId("project-more").click();
    await p.getByTestId("archive-project").click();

    const dialog = p.getByRole("dialog", { name: "Archive kura-site?" });
    const explanation = await dialog.getByTestId("archive-explanation").textContent();
    // The seed left two unsaved changes in kura-site (src/render.ts changed, notes/todo.md new).
    expect(explanation).toContain("Kura first takes a version of the 2 changes since the last one");
    expect(explanation).toContain("working folder");
    expect(explanation).toContain("Unarchive brings it back");
    await dialog.getByRole("button", { name: "Archive", exact: true }).click();

    // The page now says the project is archived, and offers Unarchive instead of file actions.
    const notice = p.getByTestId("archived-notice");
    await expect.poll(() => notice.textContent()).toContain("kura-site is archived");
    expect(await p.getByRole("button", { name: "Snapshot" }).count()).toBe(0);
    expect(await p.getByRole("tab", { name: /Files/ }).count()).toBe(0);
    expect(await p.getByTestId("unarchive-project").isVisible()).toBe(true);
    expect(existsSync(join(vault.dir, "projects", "kura-site"))).toBe(false);

    await p.keyboard.press("Control+5");
    const row = p.locator('[data-testid="archive-row"][data-archive="kura-site"]');
    await row.waitFor();
    const archives = vault.json<ArchiveInfo[]>("archives");
    const info = archives.find((a) => a.project_name === "kura-site")!;
    expect(await row.getByTestId("archive-ratio").textContent()).toBe(formatRatio(info.compression_ratio));
    expect(await row.getByTestId("archive-size").textContent()).toBe(formatBytes(info.size));
    expect(await row.getByTestId("archive-original").textContent()).toBe(formatBytes(info.content_size));
    expect(await row.getByTestId("archive-sha").getAttribute("title")).toContain(`SHA-256 ${info.sha256}`);
    expect(await p.getByTestId("archives-count").textContent()).toContain(String(archives.length));

    await row.getByRole("button", { name: "Unarchive" }).click();
    const confirm = p.getByRole("dialog", { name: "Unarchive kura-site?" });
    const what = await confirm.getByTestId("unarchive-explanation").textContent();
    expect(what).toContain("with its folder, files and every version");
    expect(what).toContain(`the archive file (${formatBytes(info.size)}) is removed`);
    await confirm.getByRole("button", { name: "Unarchive", exact: true }).click();
    await p.waitForSelector(".notice:has-text('kura-site is back')");
    await expect.poll(() => row.count()).toBe(0);
    expect(await p.getByTestId("archives-count").textContent()).toContain(String(archives.length - 1));
    expect(vault.json<Project>("project", "show", "kura-site").status).toBe("active");

    await p.keyboard.press("Control+2");
    await p.click("text=kura-site");
    await p.locator("[data-file='index.html']").waitFor();
    await p.getByRole("tab", { name: /History/ }).click();
    await expect.poll(() => p.locator("[data-version]").first().textContent()).toContain("before archive");
    expectNoErrors(p);
  });
});

describe("the cold tier", () => {
  it("moves archives to a target from the view, shows one kept only there, and unarchives it from there", async () => {
    const vault = seededVault();
    // The seeded vault's folder target serves as the cold tier (an S3 bucket works the same).
    vault.run("config", "set", "archive.cold_target", "usb-drive");
    vault.run("config", "set", "archive.keep_local_days", "0");
    const p = await open("#/archives", vault);
    // The view offers to move the archives now, to the target the setting names.
    await p.getByRole("button", { name: "Move to usb-drive now" }).click();
    await p.waitForSelector(".notice:has-text('1 archive uploaded to usb-drive and checked; 1 local file dropped')", { timeout: 30_000 });
    const info = vault.json<ArchiveInfo[]>("archives").find((a) => a.project_name === "ml-notebooks")!;
    expect([info.present, info.cold_target]).toEqual([false, "usb-drive"]);
    const row = p.locator('[data-testid="archive-row"][data-archive="ml-notebooks"]');
    await expect.poll(() => row.getByTestId("archive-where").textContent()).toBe("at usb-drive");
    expect(await row.getByText("file missing").count()).toBe(0);
    await row.getByRole("button", { name: "Unarchive" }).click();
    await p.getByRole("dialog", { name: "Unarchive ml-notebooks?" }).getByRole("button", { name: "Unarchive", exact: true }).click();
    await p.waitForSelector(".notice:has-text('ml-notebooks is back')", { timeout: 30_000 });
    expect(vault.json<Project>("project", "show", "ml-notebooks").status).toBe("active");
    expect(vault.json<ArchiveInfo[]>("archives").find((a) => a.project_name === "ml-notebooks")).toBeUndefined();
    expectNoErrors(p);
  });
});

describe("the archives view", () => {
  it("verifies an archive, and extracts it into a folder typed in the path dialog", async () => {
    const p = await open("#/archives");
    const vault = t.kura!.vault;
    const info = vault.json<ArchiveInfo[]>("archives").find((a) => a.project_name === "ml-notebooks")!;
    const row = p.locator('[data-archive="ml-notebooks"]');
    await row.getByRole("button", { name: "Verify" }).click();
    await expect.poll(() => p.getByTestId("archive-verify-result").textContent()).toContain("Sound — the checksum matches");

    await row.getByRole("button", { name: "Extract…" }).click();
    const extract = p.getByRole("dialog", { name: "Extract ml-notebooks" });
    await extract.getByRole("button", { name: "Choose…" }).click();
    const restored = join(vault.root, "restored");
    await answerPath(p, "Extract into which folder?", restored);
    const dest = extract.getByTestId("extract-dest");
    await expect.poll(() => dest.inputValue()).toMatch(new RegExp(`^${restored}/ml-notebooks-\\d{8}-[0-9a-f]{8}$`));
    const folder = await dest.inputValue();
    await extract.getByRole("button", { name: "Extract", exact: true }).click();
    const notice = p.locator(".notice", { hasText: `to ${folder}` });
    await notice.waitFor();
    // What the notice counts is what is on disk, the project's files among them.
    const written = files(folder);
    expect(await notice.textContent()).toContain(`Extracted ${written.length} files`);
    expect(written.length).toBeGreaterThanOrEqual(info.file_count);
    const train = written.find((f) => f.endsWith("/train.py"))!;
    expect(readFileSync(train, "utf8")).toContain("print(math.pi)");
    expectNoErrors(p);
  });

  it("imports archives, refusing an escaping one and a cut-off one by their code", async () => {
    const p = await open("#/archives");
    const vault = t.kura!.vault;
    const downloads = join(vault.root, "Downloads");
    writeFiles(downloads, { ".keep": "" });
    tarGz(join(downloads, "suspicious.tar.gz"), { "ok.txt": "fine\n", "../../.bashrc": "echo owned\n" });
    tarGz(join(downloads, "landing-page.tar.gz"), { "index.html": "<h1>Landing</h1>\n", "style.css": "h1 { color: teal }\n" });
    const whole = readFileSync(vault.json<ArchiveInfo[]>("archives")[0].path);
    writeFileSync(join(downloads, "cut-off.tar.zst"), whole.subarray(0, Math.floor(whole.length / 2)));

    await p.getByTestId("import-archive").click();
    const dialog = p.getByRole("dialog", { name: "Import an archive" });
    await dialog.getByRole("button", { name: "Choose…" }).click();
    await answerPath(p, "Choose an archive to import", join(downloads, "suspicious.tar.gz"));
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    const refusal = dialog.getByTestId("import-archive-error");
    await expect.poll(() => refusal.getAttribute("data-code")).toBe("path_escape");
    expect(await refusal.textContent()).toContain("../../.bashrc");

    await dialog.getByLabel("Archive file").fill(join(downloads, "cut-off.tar.zst"));
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    await expect.poll(() => refusal.getAttribute("data-code")).toBe("corrupt");

    await dialog.getByRole("button", { name: "Choose…" }).click();
    await answerPath(p, "Choose an archive to import", join(downloads, "landing-page.tar.gz"));
    await dialog.getByRole("button", { name: "Import", exact: true }).click();
    await p.waitForSelector("h1:text('landing-page')");
    await p.locator("[data-file='index.html']").waitFor();
    expect(vault.json<Project>("project", "show", "landing-page").file_count).toBe(2);
    // Nothing of the refused archives reached the vault.
    expect(vault.json<Project[]>("project", "list").map((x) => x.name)).not.toContain("suspicious");
    expectNoErrors(p);
  });

  it("says so when there are no archives", async () => {
    const p = await open("#/archives", emptyVault());
    await p.getByRole("heading", { name: "No archives yet" }).waitFor();
    expect(await p.getByTestId("archives-count").textContent()).toContain("0");
    expectNoErrors(p);
  });
});

describe("cleanup", () => {
  it("previews what would go, cleans up, and records both runs as the engine does", async () => {
    const p = await open("#/cleanup");
    const vault = t.kura!.vault;
    // The default schedule, daily at 03:00.
    await expect.poll(() => p.getByTestId("cleanup-next-run").textContent()).toMatch(/Next run:\s+(today|tomorrow) at 03:00\s*$/);
    await p.getByTestId("cleanup-preview-button").click();
    const preview = p.getByTestId("cleanup-preview");
    await preview.waitFor();
    const [dry] = vault.json<CleanupReport[]>("cleanup", "history");
    expect(dry.dry_run).toBe(true);
    for (const category of dry.categories) {
      expect(await preview.locator(`[data-category="${category.category}"]`).getByTestId("category-bytes").textContent()).toBe(formatBytes(category.bytes_freed));
    }
    expect(await p.getByTestId("cleanup-total").textContent()).toContain("Preview, nothing changed yet");
    await expect.poll(() => p.getByTestId("cleanup-run").count()).toBe(1);
    expect(await p.getByTestId("cleanup-run").first().textContent()).toContain("preview");

    await p.getByTestId("cleanup-run-button").click();
    const confirm = p.getByRole("dialog", { name: "Clean up now?" });
    expect(await confirm.getByTestId("cleanup-confirm").textContent()).toContain("Projects purged from the trash are deleted for good.");
    await confirm.getByRole("button", { name: "Clean up", exact: true }).click();
    await p.getByTestId("cleanup-result").waitFor();
    const [done] = vault.json<CleanupReport[]>("cleanup", "history");
    expect(done.dry_run).toBe(false);
    expect(await p.getByTestId("cleanup-total").textContent()).toContain(`${formatBytes(done.bytes_freed)} freed`);
    await expect.poll(() => p.getByTestId("cleanup-run").count()).toBe(2);
    const latest = p.getByTestId("cleanup-run").first();
    expect(await latest.textContent()).toContain("cleaned");
    expect(await latest.getByTestId("run-total").textContent()).toBe(formatBytes(done.bytes_freed));
    expectNoErrors(p);
  });

  it("does not run with no category picked", async () => {
    const p = await open("#/cleanup", emptyVault());
    for (const c of ["trash", "archive", "versions", "chunks", "cache"]) await p.locator(`[data-category="${c}"] input`).uncheck();
    expect(await p.getByTestId("cleanup-preview-button").isDisabled()).toBe(true);
    expect(await p.getByTestId("cleanup-run-button").isDisabled()).toBe(true);
    expect(await p.getByText("Pick at least one category.").isVisible()).toBe(true);
    expectNoErrors(p);
  });
});

describe("quotas", () => {
  it("warns on the dashboard once a total quota is set, and says when it is exceeded", async () => {
    const p = await open("#/dashboard");
    const vault = t.kura!.vault;
    const panel = p.getByTestId("quota-panel");
    await expect.poll(() => panel.textContent()).toContain("No total quota set");
    expect(await panel.getByTestId("quota-gauge").count()).toBe(0);

    const used = vault.json<QuotaStatus>("quota").total.used;
    const kib = Math.ceil(used / 0.85 / 1024);
    await setSetting(p, "Total quota", `${kib} KiB`);
    await p.locator('[data-setting="quota.total_quota"]').getByText("Saved").waitFor();

    await p.keyboard.press("Control+1");
    const gauge = panel.getByTestId("quota-gauge");
    const near = vault.json<QuotaStatus>("quota").total;
    expect(near.level).toBe("warning80");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe(near.level);
    expect(await gauge.getByTestId("quota-level").textContent()).toBe("Over 80% of the limit");
    expect(await gauge.textContent()).toContain(`${formatBytes(near.used)} of ${formatBytes(near.limit)}`);
    expect(await panel.getByTestId("quota-warnings").textContent()).toContain("the vault uses");

    await setSetting(p, "Total quota", `${Math.floor(used / 1024) - 64} KiB`);
    await p.locator('[data-setting="quota.total_quota"]').getByText("Saved").waitFor();
    await p.keyboard.press("Control+1");
    expect(vault.json<QuotaStatus>("quota").total.level).toBe("exceeded");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe("exceeded");
    expect(await gauge.getByTestId("quota-level").textContent()).toBe("Over the limit");
    expect(await panel.getByTestId("quota-warnings").textContent()).toContain("the vault is over its limit");
    expectNoErrors(p);
  });

  it("shows a project against its size limit, or that there is none", async () => {
    const p = await open("#/projects");
    const vault = t.kura!.vault;
    await p.click("text=billing-api");
    const quota = p.getByTestId("project-quota");
    await expect.poll(() => quota.textContent()).toContain("no limit set");

    const used = vault.json<QuotaStatus>("quota").projects.find((q) => q.name === "billing-api")!.used;
    const kib = Math.ceil(used / 0.85 / 1024);
    await setSetting(p, "Largest project", `${kib} KiB`);
    await p.locator('[data-setting="quota.max_project_size"]').getByText("Saved").waitFor();
    const billing = vault.json<QuotaStatus>("quota").projects.find((q) => q.name === "billing-api")!;
    await p.keyboard.press("Control+2");
    await p.click("text=billing-api");
    const gauge = quota.getByTestId("quota-gauge");
    await expect.poll(() => gauge.getAttribute("data-level")).toBe(billing.level);
    expect(await gauge.textContent()).toContain(`of ${formatBytes(billing.limit)} (${Math.round(billing.fraction! * 100)}%)`);
    expectNoErrors(p);
  });

  it("shows the engine's message at a setting given a bad value", async () => {
    const p = await open("#/settings", emptyVault());
    const vault = t.kura!.vault;
    await setSetting(p, "Total quota", "lots");
    const quota = p.locator('[data-setting="quota.total_quota"]');
    await expect.poll(() => quota.getByRole("alert").textContent()).toBe(vault.refusal("config", "set", "quota.total_quota", "lots"));
    expect(await p.getByLabel("Total quota", { exact: true }).getAttribute("aria-invalid")).toBe("true");

    await setSetting(p, "Schedule", "sometimes");
    const schedule = p.locator('[data-setting="cleanup.schedule"]');
    await expect.poll(() => schedule.getByRole("alert").textContent()).toBe(vault.refusal("config", "set", "cleanup.schedule", "sometimes"));

    await setSetting(p, "Schedule", "weekly on sun at 04:00");
    await schedule.getByText("Saved").waitFor();
    await p.keyboard.press("Control+6");
    await expect.poll(() => p.getByTestId("cleanup-schedule").textContent()).toContain("Runs weekly on sun at 04:00");
    expectNoErrors(p);
  });
});
