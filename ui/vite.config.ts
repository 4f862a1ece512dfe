import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// `vite ui` / `vite build ui` (output ui/dist, what tauri.conf.json's frontendDist points at).
// `--mode mock` builds the same UI over the in-memory fake vault, for page tests in a browser.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [svelte()],
  clearScreen: false,
  // tauri.conf.json's devUrl points here.
  server: { port: 5173, strictPort: true, watch: { ignored: ["**/dist/**", "**/dist-mock/**", "**/test-results/**"] } },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1000,
  },
});
