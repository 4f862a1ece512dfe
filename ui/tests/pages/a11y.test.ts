// Page tests of accessibility against the real engine (`kura serve`): axe-core's WCAG 2.0/2.1 A and
// AA rules on every view, light and dark, empty vault and seeded one; the keyboard reaching the
// treemap's projects; reduced motion; the search box's clear button beside its shortcut hint.

import { mkdirSync } from "node:fs";
import type { BrowserContextOptions, Page } from "playwright-core";
import { beforeAll, describe, expect, it } from "vitest";
import { seriousViolations } from "./axe";
import { pageErrors, session } from "./harness";
import { emptyVault, seededVault, type Vault } from "./vault";

/** Screenshots for a person to look at (not compared). */
const SHOTS = process.env.KURA_A11Y_SHOTS ?? "/tmp/kura-a11y-shots";

const t = session();

beforeAll(() => {
  mkdirSync(SHOTS, { recursive: true });
});

/** Waits until the view says no more that it is reading something, then a moment for layout. */
async function settle(p: Page) {
  await p.waitForFunction(() => {
    const main = document.querySelector("main");
    return !!main && !/\b(Reading|Loading|Opening|Comparing)\b[^\n]*…/.test(main.innerText) && !document.querySelector("[aria-busy='true']");
  });
  await p.waitForTimeout(150);
}

async function go(p: Page, hash: string) {
  await p.evaluate((h) => (window.location.hash = h), hash);
  await settle(p);
}

type Theme = "light" | "dark";

type Check = (where: string, shot?: boolean) => Promise<void>;

/** Visits every view of `vault` in `theme` and answers axe's serious and critical findings;
 * `more` visits what only a vault with data has. */
async function auditViews(vault: Vault, label: string, theme: Theme, project: () => string, more?: (p: Page, check: Check) => Promise<void>): Promise<string[]> {
  const options: BrowserContextOptions = { colorScheme: theme };
  const p = await t.open(vault, "#/dashboard", { options });
  const found: string[] = [];
  const check: Check = async (where, shot = false) => {
    found.push(...(await seriousViolations(p, `${label}/${theme} ${where}`)));
    if (shot) await p.screenshot({ path: `${SHOTS}/${label}-${theme}-${where.replace(/[^a-z0-9]+/gi, "-")}.png` });
  };
  for (const view of ["dashboard", "projects", "workspaces", "backups", "archives", "cleanup", "settings"]) {
    await go(p, `#/${view}`);
    await check(view, true);
  }
  const id = vault.json<{ id: string }>("project", "show", project()).id;
  for (const tab of ["files", "history", "records", "git"]) {
    await go(p, `#/project/${id}/${tab}`);
    await check(`project-${tab}`, tab === "files" || tab === "history");
  }
  // The command bar, open with completions.
  await go(p, "#/dashboard");
  await p.keyboard.press("Control+k");
  await p.keyboard.type("sna");
  await p.getByTestId("command-completion").first().waitFor();
  await check("command-bar", true);
  await p.keyboard.press("Escape");
  // A dialog: a new project.
  await p.keyboard.press("Control+n");
  await p.getByRole("dialog").waitFor();
  await p.waitForTimeout(200);
  await check("new-project-dialog", true);
  await p.keyboard.press("Escape");
  await p.getByRole("dialog").waitFor({ state: "detached" });
  // The keyboard shortcuts.
  await p.locator("main").click({ position: { x: 5, y: 5 } });
  await p.keyboard.press("?");
  await p.getByRole("dialog").waitFor();
  await p.waitForTimeout(200);
  await check("help", true);
  await p.keyboard.press("Escape");
  await p.getByRole("dialog").waitFor({ state: "detached" });
  await more?.(p, check);
  expect(pageErrors(p)).toEqual([]);
  await p.context().close();
  t.page = undefined;
  return found;
}

describe("axe-core finds no serious or critical violation", () => {
  for (const theme of ["light", "dark"] as const) {
    it(`on any view of an empty vault, ${theme}`, async () => {
      const vault = emptyVault();
      // After the main views, one empty project: its page with no files and no versions.
      const found = await auditViews(vault, "empty", theme, () => {
        vault.run("project", "create", "empty-one");
        return "empty-one";
      });
      expect(found.join("\n")).toBe("");
    });

    it(`on any view of a vault with data, ${theme}`, async () => {
      const vault = seededVault();
      const found = await auditViews(vault, "seeded", theme, () => "kura-site", async (p, check) => {
        const dialog = p.getByRole("dialog");
        const closeDialog = async () => {
          await p.keyboard.press("Escape");
          await dialog.waitFor({ state: "detached" });
        };
        // The trash, with its rows' Restore and Delete forever.
        await go(p, "#/projects");
        await p.getByRole("radio", { name: "Trash" }).click();
        await p.locator('[data-project="old-prototype"]').waitFor();
        await check("projects-trash", true);
        // An archived project's page.
        await go(p, `#/project/${vault.json<{ id: string }>("project", "show", "ml-notebooks").id}/files`);
        await check("project-archived", true);
        // A project's details, in a dialog.
        await go(p, `#/project/${vault.json<{ id: string }>("project", "show", "kura-site").id}/files`);
        await p.getByTestId("project-more").click();
        await p.getByRole("menuitem", { name: "Edit details…" }).click();
        await dialog.waitFor();
        await check("edit-details-dialog", true);
        await closeDialog();
        // A file's preview.
        await p.getByRole("button", { name: "index.html" }).click();
        await p.waitForTimeout(300);
        await check("file-preview", true);
        // A new backup target.
        await go(p, "#/backups");
        await p.getByTestId("add-target").click();
        await dialog.waitFor();
        await check("add-target-dialog", true);
        await closeDialog();
      });
      expect(found.join("\n")).toBe("");
    });
  }
});

/** What has the focus: a short description, and whether it shows it (outline, ring or stroke). */
async function focused(p: Page) {
  return p.evaluate(() => {
    const el = document.activeElement as HTMLElement | SVGElement | null;
    if (!el || el === document.body) return null;
    const shows = (e: Element | null) => {
      if (!e) return false;
      const css = getComputedStyle(e);
      return (css.outlineStyle !== "none" && parseFloat(css.outlineWidth) > 0) || css.boxShadow !== "none";
    };
    // Its own outline or ring, or its box's (a borderless field inside a bordered one).
    const outline = shows(el);
    const ring = shows(el.parentElement);
    const rect = el.querySelector("rect");
    const stroke = !!rect && parseFloat(getComputedStyle(rect).strokeWidth) >= 2 && getComputedStyle(rect).stroke !== "none";
    const name = el.getAttribute("aria-label") ?? el.getAttribute("data-testid") ?? (el.textContent ?? "").trim().slice(0, 40);
    return { what: `${el.tagName.toLowerCase()} "${name}"`, project: el.getAttribute("data-project"), visible: outline || ring || stroke };
  });
}

describe("keyboard", () => {
  it("reaches a project in the treemap with Tab, shows its numbers and opens it with Enter", async () => {
    const vault = seededVault();
    const p = await t.open(vault, "#/dashboard");
    await settle(p);
    await p.locator('[data-project="billing-api"]').waitFor();
    let reached = false;
    for (let i = 0; i < 80 && !reached; i++) {
      await p.keyboard.press("Tab");
      const now = await focused(p);
      reached = now?.project === "billing-api";
      if (reached) expect(now!.visible, `${now!.what} shows its focus`).toBe(true);
    }
    expect(reached, "Tab reaches billing-api in the treemap").toBe(true);
    expect(await p.getByTestId("treemap-detail").textContent()).toMatch(/billing-api.*bytes stored/s);
    await p.screenshot({ path: `${SHOTS}/treemap-focus.png` });
    await p.keyboard.press("Enter");
    const id = vault.json<{ id: string }>("project", "show", "billing-api").id;
    await expect.poll(() => p.evaluate(() => location.hash)).toBe(`#/project/${id}/files`);
    await p.getByRole("heading", { name: "billing-api" }).waitFor();
    expect(pageErrors(p)).toEqual([]);
  });

  it("shows where the focus is on every Tab stop of the views and a dialog", async () => {
    const vault = seededVault();
    const p = await t.open(vault, "#/projects");
    const id = vault.json<{ id: string }>("project", "show", "kura-site").id;
    const unseen: string[] = [];
    const tabThrough = async (where: string, least: number) => {
      const seen = new Set<string>();
      for (let i = 0; i < 60; i++) {
        await p.keyboard.press("Tab");
        const now = await focused(p);
        if (!now) continue;
        if (!now.visible) unseen.push(`${where} ${now.what}`);
        seen.add(now.what);
      }
      expect(seen.size, `Tab stops on ${where}`).toBeGreaterThanOrEqual(least);
    };
    for (const hash of ["#/projects", `#/project/${id}/files`, `#/project/${id}/history`, "#/backups", "#/settings"]) {
      await go(p, hash);
      await p.locator("body").click({ position: { x: 1300, y: 840 } });
      await tabThrough(hash, 10);
    }
    await go(p, `#/project/${id}/files`);
    await p.getByTestId("project-more").click();
    await p.getByRole("menuitem", { name: "Edit details…" }).click();
    await p.getByRole("dialog").waitFor();
    await tabThrough("the details dialog", 6);
    expect(unseen).toEqual([]);
  });
});

describe("reduced motion", () => {
  it("turns transitions and animations off when the system asks for less motion", async () => {
    const vault = seededVault();
    // A quota draws the dashboard's quota gauge, whose bar grows with a transition.
    vault.run("config", "set", "quota.total_quota", "1 GiB");
    const p = await t.open(vault, "#/dashboard");
    const fill = p.getByTestId("quota-gauge").locator(".fill").first();
    await fill.waitFor();
    const duration = async (reducedMotion: "reduce" | "no-preference") => {
      await p.emulateMedia({ reducedMotion });
      const style = await fill.evaluate((el) => {
        const css = getComputedStyle(el);
        return { transition: css.transitionDuration, animation: css.animationDuration };
      });
      // An element with an animation of its own, made here.
      const probe = await p.evaluate(() => {
        const el = document.createElement("div");
        el.style.animation = "probe 2s linear infinite";
        document.body.append(el);
        const duration = getComputedStyle(el).animationDuration;
        el.remove();
        return duration;
      });
      return { ...style, probe };
    };
    expect(await duration("no-preference")).toEqual({ transition: "0.16s", animation: "0s", probe: "2s" });
    expect(await duration("reduce")).toEqual({ transition: "0s", animation: "0s", probe: "0s" });
  });
});

describe("command bar", () => {
  it("keeps its clear button clear of the Ctrl K hint, and clears", async () => {
    const vault = seededVault();
    const p = await t.open(vault, "#/dashboard");
    await p.keyboard.press("Control+k");
    await p.keyboard.type("billing-api and some more words to fill the box");
    const clear = p.getByTestId("command-clear");
    const hint = p.getByTestId("command-shortcut");
    await clear.waitFor();
    const a = (await clear.boundingBox())!;
    const b = (await hint.boundingBox())!;
    const intersect = a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
    expect(intersect, `clear ${JSON.stringify(a)} and hint ${JSON.stringify(b)} overlap`).toBe(false);
    // The text stops before the clear button.
    const input = p.getByTestId("command-input");
    const textEnd = await input.evaluate((el) => {
      const box = el.getBoundingClientRect();
      return box.right - parseFloat(getComputedStyle(el).paddingRight);
    });
    expect(textEnd).toBeLessThanOrEqual(a.x);
    await p.getByTestId("command-input").screenshot({ path: `${SHOTS}/command-clear.png` });
    await clear.click();
    expect(await input.inputValue()).toBe("");
    expect(await input.evaluate((el) => el === document.activeElement)).toBe(true);
    await clear.waitFor({ state: "detached" });
    expect(pageErrors(p)).toEqual([]);
  });
});
