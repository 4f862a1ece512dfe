// A small, dependency-free syntax highlighter: keywords, strings, comments and numbers for
// common languages, line by line with block comments carried across lines.

export type TokenKind = "plain" | "keyword" | "string" | "comment" | "number";
export type Token = { text: string; kind: TokenKind };

type Grammar = {
  keywords: Set<string>;
  line: string[];
  block: [string, string] | null;
  quotes: string[];
};

const words = (s: string) => new Set(s.split(/\s+/).filter(Boolean));

const C_LIKE = "if else for while do switch case default break continue return goto struct enum union typedef const static void int char long short float double unsigned signed sizeof true false null";

const GRAMMARS: Record<string, Grammar> = {
  rust: {
    keywords: words(
      "as async await break const continue crate dyn else enum extern false fn for if impl in let loop match mod move mut pub ref return self Self static struct super trait true type unsafe use where while Some None Ok Err",
    ),
    line: ["//"],
    block: ["/*", "*/"],
    quotes: ['"'],
  },
  typescript: {
    keywords: words(
      "abstract any as async await boolean break case catch class const constructor continue debugger declare default delete do else enum export extends false finally for from function get if implements import in instanceof interface keyof let new null number of private protected public readonly return set static string super switch this throw true try type typeof undefined var void while yield",
    ),
    line: ["//"],
    block: ["/*", "*/"],
    quotes: ['"', "'", "`"],
  },
  python: {
    keywords: words(
      "and as assert async await break class continue def del elif else except False finally for from global if import in is lambda None nonlocal not or pass raise return True try while with yield self",
    ),
    line: ["#"],
    block: null,
    quotes: ['"', "'"],
  },
  go: {
    keywords: words(
      "break case chan const continue default defer else fallthrough for func go goto if import interface map package range return select struct switch type var true false nil",
    ),
    line: ["//"],
    block: ["/*", "*/"],
    quotes: ['"', "`"],
  },
  c: { keywords: words(C_LIKE + " include define ifdef ifndef endif"), line: ["//"], block: ["/*", "*/"], quotes: ['"', "'"] },
  java: {
    keywords: words(
      C_LIKE +
        " abstract boolean byte catch class extends final finally implements import instanceof interface new package private protected public super synchronized this throw throws try var fun val when object override",
    ),
    line: ["//"],
    block: ["/*", "*/"],
    quotes: ['"', "'"],
  },
  shell: {
    keywords: words("if then else elif fi for in do done while until case esac function return local export set echo exit"),
    line: ["#"],
    block: null,
    quotes: ['"', "'"],
  },
  sql: {
    keywords: words(
      "select from where insert into values update set delete create table alter drop index primary key foreign references not null default and or join left right inner outer on group by order having limit as distinct union integer text timestamp varchar begin commit",
    ),
    line: ["--"],
    block: ["/*", "*/"],
    quotes: ["'", '"'],
  },
  css: { keywords: words("important media import from to"), line: [], block: ["/*", "*/"], quotes: ['"', "'"] },
  html: { keywords: new Set(), line: [], block: ["<!--", "-->"], quotes: ['"', "'"] },
  ruby: {
    keywords: words("def end if elsif else unless while until for in do return class module require yield self nil true false and or not begin rescue ensure"),
    line: ["#"],
    block: null,
    quotes: ['"', "'"],
  },
  toml: { keywords: words("true false"), line: ["#"], block: null, quotes: ['"', "'"] },
  json: { keywords: words("true false null"), line: [], block: null, quotes: ['"'] },
};

const ALIASES: Record<string, string> = {
  rs: "rust",
  ts: "typescript",
  tsx: "typescript",
  mts: "typescript",
  cts: "typescript",
  js: "typescript",
  jsx: "typescript",
  mjs: "typescript",
  cjs: "typescript",
  javascript: "typescript",
  svelte: "html",
  vue: "html",
  htm: "html",
  xml: "html",
  svg: "html",
  py: "python",
  pyi: "python",
  h: "c",
  cc: "c",
  cpp: "c",
  hpp: "c",
  "c++": "c",
  "c#": "java",
  cs: "java",
  kt: "java",
  kotlin: "java",
  swift: "java",
  dart: "java",
  scala: "java",
  sh: "shell",
  bash: "shell",
  zsh: "shell",
  rb: "ruby",
  scss: "css",
  less: "css",
  yaml: "toml",
  yml: "toml",
  ini: "toml",
  cfg: "toml",
  dockerfile: "shell",
  makefile: "shell",
};

/** The grammar name for a language name or a file path ("src/app.ts" → "typescript"), or null. */
export function grammarFor(languageOrPath: string | null | undefined): string | null {
  if (!languageOrPath) return null;
  const raw = languageOrPath.toLowerCase();
  if (GRAMMARS[raw]) return raw;
  if (ALIASES[raw]) return ALIASES[raw];
  const name = raw.slice(raw.lastIndexOf("/") + 1);
  const dot = name.lastIndexOf(".");
  const ext = dot >= 0 ? name.slice(dot + 1) : name;
  return GRAMMARS[ext] ? ext : (ALIASES[ext] ?? null);
}

const IDENT = /[A-Za-z_$][\w$]*/y;
const NUMBER = /(?:0x[\da-fA-F_]+|\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)/y;

/** Highlights lines of one file; a block comment open at the end of a line carries on. */
export function highlightLines(lines: string[], grammarName: string | null): Token[][] {
  const g = grammarName ? GRAMMARS[grammarName] : undefined;
  if (!g) return lines.map((text) => [{ text, kind: "plain" }]);
  let inBlock = false;
  return lines.map((line) => {
    const tokens: Token[] = [];
    const push = (text: string, kind: TokenKind) => {
      if (!text) return;
      const last = tokens[tokens.length - 1];
      if (last && last.kind === kind) last.text += text;
      else tokens.push({ text, kind });
    };
    let i = 0;
    if (inBlock && g.block) {
      const close = line.indexOf(g.block[1]);
      if (close < 0) return [{ text: line, kind: "comment" }];
      push(line.slice(0, close + g.block[1].length), "comment");
      i = close + g.block[1].length;
      inBlock = false;
    }
    while (i < line.length) {
      const rest = line.slice(i);
      if (g.line.some((p) => rest.startsWith(p))) {
        push(rest, "comment");
        break;
      }
      if (g.block && rest.startsWith(g.block[0])) {
        const close = line.indexOf(g.block[1], i + g.block[0].length);
        if (close < 0) {
          push(rest, "comment");
          inBlock = true;
          break;
        }
        push(line.slice(i, close + g.block[1].length), "comment");
        i = close + g.block[1].length;
        continue;
      }
      const ch = line[i];
      if (g.quotes.includes(ch)) {
        let j = i + 1;
        while (j < line.length && line[j] !== ch) j += line[j] === "\\" ? 2 : 1;
        push(line.slice(i, Math.min(j + 1, line.length)), "string");
        i = j + 1;
        continue;
      }
      IDENT.lastIndex = i;
      const id = IDENT.exec(line);
      if (id) {
        const word = id[0];
        const isKeyword = g.keywords.has(word) || (grammarName === "sql" && g.keywords.has(word.toLowerCase()));
        push(word, isKeyword ? "keyword" : "plain");
        i += word.length;
        continue;
      }
      NUMBER.lastIndex = i;
      const num = /\d/.test(ch) ? NUMBER.exec(line) : null;
      if (num) {
        push(num[0], "number");
        i += num[0].length;
        continue;
      }
      push(ch, "plain");
      i++;
    }
    return tokens;
  });
}
