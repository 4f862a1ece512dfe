// What the fake vault starts with: a few workspaces and projects with real-looking files and
// histories, and some folders "on the disk" outside the vault to import and drop.

export type SeedFile = string | { binary: number } | { image: string };
export type SeedTree = Record<string, SeedFile>;

export type SeedStep = {
  /** Days before now. */
  daysAgo: number;
  message: string;
  trigger: "manual" | "auto" | "api";
  /** Files written (or removed with `null`) in this step. */
  files: Record<string, SeedFile | null>;
};

export type SeedProject = {
  name: string;
  workspace: string;
  kind: string;
  description: string;
  tags: string[];
  metadata?: Record<string, string>;
  status?: "active" | "archived" | "deleted";
  linked?: string;
  gitRemote?: string;
  history: SeedStep[];
  /** Changes in the folder since the latest version (not stored yet). */
  pending?: Record<string, SeedFile | null>;
  folderGit?: { branch: string; commits: { summary: string; daysAgo: number }[] };
};

const SITE_INDEX = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Kura — keep every project</title>
    <link rel="stylesheet" href="style.css" />
  </head>
  <body>
    <main id="app"></main>
    <script type="module" src="src/main.ts"></script>
  </body>
</html>
`;

const SITE_MAIN_V1 = `import { render } from "./render";

// Entry point: mount the landing page.
const root = document.querySelector("#app");
if (root) {
  render(root, { title: "Kura", tagline: "Keep every project" });
}
`;

const SITE_MAIN_V2 = `import { render } from "./render";
import { pricing } from "./pricing";

// Entry point: mount the landing page and the pricing table.
const root = document.querySelector("#app");
if (root) {
  render(root, { title: "Kura", tagline: "Every project, every version" });
  pricing(root, [
    { plan: "Personal", price: 0 },
    { plan: "Team", price: 12 },
  ]);
}
`;

const SITE_RENDER = `export interface Page {
  title: string;
  tagline: string;
}

export function render(root: Element, page: Page): void {
  const h1 = document.createElement("h1");
  h1.textContent = page.title;
  const p = document.createElement("p");
  p.textContent = page.tagline;
  root.append(h1, p);
}
`;

const SITE_PRICING = `export type Plan = { plan: string; price: number };

/* Renders the pricing table below the hero. */
export function pricing(root: Element, plans: Plan[]): void {
  const table = document.createElement("table");
  for (const { plan, price } of plans) {
    const row = table.insertRow();
    row.insertCell().textContent = plan;
    row.insertCell().textContent = price === 0 ? "free" : \`$\${price}/month\`;
  }
  root.append(table);
}
`;

const SITE_CSS_V1 = `body {
  font-family: system-ui, sans-serif;
  margin: 0 auto;
  max-width: 48rem;
}
`;

const SITE_CSS_V2 = `body {
  font-family: system-ui, sans-serif;
  margin: 0 auto;
  max-width: 56rem;
  color: #1d2433;
}

table {
  border-collapse: collapse;
}
`;

const API_MAIN = `use std::net::SocketAddr;

mod invoices;

/// Starts the billing API on port 8080.
#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let addr = SocketAddr::from(([127, 0, 0, 1], 8080));
    let app = invoices::router();
    println!("listening on {addr}");
    axum::serve(tokio::net::TcpListener::bind(addr).await?, app).await?;
    Ok(())
}
`;

const API_INVOICES_V1 = `use axum::{routing::get, Json, Router};
use serde::Serialize;

#[derive(Serialize)]
pub struct Invoice {
    pub id: u64,
    pub amount_cents: i64,
}

pub fn router() -> Router {
    Router::new().route("/invoices", get(list))
}

async fn list() -> Json<Vec<Invoice>> {
    Json(vec![Invoice { id: 1, amount_cents: 1200 }])
}
`;

const API_INVOICES_V2 = `use axum::{routing::get, Json, Router};
use serde::Serialize;

#[derive(Serialize)]
pub struct Invoice {
    pub id: u64,
    pub amount_cents: i64,
    pub currency: &'static str,
}

pub fn router() -> Router {
    Router::new().route("/invoices", get(list)).route("/health", get(health))
}

async fn list() -> Json<Vec<Invoice>> {
    // TODO: read from the database
    Json(vec![Invoice { id: 1, amount_cents: 1200, currency: "EUR" }])
}

async fn health() -> &'static str {
    "ok"
}
`;

const API_CARGO = `[package]
name = "billing-api"
version = "0.3.0"
edition = "2021"

[dependencies]
anyhow = "1"
axum = "0.8"
serde = { version = "1", features = ["derive"] }
tokio = { version = "1", features = ["full"] }
`;

const NOTEBOOK_PY = `import numpy as np


def train(data, epochs=10):
    """Fits a tiny linear model."""
    w = np.zeros(data.shape[1])
    for _ in range(epochs):
        w -= 0.01 * data.mean(axis=0)
    return w


if __name__ == "__main__":
    print(train(np.ones((4, 3))))
`;

const DASHBOARD_SVELTE = `<script lang="ts">
  let { revenue }: { revenue: number[] } = $props();
  const total = $derived(revenue.reduce((a, b) => a + b, 0));
</script>

<h2>Revenue</h2>
<p>{total} € this quarter</p>
`;

const MIGRATION_SQL = `-- Move customers from the legacy schema
CREATE TABLE customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  created_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP
);

INSERT INTO customers (id, name)
SELECT cust_id, cust_name FROM legacy_customers;
`;

const AGENT_PY = `# Written by an agent run: a small scraper
import json
import urllib.request


def fetch(url: str) -> dict:
    with urllib.request.urlopen(url) as r:
        return json.load(r)
`;

const LOGO =
  "data:image/svg+xml;base64," +
  btoa(
    '<svg xmlns="http://www.w3.org/2000/svg" width="96" height="96" viewBox="0 0 96 96"><rect width="96" height="96" rx="20" fill="#3b5bdb"/><path d="M28 24v48M28 48l26-24M36 44l22 28" stroke="#fff" stroke-width="8" stroke-linecap="round" fill="none"/></svg>',
  );

export const SEED_WORKSPACES = ["default", "clients", "experiments"];

export const SEED_PROJECTS: SeedProject[] = [
  {
    name: "kura-site",
    workspace: "default",
    kind: "manual",
    description: "The landing page",
    tags: ["web", "demo"],
    metadata: { owner: "dana", stage: "beta" },
    gitRemote: "git@example.com:kura/site.git",
    history: [
      {
        daysAgo: 12,
        message: "Created from the frontend template",
        trigger: "api",
        files: {
          "index.html": SITE_INDEX,
          "style.css": SITE_CSS_V1,
          "src/main.ts": SITE_MAIN_V1,
          "src/render.ts": SITE_RENDER,
          "package.json": '{\n  "name": "kura-site",\n  "private": true,\n  "devDependencies": { "vite": "^8.0.0" }\n}\n',
          "README.md": "# kura-site\n\nThe landing page.\n",
        },
      },
      {
        daysAgo: 5,
        message: "Add the pricing table",
        trigger: "manual",
        files: { "src/main.ts": SITE_MAIN_V2, "src/pricing.ts": SITE_PRICING, "style.css": SITE_CSS_V2 },
      },
      {
        daysAgo: 1,
        message: "Automatic version after changes",
        trigger: "auto",
        files: { "assets/logo.svg": { image: LOGO }, "README.md": "# kura-site\n\nThe landing page of Kura.\n" },
      },
    ],
    pending: {
      "src/render.ts": SITE_RENDER.replace("root.append(h1, p);", "root.replaceChildren(h1, p);"),
      "notes/todo.md": "- ship the pricing page\n- add screenshots\n",
    },
    folderGit: {
      branch: "main",
      commits: [
        { summary: "Pricing table", daysAgo: 5 },
        { summary: "First page", daysAgo: 12 },
      ],
    },
  },
  {
    name: "billing-api",
    workspace: "default",
    kind: "manual",
    description: "Invoices over HTTP",
    tags: ["api", "rust"],
    history: [
      {
        daysAgo: 30,
        message: "Created from the backend template",
        trigger: "api",
        files: {
          "Cargo.toml": API_CARGO,
          "src/main.rs": API_MAIN,
          "src/invoices.rs": API_INVOICES_V1,
          "fixtures/customers.db": { binary: 3_400_000 },
        },
      },
      {
        daysAgo: 2,
        message: "Currency on invoices, health check",
        trigger: "manual",
        files: { "src/invoices.rs": API_INVOICES_V2, "fixtures/invoices.parquet": { binary: 12_800_000 } },
      },
    ],
  },
  {
    name: "ml-notebooks",
    workspace: "default",
    kind: "imported",
    description: "Experiments from last spring",
    tags: ["ml"],
    status: "archived",
    history: [
      {
        daysAgo: 160,
        message: "Imported from /home/dev/ml",
        trigger: "api",
        files: { "train.py": NOTEBOOK_PY, "data/weights.bin": { binary: 48_000_000 } },
      },
    ],
  },
  {
    name: "old-prototype",
    workspace: "default",
    kind: "manual",
    description: "A throwaway",
    tags: [],
    status: "deleted",
    history: [{ daysAgo: 90, message: "Created from the empty template", trigger: "api", files: { "README.md": "# old\n" } }],
  },
  {
    name: "acme-dashboard",
    workspace: "clients",
    kind: "manual",
    description: "Revenue dashboard for ACME",
    tags: ["client", "web"],
    metadata: { client: "ACME" },
    history: [
      {
        daysAgo: 20,
        message: "Created from the frontend template",
        trigger: "api",
        files: {
          "package.json": '{\n  "name": "acme-dashboard",\n  "dependencies": { "svelte": "^5.0.0" }\n}\n',
          "src/Revenue.svelte": DASHBOARD_SVELTE,
          "static/hero.jpg": { binary: 6_200_000 },
          "static/report-q3.pdf": { binary: 9_800_000 },
        },
      },
    ],
  },
  {
    name: "globex-migration",
    workspace: "clients",
    kind: "migration",
    description: "Legacy customers into the new schema",
    tags: ["client", "sql"],
    history: [
      { daysAgo: 8, message: "Schema", trigger: "manual", files: { "migrate.sql": MIGRATION_SQL, "dumps/legacy.sql.gz": { binary: 14_500_000 } } },
    ],
  },
  {
    name: "agent-sandbox",
    workspace: "experiments",
    kind: "generation",
    description: "Files written by an agent",
    tags: ["agent"],
    history: [
      { daysAgo: 3, message: "Agent run 1", trigger: "api", files: { "scraper.py": AGENT_PY, "out/pages.zip": { binary: 4_100_000 } } },
      { daysAgo: 0.2, message: "Automatic version after changes", trigger: "auto", files: { "out/result.json": '{"ok": true}\n' } },
    ],
  },
];

/** Folders and files on the person's disk, outside the vault. */
export const SEED_DISK: Record<string, SeedTree> = {
  "/home/dev/code/weather-app": {
    "package.json": '{\n  "name": "weather-app",\n  "dependencies": { "react": "^19.0.0" }\n}\n',
    "src/App.tsx": 'export function App() {\n  return <h1>Weather</h1>;\n}\n',
    "src/api.ts": 'export async function forecast(city: string) {\n  const r = await fetch(`/api/${city}`);\n  return r.json();\n}\n',
    "README.md": "# weather-app\n",
  },
  "/home/dev/code/rust-cli": {
    "Cargo.toml": '[package]\nname = "rust-cli"\nversion = "0.1.0"\nedition = "2021"\n',
    "src/main.rs": 'fn main() {\n    println!("hello");\n}\n',
  },
  "/home/dev/Downloads/design": {
    "mockup.png": { image: LOGO },
    "brief.md": "# Brief\n\nA calmer landing page.\n",
  },
};

/** Single files on the person's disk. */
export const SEED_DISK_FILES: Record<string, SeedFile> = {
  "/home/dev/Downloads/notes.md": "# Notes\n\nThings to remember.\n",
  "/home/dev/Downloads/photo.png": { image: LOGO },
};

export const LANGUAGES: Record<string, string> = {
  rs: "rust",
  py: "python",
  js: "javascript",
  mjs: "javascript",
  jsx: "javascript",
  ts: "typescript",
  tsx: "typescript",
  go: "go",
  java: "java",
  c: "c",
  h: "c",
  cpp: "c++",
  rb: "ruby",
  sh: "shell",
  sql: "sql",
  html: "html",
  css: "css",
  svelte: "svelte",
  vue: "vue",
};
