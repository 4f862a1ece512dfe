// Picks the transport: the Tauri shell inside the app's window, `kura serve`'s HTTP API in a
// browser (the page that server serves).

import { pathPrompt } from "../state/path-prompt.svelte";
import type { Transport } from "./transport";

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

export async function connect(): Promise<Transport> {
  if (window.__TAURI_INTERNALS__) {
    const { TauriTransport } = await import("./tauri");
    return new TauriTransport();
  }
  const { HttpTransport } = await import("./http");
  return new HttpTransport((request) => pathPrompt.ask(request));
}
