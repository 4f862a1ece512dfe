// Squarified treemap layout (Bruls, Huizing, van Wijk): rectangles whose areas are proportional
// to their values, laid out in rows that keep aspect ratios close to 1.

export type Rect = { x: number; y: number; w: number; h: number };
export type Placed<T> = Rect & { item: T; value: number };

/** Worst aspect ratio of a row of areas laid along a side of length `side`. */
function worst(row: number[], side: number): number {
  if (row.length === 0) return Infinity;
  const sum = row.reduce((a, b) => a + b, 0);
  const max = Math.max(...row);
  const min = Math.min(...row);
  const s2 = side * side;
  const sum2 = sum * sum;
  return Math.max((s2 * max) / sum2, sum2 / (s2 * min));
}

/**
 * Lays out `items` (any order; zero and negative values are left out) in `bounds`.
 * Returns one rectangle per item with a positive value, largest first.
 */
export function squarify<T>(items: T[], valueOf: (item: T) => number, bounds: Rect): Placed<T>[] {
  const entries = items
    .map((item) => ({ item, value: valueOf(item) }))
    .filter((e) => e.value > 0 && Number.isFinite(e.value))
    .sort((a, b) => b.value - a.value);
  const total = entries.reduce((n, e) => n + e.value, 0);
  if (entries.length === 0 || bounds.w <= 0 || bounds.h <= 0 || total <= 0) return [];
  const scale = (bounds.w * bounds.h) / total;
  const areas = entries.map((e) => e.value * scale);

  const out: Placed<T>[] = [];
  let free: Rect = { ...bounds };
  let i = 0;
  while (i < entries.length) {
    const side = Math.min(free.w, free.h);
    const row: number[] = [areas[i]];
    let j = i + 1;
    while (j < entries.length && worst([...row, areas[j]], side) <= worst(row, side)) {
      row.push(areas[j]);
      j++;
    }
    const rowArea = row.reduce((a, b) => a + b, 0);
    const last = j >= entries.length;
    if (free.w >= free.h) {
      // A column on the left side.
      const colW = last ? free.w : rowArea / free.h;
      let y = free.y;
      row.forEach((area, k) => {
        const h = k === row.length - 1 ? free.y + free.h - y : area / colW;
        out.push({ x: free.x, y, w: colW, h, item: entries[i + k].item, value: entries[i + k].value });
        y += h;
      });
      free = { x: free.x + colW, y: free.y, w: free.w - colW, h: free.h };
    } else {
      // A row along the top.
      const rowH = last ? free.h : rowArea / free.w;
      let x = free.x;
      row.forEach((area, k) => {
        const w = k === row.length - 1 ? free.x + free.w - x : area / rowH;
        out.push({ x, y: free.y, w, h: rowH, item: entries[i + k].item, value: entries[i + k].value });
        x += w;
      });
      free = { x: free.x, y: free.y + rowH, w: free.w, h: free.h - rowH };
    }
    i = j;
  }
  return out;
}

/** Shrinks a rectangle by `pad` on every side (never below zero size). */
export function inset(r: Rect, pad: number, top = pad): Rect {
  return {
    x: r.x + pad,
    y: r.y + top,
    w: Math.max(0, r.w - pad * 2),
    h: Math.max(0, r.h - top - pad),
  };
}

export type Group<G, T> = { group: G; children: T[] };
export type NestedLayout<G, T> = { outer: Placed<G>; inner: Placed<T>[] }[];

/** Two levels: groups by their total, then each group's children inside it, under a header. */
export function nestedTreemap<G, T>(
  groups: Group<G, T>[],
  valueOf: (item: T) => number,
  bounds: Rect,
  options: { pad?: number; header?: number } = {},
): NestedLayout<G, T> {
  const pad = options.pad ?? 2;
  const header = options.header ?? 18;
  const totals = new Map(groups.map((g) => [g, g.children.reduce((n, c) => n + Math.max(0, valueOf(c)), 0)]));
  const outer = squarify(groups, (g) => totals.get(g) ?? 0, bounds);
  return outer.map((o) => {
    const room = inset(o, pad, o.h > header * 2 ? header : pad);
    return {
      outer: { x: o.x, y: o.y, w: o.w, h: o.h, item: o.item.group, value: o.value },
      inner: squarify(o.item.children, valueOf, room),
    };
  });
}
