// Page tests of shared links against the real engine (`kura serve` on a fresh vault) and a real
// S3 server (`rclone serve s3` on 127.0.0.1): the Share dialog uploads a version, shows its link
// with the encryption note, the link downloads the version with a plain HTTP client and no keys,
// and a revoked link stops working. A vault whose targets are all folders is told it needs a
// bucket.

import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { pageErrors, RESULTS, session, text } from "./harness";
import { emptyVault, seededVault, type Vault } from "./vault";

let s3: ChildProcess | undefined;

const ACCESS = "AKPAGESHARE";
const SECRET = "page-share-secret-key";

const t = session(() => {
  s3?.kill();
  s3 = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

/** `rclone serve s3` of a folder under the vault's scratch area; the endpoint URL. */
async function startS3(vault: Vault): Promise<string> {
  const data = join(vault.root, "s3data");
  mkdirSync(join(data, "shared"), { recursive: true });
  const port = await freePort();
  s3 = spawn("rclone", ["serve", "s3", "--addr", `127.0.0.1:${port}`, "--auth-key", `${ACCESS},${SECRET}`, data], { stdio: "ignore" });
  const endpoint = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 200; i++) {
    try {
      await fetch(endpoint);
      return endpoint;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error("rclone serve s3 did not start (is rclone installed? scripts/setup.sh installs it)");
}

describe("shares", () => {
  it("shares a version through a bucket, copies the link, and a revoked link stops working", async () => {
    const vault = seededVault();
    Object.assign(process.env, {
      KURA_BACKUP_BUCKET_ACCESS_KEY_ID: ACCESS,
      KURA_BACKUP_BUCKET_SECRET_ACCESS_KEY: SECRET,
      KURA_BACKUP_BUCKET_PASSPHRASE: "a passphrase for the page test",
    });
    const endpoint = await startS3(vault);
    vault.run("backup", "target", "add", "bucket", "--s3", "--endpoint", endpoint, "--bucket", "shared", "--prefix", "kura", "--encrypt");
    const project = vault.json<{ id: string; name: string }[]>("project", "list")[0];
    const p = await t.open(vault, `#/project/${project.id}`);
    await p.getByTestId("project-more").click();
    await p.getByTestId("share-project").click();
    const dialog = p.getByRole("dialog", { name: `Share ${project.name}` });
    await expect.poll(() => dialog.getByTestId("share-target").inputValue()).toBe("bucket");
    expect(await text(dialog.getByTestId("share-warning"))).toContain("The shared copy is not encrypted");
    await dialog.getByTestId("share-expires").selectOption("1h");
    await dialog.getByTestId("share-submit").click();
    const link = dialog.getByTestId("share-link");
    await link.waitFor({ timeout: 30_000 });
    const url = await link.inputValue();
    expect(url).toMatch(new RegExp(`^${endpoint}/shared/kura/shares/`));
    await p.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await dialog.getByTestId("share-copy").click();
    await expect.poll(() => text(dialog.getByTestId("share-copy"))).toBe("Copied");
    expect(await p.evaluate(() => navigator.clipboard.readText())).toBe(url);
    // A person with the link and no keys downloads the version: a zstd frame.
    const got = await fetch(url);
    expect(got.status).toBe(200);
    const bytes = new Uint8Array(await got.arrayBuffer());
    expect([...bytes.slice(0, 4)]).toEqual([0x28, 0xb5, 0x2f, 0xfd]);
    expect(vault.json<{ url: string }[]>("share", "list").map((s) => s.url)).toEqual([url]);
    await p.screenshot({ path: join(RESULTS, "share.png") });

    // Revoked from the dialog: the row says so and the link answers 404.
    const row = dialog.getByTestId("share-row");
    await expect.poll(() => row.getAttribute("data-state")).toBe("active");
    await row.getByTestId("share-revoke").click();
    await expect.poll(() => row.getAttribute("data-state")).toBe("revoked");
    expect((await fetch(url)).status).toBe(404);
    expect(pageErrors(p).filter((e) => !e.includes("404"))).toEqual([]);
  });

  it("tells a vault without an S3 target that a link needs one", async () => {
    const vault = emptyVault();
    const id = vault.json<{ id: string }>("project", "create", "site").id;
    const p = await t.open(vault, `#/project/${id}`);
    await p.getByTestId("project-more").click();
    await p.getByTestId("share-project").click();
    const dialog = p.getByRole("dialog", { name: "Share site" });
    await expect.poll(() => text(dialog.getByTestId("share-needs-s3"))).toContain("no backup target is one");
    expect(await dialog.getByTestId("share-submit").count()).toBe(0);
    expect(pageErrors(p)).toEqual([]);
  });
});
