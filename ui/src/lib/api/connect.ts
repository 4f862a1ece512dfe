// Picks the transport: the Tauri shell in the app; the fake vault only in the `mock` build
// (`vite build --mode mock`), which the production build leaves out entirely.

import type { Transport } from "./transport";

export async function connect(): Promise<Transport> {
  if (import.meta.env.MODE === "mock") {
    const { connectMock } = await import("./mock-mode");
    return connectMock();
  }
  const { TauriTransport } = await import("./tauri");
  return new TauriTransport();
}
