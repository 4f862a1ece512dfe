import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vitest/config";

// Unit tests: formatters, layout math, diff pairing, the client and the stores over a transport
// that answers canned values (tests/unit/fake.ts). Runes in `.svelte.ts` modules are compiled by the Svelte plugin.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [svelte()],
  test: {
    include: ["tests/unit/**/*.test.ts"],
    environment: "node",
    pool: "threads",
    maxWorkers: 2,
  },
});
