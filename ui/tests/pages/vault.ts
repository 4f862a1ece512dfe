// A fresh vault for the page tests, made by the real `kura` CLI (never by hand-written rows):
// workspaces, projects with files and versions, a tagged project, an archived one, one in the
// trash, and a folder backup target with one run. Tests read numbers back through `kura --json`.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The CLI the harness runs (`cargo build -p kura-cli`), or `$KURA_BIN`. */
export const KURA = process.env.KURA_BIN ?? fileURLToPath(new URL("../../../target/debug/kura", import.meta.url));

export type Vault = {
  /** The temp folder holding the vault and everything outside it (drives, downloads). */
  root: string;
  /** The vault folder (`kura --vault`). */
  dir: string;
  /** Runs `kura --vault <dir> --json ...args` and parses what it prints. */
  json<T = unknown>(...args: string[]): T;
  /** Runs `kura --vault <dir> ...args` for its effect; answers its output. */
  run(...args: string[]): string;
  /** Runs a command that must fail; answers the engine's message (what the CLI prints after "kura: "). */
  refusal(...args: string[]): string;
  /** A project's working folder. */
  folder(project: string): string;
};

export function openVault(root: string): Vault {
  const dir = join(root, "vault");
  const run = (...args: string[]) =>
    execFileSync(KURA, ["--vault", dir, "--quiet", ...args], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" }, stdio: ["ignore", "pipe", "pipe"] });
  const vault: Vault = {
    root,
    dir,
    run,
    json: <T>(...args: string[]) => JSON.parse(run("--json", ...args)) as T,
    refusal: (...args: string[]) => {
      try {
        run(...args);
      } catch (e) {
        return String((e as { stderr?: string }).stderr ?? "").trim().replace(/^kura: /, "");
      }
      throw new Error(`kura ${args.join(" ")} succeeded; it was expected to be refused`);
    },
    folder: (project: string) => vault.json<{ path: string }>("project", "show", project).path,
  };
  return vault;
}

/** Writes `files` (path → text) under `folder`, making folders as needed. */
export function writeFiles(folder: string, files: Record<string, string | Buffer>) {
  for (const [path, content] of Object.entries(files)) {
    const file = join(folder, path);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
}

/** Bytes that do not compress, deterministic (so sizes are the same on every run). */
export function noise(bytes: number, seed = 1): Buffer {
  const out = Buffer.alloc(bytes);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < bytes; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** An empty vault in a new temp folder. */
export function emptyVault(): Vault {
  const vault = openVault(mkdtempSync(join(tmpdir(), "kura-pages-")));
  vault.json("workspace", "list");
  return vault;
}

/** The vault most tests start from. */
export function seededVault(): Vault {
  const vault = emptyVault();
  const { run, root } = vault;

  run("workspace", "create", "clients");
  run("workspace", "create", "experiments");

  // kura-site: three versions, then two unsaved changes (one file changed, one new).
  run("project", "create", "kura-site", "--template", "frontend", "--tag", "web", "--description", "The landing page");
  const site = vault.folder("kura-site");
  writeFiles(site, { "src/main.ts": "// Every project, every version.\nconsole.log('kura');\n", "src/render.ts": "export const render = () => 'v1';\n" });
  run("snapshot", "kura-site", "-m", "First page");
  writeFiles(site, { "src/main.ts": "// Keep every project, and every version of it.\nconsole.log('kura');\n", "src/pricing.ts": "export const price = 0;\n" });
  run("snapshot", "kura-site", "-m", "Pricing");
  writeFiles(site, { "src/render.ts": "export const render = () => 'v2';\n", "notes/todo.md": "# To do\n\n- ship it\n" });

  // billing-api: a backend with a large file that does not compress.
  run("project", "create", "billing-api", "--template", "backend", "--tag", "rust", "--tag", "billing", "--description", "Invoices and payments");
  writeFiles(vault.folder("billing-api"), { "fixtures/payments.bin": noise(3 * 1024 * 1024) });
  run("snapshot", "billing-api", "-m", "Payment fixtures");

  // ml-notebooks: archived.
  run("project", "create", "ml-notebooks", "--description", "Experiments with models");
  writeFiles(vault.folder("ml-notebooks"), {
    "train.py": "import math\n\nprint(math.pi)\n".repeat(40),
    "data/readme.md": "Data goes here.\n".repeat(100),
  });
  run("snapshot", "ml-notebooks", "-m", "Notebooks");
  run("archive", "ml-notebooks");

  // old-prototype: in the trash.
  run("project", "create", "old-prototype", "--template", "frontend");
  run("project", "delete", "old-prototype");

  // Two client projects in another workspace.
  run("project", "create", "acme-portal", "--workspace", "clients", "--template", "frontend");
  run("project", "create", "globex-api", "--workspace", "clients", "--template", "backend");

  // A folder target (the "drive") with one backup.
  const drive = join(root, "usb-backup");
  mkdirSync(drive, { recursive: true });
  run("backup", "target", "add", "usb-drive", "--folder", drive, "--schedule", "daily 02:00");
  run("backup", "run", "usb-drive");
  return vault;
}
