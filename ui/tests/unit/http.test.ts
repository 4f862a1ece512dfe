// The HTTP transport's side of the contract (/v1): what it sends and how it reads the answers,
// over a stubbed `fetch`; the page tests run it against the real `kura serve`.

import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { asQuery, HttpTransport } from "../../src/lib/api/http";
import { needs, refusal } from "../../src/lib/api/access";
import { projectFilter } from "../../src/lib/api/client";
import { COMMANDS, ROUTES } from "../../src/lib/api/routes";
import { SHELL_COMMANDS } from "../../src/lib/api/transport";

type Sent = { method: string; url: string; headers: Record<string, string>; body: unknown };
let sent: Sent[] = [];
let answers: ((req: Sent) => { status: number; body: unknown })[] = [];

class FakeEventSource {
  static last: FakeEventSource | null = null;
  listeners = new Map<string, (m: { data: string }) => void>();
  constructor(readonly url: string) {
    FakeEventSource.last = this;
  }
  addEventListener(type: string, listener: (m: { data: string }) => void) {
    this.listeners.set(type, listener);
  }
  emit(type: string, data: unknown) {
    this.listeners.get(type)?.({ data: JSON.stringify({ id: 1, at: 0, type, project_id: null, data }) });
  }
}

beforeEach(() => {
  sent = [];
  answers = [];
  const g = globalThis as Record<string, unknown>;
  g.document = { cookie: "other=1; kura_csrf=tok%3D1" };
  g.window = { location: { host: "127.0.0.1:1" } };
  g.EventSource = FakeEventSource;
  g.fetch = async (url: string, init: RequestInit) => {
    const req: Sent = { method: init.method ?? "GET", url, headers: init.headers as Record<string, string>, body: init.body ? JSON.parse(String(init.body)) : null };
    sent.push(req);
    const answer = answers.shift()?.(req) ?? { status: 500, body: { code: "internal", message: "no answer" } };
    return new Response(answer.body === null ? null : JSON.stringify(answer.body), { status: answer.status });
  };
});

afterEach(() => {
  const g = globalThis as Record<string, unknown>;
  delete g.document;
  delete g.window;
  delete g.EventSource;
});

const op = (state: string, extra: object = {}) => ({ id: "job-1", kind: "snapshot", project_id: "p", state, progress: null, eta_secs: null, started_at: 0, finished_at: null, result: null, error: null, ...extra });

describe("HttpTransport", () => {
  it("sends the CSRF cookie's value on writes only, and reads errors as the engine's code", async () => {
    const http = new HttpTransport(async () => null);
    answers.push(() => ({ status: 200, body: [] }));
    answers.push(() => ({ status: 409, body: { code: "already_exists", message: "a workspace named 'x' already exists", subject: { kind: "field", name: "name" } } }));
    expect(await http.listWorkspaces()).toEqual({ status: "ok", data: [] });
    expect(await http.createWorkspace("x")).toEqual({
      status: "error",
      error: { code: "already_exists", message: "a workspace named 'x' already exists", subject: { kind: "field", name: "name" } },
    });
    expect(sent[0].headers["X-Kura-CSRF"]).toBeUndefined();
    expect(sent[1]).toMatchObject({ method: "POST", url: "/v1/workspaces", body: { name: "x" } });
    expect(sent[1].headers["X-Kura-CSRF"]).toBe("tok=1");
  });

  it("learns the session's scope when it asks whether it is signed in, and offers what that scope may do", async () => {
    const http = new HttpTransport(async () => null);
    // Not known while the server does not say: nothing is held back (the server still refuses).
    answers.push(() => ({ status: 503, body: { code: "unavailable", message: "starting" } }));
    await http.signedIn();
    expect(http.scope).toBeNull();
    expect(refusal(http.scope, "restoreProject")).toBeNull();
    sent = [];
    answers.push(() => ({ status: 200, body: { scope: "write" } }));
    expect(await http.signedIn()).toBe(true);
    expect(sent[0]).toMatchObject({ method: "GET", url: "/v1/caller" });
    expect(http.scope).toBe("write");
    expect(refusal(http.scope, "snapshotProject")).toBeNull();
    expect(refusal(http.scope, "restoreProject")).toContain("this needs an admin token");
    answers.push(() => ({ status: 401, body: { code: "unauthorized", message: "no session" } }));
    expect(await http.signedIn()).toBe(false);
  });

  it("holds each command to the scope its operations need: the most of them, anything in the window", () => {
    expect(needs("listProjects")).toBe("read");
    expect(needs("recordQuery")).toBe("read");
    expect(needs("snapshotProject")).toBe("write");
    expect(needs("restoreProject")).toBe("admin");
    expect(needs("recordDelete")).toBe("admin");
    expect(needs("setConfig")).toBe("admin");
    expect(refusal("read", "snapshotProject")).not.toBeNull();
    expect(refusal("admin", "restoreProject")).toBeNull();
    expect(refusal(null, "restoreProject")).toBeNull();
  });

  it("puts a project filter in the query: nulls left out, lists comma-separated", () => {
    const query = asQuery(projectFilter({ tags: ["a", "b"], text: "site", metadata: [["k", "v"], ["flag", null]] }));
    expect(query).toEqual({ tags: "a,b", text: "site", metadata: "k=v,flag", sort: "name" });
  });

  it("starts a long operation under the job's id, reports its progress, and answers its result", async () => {
    const http = new HttpTransport(async () => null);
    const progress: number[] = [];
    answers.push(() => ({ status: 202, body: op("running") }));
    answers.push(() => {
      FakeEventSource.last!.emit("operation.progress", op("running", { progress: { phase: "scanning", done: 2, total: 4, unit: "files", item: null } }));
      return { status: 200, body: op("succeeded", { result: { files: 4 } }) };
    });
    const reply = await http.snapshotProject("p", { message: "msg" }, "job-1", (p) => progress.push(p.done));
    expect(reply).toEqual({ status: "ok", data: { files: 4 } });
    expect(sent[0]).toMatchObject({ method: "POST", url: "/v1/projects/p/snapshot", body: { message: "msg" } });
    expect(sent[0].headers["Kura-Operation-Id"]).toBe("job-1");
    expect(sent[1].url).toBe("/v1/operations/job-1?wait=true&timeout_secs=25");
    expect(progress).toEqual([2]);
  });

  it("answers a failed or cancelled operation as an error with its code", async () => {
    const http = new HttpTransport(async () => null);
    answers.push(() => ({ status: 202, body: op("running") }));
    answers.push(() => ({ status: 409, body: op("cancelled", { error: { code: "cancelled", message: "cancelled by the user" } }) }));
    expect(await http.collectGarbage("job-1", () => {})).toEqual({ status: "error", error: { code: "cancelled", message: "cancelled by the user" } });
  });

  it("says a server that does not answer is unavailable, and asks the page for paths", async () => {
    (globalThis as Record<string, unknown>).fetch = async () => {
      throw new TypeError("Failed to fetch");
    };
    const asked: string[] = [];
    const http = new HttpTransport(async (r) => (asked.push(`${r.kind}:${r.title}`), "/home/me/code"));
    expect((await http.getStats()).status === "error" && (await http.getStats())).toMatchObject({ error: { code: "unavailable" } });
    expect(await http.pickFolder("Choose a folder to import")).toBe("/home/me/code");
    expect(asked).toEqual(["folder:Choose a folder to import"]);
  });

  it("sends every command to the route of an operation the catalog declares it under", async () => {
    // A sent URL fits a template when each segment is equal or a parameter; `{path}` takes the rest.
    const fits = (template: string, path: string) => {
      const t = template.split("/");
      const p = path.split("/");
      const tail = t[t.length - 1] === "{path}";
      if (tail ? p.length < t.length : p.length !== t.length) return false;
      return t.every((seg, i) => seg.startsWith("{") || seg === decodeURIComponent(p[i]));
    };
    const declared = (name: string, method: string, url: string) =>
      (COMMANDS[name] ?? []).some((id) => ROUTES[id][0] === method && fits(ROUTES[id][1], url.split("?")[0]));
    const http = new HttpTransport(async () => "/nowhere");
    // Every command of the shell (the generated bindings): the browser's transport answers
    // each but the window's own.
    const bindings = readFileSync(new URL("../../src/lib/bindings.ts", import.meta.url), "utf8");
    const commands = bindings.split("export const commands = {")[1].split("\n}")[0];
    const all = [...commands.matchAll(/^\t([a-zA-Z]+): \(/gm)].map((m) => m[1]);
    const methods = http as unknown as Record<string, unknown>;
    const names = all.filter((name) => typeof methods[name] === "function");
    expect(all.filter((name) => !names.includes(name))).toEqual([...SHELL_COMMANDS]);
    const unknown: string[] = [];
    const silent: string[] = [];
    for (const name of names) {
      sent = [];
      answers = [];
      const call = (http as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>)[name];
      try {
        // Strings for every argument; a command that needs more stops before sending, which
        // the count below keeps honest.
        await Promise.race([call.call(http, "x", "x", "x", "x", () => {}), new Promise((r) => setTimeout(r, 20))]);
      } catch {
        // Only what was sent matters here.
      }
      if (sent.length === 0) silent.push(name);
      for (const req of sent) {
        if (!declared(name, req.method, req.url)) unknown.push(`${name}: ${req.method} ${req.url}`);
      }
    }
    expect(unknown).toEqual([]);
    expect(silent).toEqual([]);
    expect(names.length - silent.length).toBeGreaterThan(70);
  });
});
