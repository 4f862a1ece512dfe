// Page tests of a project's Records tab against the real engine (`kura serve` on a fresh vault):
// records written by the CLI (as a script or an agent would) are listed, filtered, edited,
// created and deleted through the page, and read back with the CLI.

import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { StoredRecord } from "../../src/lib/api/types";
import { pageErrors, RESULTS, session, text } from "./harness";
import { emptyVault, type Vault } from "./vault";

const t = session();

/** A vault with one project whose records an agent has been keeping. */
function vaultWithRecords(): { vault: Vault; id: string } {
  const vault = emptyVault();
  const id = vault.json<{ id: string }>("project", "create", "shop").id;
  const put = (collection: string, key: string, value: unknown) => vault.run("record", "-p", "shop", "put", collection, key, JSON.stringify(value));
  put("tasks", "login", { title: "Fix login", status: "open", priority: 3 });
  put("tasks", "docs", { title: "Write docs", status: "done", priority: 1 });
  put("tasks", "search", { title: "Add search", status: "open", priority: 2 });
  put("decisions", "db", { choice: "sqlite", why: "local-first" });
  return { vault, id };
}

async function open(vault: Vault, hash: string): Promise<Page> {
  return t.open(vault, hash);
}

const rows = (p: Page) => p.getByTestId("record-row");
const keys = async (p: Page) => rows(p).evaluateAll((rs) => rs.map((r) => r.getAttribute("data-key")));

describe("records", () => {
  it("lists a project's collections, filters records by a field and sorts them", async () => {
    const { vault, id } = vaultWithRecords();
    const p = await open(vault, `#/project/${id}/records`);
    const items = p.getByTestId("record-collection-item");
    await expect.poll(() => items.evaluateAll((is) => is.map((i) => i.textContent?.replace(/\s+/g, " ").trim()))).toEqual(["decisions 1", "tasks 3"]);
    await items.filter({ hasText: "tasks" }).click();
    await expect.poll(() => keys(p)).toEqual(["docs", "login", "search"]);

    // status = open, highest priority first: what the engine's query answers.
    await p.getByTestId("record-add-condition").click();
    const cond = p.getByTestId("record-condition");
    await cond.getByLabel("Field").fill("status");
    await cond.getByLabel("Value").fill("open");
    await p.getByLabel("Sort by").fill("priority");
    await p.getByLabel("highest first").check();
    await p.getByTestId("record-apply").click();
    const cli = vault.json<{ records: StoredRecord[] }>("record", "-p", "shop", "query", "tasks", "--where", "status=open", "--sort", "priority", "--desc");
    await expect.poll(() => keys(p)).toEqual(cli.records.map((r) => r.key));
    expect(cli.records.map((r) => r.key)).toEqual(["login", "search"]);

    // A number typed as a value is a number: priority ≥ 2.
    await cond.getByLabel("Field").fill("priority");
    await cond.getByLabel("Comparison").selectOption("gte");
    await cond.getByLabel("Value").fill("2");
    await p.getByLabel("Sort by").fill("");
    await p.getByLabel("highest first").uncheck();
    await p.getByTestId("record-apply").click();
    await expect.poll(() => keys(p)).toEqual(["login", "search"]);
    await cond.getByLabel("Value").fill("9");
    await p.getByTestId("record-apply").click();
    await expect.poll(() => text(p.getByTestId("records"))).toContain("No record matches.");

    // A field path the engine refuses: its message, on the page.
    await cond.getByLabel("Field").fill("a'b");
    await p.getByTestId("record-apply").click();
    await expect.poll(() => text(p.getByTestId("records-error"))).toContain("is not a field path");

    mkdirSync(RESULTS, { recursive: true });
    await cond.getByLabel("Field").fill("status");
    await cond.getByLabel("Comparison").selectOption("eq");
    await cond.getByLabel("Value").fill("open");
    await p.getByTestId("record-apply").click();
    await expect.poll(() => keys(p)).toEqual(["login", "search"]);
    await p.screenshot({ path: join(RESULTS, "records.png") });
    expect(pageErrors(p)).toEqual([]);
  });

  it("edits a record over the revision it read, and says so when someone else changed it first", async () => {
    const { vault, id } = vaultWithRecords();
    const p = await open(vault, `#/project/${id}/records`);
    await p.getByTestId("record-collection-item").filter({ hasText: "tasks" }).click();
    await rows(p).filter({ hasText: "login" }).getByRole("button").click();
    const dialog = p.getByTestId("record-dialog");
    const before = vault.json<StoredRecord>("record", "-p", "shop", "get", "tasks", "login");
    expect(await dialog.getByTestId("record-json").inputValue()).toContain('"title": "Fix login"');
    await dialog.getByTestId("record-json").fill('{"title": "Fix login", "status": "doing"}');
    await p.getByTestId("record-save").click();
    await dialog.waitFor({ state: "detached" });
    const after = vault.json<StoredRecord>("record", "-p", "shop", "get", "tasks", "login");
    expect(after.value).toEqual({ title: "Fix login", status: "doing" });
    expect(after.rev).toBeGreaterThan(before.rev);

    // Opened, then changed by an agent: saving is refused with the engine's reason, nothing lost.
    await rows(p).filter({ hasText: "login" }).getByRole("button").click();
    vault.run("record", "-p", "shop", "put", "tasks", "login", '{"title": "Fix login", "status": "done", "by": "agent"}');
    await p.getByTestId("record-json").fill('{"title": "mine"}');
    await p.getByTestId("record-save").click();
    await expect.poll(() => text(p.getByTestId("record-error"))).toContain("someone else changed it");
    expect(vault.json<StoredRecord>("record", "-p", "shop", "get", "tasks", "login").value).toEqual({ title: "Fix login", status: "done", by: "agent" });
    // Not JSON: the page says so and does not send it.
    await p.getByTestId("record-json").fill("{oops");
    expect(await p.getByTestId("record-syntax").count()).toBe(1);
    expect(await p.getByTestId("record-save").isDisabled()).toBe(true);
    await p.keyboard.press("Escape");

    // Delete, after a confirmation.
    await rows(p).filter({ hasText: "docs" }).getByRole("button").click();
    await p.getByTestId("record-delete").click();
    await p.getByTestId("record-delete-confirm").click();
    await expect.poll(() => keys(p)).toEqual(["login", "search"]);
    expect(vault.refusal("record", "-p", "shop", "get", "tasks", "docs")).toContain("there is no record 'docs'");
    expect(pageErrors(p)).toEqual([]);
  });

  it("shows what an agent writes over HTTP while the tab is open", async () => {
    const { vault, id } = vaultWithRecords();
    const p = await open(vault, `#/project/${id}/records`);
    await p.getByTestId("record-collection-item").filter({ hasText: "tasks" }).click();
    await expect.poll(() => keys(p)).toEqual(["docs", "login", "search"]);
    // An agent with a write token, through the real HTTP API.
    const token = vault.json<{ token: string }>("serve", "token", "--scope", "write").token;
    const response = await fetch(`${t.kura!.url}/v1/projects/${id}/records/tasks/deploy`, {
      method: "PUT",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ title: "Deploy", status: "open" }),
    });
    expect(response.status).toBe(200);
    await expect.poll(() => keys(p)).toEqual(["deploy", "docs", "login", "search"]);
    await expect.poll(() => text(p.getByTestId("record-collection-item").filter({ hasText: "tasks" }))).toBe("tasks 4");
    expect(pageErrors(p)).toEqual([]);
  });

  it("creates the first record of an empty project, and shows a schema's refusal", async () => {
    const vault = emptyVault();
    const id = vault.json<{ id: string }>("project", "create", "blank").id;
    const p = await open(vault, `#/project/${id}/records`);
    await expect.poll(() => text(p.getByTestId("records"))).toContain("No records in this project");
    await p.getByTestId("record-new").click();
    await p.getByTestId("record-collection").fill("notes");
    await p.getByTestId("record-key").fill("kickoff");
    await p.getByTestId("record-json").fill('{"text": "We start on Monday"}');
    await p.getByTestId("record-save").click();
    await expect.poll(() => keys(p)).toEqual(["kickoff"]);
    expect(vault.json<StoredRecord>("record", "-p", "blank", "get", "notes", "kickoff").value).toEqual({ text: "We start on Monday" });

    // The collection gets a schema from the command line; the page shows the engine's refusal.
    const schema = join(vault.root, "schema.json");
    writeFileSync(schema, JSON.stringify({ type: "object", required: ["text"] }));
    vault.run("record", "-p", "blank", "settings", "notes", "--schema", schema);
    await p.getByTestId("record-new").click();
    await p.getByTestId("record-key").fill("bad");
    await p.getByTestId("record-json").fill('{"txt": "typo"}');
    await p.getByTestId("record-save").click();
    await expect.poll(() => text(p.getByTestId("record-error"))).toContain("does not match the schema of collection 'notes'");
    expect(vault.refusal("record", "-p", "blank", "get", "notes", "bad")).toContain("there is no record");
    expect(pageErrors(p)).toEqual([]);
  });
});
