import { describe, expect, it } from "vitest";
import type { Diff, FileEntry, FileState } from "../../src/lib/api/types";
import { folderRows } from "../../src/lib/folders";
import { planRestore } from "../../src/lib/restore-plan";

const entry = (path: string, state: FileState, size = 10): FileEntry => ({
  path,
  size,
  file_type: "",
  layer: state === "new" ? null : "git",
  last_version: null,
  state,
  modified_at: 0,
});

const diff = (files: [string, "added" | "modified" | "deleted"][]): Diff => ({
  from: "target",
  to: "latest",
  changes: { added: 0, modified: 0, removed: 0 },
  files: files.map(([path, change]) => ({ path, change, old_size: 1, new_size: 1, binary: false, patch: null })),
});

describe("planRestore", () => {
  it("writes what differs, removes what the version lacks, leaves the rest", () => {
    const plan = planRestore(
      diff([
        ["added-later.txt", "added"],
        ["changed.txt", "modified"],
        ["removed-later.txt", "deleted"],
      ]),
      [entry("added-later.txt", "unchanged"), entry("changed.txt", "unchanged"), entry("same.txt", "unchanged")],
    );
    expect(plan.write).toEqual(["changed.txt", "removed-later.txt"]);
    expect(plan.remove).toEqual(["added-later.txt"]);
    expect(plan.unsaved).toBe(0);
  });

  it("accounts for changes in the folder not in any version", () => {
    const plan = planRestore(diff([]), [entry("edited.txt", "modified"), entry("gone.txt", "deleted"), entry("brand-new.txt", "new"), entry("same.txt", "unchanged")]);
    expect(plan.write).toEqual(["edited.txt", "gone.txt"]);
    expect(plan.remove).toEqual(["brand-new.txt"]);
    expect(plan.unsaved).toBe(3);
  });

  it("does not remove a file already gone from the folder", () => {
    const plan = planRestore(diff([["later.txt", "added"]]), [entry("later.txt", "deleted")]);
    expect(plan.remove).toEqual([]);
    expect(plan.write).toEqual([]);
  });
});

describe("folderRows", () => {
  const files = [entry("README.md", "unchanged", 5), entry("src/a.ts", "modified", 7), entry("src/lib/b.ts", "new", 3), entry("src/old.ts", "deleted", 100)];

  it("lists folders first with sizes and changes rolled up", () => {
    const rows = folderRows(files, "");
    expect(rows.map((r) => r.name)).toEqual(["src", "README.md"]);
    const src = rows[0];
    expect(src.kind === "folder" && [src.size, src.files, src.changed]).toEqual([10, 3, 3]);
  });

  it("shows one folder's own files and subfolders", () => {
    expect(folderRows(files, "src").map((r) => `${r.kind}:${r.name}`)).toEqual(["folder:lib", "file:a.ts", "file:old.ts"]);
  });
});
