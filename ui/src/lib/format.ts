// Numbers and times for people ("1.2 GiB", "3 hours ago"), and their exact forms for hover
// titles. English, with fixed grouping, so what tests see is what people see.

import type { Progress } from "./api/types";

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 });

/** 0 B, 512 B, 1.2 KiB, 12.5 MiB, 125 GiB. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return "—";
  if (bytes < 1024) return `${Math.round(bytes)} B`;
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  // One decimal below 100, none above; "1.0" reads as "1".
  let text = value < 100 ? (Math.round(value * 10) / 10).toFixed(1) : String(Math.round(value));
  if (text === "1024.0" || text === "1024") {
    // Rounding reached the next unit.
    if (unit < UNITS.length - 1) return `1 ${UNITS[unit + 1]}`;
  }
  if (text.endsWith(".0")) text = text.slice(0, -2);
  return `${text} ${UNITS[unit]}`;
}

const EXACT_UNITS: [string, number][] = [
  ["TiB", 1024 ** 4],
  ["TB", 1e12],
  ["GiB", 1024 ** 3],
  ["GB", 1e9],
  ["MiB", 1024 ** 2],
  ["MB", 1e6],
  ["KiB", 1024],
  ["KB", 1e3],
];

/** "64 MiB", "5 MB", "1001 B": a size exactly, in the largest unit that holds it, as the engine
 * writes it to config.toml (ByteSize's Display), for text a person edits and sends back. */
export function formatExactSize(bytes: number): string {
  for (const [unit, size] of EXACT_UNITS) {
    if (bytes >= size && bytes % size === 0) return `${bytes / size} ${unit}`;
  }
  return `${bytes} B`;
}

/** "1,234,567 bytes". */
export function formatExactBytes(bytes: number): string {
  return `${grouped.format(bytes)} ${bytes === 1 ? "byte" : "bytes"}`;
}

/** "10,000". */
export function formatCount(n: number): string {
  return grouped.format(n);
}

/** "1 file", "3 files". */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** "a.txt, b/c.txt and 3 more": the first `shown` of `names`, for a line a person reads. */
export function firstNames(names: string[], shown = 5): string {
  const head = names.slice(0, shown).join(", ");
  return names.length > shown ? `${head} and ${formatCount(names.length - shown)} more` : head;
}

/** What a person reads when an import's first version does not hold all of the folder. */
export function leftOutOfImport(project: string, skipped: { path: string }[]): string {
  return `${plural(skipped.length, "file or folder", "files or folders")} of ${project} could not be taken in and ${skipped.length === 1 ? "is" : "are"} not in its first version: ${firstNames(skipped.map((s) => s.path))}.`;
}

/** "42%", "<1%", "100%". */
export function formatPercent(ratio: number): string {
  if (!Number.isFinite(ratio)) return "—";
  const pct = ratio * 100;
  if (pct > 0 && pct < 1) return "<1%";
  if (pct < 100 && pct > 99) return ">99%";
  return `${Math.round(pct)}%`;
}

/** How `now` relates to `at` (both seconds since the epoch): "just now", "3 hours ago", "in 2 days". */
export function formatRelative(at: number, now: number = Date.now() / 1000): string {
  const diff = now - at;
  // The view's clock ticks coarsely; a moment "ahead" is a record made just now.
  const ahead = diff < -60;
  const s = Math.abs(diff);
  const say = (n: number, unit: string) => {
    const text = `${n} ${unit}${n === 1 ? "" : "s"}`;
    return ahead ? `in ${text}` : `${text} ago`;
  };
  if (s < 45 || (diff < 0 && !ahead)) return "just now";
  if (s < 90) return say(1, "minute");
  if (s < 45 * 60) return say(Math.round(s / 60), "minute");
  if (s < 90 * 60) return say(1, "hour");
  if (s < 22 * 3600) return say(Math.round(s / 3600), "hour");
  if (s < 36 * 3600) return ahead ? "tomorrow" : "yesterday";
  if (s < 26 * 86400) return say(Math.round(s / 86400), "day");
  if (s < 45 * 86400) return say(1, "month");
  if (s < 320 * 86400) return say(Math.round(s / (30 * 86400)), "month");
  if (s < 548 * 86400) return say(1, "year");
  return say(Math.round(s / (365 * 86400)), "year");
}

const pad = (n: number) => String(n).padStart(2, "0");

/** "2026-11-21 14:03:12" in local time, for titles. */
export function formatDateTime(at: number): string {
  const d = new Date(at * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** "Nov 21" or "Nov 21, 2025" when not this year; for chart axes. */
export function formatShortDate(at: number, now: number = Date.now() / 1000): string {
  const d = new Date(at * 1000);
  const month = d.toLocaleString("en-US", { month: "short" });
  const sameYear = new Date(now * 1000).getFullYear() === d.getFullYear();
  return sameYear ? `${month} ${d.getDate()}` : `${month} ${d.getDate()}, ${d.getFullYear()}`;
}

const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** A moment near now in local time (kura_core::human::when in Rust): "today at 14:05", "tomorrow at 02:00", "Mon at 02:00", "Nov 30 at 02:00". */
export function formatWhen(at: number, now: number = Date.now() / 1000): string {
  const d = new Date(at * 1000);
  const today = new Date(now * 1000);
  const clock = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  const day = (x: Date) => new Date(x.getFullYear(), x.getMonth(), x.getDate()).getTime();
  const days = Math.round((day(d) - day(today)) / 86_400_000);
  if (days === 0) return `today at ${clock}`;
  if (days === 1) return `tomorrow at ${clock}`;
  if (days === -1) return `yesterday at ${clock}`;
  if (Math.abs(days) < 6) return `${WEEKDAYS[d.getDay()]} at ${clock}`;
  return `${formatShortDate(at, now)} at ${clock}`;
}

/** "45 s", "10 min", "2 h 5 min" (kura_core::human::duration in Rust). */
export function formatDuration(seconds: number): string {
  // Times are whole seconds: a run that took none took under one.
  if (seconds < 1) return "under 1 s";
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) {
    const m = Math.floor(seconds / 60);
    const s = seconds % 60;
    return s ? `${m} min ${s} s` : `${m} min`;
  }
  // Minutes rounded, halves up; 59.5 and more make the next hour.
  const minutes = Math.round(seconds / 60);
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** The first ten digits of a version id. */
export function shortId(id: string): string {
  return id.slice(0, 10);
}

/** "Storing — 12 of 40 files", "Writing — 1.2 of 3 GiB". */
export function formatProgress(p: Progress): string {
  const phase = p.phase.charAt(0).toUpperCase() + p.phase.slice(1);
  const amount = (n: number) => (p.unit === "bytes" ? formatBytes(n) : formatCount(n));
  // A step that has begun and counts nothing yet ("trash" in a cleanup): its name alone.
  if (p.total === null && p.done === 0) return `${phase}…`;
  // Counts say what they count ("files", "packs"); bytes say it in their unit.
  const unit = p.unit === "bytes" ? "" : ` ${p.unit}`;
  if (p.total === null) return `${phase} — ${amount(p.done)}${unit}`;
  return `${phase} — ${amount(p.done)} of ${amount(p.total)}${unit}`;
}

/** 0..1, or null when the total is unknown. */
export function progressRatio(p: Progress): number | null {
  if (p.total === null || p.total === 0) return p.total === 0 ? 1 : null;
  return Math.min(1, p.done / p.total);
}

/** How much smaller stored is than logical: "2.4× smaller" or "—". */
export function formatSavings(logical: number, stored: number): string {
  if (logical <= 0 || stored <= 0) return "—";
  const ratio = logical / stored;
  if (ratio < 1) return `${formatPercent(stored / logical - 1)} larger`;
  return `${ratio < 10 ? ratio.toFixed(1) : Math.round(ratio)}× smaller`;
}
