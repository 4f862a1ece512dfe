"""`kura mcp` through the official MCP Python SDK (`mcp`), which checks every tool result's
structured content against the tool's outputSchema: an agent's session with every tool that
needs no S3 target, in a session with --allow-destructive (all tools listed), then one without
(the destructive tools are not listed, and the instructions say why). Every tool's inputSchema
is checked as JSON Schema 2020-12 by `jsonschema` (the SDK's own validator), and every call's
arguments are validated against it before the call; arguments it does not know are refused, so
that a misspelt argument cannot pass unnoticed.

Usage: mcp_flow.py KURA VAULT
"""

import asyncio
import json
import sys

import jsonschema

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

DESTRUCTIVE = {"delete_file", "delete_record", "delete_project", "restore_file", "restore_project"}


def check(condition, what):
    if not condition:
        raise SystemExit(f"FAILED: {what}")
    print(f"ok: {what}")


async def session(kura, vault, flags, work):
    params = StdioServerParameters(command=kura, args=["--vault", vault, "mcp", *flags])
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            init = await s.initialize()
            await work(s, init)


INPUTS = {}


def strict(schema):
    """The schema, with arguments it does not name refused (at its root)."""
    return {**schema, "additionalProperties": False}


async def call(s, tool, args):
    if tool in INPUTS:
        jsonschema.validate(args, strict(INPUTS[tool]), cls=jsonschema.Draft202012Validator)
    # The SDK raises when structured content does not fit the tool's outputSchema.
    result = await s.call_tool(tool, args)
    check(not result.is_error, f"{tool} answers (and fits its outputSchema)")
    return result.structured_content


async def everything(s, init):
    tools = (await s.list_tools()).tools
    for t in tools:
        jsonschema.Draft202012Validator.check_schema(t.input_schema)
        INPUTS[t.name] = t.input_schema
    check(all(t.input_schema.get("type") == "object" for t in tools), f"all {len(tools)} inputSchemas are valid JSON Schema objects")
    check(all(t.output_schema and t.output_schema.get("type") == "object" for t in tools), f"all {len(tools)} tools declare an object outputSchema")
    names = {t.name for t in tools}
    check(DESTRUCTIVE <= names, "with --allow-destructive the destructive tools are listed")
    await call(s, "create_project", {"name": "agent-notes"})
    await call(s, "status", {})
    await call(s, "list_workspaces", {})
    await call(s, "list_projects", {})
    await call(s, "list_projects", {"language": "markdown", "sort": "size", "limit": 5})
    typo = await s.call_tool("list_projects", {"langauge": "rust"})
    error = json.loads(typo.content[0].text)
    check(typo.is_error and error["code"] == "invalid_input" and "langauge" in error["message"] and "language" in error["message"],
          "an argument the tool does not take is refused by name, with the ones it takes")
    check(all(t.input_schema.get("additionalProperties") is False for t in tools), "every inputSchema says so (additionalProperties: false)")
    await call(s, "show_project", {"project": "agent-notes"})
    await call(s, "save_file", {"project": "agent-notes", "path": "plan.md", "content": "# Plan\n"})
    await call(s, "save_file", {"project": "agent-notes", "path": "logo.bin", "content": "AAEC/w==", "encoding": "base64"})
    await call(s, "list_files", {"project": "agent-notes"})
    await call(s, "read_file", {"project": "agent-notes", "path": "plan.md"})
    await call(s, "read_file", {"project": "agent-notes", "path": "logo.bin", "encoding": "base64"})
    first = (await call(s, "snapshot", {"project": "agent-notes", "message": "first"}))["version"]["id"]
    await call(s, "save_file", {"project": "agent-notes", "path": "plan.md", "content": "# Plan\n\n- more\n"})
    await call(s, "snapshot", {"project": "agent-notes", "message": "second"})
    await call(s, "history", {"project": "agent-notes"})
    await call(s, "diff", {"project": "agent-notes", "from": first})
    await call(s, "restore_plan", {"project": "agent-notes", "version": first})
    await call(s, "restore_file", {"project": "agent-notes", "version": first, "path": "plan.md"})
    await call(s, "restore_project", {"project": "agent-notes", "version": "latest"})
    await call(s, "rename_file", {"project": "agent-notes", "from": "logo.bin", "to": "logo2.bin"})
    await call(s, "delete_file", {"project": "agent-notes", "path": "logo2.bin"})
    await call(s, "set_record_collection", {"project": "agent-notes", "collection": "tasks", "indexes": ["state"]})
    await call(s, "put_record", {"project": "agent-notes", "collection": "tasks", "key": "t1", "value": {"state": "open"}})
    await call(s, "get_record", {"project": "agent-notes", "collection": "tasks", "key": "t1"})
    await call(s, "query_records", {"project": "agent-notes", "collection": "tasks", "where": [{"field": "state", "eq": "open"}]})
    await call(s, "batch_records", {"project": "agent-notes", "ops": [{"op": "put", "collection": "tasks", "key": "t2", "value": {"state": "done"}}]})
    await call(s, "list_record_collections", {"project": "agent-notes"})
    await call(s, "delete_record", {"project": "agent-notes", "collection": "tasks", "key": "t2"})
    await call(s, "backup_status", {})
    await call(s, "verify", {})
    await call(s, "list_shares", {})
    await call(s, "prune_shares", {})
    await call(s, "archive_project", {"project": "agent-notes"})
    await call(s, "list_archives", {})
    await call(s, "unarchive_project", {"archive": "agent-notes"})
    await call(s, "delete_project", {"project": "agent-notes"})


async def guarded(s, init):
    names = {t.name for t in (await s.list_tools()).tools}
    check(not (DESTRUCTIVE & names), "without --allow-destructive no destructive tool is listed")
    check(all(name in init.instructions for name in DESTRUCTIVE), "and the instructions name them")
    refused = await s.call_tool("delete_project", {"project": "nothing"})
    error = json.loads(refused.content[0].text)
    check(refused.is_error and refused.structured_content is None and error["code"] == "forbidden", "one called anyway is refused as forbidden, a JSON error in its text")


async def main(kura, vault):
    await session(kura, vault, ["--allow-destructive"], everything)
    await session(kura, vault, [], guarded)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
