// What each cleanup category does, in words that follow the current settings, and what a run
// freed, per category.

import type { ArchiveConfig, CleanupCategory, CleanupConfig, CleanupReport, Progress, RetentionConfig } from "./api/types";
import { plural } from "./format";

/** Every category, in the order a run does them (the engine's `CleanupCategory::ALL`). */
export const CLEANUP_CATEGORIES: readonly CleanupCategory[] = ["trash", "archive", "versions", "chunks", "cache"];

const LABELS: Record<CleanupCategory, string> = {
  trash: "Empty the trash",
  archive: "Archive idle projects",
  versions: "Thin out automatic versions",
  chunks: "Collect unused chunks",
  cache: "Clear leftovers",
};

export function categoryLabel(category: CleanupCategory): string {
  return LABELS[category];
}

/** What the category will do with the settings in `config`; `off` when a setting turns it off. */
export function categoryAbout(
  category: CleanupCategory,
  config: { cleanup?: Partial<CleanupConfig>; archive?: Partial<ArchiveConfig>; versions?: Partial<RetentionConfig> } | null,
): { text: string; off: boolean } {
  switch (category) {
    case "trash": {
      const days = config?.cleanup?.trash_days;
      if (days === 0) return { text: "Off: projects stay in the trash until deleted by hand (Trash days is 0).", off: true };
      return { text: `Deletes for good the projects in the trash for more than ${days === undefined ? "the set number of" : plural(days, "day")}.`, off: false };
    }
    case "archive": {
      const days = config?.archive?.archive_after_days;
      if (days === 0) return { text: "Off: projects are never archived automatically (Archive after is 0).", off: true };
      return {
        text: `Archives active projects nobody changed or opened for ${days === undefined ? "the set number of days" : plural(days, "day")}; their folders are freed, and they can be unarchived.`,
        off: false,
      };
    }
    case "versions": {
      const v = config?.versions;
      if (!v) return { text: "Removes automatic versions the retention rule does not keep; manual versions always stay.", off: false };
      return {
        text: `Keeps every automatic version for ${plural(v.keep_all_days ?? 0, "day")}, then one an hour up to ${plural(v.hourly_days ?? 0, "day")}, one a day up to ${plural(v.daily_days ?? 0, "day")}, one a week after. Manual versions always stay.`,
        off: false,
      };
    }
    case "chunks":
      return { text: "Deletes stored pieces of large files that no version uses any more.", off: false };
    case "cache":
      return { text: "Removes temporary files left by interrupted operations and folds the catalog's log into it.", off: false };
  }
}

const DOING: Record<CleanupCategory, string> = {
  trash: "Emptying the trash…",
  archive: "Archiving idle projects…",
  versions: "Thinning out automatic versions…",
  chunks: "Collecting unused chunks…",
  cache: "Clearing leftovers…",
};

/** What a running cleanup is doing, from its progress (the engine names the category it is on). */
export function cleanupStep(progress: Progress | null): string | null {
  if (!progress) return null;
  return (DOING as Record<string, string>)[progress.phase] ?? null;
}

/** Bytes a run freed (or a dry run would free) in `category`; `null` when it did not run it. */
export function freedIn(report: CleanupReport, category: CleanupCategory): number | null {
  return report.categories.find((c) => c.category === category)?.bytes_freed ?? null;
}

/** How many things a run removed (or would remove) in all. */
export function itemCount(report: CleanupReport): number {
  return report.categories.reduce((n, c) => n + c.items.length, 0);
}
