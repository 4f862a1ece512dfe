import { describe, expect, it } from "vitest";
import { Client, KuraError, toKuraError } from "../../src/lib/api/client";
import { MockTransport } from "../../src/lib/api/mock";
import type { Transport } from "../../src/lib/api/transport";

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
    const client = new Client(new MockTransport());
    expect((await client.workspaces()).map((w) => w.name)).toContain("default");
    await expect(client.createWorkspace("default")).rejects.toMatchObject({ code: "already_exists" });
    await expect(client.project("nope")).rejects.toMatchObject({ code: "not_found" });
  });

  it("maps a transport that throws (IPC failure) to internal", async () => {
    const broken = { workspaces: () => Promise.reject(new Error("IPC channel closed")) } as unknown as Transport;
    await expect(new Client(broken).workspaces()).rejects.toMatchObject({ code: "internal", message: "IPC channel closed" });
  });

  it("fills defaults for filters and new projects", async () => {
    const transport = new MockTransport();
    const client = new Client(transport);
    const p = await client.createProject({ name: "fresh" });
    expect(p.kind).toBe("manual");
    expect((await client.projects({ text: "fresh" })).map((x) => x.name)).toEqual(["fresh"]);
  });

  it("reads a folder that is not a git repository as null, other errors still throw", async () => {
    const transport = new MockTransport();
    const client = new Client(transport);
    const [api] = await client.projects({ text: "billing-api" });
    expect(await client.folderGitStatus(api.id)).toBeNull();
    const [site] = await client.projects({ text: "kura-site" });
    expect((await client.folderGitStatus(site.id))?.branch).toBe("main");
    const [archived] = await client.projects({ status: "archived" });
    await expect(client.folderGitStatus(archived.id)).rejects.toMatchObject({ code: "conflict" });
  });
});
