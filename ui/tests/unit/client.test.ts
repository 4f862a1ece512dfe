import { describe, expect, it } from "vitest";
import { Client, KuraError, toKuraError } from "../../src/lib/api/client";
import type { Transport } from "../../src/lib/api/transport";
import type { NewProject, ProjectFilter } from "../../src/lib/api/types";
import { fail, fakeTransport } from "./fake";

describe("toKuraError", () => {
  it("keeps the engine's code and message", () => {
    const e = toKuraError({ code: "already_exists", message: "a workspace named 'x' already exists" });
    expect(e).toBeInstanceOf(KuraError);
    expect(e.code).toBe("already_exists");
    expect(e.message).toBe("a workspace named 'x' already exists");
  });

  it("turns unknown codes and shapes into internal errors, keeping what was said", () => {
    const tagged = toKuraError({ code: "invalid_input", message: "'a,b' is not a valid tag", subject: { kind: "field", name: "tags" } });
    expect(tagged.field).toBe("tags");
    expect(toKuraError({ code: "not_found", message: "m", subject: { kind: "project", name: "site" } })).toMatchObject({ field: null, subject: { kind: "project", name: "site" } });
    expect(toKuraError({ code: "weird", message: "m" }).code).toBe("internal");
    expect(toKuraError({ code: "weird", message: "m" }).message).toContain("m");
    expect(toKuraError(new Error("boom"))).toMatchObject({ code: "internal", message: "boom" });
    expect(toKuraError("command not found")).toMatchObject({ code: "internal", message: "command not found" });
    expect(toKuraError(undefined).code).toBe("internal");
  });
});

describe("Client", () => {
  it("returns data on ok and throws KuraError with the code on error", async () => {
    const client = new Client(
      fakeTransport({
        listWorkspaces: [{ name: "default", active: true, project_count: 0 }],
        createWorkspace: fail("already_exists", "a workspace named 'default' already exists"),
      }),
    );
    expect((await client.listWorkspaces()).map((w) => w.name)).toEqual(["default"]);
    await expect(client.createWorkspace("default")).rejects.toMatchObject({ code: "already_exists", message: "a workspace named 'default' already exists" });
  });

  it("maps a transport that throws (IPC failure) to internal", async () => {
    const broken = { listWorkspaces: () => Promise.reject(new Error("IPC channel closed")) } as unknown as Transport;
    await expect(new Client(broken).listWorkspaces()).rejects.toMatchObject({ code: "internal", message: "IPC channel closed" });
  });

  it("fills defaults for filters and new projects", async () => {
    let filter: ProjectFilter | null = null;
    let created: NewProject | null = null;
    const client = new Client(
      fakeTransport({
        listProjects: (f: ProjectFilter) => ((filter = f), []),
        createProject: (p: NewProject) => ((created = p), { name: p.name }),
      }),
    );
    await client.projects({ text: "fresh" });
    expect(filter).toMatchObject({ text: "fresh", tags: [], metadata: [], sort: "name", all_workspaces: false, status: null });
    await client.createProject({ name: "fresh" });
    expect(created).toEqual({ name: "fresh", workspace: null, template: null, kind: null, description: "", tags: [] });
  });

  it("reads a folder that is not a git repository as null, other errors still throw", async () => {
    const client = new Client(
      fakeTransport({
        getGitStatus: (id: string) => (id === "plain" ? fail("not_found") : id === "archived" ? fail("conflict") : { branch: "main" }),
      }),
    );
    expect(await client.folderGitStatus("plain")).toBeNull();
    expect((await client.folderGitStatus("repo"))?.branch).toBe("main");
    await expect(client.folderGitStatus("archived")).rejects.toMatchObject({ code: "conflict" });
  });
});
