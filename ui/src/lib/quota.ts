// How a usage against a limit reads for people: the gauge's fill and tone, and the words for
// each level (the engine decides the level: 80%, 90%, over).

import type { QuotaLevel, QuotaUsage } from "./api/types";
import { formatBytes, formatPercent } from "./format";

/** Whether a limit is set (0 means none). */
export function hasLimit(usage: QuotaUsage): boolean {
  return usage.limit > 0;
}

/** How much of the gauge is filled, 0..1 (full when over). */
export function quotaFill(usage: QuotaUsage): number {
  if (!hasLimit(usage)) return 0;
  return Math.min(1, Math.max(0, usage.used / usage.limit));
}

/** "Over 80% of the limit", "Over the limit", or "" when all is well. */
export function quotaLevelText(level: QuotaLevel): string {
  switch (level) {
    case "warning80":
      return "Over 80% of the limit";
    case "warning90":
      return "Over 90% of the limit";
    case "exceeded":
      return "Over the limit";
    default:
      return "";
  }
}

/** "4.2 GiB of 10 GiB (42%)"; over the limit: "10.4 GiB of 10 GiB (104%), 0.4 GiB over". */
export function quotaSummary(usage: QuotaUsage): string {
  if (!hasLimit(usage)) return `${formatBytes(usage.used)} (no limit)`;
  const pct = formatPercent(usage.used / usage.limit);
  const over = usage.used - usage.limit;
  return `${formatBytes(usage.used)} of ${formatBytes(usage.limit)} (${pct})${usage.level === "exceeded" && over > 0 ? `, ${formatBytes(over)} over` : ""}`;
}
