// The stores over a transport that answers canned values: what a view would show after each
// answer. What the engine decides (filters, restores, validation) is tested against the real
// engine in the page tests.

import { describe, expect, it } from "vitest";
import { Client } from "../../src/lib/api/client";
import type { OnProgress } from "../../src/lib/api/transport";
import type { Config, DiffRequest, Project, ProjectFilter, Version } from "../../src/lib/api/types";
import { AppState } from "../../src/lib/state/app.svelte";
import type { Dropped } from "../../src/lib/state/drop.svelte";
import { Jobs } from "../../src/lib/state/jobs.svelte";
import { ProjectPage } from "../../src/lib/state/project.svelte";
import { ProjectList } from "../../src/lib/state/projects.svelte";
import { SettingsState, settingText } from "../../src/lib/state/settings.svelte";
import { fail, fakeTransport } from "./fake";

const tick = () => new Promise((r) => setTimeout(r, 0));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function project(name: string, more: Partial<Project> = {}): Project {
  return {
    id: `id-${name}`,
    name,
    workspace: "default",
    kind: "manual",
    description: "",
    status: "active",
    linked: false,
    path: `/vault/projects/${name}`,
    git_remote: null,
    languages: [],
    frameworks: [],
    tags: [],
    metadata: {},
    created_at: 0,
    updated_at: 0,
    last_opened_at: null,
    deleted_at: null,
    logical_size: 0,
    stored_size: 0,
    file_count: 0,
    head: null,
    ...more,
  };
}

function version(id: string, parent: string | null): Version {
  return { id, short_id: id.slice(0, 7), parent, message: id, trigger: "manual", at: 0, files: 1, bytes: 1 } as unknown as Version;
}

describe("ProjectList", () => {
  it("asks for the filters set, and keeps filter choices while a filter narrows the list", async () => {
    const all = [project("api", { languages: ["rust"] }), project("site", { languages: ["typescript", "css"] })];
    const asked: ProjectFilter[] = [];
    const list = new ProjectList(
      new Client(fakeTransport({ listProjects: (f: ProjectFilter) => (asked.push(f), f.language ? all.filter((p) => p.languages.includes(f.language!)) : all) })),
    );
    await list.load();
    expect(list.facets.languages).toEqual(["css", "rust", "typescript"]);
    list.language = "rust";
    list.status = "deleted";
    await list.load();
    expect(asked[1]).toMatchObject({ language: "rust", status: "deleted" });
    expect(list.items.map((p) => p.name)).toEqual(["api"]);
    expect(list.facets.languages).toContain("typescript");
  });

  it("keeps only the newest answer when loads overlap", async () => {
    const list = new ProjectList(
      new Client(fakeTransport({ listProjects: async (f: ProjectFilter) => (await sleep(f.text === "billing" ? 20 : 1), [project(f.text!)]) })),
    );
    list.text = "billing";
    const first = list.load();
    list.text = "kura";
    const second = list.load();
    await Promise.all([first, second]);
    expect(list.items.map((p) => p.name)).toEqual(["kura"]);
  });
});

describe("Jobs", () => {
  it("shows progress while a job runs and removes it after; cancelling asks to cancel that job", async () => {
    let report: OnProgress = () => {};
    let finish: (v: unknown) => void = () => {};
    const transport = fakeTransport({
      snapshotProject: (_id: string, _m: string, _job: string, onProgress: OnProgress) => ((report = onProgress), new Promise((r) => (finish = r))),
      cancelOperation: null,
    });
    const client = new Client(transport);
    const jobs = new Jobs(client);
    const running = jobs.run("Snapshot", (job) => client.snapshot("p", null, job));
    await tick();
    expect(jobs.list).toHaveLength(1);
    report({ phase: "scanning", done: 3, total: 10, unit: "files", item: "a.txt" });
    expect(jobs.list[0].progress?.done).toBe(3);
    await jobs.cancel(jobs.list[0].id);
    expect(transport.calls).toContain("cancelOperation");
    expect(jobs.list[0].cancelling).toBe(true);
    finish({ status: "error", error: { code: "cancelled", message: "cancelled" } });
    await expect(running).rejects.toMatchObject({ code: "cancelled" });
    expect(jobs.list).toHaveLength(0);
  });
});

describe("SettingsState", () => {
  it("saves a value the engine takes, and shows the engine's message at the field for one it refuses", async () => {
    const config = { storage: { compression_level: 3 } } as unknown as Config;
    const settings = new SettingsState(
      new Client(
        fakeTransport({
          getConfig: config,
          setConfig: (key: string, value: string) =>
            value === "40" ? fail("invalid_input", `${key} is 40; it must be between 1 and 19`) : { storage: { compression_level: Number(value) } },
        }),
      ),
    );
    await settings.load();
    expect(settingText(settings.config!, "storage.compression_level")).toBe("3");
    expect(await settings.save("storage.compression_level", "40")).toBe(false);
    expect(settings.errors["storage.compression_level"]).toMatch(/between 1 and 19/);
    expect(settingText(settings.config!, "storage.compression_level")).toBe("3");
    expect(await settings.save("storage.compression_level", "9")).toBe(true);
    expect(settings.errors["storage.compression_level"]).toBeUndefined();
    expect(settingText(settings.config!, "storage.compression_level")).toBe("9");
  });
});

describe("ProjectPage", () => {
  const versions = [version("c3", "b2"), version("b2", "a1"), version("a1", null)];

  it("compares two picked versions, older first, whatever the order of picking", async () => {
    const asked: [string, string | null][] = [];
    const page = new ProjectPage(
      new Client(
        fakeTransport({
          getProject: project("site"),
          listFiles: [],
          listVersions: versions,
          getQuota: fail("internal"),
          diffVersions: (_id: string, { from, to }: DiffRequest) => (asked.push([from, to ?? null]), { from, to, files: [] }),
        }),
      ),
      "id-site",
    );
    await page.load();
    await page.toggleCompare("c3");
    expect(page.diff).toBeNull();
    await page.toggleCompare("a1");
    expect(page.comparePair?.map((v) => v.id)).toEqual(["a1", "c3"]);
    expect(asked).toEqual([["a1", "c3"]]);
    // A third pick replaces the older pick.
    await page.toggleCompare("b2");
    expect(page.compare).toEqual(["a1", "b2"]);
  });

  it("marks a project that is not found as missing", async () => {
    const page = new ProjectPage(new Client(fakeTransport({ getProject: fail("not_found") })), "gone");
    await page.load();
    expect(page.missing).toBe(true);
  });
});

describe("AppState", () => {
  it("refreshes the workspaces when the vault changes elsewhere, and routes drops to the target", async () => {
    let names = ["default"];
    const transport = fakeTransport({
      getStatus: { version: "test" },
      listWorkspaces: () => names.map((name) => ({ name, active: name === "default", project_count: 0 })),
      getBackupStatus: fail("internal"),
      listBackupRuns: [],
    });
    const app = new AppState(transport);
    await app.start();
    expect(app.vault.workspaces.map((w) => w.name)).toEqual(["default"]);
    names = ["default", "from-cli"];
    transport.emitChange({ project_id: null, reason: "workspaces" });
    await tick();
    await tick();
    expect(app.vault.workspaces.map((w) => w.name)).toContain("from-cli");

    const dropped: Dropped[] = [];
    const off = app.drops.register({ label: "test", accept: (d) => dropped.push(d) });
    transport.emitDrop({ type: "enter", paths: ["/home/dev/weather-app"], x: 1, y: 1 });
    expect(app.drops.dragging).toBe(true);
    transport.emitDrop({ type: "drop", paths: ["/home/dev/weather-app"], x: 1, y: 1 });
    const file = new File(["hi"], "notes.md");
    transport.emitDrop({ type: "drop", files: [{ path: "notes.md", file }], x: 1, y: 1 });
    expect(dropped).toEqual([
      { kind: "paths", paths: ["/home/dev/weather-app"] },
      { kind: "files", files: [{ path: "notes.md", file }] },
    ]);
    expect(app.drops.dragging).toBe(false);
    off();
    expect(app.drops.target).toBeNull();
  });
});
