// The `mock` build: the UI over the fake vault in a plain browser. The page's query string sets
// it up (`?projects=10000`, `?empty=1`, `?latency=50`, `?step=20`), and `window.kuraMock` lets
// page tests drop files and choose what the folder picker answers.

import { MockTransport } from "./mock";

declare global {
  interface Window {
    kuraMock?: MockTransport;
  }
}

export function connectMock(): MockTransport {
  const params = new URLSearchParams(window.location.search);
  const number = (name: string, fallback: number) => {
    const v = Number(params.get(name));
    return Number.isFinite(v) && params.has(name) ? v : fallback;
  };
  const transport = new MockTransport({
    extraProjects: number("projects", 0),
    empty: params.get("empty") === "1",
    latency: number("latency", 0),
    stepDelay: number("step", 15),
  });
  window.kuraMock = transport;
  return transport;
}
