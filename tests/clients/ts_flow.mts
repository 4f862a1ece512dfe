// A real flow through a TypeScript client made of standard parts: types generated from the
// published OpenAPI document by openapi-typescript, requests sent by openapi-fetch, the whole
// checked by tsc --strict against those types. Against a real `kura serve`: create a project, save
// a binary file, snapshot (waiting, and following an operation to its end), read the history and
// the file back, restore, batch records, read an error.
// Usage: node flow.mjs URL TOKEN
import createClient from "openapi-fetch";
import type { components, paths } from "./kura-api.js";

/** A long operation waited for to its end (200): its result typed. */
type Finished<R extends keyof components["schemas"]> = components["schemas"][R];

const [url, token] = process.argv.slice(2);
const client = createClient<paths>({ baseUrl: url, headers: { Authorization: `Bearer ${token}` } });

function check(condition: unknown, what: string): asserts condition {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

/** Raw bytes as the body, as openapi-fetch's documentation shows for binary uploads. */
const asBytes = { bodySerializer: (body: Blob | undefined) => body ?? new Blob([]), headers: { "Content-Type": "application/octet-stream" } };

const created = await client.POST("/v1/projects", { body: { name: "typescript-client" } });
check(created.data, `createProject answers a Project (${created.response.status})`);
const id = created.data.id;
const file = { path: { id, path: "assets/logo.bin" } };

const first = new Uint8Array(16384).map((_, i) => i % 256);
const saved = await client.PUT("/v1/projects/{id}/files/{path}", { params: file, body: new Blob([first]), ...asBytes });
check(saved.data, `saveFile takes raw bytes (${saved.response.status})`);

const snap = await client.POST("/v1/projects/{id}/snapshot", { params: { path: { id }, query: { wait: true } }, body: { message: "first" } });
check(snap.data?.state === "succeeded", "snapshotProject?wait=true ends succeeded");
// A 200 is the finished operation, its result typed (a 202 would be one still running).
check(snap.response.status === 200, "the wait ended in a 200");
const firstVersion = (snap.data as Finished<"SnapshotReportOperation">).result.version?.id ?? "";
check(firstVersion.length === 40, "its result names the version");

const second = first.slice().reverse();
await client.PUT("/v1/projects/{id}/files/{path}", { params: file, body: new Blob([second]), ...asBytes });
const started = await client.POST("/v1/projects/{id}/snapshot", { params: { path: { id }, header: { "Idempotency-Key": "ts-second" } }, body: { message: "second" } });
check(started.response.status === 202 && started.data, "snapshotProject answers 202 with an operation");
check(started.response.headers.get("location") === `/v1/operations/${started.data.id}`, "and a Location header to follow");
let op = started.data;
const deadline = Date.now() + 60_000;
while (op.state === "running") {
  check(Date.now() < deadline, "the operation ends within a minute");
  const next = await client.GET("/v1/operations/{id}", { params: { path: { id: op.id }, query: { wait: true, timeout_secs: 5 } } });
  check(next.data, "getOperation answers the operation");
  op = next.data;
}
check(op.state === "succeeded", "getOperation follows it to its end: succeeded");

const versions = await client.GET("/v1/projects/{id}/versions", { params: { path: { id } } });
check(versions.data && versions.data[0].message === "second" && versions.data[1].message === "first", "listVersions: newest first");

const read = await client.GET("/v1/projects/{id}/files/{path}", { params: file, parseAs: "arrayBuffer" });
check(read.data && Buffer.from(read.data).equals(Buffer.from(second)), "readFile gives the bytes saved");

const restored = await client.POST("/v1/projects/{id}/restore", { params: { path: { id }, query: { wait: true } }, body: { version: firstVersion } });
check(restored.data?.state === "succeeded", "restoreProject?wait=true ends succeeded");
check((restored.data as Finished<"RestoreReportOperation">).result.version === firstVersion, "its result (a typed RestoreReport) names the version restored");
const back = await client.GET("/v1/projects/{id}/files/{path}", { params: file, parseAs: "arrayBuffer" });
check(back.data && Buffer.from(back.data).equals(Buffer.from(first)), "after the restore the file is the first version's");

const batch = await client.POST("/v1/projects/{id}/records", {
  params: { path: { id } },
  body: {
    ops: [
      { op: "put", collection: "runs", key: "a", value: { step: 1 } },
      { op: "put", collection: "runs", key: "b", value: { step: 2 } },
      { op: "delete", collection: "runs", key: "a" },
    ],
  },
});
check(batch.data?.length === 3, "batchProjectRecords applies three operations");
const record = await client.GET("/v1/projects/{id}/records/{collection}/{key}", { params: { path: { id, collection: "runs", key: "b" } } });
check(JSON.stringify(record.data?.value) === JSON.stringify({ step: 2 }), "getProjectRecord reads what the batch wrote");
check(record.response.headers.get("etag"), "with its ETag");
const gone = await client.GET("/v1/projects/{id}/records/{collection}/{key}", { params: { path: { id, collection: "runs", key: "a" } } });
check(gone.response.status === 404 && gone.error?.code === "not_found", "a deleted record is a typed not_found error");

const missing = await client.GET("/v1/projects/{id}", { params: { path: { id: "no-such-project" } } });
check(missing.response.status === 404 && missing.error?.code === "not_found", "getProject of an unknown project is an HttpError");
