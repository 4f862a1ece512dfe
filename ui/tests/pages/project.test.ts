// Page tests of a project's page in a browser (`kura serve` on a seeded vault): one primary action
// and a "More" menu a keyboard can use, no "open in" buttons (the window's only), columns that
// hold what their heading says, and versions that say who and what made them.

import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { pageErrors, RESULTS, session } from "./harness";
import { seededVault } from "./vault";

const t = session();

async function openSite(tab: "files" | "history" = "files"): Promise<Page> {
  const vault = seededVault();
  const id = vault.json<{ id: string }>("project", "show", "kura-site").id;
  const p = await t.open(vault, `#/project/${id}/${tab}`);
  await p.waitForSelector("h1:text('kura-site')");
  return p;
}

const focused = (p: Page) => p.evaluate(() => document.activeElement?.textContent?.trim() ?? "");

describe("a project's page", () => {
  it("has one primary action, the rest in a menu the keyboard opens, moves through and closes", async () => {
    const p = await openSite();
    const header = p.locator("header.project-header");
    expect(await header.locator("button.primary").allInnerTexts()).toEqual(["Snapshot"]);
    // Opening the folder, an editor or a terminal is the window's: a browser page has none.
    for (const id of ["open-folder", "open-editor", "open-terminal"]) expect(await p.getByTestId(id).count()).toBe(0);

    const more = p.getByTestId("project-more");
    expect(await more.getAttribute("aria-expanded")).toBe("false");
    await more.focus();
    await p.keyboard.press("ArrowDown");
    const menu = p.getByRole("menu", { name: "More" });
    await menu.waitFor();
    expect(await more.getAttribute("aria-expanded")).toBe("true");
    expect(await menu.getByRole("menuitem").allInnerTexts()).toEqual([
      "Edit details…",
      "Rename…",
      "Move to workspace…",
      "Copy folder path",
      "Export…",
      "Share…",
      "Save as template…",
      "Archive…",
      "Move to trash…",
    ]);
    await expect.poll(() => focused(p)).toBe("Edit details…");
    await p.keyboard.press("ArrowDown");
    expect(await focused(p)).toBe("Rename…");
    await p.keyboard.press("ArrowUp");
    await p.keyboard.press("ArrowUp");
    expect(await focused(p)).toBe("Move to trash…");
    await p.screenshot({ path: join(RESULTS, "project-menu.png") });
    await p.keyboard.press("Escape");
    await menu.waitFor({ state: "detached" });
    expect(await p.evaluate(() => document.activeElement?.getAttribute("data-testid"))).toBe("project-more");

    // Enter on an item does what it says.
    await p.keyboard.press("Enter");
    await menu.waitFor();
    await expect.poll(() => focused(p)).toBe("Edit details…");
    await p.keyboard.press("Enter");
    await p.getByRole("dialog").waitFor();
    expect(pageErrors(p)).toEqual([]);
  });

  it("renames, moves and edits a project through the engine, each change kept", async () => {
    const p = await openSite();
    const id = t.kura!.vault.json<{ id: string }>("project", "show", "kura-site").id;
    const more = p.getByTestId("project-more");
    const choose = async (item: string) => {
      await more.click();
      await p.getByRole("menu", { name: "More" }).getByRole("menuitem", { name: item }).click();
      return p.getByRole("dialog");
    };

    let dialog = await choose("Rename…");
    await dialog.getByLabel("New name").fill("kura-landing");
    await dialog.getByRole("button", { name: "Rename" }).click();
    await p.waitForSelector("h1:text('kura-landing')");

    dialog = await choose("Move to workspace…");
    await dialog.getByLabel("To workspace").selectOption("clients");
    await dialog.getByRole("button", { name: "Move" }).click();
    await dialog.waitFor({ state: "detached" });

    dialog = await choose("Edit details…");
    await dialog.getByLabel("Description").fill("The landing page, renamed");
    await dialog.getByLabel("Kind").fill("experiment");
    await dialog.getByRole("button", { name: "Save details" }).click();
    await dialog.waitFor({ state: "detached" });

    // What the engine holds now, asked through the CLI.
    const shown = t.kura!.vault.json<{ id: string; name: string; workspace: string; description: string; kind: string; tags: string[] }>(
      "project",
      "show",
      id,
    );
    expect(shown).toMatchObject({ name: "kura-landing", workspace: "clients", description: "The landing page, renamed", kind: "experiment" });
    expect(shown.tags).toEqual(["web"]);
    expect(pageErrors(p)).toEqual([]);
  });

  it("shows a folder's file count by its name, not under Last version, and the drop hint in words", async () => {
    const p = await openSite();
    const src = p.locator('[data-folder="src"]');
    await src.waitFor();
    const cells = await src.locator("td").allInnerTexts();
    expect(cells[0]).toMatch(/src\/\s*\d+ files/);
    expect(cells.slice(2)).toEqual(["", "", ""]);
    const hint = p.locator(".drop-hint");
    expect(await hint.innerText()).toContain("to add them to the top folder.");
    expect(await hint.locator(".mono").count()).toBe(0);
    await p.screenshot({ path: join(RESULTS, "project-page.png") });
    await src.getByRole("button").click();
    await expect.poll(() => hint.locator(".mono").innerText()).toBe("src/");
  });

  it("labels each version with the door that made it and a real author", async () => {
    const p = await openSite("history");
    const versions = p.locator("[data-version]");
    await expect.poll(() => versions.count()).toBe(3);
    // The seeded vault's versions were all made with the kura command.
    for (const badge of await p.locator("[data-version] .badge:not(.success)").allInnerTexts()) expect(badge).toBe("CLI");
    const authors = await p.locator("[data-version] .author").evaluateAll((els) => els.map((e) => e.getAttribute("title")));
    for (const a of authors) expect(a).not.toBe("kura <kura@localhost>");
    await p.screenshot({ path: join(RESULTS, "project-history.png") });
  });
});
