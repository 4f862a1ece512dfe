import { describe, expect, it } from "vitest";
import { grammarFor, highlightLines } from "../../src/lib/highlight";

const kinds = (line: { text: string; kind: string }[]) => line.filter((t) => t.kind !== "plain").map((t) => `${t.kind}:${t.text}`);

describe("highlight", () => {
  it("picks a grammar from a language name or a path", () => {
    expect(grammarFor("rust")).toBe("rust");
    expect(grammarFor("src/app.tsx")).toBe("typescript");
    expect(grammarFor("c++")).toBe("c");
    expect(grammarFor("Cargo.toml")).toBe("toml");
    expect(grammarFor("notes.unknownext")).toBeNull();
  });

  it("marks keywords, strings, numbers and comments", () => {
    const [line] = highlightLines(['let x = "fn"; // 42 here'], "rust");
    expect(kinds(line)).toEqual(["keyword:let", 'string:"fn"', "comment:// 42 here"]);
    const [py] = highlightLines(["def f(x=10): return 'a#b'  # note"], "python");
    expect(kinds(py)).toEqual(["keyword:def", "number:10", "keyword:return", "string:'a#b'", "comment:# note"]);
  });

  it("carries block comments across lines", () => {
    const lines = highlightLines(["a /* start", "middle const", "end */ const b"], "typescript");
    expect(kinds(lines[1])).toEqual(["comment:middle const"]);
    expect(kinds(lines[2])).toEqual(["comment:end */", "keyword:const"]);
  });

  it("keeps text intact", () => {
    const src = 'SELECT name FROM t WHERE id = 3 -- "x"';
    const [line] = highlightLines([src], "sql");
    expect(line.map((t) => t.text).join("")).toBe(src);
    expect(kinds(line)).toContain("keyword:SELECT");
  });

  it("leaves unknown languages plain", () => {
    expect(highlightLines(["if x"], null)).toEqual([[{ text: "if x", kind: "plain" }]]);
  });
});
