import { describe, expect, it } from "vitest";
import { parsePatch, sideBySide } from "../../src/lib/diff";

// What the engine sends (similar's unified diff with a/ b/ headers).
const PATCH = `--- a/src/main.rs
+++ b/src/main.rs
@@ -1,5 +1,6 @@
 fn main() {
-    println!("hello");
-    run();
+    println!("hello, world");
+    let code = run();
+    std::process::exit(code);
 }
 
@@ -10,3 +11,2 @@
 fn run() {
-    // nothing
 }
\\ No newline at end of file
`;

describe("parsePatch", () => {
  it("reads hunks and numbers lines on both sides", () => {
    const hunks = parsePatch(PATCH);
    expect(hunks).toHaveLength(2);
    expect(hunks[0].oldStart).toBe(1);
    expect(hunks[0].newStart).toBe(1);
    const added = hunks[0].lines.filter((l) => l.kind === "add");
    expect(added.map((l) => l.newNo)).toEqual([2, 3, 4]);
    const removed = hunks[0].lines.filter((l) => l.kind === "del");
    expect(removed.map((l) => l.oldNo)).toEqual([2, 3]);
    expect(hunks[1].lines.find((l) => l.kind === "del")?.oldNo).toBe(11);
  });

  it("skips file headers and the no-newline mark", () => {
    const hunks = parsePatch(PATCH);
    const texts = hunks.flatMap((h) => h.lines.map((l) => l.text));
    expect(texts.some((t) => t.includes("a/src/main.rs") || t.includes("No newline"))).toBe(false);
  });
});

describe("sideBySide", () => {
  it("pairs removed lines with added lines, extras against empty cells", () => {
    const rows = sideBySide(parsePatch(PATCH)).filter((r) => r.type === "line");
    const changed = rows.filter((r) => r.type === "line" && (r.left?.kind !== "context" || r.right?.kind !== "context"));
    expect(changed).toHaveLength(4);
    const [a, b, c, d] = changed.map((r) => (r.type === "line" ? r : null)!);
    expect(a.left?.text).toBe('    println!("hello");');
    expect(a.right?.text).toBe('    println!("hello, world");');
    expect(b.left?.text).toBe("    run();");
    expect(b.right?.text).toBe("    let code = run();");
    expect(c.left).toBeNull();
    expect(c.right?.text).toBe("    std::process::exit(code);");
    expect(d.left?.text).toBe("    // nothing");
    expect(d.right).toBeNull();
  });

  it("shows context on both sides with each side's own line number", () => {
    const rows = sideBySide(parsePatch(PATCH));
    const closing = rows.filter((r) => r.type === "line" && r.left?.text === "}" && r.right?.text === "}");
    expect(closing.map((r) => (r.type === "line" ? [r.left!.no, r.right!.no] : null))).toEqual([
      [4, 5],
      [12, 12],
    ]);
  });

  it("keeps a hunk header row before each hunk", () => {
    const rows = sideBySide(parsePatch(PATCH));
    expect(rows.filter((r) => r.type === "hunk")).toHaveLength(2);
    expect(rows[0]).toEqual({ type: "hunk", header: "@@ -1,5 +1,6 @@" });
  });
});
