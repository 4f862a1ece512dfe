// `kura mcp` through the official MCP TypeScript SDK (@modelcontextprotocol/sdk), which checks
// every tool result's structured content against the tool's outputSchema (with Ajv): an
// agent's session with the tools that need no S3 target, with --allow-destructive, then one
// without (the destructive tools are not listed). Every tool's inputSchema is compiled as JSON
// Schema 2020-12 by Ajv, and every call's arguments are validated against it, with arguments it
// does not name refused.
//
// Usage: node mcp_flow.mjs KURA VAULT

import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const [kura, vault] = process.argv.slice(2);
const DESTRUCTIVE = ["delete_file", "delete_record", "delete_project", "restore_file", "restore_project"];

function check(condition, what) {
  if (!condition) {
    console.error(`FAILED: ${what}`);
    process.exit(1);
  }
  console.log(`ok: ${what}`);
}

async function session(flags, work) {
  const transport = new StdioClientTransport({ command: kura, args: ["--vault", vault, "mcp", ...flags], stderr: "inherit" });
  const client = new Client({ name: "kura-ts-flow", version: "1.0.0" });
  await client.connect(transport);
  try {
    await work(client);
  } finally {
    await client.close();
  }
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
const inputs = new Map();

async function call(client, name, args) {
  const validate = inputs.get(name);
  check(validate !== undefined, `${name} is listed`);
  if (!validate(args)) throw new Error(`${name}: arguments do not fit its inputSchema: ${ajv.errorsText(validate.errors)}`);
  // The SDK throws when the structured content does not fit the tool's outputSchema.
  const result = await client.callTool({ name, arguments: args });
  check(!result.isError, `${name} answers (and fits its outputSchema)`);
  return result.structuredContent;
}

await session(["--allow-destructive"], async (client) => {
  const { tools } = await client.listTools();
  for (const tool of tools) {
    inputs.set(tool.name, ajv.compile({ ...tool.inputSchema, additionalProperties: false }));
  }
  check(tools.every((t) => t.inputSchema.type === "object" && t.outputSchema?.type === "object"), `all ${tools.length} tools have object input and output schemas`);
  check(DESTRUCTIVE.every((name) => inputs.has(name)), "with --allow-destructive the destructive tools are listed");
  const project = "ts-agent";
  await call(client, "create_project", { name: project, tags: ["mcp"] });
  await call(client, "status", {});
  await call(client, "list_projects", { sort: "size" });
  await call(client, "show_project", { project });
  await call(client, "save_file", { project, path: "plan.md", content: "# Plan\n" });
  await call(client, "save_file", { project, path: "logo.bin", content: "AAEC/w==", encoding: "base64" });
  await call(client, "list_files", { project });
  await call(client, "read_file", { project, path: "logo.bin", encoding: "base64" });
  const first = (await call(client, "snapshot", { project, message: "first" })).version.id;
  await call(client, "save_file", { project, path: "plan.md", content: "# Plan\n\n- more\n" });
  await call(client, "snapshot", { project, message: "second", allow_empty: false });
  await call(client, "history", { project });
  await call(client, "diff", { project, from: first });
  await call(client, "restore_plan", { project, version: first });
  await call(client, "restore_file", { project, version: first, path: "plan.md" });
  await call(client, "rename_file", { project, from: "logo.bin", to: "logo2.bin" });
  await call(client, "delete_file", { project, path: "logo2.bin" });
  await call(client, "set_record_collection", { project, collection: "tasks", indexes: ["state"] });
  await call(client, "put_record", { project, collection: "tasks", key: "t1", value: { state: "open" } });
  await call(client, "get_record", { project, collection: "tasks", key: "t1" });
  const found = await call(client, "query_records", { project, collection: "tasks", where: [{ field: "state", eq: "open" }] });
  check(found.records.length === 1 && found.records[0].key === "t1", "a query finds the record by its field");
  await call(client, "batch_records", { project, ops: [{ op: "put", collection: "tasks", key: "t2", value: { state: "done" } }] });
  await call(client, "list_record_collections", { project });
  await call(client, "delete_record", { project, collection: "tasks", key: "t2" });
  await call(client, "backup_status", {});
  await call(client, "verify", {});
  await call(client, "list_shares", {});
  await call(client, "archive_project", { project });
  await call(client, "list_archives", {});
  await call(client, "unarchive_project", { archive: project });
  await call(client, "delete_project", { project });
  const refused = await client.callTool({ name: "show_project", arguments: { project: "nothing-here" } });
  check(refused.isError && refused.structuredContent === undefined && JSON.parse(refused.content[0].text).code === "not_found", "an unknown project is a not_found error, its JSON in the text");
});

await session([], async (client) => {
  const { tools } = await client.listTools();
  const names = new Set(tools.map((t) => t.name));
  check(DESTRUCTIVE.every((name) => !names.has(name)), "without --allow-destructive no destructive tool is listed");
});

console.log("mcp_flow.mjs: all checks passed");
