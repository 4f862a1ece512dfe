// Picks the transport: the Tauri shell inside the app's window, `kura serve`'s HTTP API in a
// browser (the page that server serves). A browser the server does not know is shown the
// sign-in screen first, until a pasted token opens a session.

import { pathPrompt } from "../state/path-prompt.svelte";
import type { HttpTransport } from "./http";
import type { Transport } from "./transport";

declare global {
  interface Window {
    __TAURI_INTERNALS__?: unknown;
  }
}

export async function connect(): Promise<Transport> {
  if (window.__TAURI_INTERNALS__) {
    const { tauriTransport } = await import("./tauri");
    return tauriTransport();
  }
  const { HttpTransport } = await import("./http");
  const transport = new HttpTransport((request) => pathPrompt.ask(request));
  if (!(await transport.signedIn())) await signIn(transport);
  return transport;
}

/** Shows the sign-in screen in place of the app until the browser is signed in. */
async function signIn(transport: HttpTransport): Promise<void> {
  const [{ mount, unmount }, { default: SignIn }] = await Promise.all([import("svelte"), import("../components/SignIn.svelte")]);
  const target = document.getElementById("app") ?? document.body;
  let done = () => {};
  const signedIn = new Promise<void>((resolve) => (done = resolve));
  const screen = mount(SignIn, {
    target,
    props: {
      host: window.location.host,
      signIn: async (token: string) => {
        const reply = await transport.signIn(token);
        if (reply.status === "error") return reply.message;
        done();
        return null;
      },
    },
  });
  await signedIn;
  await unmount(screen);
}
