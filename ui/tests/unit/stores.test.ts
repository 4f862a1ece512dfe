// The stores over the fake vault: what a view would show after each action.

import { describe, expect, it } from "vitest";
import { Client } from "../../src/lib/api/client";
import { MockTransport } from "../../src/lib/api/mock";
import { AppState } from "../../src/lib/state/app.svelte";
import { Jobs } from "../../src/lib/state/jobs.svelte";
import { ProjectPage } from "../../src/lib/state/project.svelte";
import { ProjectList } from "../../src/lib/state/projects.svelte";
import { SettingsState, settingText } from "../../src/lib/state/settings.svelte";
import { VaultState } from "../../src/lib/state/vault.svelte";

const tick = () => new Promise((r) => setTimeout(r, 0));

function setup(options: ConstructorParameters<typeof MockTransport>[0] = {}) {
  const transport = new MockTransport(options);
  return { transport, client: new Client(transport) };
}

async function projectId(client: Client, name: string) {
  const [p] = await client.projects({ text: name, all_workspaces: true, status: null });
  return p.id;
}

describe("ProjectList", () => {
  it("lists the active workspace's live projects by name and filters them", async () => {
    const { client } = setup();
    const list = new ProjectList(client);
    await list.load();
    expect(list.items.map((p) => p.name)).toEqual(["billing-api", "kura-site", "ml-notebooks"]);
    expect(list.facets.languages).toEqual(["css", "html", "python", "rust", "typescript"]);

    list.language = "rust";
    await list.load();
    expect(list.items.map((p) => p.name)).toEqual(["billing-api"]);
    // Choices stay while a filter narrows the list.
    expect(list.facets.languages).toContain("python");

    list.clearFilters();
    list.status = "deleted";
    await list.load();
    expect(list.items.map((p) => p.name)).toEqual(["old-prototype"]);
  });

  it("sorts by size and searches text in names, descriptions and tags", async () => {
    const { client } = setup();
    const list = new ProjectList(client);
    list.sort = "size";
    await list.load();
    const sizes = list.items.map((p) => p.logical_size);
    expect([...sizes].sort((a, b) => b - a)).toEqual(sizes);
    list.text = "landing";
    await list.load();
    expect(list.items.map((p) => p.name)).toEqual(["kura-site"]);
  });

  it("keeps only the newest answer when loads overlap", async () => {
    const { client, transport } = setup({ latency: 5 });
    const list = new ProjectList(client);
    list.text = "billing";
    const first = list.load();
    list.text = "kura";
    const second = list.load();
    await Promise.all([first, second]);
    expect(list.items.map((p) => p.name)).toEqual(["kura-site"]);
    expect(transport.calls.filter((c) => c === "projects")).toHaveLength(2);
  });

  it("handles ten thousand projects", async () => {
    const { client } = setup({ extraProjects: 10_000 });
    const list = new ProjectList(client);
    await list.load();
    expect(list.items.length).toBe(10_003);
  });
});

describe("VaultState", () => {
  it("creates, switches, renames and deletes workspaces", async () => {
    const { client } = setup();
    const vault = new VaultState(client);
    await vault.load();
    expect(vault.active?.name).toBe("default");
    await vault.create("lab");
    await vault.switchTo("lab");
    expect(vault.active?.name).toBe("lab");
    await vault.rename("lab", "research");
    expect(vault.workspaces.map((w) => w.name)).toContain("research");
    await expect(vault.create("Research")).rejects.toMatchObject({ code: "already_exists" });
    await expect(vault.remove("clients", null)).rejects.toMatchObject({ code: "conflict" });
    await vault.remove("clients", "research");
    expect(vault.workspaces.find((w) => w.name === "research")?.project_count).toBe(2);
  });
});

describe("Jobs", () => {
  it("shows progress while a job runs and removes it after", async () => {
    const { client, transport } = setup({ stepDelay: 1 });
    const jobs = new Jobs(client);
    const id = await projectId(client, "kura-site");
    const seen: number[] = [];
    const running = jobs.run("Snapshot", (job) =>
      client.snapshot(id, "from a test", {
        id: job.id,
        onProgress: (p) => {
          job.onProgress(p);
          seen.push(p.done);
        },
      }),
    );
    expect(jobs.list).toHaveLength(1);
    const report = await running;
    expect(report.version?.message).toBe("from a test");
    expect(jobs.list).toHaveLength(0);
    expect(seen[0]).toBe(0);
    expect(seen[seen.length - 1]).toBe(report.files);
    expect(transport.calls).toContain("snapshot");
  });

  it("cancels: the job fails with code cancelled and no version is made", async () => {
    const { client } = setup({ stepDelay: 5 });
    const jobs = new Jobs(client);
    const id = await projectId(client, "kura-site");
    const before = (await client.versions(id)).length;
    const running = jobs.run("Snapshot", (job) => client.snapshot(id, null, job));
    await new Promise((r) => setTimeout(r, 6));
    await jobs.cancel(jobs.list[0].id);
    await expect(running).rejects.toMatchObject({ code: "cancelled" });
    expect((await client.versions(id)).length).toBe(before);
  });
});

describe("SettingsState", () => {
  it("saves a valid value and shows the engine's message at the field for an invalid one", async () => {
    const { client } = setup();
    const settings = new SettingsState(client);
    await settings.load();
    expect(settingText(settings.config!, "storage.compression_level")).toBe("3");
    expect(await settings.save("storage.compression_level", "40")).toBe(false);
    expect(settings.errors["storage.compression_level"]).toMatch(/between 1 and 19/);
    expect(settingText(settings.config!, "storage.compression_level")).toBe("3");
    expect(await settings.save("storage.compression_level", "9")).toBe(true);
    expect(settings.errors["storage.compression_level"]).toBeUndefined();
    expect(await settings.save("storage.cache_size", "lots")).toBe(false);
    expect(settings.errors["storage.cache_size"]).toMatch(/not a size/);
    expect(await settings.save("snapshots.excludes", "*.log, tmp/")).toBe(true);
    expect(settings.config!.snapshots?.excludes).toEqual(["*.log", "tmp/"]);
  });
});

describe("ProjectPage", () => {
  it("loads files with their states and the timeline", async () => {
    const { client } = setup();
    const page = new ProjectPage(client, await projectId(client, "kura-site"));
    await page.load();
    expect(page.project?.name).toBe("kura-site");
    expect(page.versions).toHaveLength(3);
    const states = Object.fromEntries(page.files.map((f) => [f.path, f.state]));
    expect(states["src/render.ts"]).toBe("modified");
    expect(states["notes/todo.md"]).toBe("new");
    expect(states["index.html"]).toBe("unchanged");
  });

  it("compares two picked versions, older first, whatever the order of picking", async () => {
    const { client } = setup();
    const page = new ProjectPage(client, await projectId(client, "kura-site"));
    await page.load();
    const [newest, , oldest] = page.versions;
    await page.toggleCompare(newest.id);
    expect(page.diff).toBeNull();
    await page.toggleCompare(oldest.id);
    expect(page.comparePair?.map((v) => v.id)).toEqual([oldest.id, newest.id]);
    expect(page.diff?.from).toBe(oldest.id);
    expect(page.diff?.files.map((f) => f.path)).toContain("src/pricing.ts");
    // A third pick replaces the older pick.
    await page.toggleCompare(page.versions[1].id);
    expect(page.compare).toEqual([oldest.id, page.versions[1].id]);
  });

  it("follows a snapshot and a file restore through refresh", async () => {
    const { client } = setup();
    const id = await projectId(client, "kura-site");
    const page = new ProjectPage(client, id);
    await page.load();
    await client.snapshot(id, "Pricing done");
    await page.refresh();
    expect(page.versions[0].message).toBe("Pricing done");
    expect(page.files.every((f) => f.state === "unchanged")).toBe(true);

    const oldest = page.versions[page.versions.length - 1];
    const report = await client.restoreFile(id, oldest.id, "src/main.ts");
    await page.refresh();
    // Nothing was unsaved, so no safety version was needed; the restore is itself a version.
    expect(report.safety_version).toBeNull();
    expect(page.versions[0].message).toBe(`Restored src/main.ts from version ${oldest.short_id}`);
    await page.select("src/main.ts");
    expect(page.preview?.text).toContain("Keep every project");
  });

  it("keeps unsaved changes in a safety version before restoring", async () => {
    const { client } = setup();
    const id = await projectId(client, "kura-site");
    const versions = await client.versions(id);
    const report = await client.restoreProject(id, versions[versions.length - 1].id);
    expect(report.safety_version?.trigger).toBe("before_restore");
    expect(report.files_removed).toBeGreaterThan(0);
    const after = await client.versions(id);
    expect(after[1].id).toBe(report.safety_version?.id);
    expect((await client.listFiles(id)).map((f) => f.path)).not.toContain("notes/todo.md");
  });

  it("marks a project that disappeared", async () => {
    const { client } = setup();
    const id = await projectId(client, "billing-api");
    const page = new ProjectPage(client, id);
    await client.deleteProject(id);
    await page.load();
    expect(page.missing).toBe(true);
  });
});

describe("AppState", () => {
  it("refreshes the workspaces when the vault changes elsewhere, and routes drops to the target", async () => {
    const transport = new MockTransport();
    const app = new AppState(transport);
    await app.start();
    expect(app.vault.workspaces.map((w) => w.name)).toEqual(["clients", "default", "experiments"]);
    await new Client(transport).createWorkspace("from-cli");
    await tick();
    await tick();
    expect(app.vault.workspaces.map((w) => w.name)).toContain("from-cli");

    const dropped: string[][] = [];
    const off = app.drops.register({ label: "test", accept: (paths) => dropped.push(paths) });
    transport.simulateDrop(["/home/dev/code/weather-app"]);
    expect(dropped).toEqual([["/home/dev/code/weather-app"]]);
    expect(app.drops.dragging).toBe(false);
    off();
    expect(app.drops.target).toBeNull();
  });
});
