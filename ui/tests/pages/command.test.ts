// Page tests of the command bar (Ctrl+K) against the real engine (`kura serve` on a seeded
// vault): commands typed as a person types them, completed from the vault's names, previewed,
// run, and checked with the CLI; a destructive one asks first, as its button does; a search is
// still a search.

import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pageErrors, RESULTS, session, text } from "./harness";
import { seededVault } from "./vault";

const t = session();

describe("command bar", () => {
  it("completes, previews and runs commands typed in the search box", async () => {
    const vault = seededVault();
    const p = await t.open(vault, "#/dashboard");
    const input = p.getByTestId("command-input");
    const bar = p.getByTestId("command-bar");
    const completions = () => bar.getByTestId("command-completion").allTextContents();

    // The first letters offer the commands they could start.
    await p.keyboard.press("Control+k");
    await p.keyboard.type("sna");
    await expect.poll(completions).toEqual(["snapshot changed", "snapshot PROJECT"]);

    // Names come from the vault; Tab takes the first; the preview says what Enter does.
    const site = vault.folder("kura-site");
    appendFileSync(join(site, "src/main.ts"), "// changed from the command bar test\n");
    await input.fill("snapshot kura");
    await expect.poll(completions).toEqual(["kura-site"]);
    await p.keyboard.press("Tab");
    expect(await input.inputValue()).toBe("snapshot kura-site");
    await expect.poll(() => text(bar.getByTestId("command-preview"))).toMatch(/^Take a version of 'kura-site' \(if its folder changed\)/);
    const before = vault.json<unknown[]>("history", "kura-site").length;
    await p.keyboard.press("Enter");
    await expect.poll(() => vault.json<unknown[]>("history", "kura-site").length, { timeout: 20_000 }).toBe(before + 1);

    // "snapshot changed" takes a version of each project whose folder changed, as one operation
    // with its progress, and says how many.
    appendFileSync(join(vault.folder("billing-api"), "README.md"), "Changed from the command bar test.\n");
    const billingBefore = vault.json<unknown[]>("history", "billing-api").length;
    const siteBefore = vault.json<unknown[]>("history", "kura-site").length;
    await input.focus();
    await input.fill("snapshot changed");
    await expect.poll(() => text(bar.getByTestId("command-preview"))).toMatch(/^Take a version of every/);
    await p.keyboard.press("Enter");
    await expect.poll(() => vault.json<unknown[]>("history", "billing-api").length, { timeout: 20_000 }).toBe(billingBefore + 1);
    await expect.poll(() => p.getByText("Took a version of 1 project.").count()).toBe(1);
    expect(vault.json<unknown[]>("history", "kura-site").length).toBe(siteBefore);

    // A name that is not there is said so, and Enter does nothing.
    await input.focus();
    await input.fill("snapshot kura-sight");
    await expect.poll(() => text(bar.getByTestId("command-problem"))).toBe("no active project named 'kura-sight' in 'default'");

    // New projects, workspaces, the dashboard.
    await input.fill("create project shop");
    await expect.poll(() => text(bar.getByTestId("command-preview"))).toContain("Create the empty project 'shop' in 'default'");
    await p.keyboard.press("Enter");
    await expect.poll(() => p.evaluate(() => location.hash)).toMatch(/^#\/project\/[^/]+\/files$/);
    expect(vault.json<{ name: string }[]>("project", "list").map((x) => x.name)).toContain("shop");
    await p.keyboard.press("Control+k");
    await p.keyboard.type("switch to cl");
    await expect.poll(completions).toEqual(["clients"]);
    await p.keyboard.press("Tab");
    await p.keyboard.press("Enter");
    await expect.poll(() => p.getByLabel("Active workspace").inputValue()).toBe("clients");
    expect(vault.json<{ name: string; active: boolean }[]>("workspace", "list").find((w) => w.active)?.name).toBe("clients");
    const runs = () => vault.json<unknown[]>("backup", "list", "usb-drive", "--runs").length;
    const runsBefore = runs();
    await p.keyboard.press("Control+k");
    await p.keyboard.type("back up now");
    await expect.poll(() => text(bar.getByTestId("command-preview"))).toMatch(/^Back the vault up now to usb-drive/);
    await p.keyboard.press("Enter");
    await p.waitForSelector(".notice:has-text('Backing up to usb-drive')");
    await expect.poll(runs, { timeout: 20_000 }).toBe(runsBefore + 1);
    await p.keyboard.press("Control+k");
    await p.keyboard.type("storage status");
    await p.keyboard.press("Enter");
    await expect.poll(() => p.evaluate(() => location.hash)).toBe("#/dashboard");
    expect(pageErrors(p)).toEqual([]);
  });

  it("asks before archiving, as the button does, and a search is still a search", async () => {
    const vault = seededVault();
    const p = await t.open(vault, "#/dashboard");
    const input = p.getByTestId("command-input");
    await p.keyboard.press("Control+k");
    await p.keyboard.type("archive billing-api");
    await expect.poll(() => text(p.getByTestId("command-preview"))).toContain("Archive 'billing-api'");
    await p.screenshot({ path: join(RESULTS, "command-bar.png") });
    await p.keyboard.press("Enter");
    const dialog = p.getByRole("dialog", { name: "Archive billing-api?" });
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect(vault.json<{ status: string }>("project", "show", "billing-api").status).toBe("active");

    // Text that starts no command filters the projects list.
    await input.fill("billing");
    await expect.poll(() => p.evaluate(() => location.hash)).toBe("#/projects");
    await expect.poll(() => p.locator(".project-row").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-project")))).toEqual(["billing-api"]);
    expect(pageErrors(p)).toEqual([]);
  });
});
