// A project's flat file list seen as folders: what one folder holds, with sizes and states
// rolled up from the files below.

import type { FileEntry, FileState } from "./api/types";

export type FolderRow = {
  kind: "folder";
  name: string;
  path: string;
  size: number;
  files: number;
  /** How many files below are new, modified or deleted. */
  changed: number;
};
export type FileRow = { kind: "file"; name: string; entry: FileEntry };
export type Row = FolderRow | FileRow;

/** The rows of folder `dir` ("" for the top): folders first, then files, each by name. */
export function folderRows(files: FileEntry[], dir: string): Row[] {
  const prefix = dir ? `${dir}/` : "";
  const folders = new Map<string, FolderRow>();
  const rows: FileRow[] = [];
  for (const entry of files) {
    if (!entry.path.startsWith(prefix)) continue;
    const rest = entry.path.slice(prefix.length);
    const slash = rest.indexOf("/");
    if (slash < 0) {
      rows.push({ kind: "file", name: rest, entry });
      continue;
    }
    const name = rest.slice(0, slash);
    const row = folders.get(name) ?? { kind: "folder", name, path: prefix + name, size: 0, files: 0, changed: 0 };
    if (entry.state !== "deleted") row.size += entry.size;
    row.files++;
    if (entry.state !== "unchanged") row.changed++;
    folders.set(name, row);
  }
  const byName = (a: { name: string }, b: { name: string }) => a.name.localeCompare(b.name);
  return [...[...folders.values()].sort(byName), ...rows.sort(byName)];
}

/** "src/lib/x" → [{name: "src", path: "src"}, {name: "lib", path: "src/lib"}, ...]. */
export function breadcrumbs(dir: string): { name: string; path: string }[] {
  if (!dir) return [];
  const parts = dir.split("/");
  return parts.map((name, i) => ({ name, path: parts.slice(0, i + 1).join("/") }));
}

export const STATE_LABEL: Record<FileState, string> = {
  unchanged: "",
  modified: "modified",
  new: "new",
  deleted: "deleted",
};
