// Generates TypeScript types from the published OpenAPI document with openapi-typescript, as its
// documentation shows for binary bodies: `format: binary` as a Blob (a file's bytes).
// Usage: node generate-ts.mjs DOCUMENT OUTPUT
import fs from "node:fs";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const [doc, out] = process.argv.slice(2);
const BLOB = ts.factory.createTypeReferenceNode(ts.factory.createIdentifier("Blob"));
const ast = await openapiTS(pathToFileURL(doc), {
  transform(schema) {
    if (schema.format === "binary") return BLOB;
  },
});
fs.writeFileSync(out, astToString(ast));
