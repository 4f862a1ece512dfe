import { describe, expect, it } from "vitest";
import {
  formatBytes,
  formatCount,
  formatDuration,
  formatExactBytes,
  formatExactSize,
  formatPercent,
  formatProgress,
  formatRelative,
  formatSavings,
  formatWhen,
  firstNames,
  plural,
  progressRatio,
} from "../../src/lib/format";
import cases from "../../src/lib/format-cases.json";

// The engine's rule, written by kura-core's human.rs test: the UI must say exactly the same.
describe("the engine's table of cases", () => {
  it("is not empty", () => {
    expect(cases.bytes.length).toBeGreaterThan(20);
    expect(cases.relative.length).toBeGreaterThan(20);
  });

  it.each(cases.bytes as [number, string][])("%d bytes reads as %s, as in Rust", (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it.each(cases.relative as [number, string][])("%d reads as %s, as in Rust", (at, text) => {
    expect(formatRelative(at, cases.now)).toBe(text);
  });

  it.each(cases.exact as [number, string][])("%d bytes are written exactly as %s, as in Rust", (n, text) => {
    expect(formatExactSize(n)).toBe(text);
  });

  it.each(cases.duration as [number, string][])("%d seconds read as %s, as in Rust", (s, text) => {
    expect(formatDuration(s)).toBe(text);
  });

  // Rust wrote these in UTC; the UI says them in local time. Moved by the local offset, each
  // moment's local clock reads what UTC's did (the cases are not within hours of a DST change).
  const asLocal = (at: number) => at + new Date(at * 1000).getTimezoneOffset() * 60;
  it.each(cases.when_utc as [number, string][])("%d reads as %s in UTC, as in Rust", (at, text) => {
    expect(formatWhen(asLocal(at), asLocal(cases.now))).toBe(text);
  });
});

describe("formatBytes", () => {
  it.each([
    [0, "0 B"],
    [1, "1 B"],
    [1023, "1023 B"],
    [1024, "1 KiB"],
    [1536, "1.5 KiB"],
    [1024 * 1024 * 1.2, "1.2 MiB"],
    [12.5 * 1024 ** 3, "12.5 GiB"],
    [125 * 1024 ** 3, "125 GiB"],
    [1024 ** 4, "1 TiB"],
    [1048534, "1 MiB"],
  ])("%d bytes reads as %s", (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });

  it("refuses nonsense", () => {
    expect(formatBytes(-1)).toBe("—");
    expect(formatBytes(Number.NaN)).toBe("—");
  });

  it("gives exact values for hover titles", () => {
    expect(formatExactBytes(1234567)).toBe("1,234,567 bytes");
    expect(formatExactBytes(1)).toBe("1 byte");
  });
});

describe("formatRelative", () => {
  const now = 1_700_000_000;
  it.each([
    [now - 5, "just now"],
    [now - 60, "1 minute ago"],
    [now - 10 * 60, "10 minutes ago"],
    [now - 3 * 3600, "3 hours ago"],
    [now - 26 * 3600, "yesterday"],
    [now - 5 * 86400, "5 days ago"],
    [now - 40 * 86400, "1 month ago"],
    [now - 150 * 86400, "5 months ago"],
    [now - 400 * 86400, "1 year ago"],
    [now - 3 * 365 * 86400, "3 years ago"],
    [now + 2 * 86400, "in 2 days"],
  ])("%d reads as %s", (at, text) => {
    expect(formatRelative(at, now)).toBe(text);
  });
});

describe("counts and ratios", () => {
  it("groups thousands and pluralizes", () => {
    expect(formatCount(10000)).toBe("10,000");
    expect(plural(1, "file")).toBe("1 file");
    expect(plural(10000, "file")).toBe("10,000 files");
  });

  it("names the first few of many names, and how many more there are", () => {
    expect(firstNames(["a.txt"])).toBe("a.txt");
    expect(firstNames(["a", "b", "c"], 3)).toBe("a, b, c");
    const many = Array.from({ length: 1205 }, (_, i) => `f${i}`);
    expect(firstNames(many, 2)).toBe("f0, f1 and 1,203 more");
  });

  it("rounds percentages without claiming 0% or 100% falsely", () => {
    expect(formatPercent(0.42)).toBe("42%");
    expect(formatPercent(0.001)).toBe("<1%");
    expect(formatPercent(0.996)).toBe(">99%");
    expect(formatPercent(1)).toBe("100%");
    expect(formatPercent(0)).toBe("0%");
  });

  it("describes savings", () => {
    expect(formatSavings(300, 100)).toBe("3.0× smaller");
    expect(formatSavings(100, 0)).toBe("—");
    expect(formatSavings(100, 150)).toBe("50% larger");
  });

  it("formats durations", () => {
    expect(formatDuration(0)).toBe("under 1 s");
    expect(formatDuration(10)).toBe("10 s");
    expect(formatDuration(600)).toBe("10 min");
    expect(formatDuration(7500)).toBe("2 h 5 min");
  });
});

describe("progress", () => {
  it("says what is happening and how far along", () => {
    expect(formatProgress({ phase: "storing", done: 12, total: 40, unit: "files", item: null })).toBe("Storing — 12 of 40 files");
    expect(formatProgress({ phase: "writing", done: 1536, total: 3 * 1024 ** 3, unit: "bytes", item: "a" })).toBe("Writing — 1.5 KiB of 3 GiB");
    expect(formatProgress({ phase: "scanning", done: 7, total: null, unit: "files", item: null })).toBe("Scanning — 7 files");
    expect(formatProgress({ phase: "trash", done: 0, total: null, unit: "files", item: null })).toBe("Trash…");
  });

  it("gives a ratio only when the total is known", () => {
    expect(progressRatio({ phase: "x", done: 5, total: 10, unit: "files", item: null })).toBe(0.5);
    expect(progressRatio({ phase: "x", done: 5, total: null, unit: "files", item: null })).toBeNull();
    expect(progressRatio({ phase: "x", done: 0, total: 0, unit: "files", item: null })).toBe(1);
  });
});
