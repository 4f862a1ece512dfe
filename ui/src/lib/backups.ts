// Backups for people: the state at a glance, a target's health, where it is, its retention and
// rate limit, run results, and which form field an engine error belongs to. Pure functions over
// the engine's types, so they are tested on their own.

import type {
  BackupStatus,
  ErrorCode,
  Location,
  Pause,
  Rate,
  Retention,
  RunRecord,
  RunResult,
  TargetHealth,
  TargetStatus,
} from "./api/types";
import { formatBytes, formatDuration, formatExactSize, formatShortDate, formatWhen, plural } from "./format";

export type Tone = "success" | "accent" | "warning" | "danger" | "neutral";

// ----- where and when

/** The engine's description of a location: the folder, or `s3://bucket/prefix at endpoint`. */
export function describeLocation(location: Location): string {
  if (location.kind === "folder") return location.path;
  return `s3://${location.bucket}/${location.prefix ?? ""} at ${location.endpoint}`;
}

// The one rule for moments near now lives with the other formatters; it is re-exported here for
// the backup views that have always imported it from this module.
export { formatWhen } from "./format";

/** How long a pause lasts, in words: "until tomorrow at 00:00", "until you resume them". */
export function pauseText(pause: Pause, now: number = Date.now() / 1000): string {
  return pause.until === null ? "until you resume them" : `until ${formatWhen(pause.until, now)}`;
}

/** Examples of schedules the engine reads, with what they mean. */
export const SCHEDULE_EXAMPLES: { text: string; means: string }[] = [
  { text: "after every change", means: "within seconds of each new version or record change" },
  { text: "daily at 02:00", means: "every day at 02:00" },
  { text: "hourly at :15", means: "every hour at a quarter past" },
  { text: "weekly on sun at 04:00", means: "every Sunday at 04:00" },
  { text: "monthly on 1 at 03:00", means: "on the 1st of every month (a day 1–28, or last)" },
  { text: "cron 0 3 * * 1-5", means: "a cron expression: 03:00 on weekdays" },
];

// ----- the state at a glance

/** The headline of the Backups view and the dashboard card, and its badge. */
export function overview(status: BackupStatus): { title: string; tone: Tone; label: string } {
  const head = headline(status);
  // "ok" before the first backup means nothing is due yet, not that a backup exists.
  if (status.state === "ok" && status.last_success === null) return { ...head, label: "nothing due yet" };
  return { ...head, label: STATE_LABELS[status.state] };
}

function headline(status: BackupStatus): { title: string; tone: Tone } {
  const names = (pick: (t: BackupStatus["targets"][number]) => boolean) => status.targets.filter(pick).map((t) => t.target.name);
  const which = (list: string[]) => (list.length === 1 ? list[0] : plural(list.length, "target"));
  switch (status.state) {
    case "no_targets":
      return { title: "No backups set up", tone: "neutral" };
    case "ok": {
      if (status.last_success === null) return { title: "No backup yet", tone: "neutral" };
      const behind = names((t) => t.behind_since !== null);
      if (behind.length > 0) return { title: `The latest changes go to ${which(behind)} in a moment`, tone: "success" };
      return { title: "Backups are up to date", tone: "success" };
    }
    case "running":
      return { title: `Backing up to ${which(names((t) => t.running !== null))}`, tone: "accent" };
    case "failed": {
      const failing = names((t) => t.health.state === "failing" || t.health.state === "unhealthy");
      return { title: `Backups to ${which(failing)} failed`, tone: "danger" };
    }
    case "overdue":
      return { title: `Backups to ${which(names((t) => t.overdue))} are overdue`, tone: "warning" };
    case "paused":
      return { title: "Backups are paused", tone: "warning" };
  }
}

export const STATE_LABELS: Record<BackupStatus["state"], string> = {
  no_targets: "not set up",
  ok: "up to date",
  running: "running",
  failed: "failed",
  overdue: "overdue",
  paused: "paused",
};

/**
 * For a target backed up after every change: "up to date", or since when it lacks changes
 * ("behind since 10:42:03", with the day when it is not today); null for a target that runs at
 * set times. A time rather than "12 s behind", which would go stale between two looks.
 */
export function behindText(status: TargetStatus, now: number = Date.now() / 1000): string | null {
  if (!status.after_every_change) return null;
  if (status.behind_since === null) return "up to date";
  const at = new Date(status.behind_since * 1000);
  const clockText = at.toLocaleTimeString("en-GB", { hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
  const today = new Date(now * 1000).toDateString() === at.toDateString();
  return `behind since ${today ? clockText : `${formatShortDate(status.behind_since, now)} ${clockText}`}`;
}

/** What "next" says when no backup has a time: one comes after the next change, or on request. */
export function nothingScheduledText(status: BackupStatus): string {
  return status.targets.some((t) => t.after_every_change) ? "after the next change" : "only when you ask";
}

// ----- health and runs

/**
 * A target's health in a word, its colour, and a sentence with the details. `nextRun`: when the
 * scheduler runs it next (the engine's time, after any retry wait), null without a schedule.
 */
export function healthSummary(h: TargetHealth, now: number = Date.now() / 1000, nextRun: number | null = null): { label: string; tone: Tone; detail: string | null } {
  const last = h.last_error ? ` Last error: ${h.last_error}` : "";
  switch (h.state) {
    case "ok":
      return { label: "Healthy", tone: "success", detail: null };
    case "unavailable":
      return {
        label: "Unreachable",
        tone: "warning",
        detail: `The target could not be reached${h.last_attempt ? ` ${formatWhen(h.last_attempt, now)}` : ""} — a drive not connected or a server down. Nothing failed; ${
          nextRun !== null ? `Kura tries again ${formatWhen(nextRun, now)}.` : "back up again when it is back."
        }${last}`,
      };
    case "failing":
      return { label: "Failing", tone: "danger", detail: `${plural(h.consecutive_failures, "failed run")} in a row.${last}` };
    case "unhealthy": {
      const until = h.unhealthy_until;
      const wait =
        until !== null && until > now
          ? `Scheduled runs are skipped until ${formatWhen(until, now)}; a successful connection test ends this now.`
          : "The cool-down is over: the next run tries again.";
      return { label: "Unhealthy", tone: "danger", detail: `${plural(h.consecutive_failures, "failed run")} in a row. ${wait}${last}` };
    }
  }
}

export const RESULT_LABELS: Record<RunResult, { label: string; tone: Tone }> = {
  running: { label: "running", tone: "accent" },
  ok: { label: "ok", tone: "success" },
  failed: { label: "failed", tone: "danger" },
  unavailable: { label: "target unavailable", tone: "warning" },
  cancelled: { label: "cancelled", tone: "neutral" },
  interrupted: { label: "interrupted", tone: "warning" },
};

/** Seconds a run took (so far, while it runs), or null when unknown. */
export function runSeconds(run: RunRecord, now: number = Date.now() / 1000): number | null {
  const end = run.finished ?? (run.result === "running" ? Math.floor(now) : null);
  return end === null ? null : Math.max(0, end - run.started);
}

/** "1 min 12 s", or "—". */
export function runDuration(run: RunRecord, now?: number): string {
  const s = runSeconds(run, now);
  return s === null ? "—" : formatDuration(s);
}

// ----- settings

export function fullRetention(r: Retention | undefined): Required<Retention> {
  return { keep_last: 0, hourly: 0, daily: 0, weekly: 0, monthly: 0, retention_days: 0, ...(r ?? {}) };
}

/** "Keeps the newest 3, 7 daily, 4 weekly and 6 monthly", "Keeps every backup". */
export function retentionText(r: Retention | undefined): string {
  const f = fullRetention(r);
  const keep: string[] = [];
  if (f.keep_last) keep.push(`the newest ${f.keep_last}`);
  if (f.hourly) keep.push(`${f.hourly} hourly`);
  if (f.daily) keep.push(`${f.daily} daily`);
  if (f.weekly) keep.push(`${f.weekly} weekly`);
  if (f.monthly) keep.push(`${f.monthly} monthly`);
  const list = keep.length <= 1 ? keep.join("") : `${keep.slice(0, -1).join(", ")} and ${keep[keep.length - 1]}`;
  if (!f.retention_days) return keep.length ? `Keeps ${list}` : "Keeps every backup";
  const age = `none older than ${plural(f.retention_days, "day")} (the newest is always kept)`;
  return keep.length ? `Keeps ${list}; ${age}` : `Keeps every backup up to ${plural(f.retention_days, "day")} old (the newest is always kept)`;
}

/** "5 MiB/s", or "no limit" (the engine keeps a limit as bytes per second). */
export function formatRate(rate: Rate | null | undefined): string {
  if (typeof rate === "string") return rate.trim() || "no limit";
  return rate ? `${formatBytes(rate)}/s` : "no limit";
}

/** The text a person edits for a limit ("5 MiB/s", "1500 KB/s", or empty); the engine reads it.
 * Exact, so saving the form unchanged keeps the limit as it was. */
export function rateInput(rate: Rate | null | undefined): string {
  if (typeof rate === "string") return rate.trim();
  return rate ? `${formatExactSize(rate)}/s` : "";
}

// ----- errors in the target forms

export type TargetField = "name" | "location" | "bucket" | "secrets" | "passphrase" | "schedule" | "bandwidth" | "form";

const TARGET_FIELDS: readonly string[] = ["name", "location", "bucket", "secrets", "passphrase", "schedule", "bandwidth"];

/**
 * Which field of the target form an engine error belongs to: the field the engine names as its
 * subject, else what its code implies. Never read from the message.
 */
export function targetErrorField(code: ErrorCode, field: string | null): TargetField {
  if (field !== null && TARGET_FIELDS.includes(field)) return field as TargetField;
  switch (code) {
    case "already_exists":
      return "name";
    case "wrong_passphrase":
      return "passphrase";
    case "unavailable":
      return "location";
    default:
      return "form";
  }
}
