//! The vault as a whole: its status, where the space goes, quotas, checks, garbage
//! collection, cleanup and settings.

use std::path::Path;

use kura_core::{
    CleanupReport, Config, GcReport, QuotaStatus, QuotaUsage, Stats, VaultReader, VerifyReport,
    Workspace,
};

use serde_json::json;

use super::{print_json, Out};
use crate::human;

impl Out {
    pub fn status(&self, vault: &VaultReader, ws: &Workspace, stats: &Stats) {
        if self.json {
            print_json(&json!({
                "vault": vault.root(),
                "workspace": ws,
                "projects": stats.projects,
                "latest_bytes": stats.latest_bytes,
                "on_disk_bytes": stats.on_disk_bytes,
                "disk_free_bytes": stats.disk_free_bytes,
            }));
            return;
        }
        println!("Vault      {}", vault.root().display());
        println!(
            "Workspace  {} ({})",
            ws.name,
            human::count(ws.project_count, "project")
        );
        println!(
            "Projects   {} active, {} archived, {} in the trash",
            stats.projects.active, stats.projects.archived, stats.projects.deleted
        );
        println!(
            "Size       latest versions hold {}, the vault takes {} on disk, {} free",
            human::bytes(stats.latest_bytes),
            human::bytes(stats.on_disk_bytes),
            human::bytes(stats.disk_free_bytes)
        );
    }

    pub fn verify(&self, r: &VerifyReport) {
        if self.json {
            return print_json(r);
        }
        println!(
            "Checked {} projects, {} versions, {} objects, {} chunks.",
            r.projects_checked, r.versions_checked, r.objects_checked, r.chunks_checked
        );
        if r.is_ok() {
            println!("No problems found.");
            return;
        }
        println!("{} problem(s):", r.problems.len());
        for p in &r.problems {
            let mut what = p.area.clone();
            if let Some(pr) = &p.project {
                what.push_str(&format!(", project '{pr}'"));
            }
            println!("- [{what}] {}", p.message);
            if !p.versions.is_empty() {
                println!("    versions: {}", p.versions.join(", "));
            }
            if !p.paths.is_empty() {
                println!("    files: {}", p.paths.join(", "));
            }
        }
    }

    pub fn gc(&self, r: &GcReport) {
        if self.json {
            return print_json(r);
        }
        println!(
            "Freed {}: {} chunks removed, {} packs deleted, {} packs rewritten; {} {} rewritten with deltas.",
            human::bytes(r.bytes_freed),
            r.chunks_removed,
            r.packs_deleted,
            r.packs_rewritten,
            r.histories_repacked,
            if r.histories_repacked == 1 { "history" } else { "histories" }
        );
    }

    /// `kura stats`: the totals, then the space by layer, by workspace and project, and by
    /// kind of file.
    pub fn stats(&self, s: &Stats, now: i64) {
        if self.json {
            return print_json(s);
        }
        stats_totals(s);
        stats_layers(s);
        stats_usage(s);
        stats_contents(s, now);
    }

    pub fn quota(&self, q: &QuotaStatus) {
        if self.json {
            return print_json(q);
        }
        let line = |u: &QuotaUsage| {
            let limit = if u.limit == 0 {
                "no limit".to_string()
            } else {
                format!("of {} ({:.0}%)", human::bytes(u.limit), u.fraction * 100.0)
            };
            println!("{:<24} {:>10} {limit}", u.name, human::bytes(u.used));
        };
        line(&q.total);
        for p in q.projects.iter().take(20) {
            line(p);
        }
        for w in &q.warnings {
            println!("Warning: {w}");
        }
    }

    pub fn cleanup(&self, r: &CleanupReport) {
        if self.json {
            return print_json(r);
        }
        let verb = if r.dry_run { "Would free" } else { "Freed" };
        for c in &r.categories {
            println!(
                "{:<9} {} item(s), {}",
                c.category.as_str(),
                c.items.len(),
                human::bytes(c.bytes_freed)
            );
            for i in &c.items {
                println!("  - {}", i.description);
            }
        }
        println!(
            "{verb} {} in all (run {}).",
            human::bytes(r.bytes_freed),
            r.id
        );
    }

    pub fn cleanup_runs(&self, runs: &[CleanupReport], now: i64) {
        if self.json {
            return print_json(runs);
        }
        if runs.is_empty() {
            println!("No cleanup has run yet.");
        }
        for r in runs {
            let parts: Vec<String> = r
                .categories
                .iter()
                .map(|c| format!("{} {}", c.category.as_str(), human::bytes(c.bytes_freed)))
                .collect();
            println!(
                "{:>4}  {:<14} {}{:>10}  {}",
                r.id,
                human::ago(r.started_at, now),
                if r.dry_run { "dry run " } else { "" },
                human::bytes(r.bytes_freed),
                parts.join(", ")
            );
        }
    }

    pub fn config(&self, c: &Config) {
        if self.json {
            return print_json(c);
        }
        match toml::to_string_pretty(c) {
            Ok(s) => print!("{s}"),
            Err(e) => eprintln!("kura: cannot print the settings: {e}"),
        }
    }

    pub fn config_path(&self, path: &Path) {
        self.done_json(
            &path.display().to_string(),
            serde_json::json!({"path": path}),
        );
    }

    pub fn config_value(&self, key: &str, value: &str) {
        self.done_json(value, serde_json::json!({"key": key, "value": value}));
    }

    pub fn config_set(&self, key: &str, value: &str) {
        self.done_json(
            &format!("{key} = {value}"),
            serde_json::json!({"key": key, "value": value}),
        );
    }
}

/// The layer's name as the dashboard writes it.
fn layer_name(layer: &str) -> &str {
    match layer {
        "files" => "projects",
        "git" => "histories",
        "chunks" => "chunks",
        "archives" => "archives",
        "catalog" => "catalog",
        _ => "other",
    }
}

/// What dedup and compression saved, in the words the dashboard uses.
fn savings(s: &Stats) -> String {
    if s.versions == 0 {
        return "Saved: nothing yet (no versions)".into();
    }
    let what = format!(
        "all {} would take {} as plain copies; stored in {}",
        human::count(s.versions, "version"),
        human::bytes(s.all_versions_bytes),
        human::bytes(s.versions_on_disk_bytes)
    );
    if s.saved_bytes > 0 {
        format!("Saved: {} ({what})", human::bytes(s.saved_bytes))
    } else {
        format!("Saved: nothing yet ({what}, the histories' own overhead)")
    }
}

/// The vault, its projects, and the space it takes and saves.
fn stats_totals(s: &Stats) {
    println!("Vault {}", s.vault);
    println!(
        "Projects: {} active, {} archived, {} in the trash",
        s.projects.active, s.projects.archived, s.projects.deleted
    );
    let projects_folder = match &s.projects_folder {
        Some(p) => format!(" (with the projects folder {p})"),
        None => String::new(),
    };
    println!(
        "On disk: {}{projects_folder}",
        human::bytes(s.on_disk_bytes)
    );
    println!("Latest versions hold: {}", human::bytes(s.latest_bytes));
    println!("{}", savings(s));
    println!(
        "Disk: {} free of {}",
        human::bytes(s.disk_free_bytes),
        human::bytes(s.disk_total_bytes)
    );
}

/// The space on disk of each layer (projects, histories, chunks, archives, ...).
fn stats_layers(s: &Stats) {
    println!("\nOn disk by layer");
    for l in &s.layers {
        let held = if l.logical_bytes > 0 || l.layer == "git" || l.layer == "chunks" {
            format!(
                "{:>10} holding {:>10}",
                human::count(l.files, "file"),
                human::bytes(l.logical_bytes)
            )
        } else if l.layer == "archives" {
            format!("{:>10}", human::count(l.files, "archive"))
        } else {
            String::new()
        };
        println!(
            "  {:<9} {:>10}  {held}",
            layer_name(&l.layer),
            human::bytes(l.on_disk_bytes),
        );
    }
}

/// The space of each workspace, and of the largest projects.
fn stats_usage(s: &Stats) {
    println!("\nWorkspaces");
    for w in &s.workspaces {
        println!(
            "  {:<24} {:>13} {:>10} {:>10} stored",
            w.name,
            human::count(w.projects, "project"),
            human::bytes(w.logical_bytes),
            human::bytes(w.stored_bytes)
        );
    }
    println!("\nLargest projects");
    for p in s.projects_usage.iter().take(10) {
        let state = match p.status {
            Some(kura_core::ProjectStatus::Archived) => "  (archived)",
            Some(kura_core::ProjectStatus::Deleted) => "  (in the trash)",
            _ => "",
        };
        println!(
            "  {:<24} {:>10} {:>10} stored{state}",
            p.name,
            human::bytes(p.logical_bytes),
            human::bytes(p.stored_bytes)
        );
    }
}

/// The kinds of files, the largest files, the growth, and the quota's warnings.
fn stats_contents(s: &Stats, now: i64) {
    println!("\nFile types");
    for t in s.file_types.iter().take(10) {
        let name = if t.file_type.is_empty() {
            "(none)"
        } else {
            &t.file_type
        };
        println!(
            "  {:<10} {:>13} {:>10}",
            name,
            human::count(t.files, "file"),
            human::bytes(t.bytes)
        );
    }
    println!("\nLargest files");
    for f in s.largest_files.iter().take(10) {
        println!(
            "  {:>10}  {:<6} {}/{}",
            human::bytes(f.size),
            f.layer,
            f.project,
            f.path
        );
    }
    if let (Some(first), Some(last)) = (s.growth.first(), s.growth.last()) {
        println!(
            "\nGrowth: {} → {} stored since {}",
            human::bytes(first.stored_bytes),
            human::bytes(last.stored_bytes),
            human::ago(first.at, now)
        );
    }
    for w in &s.quota.warnings {
        println!("\nWarning: {w}");
    }
}
