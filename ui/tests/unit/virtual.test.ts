import { describe, expect, it } from "vitest";
import { scrollToRow, visibleWindow } from "../../src/lib/virtual";

describe("visibleWindow", () => {
  const base = { rowHeight: 40, viewportHeight: 400, count: 10_000, overscan: 5 };

  it("renders only the rows in view plus the overscan", () => {
    const w = visibleWindow({ ...base, scrollTop: 0 });
    expect(w).toEqual({ start: 0, end: 15, offset: 0, totalHeight: 400_000 });
  });

  it("follows the scroll position", () => {
    const w = visibleWindow({ ...base, scrollTop: 4000 });
    expect(w.start).toBe(95);
    expect(w.end).toBe(115);
    expect(w.offset).toBe(95 * 40);
  });

  it("counts a partly visible row at the bottom", () => {
    const w = visibleWindow({ ...base, overscan: 0, scrollTop: 20 });
    expect(w.start).toBe(0);
    expect(w.end).toBe(11);
  });

  it("clamps at the end of the list and past it", () => {
    const w = visibleWindow({ ...base, scrollTop: 10_000_000 });
    expect(w.end).toBe(10_000);
    expect(w.start).toBe(10_000 - 10 - 5);
  });

  it("copes with short and empty lists", () => {
    expect(visibleWindow({ ...base, count: 3, scrollTop: 0 })).toEqual({ start: 0, end: 3, offset: 0, totalHeight: 120 });
    expect(visibleWindow({ ...base, count: 0, scrollTop: 0 })).toEqual({ start: 0, end: 0, offset: 0, totalHeight: 0 });
  });

  it("never renders more than a screenful however long the list", () => {
    for (const scrollTop of [0, 123_456, 399_600]) {
      const w = visibleWindow({ ...base, scrollTop });
      expect(w.end - w.start).toBeLessThanOrEqual(10 + 1 + 2 * 5);
    }
  });
});

describe("scrollToRow", () => {
  it("scrolls just enough to show a row", () => {
    expect(scrollToRow(0, 400, 400, 40)).toBe(0);
    expect(scrollToRow(30, 0, 400, 40)).toBe(31 * 40 - 400);
    expect(scrollToRow(12, 400, 400, 40)).toBe(400);
  });
});
