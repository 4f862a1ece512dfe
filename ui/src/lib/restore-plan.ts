// What a restore will do to the folder, worked out before asking the person to confirm it:
// from the diff between the target version and the latest one, and the folder's state
// against the latest version.

import type { Diff, FileEntry } from "./api/types";

export type RestorePlan = {
  /** Files that will be written (created or overwritten) with the version's content. */
  write: string[];
  /** Files that will be removed because the version does not have them. */
  remove: string[];
  /** Changes in the folder not in any version yet; the safety version keeps them. */
  unsaved: number;
};

/** `diff` must compare the target version (`from`) with the latest (`to`). */
export function planRestore(diff: Diff, folder: FileEntry[]): RestorePlan {
  const changes = new Map(diff.files.map((f) => [f.path, f.change]));
  const states = new Map(folder.map((f) => [f.path, f.state]));
  const write: string[] = [];
  const remove: string[] = [];
  const paths = [...new Set([...changes.keys(), ...states.keys()])].sort();
  for (const path of paths) {
    const change = changes.get(path);
    const state = states.get(path);
    const inFolder = state !== undefined && state !== "deleted";
    const inLatest = change === "added" || change === "modified" || (change === undefined && state !== undefined && state !== "new");
    const inTarget = change === "deleted" || change === "modified" || (change === undefined && inLatest);
    if (!inTarget) {
      if (inFolder) remove.push(path);
      continue;
    }
    const folderMatchesTarget = inFolder && change === undefined && state === "unchanged";
    if (!folderMatchesTarget) write.push(path);
  }
  const unsaved = folder.filter((f) => f.state !== "unchanged").length;
  return { write, remove, unsaved };
}
