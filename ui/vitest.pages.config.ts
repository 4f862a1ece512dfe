import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Page tests: the built UI (ui/dist) served by the real `kura serve` on a fresh vault, in headless
// Chromium through playwright-core (harness.ts).
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    include: ["tests/pages/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
