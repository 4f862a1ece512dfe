// Line diffs for the fake vault: the same unified format the engine produces (`similar`'s
// unified diff with 3 lines of context and `a/` `b/` headers).

type Op = { kind: " " | "-" | "+"; text: string };

function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The edit script from `a` to `b` (longest common subsequence, common ends trimmed first). */
export function lineOps(a: string[], b: string[]): Op[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const head: Op[] = a.slice(0, start).map((text) => ({ kind: " ", text }));
  const tail: Op[] = a.slice(endA).map((text) => ({ kind: " ", text }));
  const midA = a.slice(start, endA);
  const midB = b.slice(start, endB);
  const n = midA.length;
  const m = midB.length;
  const mid: Op[] = [];
  if (n * m > 4_000_000) {
    for (const text of midA) mid.push({ kind: "-", text });
    for (const text of midB) mid.push({ kind: "+", text });
  } else {
    // lcs[i][j] = length of the LCS of midA[i..] and midB[j..]
    const lcs = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lcs[i][j] = midA[i] === midB[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (midA[i] === midB[j]) {
        mid.push({ kind: " ", text: midA[i] });
        i++;
        j++;
      } else if (lcs[i + 1][j] >= lcs[i][j + 1]) {
        mid.push({ kind: "-", text: midA[i++] });
      } else {
        mid.push({ kind: "+", text: midB[j++] });
      }
    }
    while (i < n) mid.push({ kind: "-", text: midA[i++] });
    while (j < m) mid.push({ kind: "+", text: midB[j++] });
  }
  return [...head, ...mid, ...tail];
}

/** A unified diff of two texts, or "" when they are equal. */
export function unifiedDiff(oldText: string, newText: string, oldName: string, newName: string, context = 3): string {
  if (oldText === newText) return "";
  const ops = lineOps(splitLines(oldText), splitLines(newText));
  const changed = ops.map((op, i) => (op.kind !== " " ? i : -1)).filter((i) => i >= 0);
  if (changed.length === 0) return "";
  // Group changes whose context overlaps into hunks.
  const groups: [number, number][] = [];
  for (const i of changed) {
    const last = groups[groups.length - 1];
    if (last && i - last[1] <= context * 2) last[1] = i;
    else groups.push([i, i]);
  }
  let out = `--- ${oldName}\n+++ ${newName}\n`;
  // Line numbers before each op.
  const oldNo: number[] = [];
  const newNo: number[] = [];
  let o = 1;
  let n = 1;
  for (const op of ops) {
    oldNo.push(o);
    newNo.push(n);
    if (op.kind !== "+") o++;
    if (op.kind !== "-") n++;
  }
  for (const [first, last] of groups) {
    const from = Math.max(0, first - context);
    const to = Math.min(ops.length - 1, last + context);
    const slice = ops.slice(from, to + 1);
    const oldCount = slice.filter((op) => op.kind !== "+").length;
    const newCount = slice.filter((op) => op.kind !== "-").length;
    const oldStart = oldCount === 0 ? oldNo[from] - 1 : oldNo[from];
    const newStart = newCount === 0 ? newNo[from] - 1 : newNo[from];
    out += `@@ -${oldStart},${oldCount} +${newStart},${newCount} @@\n`;
    for (const op of slice) out += `${op.kind}${op.text}\n`;
  }
  return out;
}
