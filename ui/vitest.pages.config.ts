import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

// Page tests: the built UI (mock mode, ui/dist-mock) in headless Chromium through playwright-core.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  test: {
    include: ["tests/pages/**/*.test.ts"],
    environment: "node",
    fileParallelism: false,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
