import { describe, expect, it } from "vitest";
import { nestedTreemap, squarify, type Rect } from "../../src/lib/treemap";

const area = (r: Rect) => r.w * r.h;
const overlap = (a: Rect, b: Rect) =>
  Math.max(0, Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x)) * Math.max(0, Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y));

describe("squarify", () => {
  const bounds = { x: 0, y: 0, w: 600, h: 400 };
  const values = [6, 6, 4, 3, 2, 2, 1];

  it("gives each item an area proportional to its value", () => {
    const placed = squarify(values, (v) => v, bounds);
    expect(placed).toHaveLength(values.length);
    const total = values.reduce((a, b) => a + b, 0);
    for (const p of placed) expect(area(p)).toBeCloseTo((p.value / total) * 600 * 400, 6);
  });

  it("fills the bounds without overlaps or spilling out", () => {
    const placed = squarify(values, (v) => v, bounds);
    expect(placed.reduce((n, p) => n + area(p), 0)).toBeCloseTo(600 * 400, 6);
    for (const p of placed) {
      expect(p.x).toBeGreaterThanOrEqual(-1e-9);
      expect(p.y).toBeGreaterThanOrEqual(-1e-9);
      expect(p.x + p.w).toBeLessThanOrEqual(600 + 1e-9);
      expect(p.y + p.h).toBeLessThanOrEqual(400 + 1e-9);
    }
    for (let i = 0; i < placed.length; i++)
      for (let j = i + 1; j < placed.length; j++) expect(overlap(placed[i], placed[j])).toBeLessThan(1e-6);
  });

  it("keeps rectangles close to square (the point of squarifying)", () => {
    const many = Array.from({ length: 40 }, (_, i) => 40 - i);
    const placed = squarify(many, (v) => v, bounds);
    const ratios = placed.map((p) => Math.max(p.w / p.h, p.h / p.w));
    const median = ratios.sort((a, b) => a - b)[Math.floor(ratios.length / 2)];
    expect(median).toBeLessThan(2.5);
  });

  it("leaves out zero and negative values and handles empty input", () => {
    expect(squarify([0, -3, 5], (v) => v, bounds)).toHaveLength(1);
    expect(squarify([], (v: number) => v, bounds)).toEqual([]);
    expect(squarify([1, 2], (v) => v, { x: 0, y: 0, w: 0, h: 10 })).toEqual([]);
  });

  it("puts the largest item first, at the corner", () => {
    const placed = squarify([1, 10, 3], (v) => v, bounds);
    expect(placed[0].value).toBe(10);
    expect(placed[0].x).toBe(0);
    expect(placed[0].y).toBe(0);
  });
});

describe("nestedTreemap", () => {
  it("places each group's children inside the group, below its header", () => {
    const layout = nestedTreemap(
      [
        { group: "default", children: [5, 3, 1] },
        { group: "clients", children: [4, 4] },
      ],
      (v) => v,
      { x: 0, y: 0, w: 500, h: 300 },
      { pad: 2, header: 18 },
    );
    expect(layout).toHaveLength(2);
    for (const { outer, inner } of layout) {
      for (const c of inner) {
        expect(c.x).toBeGreaterThanOrEqual(outer.x + 2 - 1e-9);
        expect(c.y).toBeGreaterThanOrEqual(outer.y + 18 - 1e-9);
        expect(c.x + c.w).toBeLessThanOrEqual(outer.x + outer.w - 2 + 1e-9);
        expect(c.y + c.h).toBeLessThanOrEqual(outer.y + outer.h - 2 + 1e-9);
      }
    }
    expect(layout[0].outer.value).toBe(9);
  });
});
