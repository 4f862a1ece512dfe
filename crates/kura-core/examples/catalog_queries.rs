//! Measures catalog list/filter queries on a generated catalog of 10,000 projects and 1,000,000
//! files (the size the engine is built for). Run from the repository root:
//!
//! ```sh
//! cargo run --release -p kura-core --example catalog_queries [-- --projects 10000 --files-per-project 100]
//! ```
//!
//! With `--keep DIR` the generated vault is written to `DIR` and left there (the desktop app's
//! timing run, `bench/ui.sh`, opens it in the real window).
//!
//! The rows are written straight into a fresh vault's `catalog.db` (its schema is part of the
//! vault's documented format; each project's file list goes through the engine's own writer); the
//! queries then go through the engine's public API, in process, and the medians of 25 runs are
//! printed (5 for the whole-vault statistics and for the first list after a change, which reloads
//! the engine's in-memory copy of the projects).

use std::time::Instant;

use kura_core::filelist::GeneratedFile;
use kura_core::{ProjectFilter, ProjectSort, Vault};
use rusqlite::params;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut projects = 10_000usize;
    let mut files_per_project = 100usize;
    let mut keep: Option<std::path::PathBuf> = None;
    let mut workspaces = 20usize;
    let args: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i < args.len() {
        match args[i].as_str() {
            "--projects" => projects = args[i + 1].parse()?,
            "--files-per-project" => files_per_project = args[i + 1].parse()?,
            "--keep" => keep = Some(args[i + 1].clone().into()),
            "--workspaces" => workspaces = args[i + 1].parse()?,
            other => return Err(format!("unknown argument {other}").into()),
        }
        i += 2;
    }
    let dir = tempfile::tempdir()?;
    let vault_dir = keep.unwrap_or_else(|| dir.path().join("vault"));
    if vault_dir.join("catalog.db").exists() {
        return Err(format!("{} already holds a vault", vault_dir.display()).into());
    }
    let started = Instant::now();
    drop(Vault::open(&vault_dir)?);
    generate(
        &vault_dir.join("catalog.db"),
        projects,
        files_per_project,
        workspaces.max(1),
    )?;
    println!(
        "generated {projects} projects, {} files in {:.1} s",
        projects * files_per_project,
        started.elapsed().as_secs_f64()
    );
    let vault = Vault::open(&vault_dir)?;
    vault.switch_workspace("ws-0")?;
    let all = |f: ProjectFilter| ProjectFilter {
        all_workspaces: true,
        ..f
    };
    let cases: Vec<(&str, ProjectFilter)> = vec![
        ("active workspace, by name", ProjectFilter::default()),
        (
            "language = rust (all workspaces)",
            all(ProjectFilter {
                language: Some("rust".into()),
                ..Default::default()
            }),
        ),
        (
            "framework = react, sorted by size",
            all(ProjectFilter {
                framework: Some("react".into()),
                sort: ProjectSort::Size,
                ..Default::default()
            }),
        ),
        (
            "tag = client-7 and text 'api'",
            all(ProjectFilter {
                tags: vec!["client-7".into()],
                text: Some("api".into()),
                ..Default::default()
            }),
        ),
        (
            "size > 900 MB, top 50 by size",
            all(ProjectFilter {
                min_size: Some(900 << 20),
                sort: ProjectSort::Size,
                limit: Some(50),
                ..Default::default()
            }),
        ),
        (
            "metadata owner = dev-3",
            all(ProjectFilter {
                metadata: vec![("owner".into(), Some("dev-3".into()))],
                ..Default::default()
            }),
        ),
        (
            "text search 'project-4242'",
            all(ProjectFilter {
                text: Some("project-4242".into()),
                ..Default::default()
            }),
        ),
        (
            "changed in the last 7 days, newest first, 100",
            all(ProjectFilter {
                updated_since: Some(1_700_000_000 - 7 * 86_400),
                sort: ProjectSort::Updated,
                limit: Some(100),
                ..Default::default()
            }),
        ),
        (
            "every project (10,000), by name",
            all(ProjectFilter::default()),
        ),
    ];
    println!("{:<48} {:>8} {:>12}", "query", "rows", "median ms");
    // The engine answers lists from its in-memory copy of the catalog's projects, reloaded when
    // the catalog changes; time that reload too: after each of 5 changes, the next list.
    let mut times = Vec::new();
    let mut rows = 0;
    for i in 0..5 {
        vault.touch_project(&format!("{:016x}", i * 97))?;
        let t = Instant::now();
        rows = vault.projects(&all(ProjectFilter::default()))?.len();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{:<48} {rows:>8} {:>12.2}",
        "every project, first list after a change",
        times[times.len() / 2]
    );
    for (name, filter) in cases {
        let mut times = Vec::new();
        let mut rows = 0;
        for _ in 0..25 {
            let t = Instant::now();
            rows = vault.projects(&filter)?.len();
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{name:<48} {rows:>8} {:>12.2}", times[times.len() / 2]);
    }
    let mut times = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        vault.stats()?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{:<48} {:>8} {:>12.2}",
        "stats (whole vault)",
        "-",
        times[times.len() / 2]
    );
    Ok(())
}

fn generate(
    db: &std::path::Path,
    projects: usize,
    files_per_project: usize,
    workspaces: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    const LANGS: [&str; 8] = [
        "rust",
        "typescript",
        "python",
        "go",
        "java",
        "c++",
        "ruby",
        "php",
    ];
    const FRAMEWORKS: [&str; 6] = ["react", "axum", "django", "vue", "spring", "rails"];
    const EXTS: [&str; 8] = ["rs", "ts", "py", "go", "java", "cpp", "md", "json"];
    let mut conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    let tx = conn.transaction()?;
    for w in 0..workspaces {
        tx.execute(
            "INSERT OR IGNORE INTO workspaces (name, created_at) VALUES (?1, 1700000000)",
            [format!("ws-{w}")],
        )?;
    }
    let ws_ids: Vec<i64> = {
        let mut s = tx.prepare("SELECT id FROM workspaces WHERE name LIKE 'ws-%' ORDER BY id")?;
        let rows = s.query_map([], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    {
        let mut proj = tx.prepare(
            "INSERT INTO projects (id, workspace_id, name, kind, description, status, linked, path, created_at, updated_at, logical_size, stored_size, file_count, head)
             VALUES (?1, ?2, ?3, 'generation', ?4, ?5, 0, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
        )?;
        let mut label = tx.prepare(
            "INSERT OR IGNORE INTO labels (project_id, kind, value) VALUES (?1, ?2, ?3)",
        )?;
        let mut meta =
            tx.prepare("INSERT INTO metadata (project_id, key, value) VALUES (?1, ?2, ?3)")?;
        for p in 0..projects {
            let id = format!("{p:016x}");
            let status = match p % 20 {
                0 => "archived",
                1 => "deleted",
                _ => "active",
            };
            let size = ((p * 7919) % 1000) as i64 * (1 << 20);
            let head = format!("{:040x}", p);
            let mut head_bytes = [0u8; 20];
            hex::decode_to_slice(&head, &mut head_bytes).expect("40 hex digits");
            proj.execute(params![
                id,
                ws_ids[p % ws_ids.len()],
                format!("project-{p}"),
                if p % 3 == 0 {
                    "An api service"
                } else {
                    "A web app"
                },
                status,
                format!("/projects/project-{p}"),
                1_690_000_000 + p as i64,
                1_700_000_000 - (p as i64 % 30) * 86_400,
                size,
                size / 3,
                files_per_project as i64,
                head
            ])?;
            label.execute(params![id, "language", LANGS[p % 8]])?;
            label.execute(params![id, "language", LANGS[(p / 8) % 8]])?;
            label.execute(params![id, "framework", FRAMEWORKS[p % 6]])?;
            label.execute(params![id, "tag", format!("client-{}", p % 50)])?;
            label.execute(params![id, "tag", "generated"])?;
            meta.execute(params![id, "owner", format!("dev-{}", p % 40)])?;
            meta.execute(params![id, "ticket", format!("T-{p}")])?;
            let mut files: Vec<GeneratedFile> = (0..files_per_project)
                .map(|f| {
                    let ext = EXTS[f % 8];
                    GeneratedFile {
                        path: format!("src/mod{}/file{f}.{ext}", f % 10),
                        size: ((f * 131) % 20_000) as u64,
                        chunks: f % 50 == 0,
                        oid: [(f % 256) as u8; 20],
                        last_version: head_bytes,
                    }
                })
                .collect();
            // An archived project's folder, and so its file list, is gone.
            if status != "archived" {
                kura_core::filelist::store_generated(&tx, &id, &mut files)?;
            }
        }
    }
    Ok(tx.commit()?)
}
