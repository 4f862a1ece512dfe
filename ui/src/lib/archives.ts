// Archives' numbers for people: the compression ratio, the totals over all archives, and the
// kinds of file "Import archive…" accepts.

import type { ArchiveInfo } from "./api/types";

/** File extensions the engine imports (`.tar.zst`, `.tar.gz`, `.tgz`, `.zip`), for the file picker. */
export const ARCHIVE_EXTENSIONS = ["zst", "gz", "tgz", "zip"];

/** "3.2×" (content / file), "12×", or "—" when unknown. */
export function formatRatio(ratio: number | null): string {
  if (ratio === null || !Number.isFinite(ratio) || ratio <= 0) return "—";
  if (ratio < 10) return `${ratio.toFixed(1)}×`;
  return `${Math.round(ratio)}×`;
}

export type ArchiveTotals = {
  count: number;
  /** Bytes of the archive files. */
  onDisk: number;
  /** Bytes inside them before compression. */
  original: number;
  /** What compression saves: original minus on disk (never below 0). */
  saved: number;
};

export function archiveTotals(archives: ArchiveInfo[]): ArchiveTotals {
  let onDisk = 0;
  let original = 0;
  for (const a of archives) {
    onDisk += a.size;
    original += a.content_size;
  }
  return { count: archives.length, onDisk, original, saved: Math.max(0, original - onDisk) };
}

/** The file's name, without its folders. */
export function archiveFileName(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

/** The folder an extraction goes to by default: `<picked>/<file name without .tar.zst>`. */
export function extractDestination(picked: string, archive: ArchiveInfo): string {
  const stem = archiveFileName(archive.path).replace(/\.tar\.zst$/, "");
  return `${picked.replace(/\/+$/, "")}/${stem}`;
}
