// Unified diffs (as the engine sends them) parsed into hunks, and paired into side-by-side rows.

export type LineKind = "context" | "add" | "del";
export type DiffLine = { kind: LineKind; text: string; oldNo: number | null; newNo: number | null };
export type Hunk = { header: string; oldStart: number; newStart: number; lines: DiffLine[] };

const HUNK = /^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@(.*)$/;

/** Parses a unified diff; file headers (`---`, `+++`) and "\ No newline" marks are skipped. */
export function parsePatch(patch: string): Hunk[] {
  const hunks: Hunk[] = [];
  let current: Hunk | null = null;
  let oldNo = 0;
  let newNo = 0;
  const lines = patch.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  for (const line of lines) {
    const m = HUNK.exec(line);
    if (m) {
      oldNo = Number(m[1]);
      newNo = Number(m[3]);
      current = { header: line, oldStart: oldNo, newStart: newNo, lines: [] };
      hunks.push(current);
      continue;
    }
    if (!current) continue; // file headers before the first hunk
    if (line.startsWith("\\")) continue;
    const mark = line.charAt(0);
    const text = line.slice(1);
    if (mark === "+") current.lines.push({ kind: "add", text, oldNo: null, newNo: newNo++ });
    else if (mark === "-") current.lines.push({ kind: "del", text, oldNo: oldNo++, newNo: null });
    else current.lines.push({ kind: "context", text, oldNo: oldNo++, newNo: newNo++ });
  }
  return hunks;
}

export type Cell = { no: number; text: string; kind: LineKind } | null;
export type SideRow = { type: "hunk"; header: string } | { type: "line"; left: Cell; right: Cell };

/**
 * Pairs a hunk's lines into rows: context on both sides; within each block of changes, the
 * n-th removed line beside the n-th added line, the rest against empty cells.
 */
export function sideBySide(hunks: Hunk[]): SideRow[] {
  const rows: SideRow[] = [];
  for (const hunk of hunks) {
    rows.push({ type: "hunk", header: hunk.header });
    let dels: DiffLine[] = [];
    let adds: DiffLine[] = [];
    const flush = () => {
      const n = Math.max(dels.length, adds.length);
      for (let i = 0; i < n; i++) {
        const d = dels[i];
        const a = adds[i];
        rows.push({
          type: "line",
          left: d ? { no: d.oldNo!, text: d.text, kind: "del" } : null,
          right: a ? { no: a.newNo!, text: a.text, kind: "add" } : null,
        });
      }
      dels = [];
      adds = [];
    };
    for (const line of hunk.lines) {
      if (line.kind === "del") dels.push(line);
      else if (line.kind === "add") adds.push(line);
      else {
        flush();
        rows.push({
          type: "line",
          left: { no: line.oldNo!, text: line.text, kind: "context" },
          right: { no: line.newNo!, text: line.text, kind: "context" },
        });
      }
    }
    flush();
  }
  return rows;
}
