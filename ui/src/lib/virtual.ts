// Window math for fixed-height virtual lists: which rows to render for a scroll position.

export type WindowInput = {
  /** Pixels scrolled from the top of the list. */
  scrollTop: number;
  /** Height of the visible area. */
  viewportHeight: number;
  /** Height of every row. */
  rowHeight: number;
  /** Rows in the list. */
  count: number;
  /** Extra rows rendered above and below, so fast scrolling shows no gaps. */
  overscan?: number;
};

export type VisibleWindow = {
  /** First row to render. */
  start: number;
  /** One past the last row to render. */
  end: number;
  /** Where the first rendered row sits, from the top of the list. */
  offset: number;
  /** Height of the whole list. */
  totalHeight: number;
};

export function visibleWindow({ scrollTop, viewportHeight, rowHeight, count, overscan = 6 }: WindowInput): VisibleWindow {
  const totalHeight = Math.max(0, count * rowHeight);
  if (count <= 0 || rowHeight <= 0) return { start: 0, end: 0, offset: 0, totalHeight };
  const maxScroll = Math.max(0, totalHeight - viewportHeight);
  const top = Math.min(Math.max(0, scrollTop), maxScroll);
  const first = Math.floor(top / rowHeight);
  const visible = Math.ceil((viewportHeight + (top % rowHeight)) / rowHeight);
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, first + Math.max(visible, 1) + overscan);
  return { start, end, offset: start * rowHeight, totalHeight };
}

/** The scrollTop that brings row `index` into view (unchanged when it already is). */
export function scrollToRow(index: number, scrollTop: number, viewportHeight: number, rowHeight: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return bottom - viewportHeight;
  return scrollTop;
}
