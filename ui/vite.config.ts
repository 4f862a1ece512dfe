import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { svelte } from "@sveltejs/vite-plugin-svelte";
import { defineConfig, type Plugin } from "vite";

// Writes the npm packages whose code went into the bundle to target/ui-packages.json, for the
// third-party notices the packages ship (scripts/third-party-notices.py).
function bundledPackages(): Plugin {
  return {
    name: "kura-bundled-packages",
    apply: "build",
    generateBundle(_options, bundle) {
      const names = new Set<string>();
      for (const chunk of Object.values(bundle)) {
        if (chunk.type !== "chunk") continue;
        for (const id of Object.keys(chunk.modules)) {
          // The last node_modules/ in the path names the package (pnpm nests them).
          const m = /.*node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(id.replaceAll("\\", "/"));
          if (m) names.add(m[1]);
        }
      }
      const target = fileURLToPath(new URL("../target/", import.meta.url));
      mkdirSync(target, { recursive: true });
      writeFileSync(`${target}ui-packages.json`, `${JSON.stringify([...names].sort(), null, 1)}\n`);
    },
  };
}

// `vite ui` / `vite build ui` (output ui/dist): what tauri.conf.json's frontendDist points at, and
// what `kura serve` serves to browsers. `vite ui` in a browser proxies /v1 to `KURA_SERVE_URL`.
export default defineConfig({
  root: fileURLToPath(new URL(".", import.meta.url)),
  plugins: [svelte(), bundledPackages()],
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
