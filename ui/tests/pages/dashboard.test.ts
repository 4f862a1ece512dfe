// The dashboard's figures agree: with each other (the layers add up to "On disk"), with the
// engine's (`kura stats --json`), and with `du` of the vault folder. The vault is built through
// the `kura` CLI with content of known sizes.

import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { Stats } from "../../src/lib/api/types";
import { formatBytes } from "../../src/lib/format";
import { pageErrors, RESULTS, session } from "./harness";
import { emptyVault, noise, writeFiles, type Vault } from "./vault";

const t = session();

async function open(vault: Vault): Promise<Page> {
  mkdirSync(RESULTS, { recursive: true });
  const p = await t.open(vault, "#/dashboard");
  await p.getByTestId("on-disk").waitFor();
  return p;
}

/** The whole dashboard (the view scrolls inside the window, so the window is made tall enough). */
async function screenshot(p: Page, name: string) {
  const size = p.viewportSize()!;
  await p.setViewportSize({ width: size.width, height: 1500 });
  await p.screenshot({ path: join(RESULTS, name) });
  await p.setViewportSize(size);
}

const UNITS: Record<string, number> = { B: 1, KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** A size as the dashboard writes it ("2.4 MiB") → [bytes, how far rounding may have moved it]. */
function parseSize(text: string): [number, number] {
  const m = /^([\d.]+) (B|KiB|MiB|GiB|TiB)$/.exec(text.trim());
  if (!m) throw new Error(`not a size: "${text}"`);
  const unit = UNITS[m[2]];
  const decimals = m[1].split(".")[1]?.length ?? 0;
  // formatBytes drops a trailing ".0", so a whole number below 100 may have been rounded to 0.1.
  const step = unit === 1 ? 1 : Number(m[1]) < 100 ? 0.1 : decimals === 0 ? 1 : 0.1;
  return [Number(m[1]) * unit, (step / 2) * unit];
}

async function text(l: Locator): Promise<string> {
  return ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();
}

/** The layers' bars: name → size as displayed. */
async function layers(p: Page): Promise<Map<string, string>> {
  const rows = p.getByRole("list", { name: "On disk, by layer" }).locator("li");
  const out = new Map<string, string>();
  for (const row of await rows.all()) out.set(await text(row.locator(".label")), await text(row.locator(".value")));
  return out;
}

/**
 * Bytes in the files under `dir`, by `du`: `du -sb --apparent-size` counts apparent sizes, which
 * for a directory is its own entry table (4 KiB or more on ext4, a few bytes on tmpfs), while the
 * engine counts file lengths only. The directories' own sizes (from `find`) are taken out, so what
 * is left is what the engine counts.
 */
function duFileBytes(dir: string): { du: number; directories: number } {
  const du = Number(execFileSync("du", ["-sb", "--apparent-size", dir], { encoding: "utf8" }).split(/\s/)[0]);
  const directories = execFileSync("find", [dir, "-type", "d", "-printf", "%s\\n"], { encoding: "utf8" })
    .split("\n")
    .filter(Boolean)
    .reduce((a, b) => a + Number(b), 0);
  return { du, directories };
}

/**
 * The displayed figures agree with each other: every layer and "On disk" as written on the page,
 * and the layers add up to "On disk" within the rounding of the sizes written.
 */
async function expectLayersAddUp(p: Page): Promise<number> {
  const [onDisk, onDiskSlack] = parseSize(await text(p.getByTestId("on-disk")));
  const shown = await layers(p);
  expect([...shown.keys()]).toEqual(["Project folders", "Histories", "Large files", "Archives", "Catalog", "Other"]);
  let sum = 0;
  let slack = onDiskSlack;
  for (const value of shown.values()) {
    const [bytes, s] = parseSize(value);
    sum += bytes;
    slack += s;
  }
  expect(Math.abs(sum - onDisk), `layers ${[...shown.values()].join(" + ")} vs on disk ${formatBytes(onDisk)}`).toBeLessThanOrEqual(slack);
  expect(await text(p.getByTestId("layers-total"))).toBe(`Together ${await text(p.getByTestId("on-disk"))}, the On disk figure.`);
  return onDisk;
}

/**
 * "On disk" agrees with `du` of the vault folder. Tolerance: 5% or 64 KiB, whichever is larger:
 * the page read the figure a moment before `du` ran, and the server's SQLite files (the catalog's
 * and the event log's write-ahead logs) may grow or be checkpointed in between; and the figure on
 * the page is rounded to 3 significant digits.
 */
function expectAgreesWithDu(vault: Vault, onDisk: number) {
  const { du, directories } = duFileBytes(vault.dir);
  const files = du - directories;
  const tolerance = Math.max(64 * 1024, files * 0.05);
  expect(Math.abs(onDisk - files), `page ${formatBytes(onDisk)}, du ${du} bytes of which ${directories} are directories`).toBeLessThanOrEqual(tolerance);
}

describe("dashboard figures", () => {
  it("agree with each other and with du in an empty vault", async () => {
    const vault = emptyVault();
    const p = await open(vault);
    const stats = vault.json<Stats>("stats");
    expect(await text(p.getByTestId("latest"))).toBe("0 B");
    expect(stats.latest_bytes).toBe(0);
    // An empty vault still takes space (its catalog): On disk says so, and the layers show where.
    const onDisk = await expectLayersAddUp(p);
    expect(onDisk).toBeGreaterThan(0);
    expect((await layers(p)).get("Catalog")).not.toBe("0 B");
    // The chunk store's index is bookkeeping, counted with the catalog: no large files yet.
    expect((await layers(p)).get("Large files")).toBe("0 B");
    expectAgreesWithDu(vault, onDisk);
    // No versions: nothing is claimed as saved, and no ratio is shown.
    const saved = await text(p.getByTestId("card-saved"));
    expect(saved).toContain("No versions yet.");
    expect(saved).not.toMatch(/larger|smaller|×/);
    // A memory limit is a setting, not a usage bar.
    expect(await text(p.locator(".dashboard"))).not.toMatch(/cache/i);
    expect(await text(p.getByTestId("growth-too-little"))).toContain("Not enough data for a chart yet");
    await screenshot(p, "dashboard-empty.png");
    expect(pageErrors(p)).toEqual([]);
  });

  it("agree with each other, with the content written and with du in a vault with data", async () => {
    const vault = emptyVault();
    const big = noise(3 << 20, 7); // incompressible: goes to the large-file layer, stored once
    const deep = "assets/exports/2026/november/final-renders/for-review/big-render.bin";
    vault.run("project", "create", "alpha-service");
    const alpha = vault.folder("alpha-service");
    writeFiles(alpha, { "src/main.rs": "fn main() {}\n", "README.md": "# Alpha\n", [deep]: big });
    vault.run("snapshot", "alpha-service", "-m", "first");
    writeFiles(alpha, { "src/main.rs": 'fn main() { println!("hi"); }\n' });
    vault.run("snapshot", "alpha-service", "-m", "second");
    vault.run("project", "create", "beta");
    writeFiles(vault.folder("beta"), { "copy.bin": big, "notes.txt": "the same render, kept twice\n" });
    vault.run("snapshot", "beta", "-m", "copy");
    const latest =
      Buffer.byteLength('fn main() { println!("hi"); }\n') + Buffer.byteLength("# Alpha\n") + big.length + big.length + Buffer.byteLength("the same render, kept twice\n");

    const p = await open(vault);
    const stats = vault.json<Stats>("stats");
    // What the latest versions hold is the content written, to the byte (in the engine), and as
    // the page writes it.
    expect(stats.latest_bytes).toBe(latest);
    expect(await text(p.getByTestId("latest"))).toBe(formatBytes(latest));
    const onDisk = await expectLayersAddUp(p);
    expectAgreesWithDu(vault, onDisk);
    // The big file is stored once although three versions hold it: the saving is real and said
    // plainly, from the same figures the page shows.
    const detail = await text(p.getByTestId("saved-detail"));
    const m = /^All (\d+) versions would take (.+?) as plain copies; stored once each, compressed, in (.+?)\.$/.exec(detail);
    expect(m, detail).not.toBeNull();
    const [plain, plainSlack] = parseSize(m![2]);
    const [stored] = parseSize(m![3]);
    // Three versions hold the big file (two of alpha-service, one of beta), plus a few small files.
    expect(plain + plainSlack).toBeGreaterThan(3 * big.length);
    expect(stored).toBeLessThan(1.2 * big.length);
    const shown = await layers(p);
    const [histories, hs] = parseSize(shown.get("Histories")!);
    const [large, ls] = parseSize(shown.get("Large files")!);
    expect(Math.abs(histories + large - stored)).toBeLessThanOrEqual(hs + ls + parseSize(m![3])[1]);
    const [saved] = parseSize(await text(p.getByTestId("saved")));
    expect(Math.abs(saved - (plain - stored))).toBeLessThanOrEqual(0.02 * plain);
    // The largest file names its project in full, and its file name; the full path is in the title.
    // (beta's copy is as large; either may come first.)
    const row = p.getByTestId("largest-file").filter({ hasText: "big-render.bin" });
    expect(await text(row.locator(".project"))).toBe("alpha-service");
    expect(await text(row.locator(".base"))).toBe("big-render.bin");
    expect(await row.locator("td").first().getAttribute("title")).toBe(`alpha-service: ${deep} (Large files)`);
    // Nothing of the project's name or the file's name is cut; the folders between them are.
    const cut = (l: Locator) => l.evaluate((e) => e.scrollWidth > e.clientWidth);
    expect(await cut(row.locator(".project"))).toBe(false);
    expect(await cut(row.locator(".base"))).toBe(false);
    expect(await cut(row.locator(".dir"))).toBe(true);
    const projectBox = await row.locator(".project").boundingBox();
    const baseBox = await row.locator(".base").boundingBox();
    const cell = await row.locator("td").first().boundingBox();
    expect(projectBox!.x + projectBox!.width).toBeLessThanOrEqual(cell!.x + cell!.width);
    expect(baseBox!.x + baseBox!.width).toBeLessThanOrEqual(cell!.x + cell!.width + 1);
    // One day of samples: no line between "Nov 24" and "Nov 24".
    expect(await p.getByTestId("growth-too-little").count()).toBe(1);
    expect(await text(p.locator(".dashboard"))).not.toMatch(/cache|chunks \d+%|× smaller/i);
    await screenshot(p, "dashboard-data.png");
    expect(pageErrors(p)).toEqual([]);
  });

  it("the treemap says which projects are archived or in the trash, whose space counts too", async () => {
    const vault = emptyVault();
    for (const name of ["kept", "packed", "gone"]) {
      vault.run("project", "create", name);
      writeFiles(vault.folder(name), { "notes.txt": `${name}\n`.repeat(2000) });
      vault.run("snapshot", name, "-m", "first");
    }
    vault.run("archive", "packed");
    vault.run("project", "delete", "gone");
    const p = await open(vault);
    const cell = (name: string) => p.locator(`a.cell[data-project="${name}"]`);
    await cell("gone").waitFor();
    expect(await cell("kept").getAttribute("aria-label")).toMatch(/^kept \d/);
    expect(await cell("packed").getAttribute("aria-label")).toMatch(/^packed \(archived\) /);
    expect(await cell("gone").getAttribute("aria-label")).toMatch(/^gone \(in the trash\) /);
    await cell("gone").focus();
    expect(await text(p.getByTestId("treemap-detail"))).toContain("gone in default, in the trash");
    expect(pageErrors(p)).toEqual([]);
  });
});
