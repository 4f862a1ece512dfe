// Page-test harness: the real engine behind the real UI. Each test gets a fresh vault (made by
// the `kura` CLI, see vault.ts) and its own `kura serve --listen 127.0.0.1:0`, which serves the
// built UI (ui/dist) and the /v1 API. The browser signs in through the one-time link the server
// prints, as a person would, and is driven through playwright-core with Debian's Chromium.

import { spawn, type ChildProcess } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type BrowserContextOptions, type Locator, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll } from "vitest";
import { KURA, type Vault } from "./vault";

/** The built UI the server sends: ui/dist, or `$KURA_UI_DIST` (a folder ending in "/"). */
export const DIST = process.env.KURA_UI_DIST ?? fileURLToPath(new URL("../../dist/", import.meta.url));
export const RESULTS = fileURLToPath(new URL("../../test-results/", import.meta.url));

export type Kura = {
  vault: Vault;
  /** Where the server listens, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The one-time sign-in link `kura serve --open` printed. */
  signIn: string;
  process: ChildProcess;
  /** Everything the server wrote, for failure messages. */
  log: () => string;
  stop: () => Promise<void>;
};

const LINK = /(https?:\/\/[^\s"']+\/v1\/session\?token=[^\s"']+)/;

/**
 * Starts `kura serve` on `vault` and waits for the sign-in link. Its schedules (backups, cleanup,
 * automatic versions) run only when `schedules` is set.
 */
export async function startKura(vault: Vault, { schedules = false }: { schedules?: boolean } = {}): Promise<Kura> {
  if (!existsSync(KURA)) throw new Error(`${KURA} is missing: build it with \`cargo build -p kura-cli\``);
  if (!existsSync(`${DIST}index.html`)) throw new Error(`${DIST} has no index.html: build the UI first (npm run build)`);
  // `--open` prints the link and tries `xdg-open` on it: a stand-in that opens nothing keeps a
  // real browser from using the one-time link up.
  const bin = join(vault.root, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "xdg-open"), "#!/bin/sh\nexit 0\n");
  chmodSync(join(bin, "xdg-open"), 0o755);
  const args = ["--vault", vault.dir, "serve", "--listen", "127.0.0.1:0", "--open", ...(schedules ? [] : ["--no-schedules"])];
  const child = spawn(KURA, args, {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, BROWSER: "true", KURA_UI_DIR: DIST, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  const signIn = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`kura serve printed no sign-in link within 15 s:\n${output}`)), 15_000);
    const read = (chunk: Buffer) => {
      output += chunk.toString();
      const found = LINK.exec(output);
      if (found) {
        clearTimeout(timer);
        resolve(found[1]);
      }
    };
    child.stdout!.on("data", read);
    child.stderr!.on("data", read);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`kura serve exited (${code}) before printing a sign-in link:\n${output}`));
    });
  });
  const url = new URL(signIn).origin;
  return {
    vault,
    url,
    signIn,
    process: child,
    log: () => output,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

export async function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
}

/** A browser signed in to `kura` (its own cookies), on `hash`; `options` set its colour scheme,
 * reduced motion and the like. */
export async function openApp(browser: Browser, kura: Kura, hash = "#/dashboard", options: BrowserContextOptions = {}): Promise<Page> {
  const context: BrowserContext = await browser.newContext({ viewport: { width: 1360, height: 860 }, ...options });
  const page = watchErrors(await context.newPage());
  // The link sets the session cookies and redirects to the UI.
  await page.goto(kura.signIn);
  await page.goto(`${kura.url}/${hash}`);
  await page.waitForSelector("nav.sidebar");
  return page;
}

/** What the browser logs about answers the UI expects and handles (a refused form field...). */
function ignorable(text: string): boolean {
  return /Failed to load resource: the server responded with a status of (4\d\d|503|507)/.test(text);
}

/** What `l` shows, its spaces collapsed. */
export const text = async (l: Locator) => ((await l.textContent()) ?? "").replace(/\s+/g, " ").trim();

/** `page`, keeping what it throws and logs as an error (see `pageErrors`). */
export function watchErrors(page: Page): Page {
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(e.message));
  page.on("console", (m) => {
    if (m.type() === "error" && !ignorable(m.text())) errors.push(m.text());
  });
  (page as Page & { errors: string[] }).errors = errors;
  return page;
}

/** What `page` threw or logged as an error since `watchErrors` (none for a page it never saw). */
export function pageErrors(page: Page): string[] {
  return (page as Page & { errors?: string[] }).errors ?? [];
}

/** Stops the server and removes its vault. */
export async function finish(kura: Kura | undefined, page?: Page) {
  await page?.context().close();
  await kura?.stop();
  if (kura) rmSync(kura.vault.root, { recursive: true, force: true });
}

/** A test file's browser, and the server and page of the test that runs. */
export type Session = {
  browser: Browser;
  kura: Kura | undefined;
  page: Page | undefined;
  /** Starts `kura serve` on `vault` (with its schedules when `schedules`) and opens the app at `hash`. */
  open(vault: Vault, hash?: string, settings?: { schedules?: boolean; options?: BrowserContextOptions }): Promise<Page>;
};

/**
 * The page tests' lifecycle, for one test file: a browser for the file; for each test, the server
 * and page it opens (`open`, or set on the session), closed after it and its vault removed.
 * `beforeFinish` runs after each test first (to undo what a test did outside the vault).
 */
export function session(beforeFinish?: (s: Session) => Promise<void> | void): Session {
  const s: Session = {
    browser: undefined as unknown as Browser,
    kura: undefined,
    page: undefined,
    async open(vault, hash = "#/dashboard", { schedules = false, options = {} } = {}) {
      s.kura = await startKura(vault, { schedules });
      s.page = await openApp(s.browser, s.kura, hash, options);
      return s.page;
    },
  };
  beforeAll(async () => {
    s.browser = await launch();
  });
  afterEach(async () => {
    await beforeFinish?.(s);
    await finish(s.kura, s.page);
    s.kura = undefined;
    s.page = undefined;
  });
  afterAll(async () => {
    await s.browser?.close();
  });
  return s;
}
