import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig } from "vite";

// `vite ui` / `vite build ui` (output ui/dist): what tauri.conf.json's frontendDist points at, and
// what `kura serve` serves to browsers. `vite ui` in a browser proxies /v1 to `KURA_SERVE_URL`.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [svelte()],
  clearScreen: false,
  // tauri.conf.json's devUrl points here.
  server: {
    port: 5173,
    strictPort: true,
    watch: { ignored: ["**/dist/**", "**/test-results/**"] },
    proxy: process.env.KURA_SERVE_URL ? { "/v1": { target: process.env.KURA_SERVE_URL, changeOrigin: false } } : undefined,
  },
  build: {
    target: "es2022",
    outDir: "dist",
    emptyOutDir: true,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 1000,
  },
});
