//! Output: text for people, or JSON for scripts; progress bars on standard error.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};
use kura_core::{
    ArchiveInfo, ArchiveVerifyReport, CleanupReport, Config, Diff, Error, ExtractReport, FileEntry,
    FileState, FolderGitCommit, FolderGitStatus, GcReport, Job, Project, QuotaStatus, QuotaUsage,
    RestoreReport, SnapshotReport, Stats, Template, VaultReader, VerifyReport, Version, Workspace,
};
use serde::Serialize;
use serde_json::json;

use crate::human;

/// Where results go.
pub struct Out {
    json: bool,
}

fn print_json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("kura: cannot write JSON: {e}"),
    }
}

impl Out {
    pub fn new(json: bool) -> Out {
        Out { json }
    }

    pub fn error(&self, err: &Error) {
        if self.json {
            print_json(&json!({"error": {"code": err.kind().code(), "message": err.message()}}));
        } else {
            eprintln!("kura: {err}");
        }
    }

    pub fn done(&self, text: &str) {
        if self.json {
            print_json(&json!({"ok": true, "message": text}));
        } else {
            println!("{text}");
        }
    }

    pub fn done_json(&self, text: &str, value: serde_json::Value) {
        if self.json {
            print_json(&value);
        } else {
            println!("{text}");
        }
    }

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

    pub fn workspaces(&self, list: &[Workspace]) {
        if self.json {
            return print_json(list);
        }
        for w in list {
            println!(
                "{} {:<24} {:>5} project{}",
                if w.active { "*" } else { " " },
                w.name,
                w.project_count,
                if w.project_count == 1 { "" } else { "s" }
            );
        }
    }

    pub fn workspace(&self, w: &Workspace, verb: Option<&str>) {
        if self.json {
            return print_json(w);
        }
        match verb {
            Some(v) => println!("{v} workspace '{}'", w.name),
            None => println!("{}", w.name),
        }
    }

    pub fn project(&self, p: &Project, verb: Option<&str>, now: i64) {
        if self.json {
            return print_json(p);
        }
        if let Some(v) = verb {
            println!("{v} project '{}' ({})", p.name, p.id);
        }
        println!("  workspace   {}", p.workspace);
        println!("  status      {:?}", p.status);
        println!("  kind        {}", p.kind);
        if !p.description.is_empty() {
            println!("  description {}", p.description);
        }
        println!(
            "  folder      {}{}",
            p.path.display(),
            if p.linked { " (linked)" } else { "" }
        );
        println!(
            "  files       {} ({})",
            p.file_count,
            human::bytes(p.logical_size)
        );
        println!("  stored      {}", human::bytes(p.stored_size));
        if !p.languages.is_empty() {
            println!("  languages   {}", p.languages.join(", "));
        }
        if !p.frameworks.is_empty() {
            println!("  frameworks  {}", p.frameworks.join(", "));
        }
        if !p.tags.is_empty() {
            println!("  tags        {}", p.tags.join(", "));
        }
        if let Some(r) = &p.git_remote {
            println!("  git remote  {r}");
        }
        for (k, v) in &p.metadata {
            println!("  meta        {k} = {v}");
        }
        println!("  changed     {}", human::ago(p.updated_at, now));
        if let Some(h) = &p.head {
            println!("  latest      {}", &h[..10]);
        }
    }

    pub fn projects(&self, list: &[Arc<Project>], now: i64) {
        if self.json {
            return print_json(list);
        }
        if list.is_empty() {
            println!("No projects.");
            return;
        }
        let w = list
            .iter()
            .map(|p| p.name.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 40);
        println!(
            "{:<w$}  {:<9} {:>9} {:>7}  {:<14} LANGUAGES",
            "NAME", "STATUS", "SIZE", "FILES", "CHANGED"
        );
        for p in list {
            println!(
                "{:<w$}  {:<9} {:>9} {:>7}  {:<14} {}",
                p.name,
                p.status.as_str(),
                human::bytes(p.logical_size),
                p.file_count,
                human::ago(p.updated_at, now),
                p.languages.join(", ")
            );
        }
    }

    pub fn metadata(&self, p: &Project) {
        if self.json {
            return print_json(&p.metadata);
        }
        if p.metadata.is_empty() {
            println!("Project '{}' has no metadata.", p.name);
        }
        for (k, v) in &p.metadata {
            println!("{k}={v}");
        }
    }

    pub fn templates(&self, list: &[Template]) {
        if self.json {
            return print_json(list);
        }
        for t in list {
            println!(
                "{:<16} {:<8} {:>3} files  {}",
                t.name,
                if t.builtin { "built-in" } else { "saved" },
                t.file_count,
                t.description
            );
        }
    }

    pub fn files(&self, list: &[FileEntry], now: i64) {
        if self.json {
            return print_json(list);
        }
        for f in list {
            let mark = match f.state {
                FileState::Unchanged => " ",
                FileState::Modified => "M",
                FileState::New => "+",
                FileState::Deleted => "-",
            };
            println!(
                "{mark} {:>9}  {:<6}  {:<10}  {:<14}  {}",
                human::bytes(f.size),
                f.layer
                    .map(|l| format!("{l:?}").to_lowercase())
                    .unwrap_or_else(|| "-".into()),
                f.last_version
                    .as_deref()
                    .map(|v| &v[..10.min(v.len())])
                    .unwrap_or("-"),
                f.modified_at
                    .map(|t| human::ago(t, now))
                    .unwrap_or_default(),
                f.path
            );
        }
    }

    pub fn snapshots(&self, reports: &[(String, SnapshotReport)]) {
        if self.json {
            if reports.len() == 1 {
                return print_json(&reports[0].1);
            }
            return print_json(&reports.iter().map(|r| &r.1).collect::<Vec<_>>());
        }
        for (name, r) in reports {
            match &r.version {
                Some(v) => println!(
                    "{name}: version {} — {} added, {} modified, {} removed ({}, {}; read {}, {})",
                    v.short_id,
                    r.changes.added,
                    r.changes.modified,
                    r.changes.removed,
                    human::count(r.files, "file"),
                    human::bytes(r.size),
                    human::count(r.files_read, "file"),
                    human::bytes(r.bytes_read)
                ),
                None => println!(
                    "{name}: no changes ({}, {})",
                    human::count(r.files, "file"),
                    human::bytes(r.size)
                ),
            }
            for s in &r.skipped {
                eprintln!("  skipped {}: {}", s.path, s.reason);
            }
        }
    }

    pub fn versions(&self, list: &[Version], now: i64) {
        if self.json {
            return print_json(list);
        }
        if list.is_empty() {
            println!("No versions.");
        }
        for v in list {
            println!(
                "{}  {:<14} {:<14} +{} ~{} -{}  {}",
                v.short_id,
                human::ago(v.created_at, now),
                v.trigger.as_str(),
                v.changes.added,
                v.changes.modified,
                v.changes.removed,
                v.message.lines().next().unwrap_or("")
            );
        }
    }

    pub fn diff(&self, d: &Diff) {
        if self.json {
            return print_json(d);
        }
        println!(
            "{}..{}: {} added, {} modified, {} removed",
            &d.from[..10],
            &d.to[..10],
            d.changes.added,
            d.changes.modified,
            d.changes.removed
        );
        for f in &d.files {
            let mark = match f.change {
                kura_core::Change::Added => "A",
                kura_core::Change::Modified => "M",
                kura_core::Change::Deleted => "D",
            };
            let size = |s: Option<u64>| s.map(human::bytes).unwrap_or_else(|| "-".into());
            println!(
                "{mark} {}  ({} → {}){}",
                f.path,
                size(f.old_size),
                size(f.new_size),
                if f.binary { " binary" } else { "" }
            );
        }
        for f in &d.files {
            if let Some(p) = &f.patch {
                print!("{p}");
            }
        }
    }

    pub fn restored(&self, r: &RestoreReport, headline: &str) {
        if self.json {
            return print_json(r);
        }
        println!(
            "{headline}: {} written ({}), {} removed",
            human::count(r.files_written, "file"),
            human::bytes(r.bytes_written),
            r.files_removed
        );
        if let Some(v) = &r.safety_version {
            println!("The state before was kept as version {}.", v.short_id);
        }
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

    pub fn stats(&self, s: &Stats, now: i64) {
        if self.json {
            return print_json(s);
        }
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

    pub fn archive(&self, a: &ArchiveInfo, verb: &str) {
        if self.json {
            return print_json(a);
        }
        println!(
            "{verb} '{}' into {} ({}, {:.1}x smaller, {} version(s))",
            a.project_name,
            a.path.display(),
            human::bytes(a.size),
            a.compression_ratio,
            a.versions
        );
        println!("  archive {}  sha256 {}", a.id, a.sha256);
    }

    pub fn archives(&self, list: &[ArchiveInfo], now: i64) {
        if self.json {
            return print_json(list);
        }
        if list.is_empty() {
            println!("No archives.");
        }
        for a in list {
            println!(
                "{}  {:<24} {:>10} {:>5.1}x  {:>4} versions  {}{}",
                a.id,
                a.project_name,
                human::bytes(a.size),
                a.compression_ratio,
                a.versions,
                human::ago(a.created_at, now),
                match (a.present, &a.cold_target) {
                    (true, None) => String::new(),
                    (true, Some(t)) => format!("  (here and at {t})"),
                    (false, Some(t)) => format!("  (only at {t})"),
                    (false, None) => "  (file missing)".to_string(),
                }
            );
        }
    }

    pub fn archive_verify(&self, r: &ArchiveVerifyReport) {
        if self.json {
            return print_json(r);
        }
        println!(
            "Checked archive {} of '{}' ({} entries).",
            r.archive.id, r.archive.project_name, r.entries
        );
        if r.is_ok() {
            println!("The checksum matches and every entry reads back.");
        }
        for p in &r.problems {
            println!("- {p}");
        }
    }

    pub fn extracted(&self, r: &ExtractReport) {
        if self.json {
            return print_json(r);
        }
        println!(
            "Extracted {} ({}) into {}",
            human::count(r.files, "file"),
            human::bytes(r.bytes),
            r.dest.display()
        );
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

    pub fn git_status(&self, s: &FolderGitStatus) {
        if self.json {
            return print_json(s);
        }
        match (&s.branch, &s.head) {
            (Some(b), Some(h)) => println!("On branch {b} at {}", &h[..10]),
            (Some(b), None) => println!("On branch {b}, no commits yet"),
            (None, Some(h)) => println!("Detached at {}", &h[..10]),
            (None, None) => println!("No commits yet"),
        }
        if s.changes.is_empty() {
            println!("Nothing to commit, working tree clean");
        }
        for c in &s.changes {
            println!("{} {}", c.status, c.path);
        }
    }

    pub fn git_log(&self, list: &[FolderGitCommit], now: i64) {
        if self.json {
            return print_json(list);
        }
        for c in list {
            println!(
                "{}  {:<14} {}  ({})",
                &c.id[..10],
                human::ago(c.time, now),
                c.summary,
                c.author
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
}

/// A job that draws a progress bar on standard error.
pub fn progress_job() -> Job {
    progress_job_on(ProgressDrawTarget::stderr, true)
}

/// The bar on the screen and what it counts.
struct Bar {
    bar: ProgressBar,
    phase: &'static str,
    unit: &'static str,
    counted: bool,
}

/// A job that draws its progress on the targets `target` makes: a new bar for each phase, drawn
/// from its first frame with that phase's unit and total (files as files, bytes as bytes).
fn progress_job_on(
    target: impl Fn() -> ProgressDrawTarget + Send + Sync + 'static,
    tick: bool,
) -> Job {
    let shown: Arc<Mutex<Option<Bar>>> = Arc::new(Mutex::new(None));
    Job::with_progress(move |p| {
        let mut guard = shown.lock().unwrap_or_else(|e| e.into_inner());
        let counted = p.total.is_some();
        let same = guard
            .as_ref()
            .is_some_and(|b| b.phase == p.phase && b.unit == p.unit && b.counted == counted);
        if !same {
            if let Some(old) = guard.take() {
                old.bar.finish_and_clear();
            }
            let bar = ProgressBar::with_draw_target(p.total, target())
                .with_style(progress_style(p.unit, p.total))
                .with_message(p.phase)
                .with_position(p.done);
            if tick {
                bar.enable_steady_tick(Duration::from_millis(120));
            }
            bar.tick();
            *guard = Some(Bar {
                bar,
                phase: p.phase,
                unit: p.unit,
                counted,
            });
        }
        let Some(shown) = guard.as_ref() else { return };
        if let Some(t) = p.total {
            shown.bar.set_length(t);
        }
        shown.bar.set_position(p.done);
        if p.total.is_some_and(|t| p.done >= t) && p.phase == "writing" {
            shown.bar.finish_and_clear();
        }
    })
}

/// "[=====>    ] 12/132 files 3s", "[==>       ] 1.5 MiB/3 MiB 2 MiB/s 1s": sizes in the one
/// rule of `human::bytes`, counts with their unit.
fn progress_style(unit: &'static str, total: Option<u64>) -> ProgressStyle {
    let template = match (total, unit) {
        (Some(_), "bytes") => {
            "{spinner} {msg:<10} [{bar:30}] {size_done}/{size_total} {size_rate} {eta}".to_string()
        }
        (Some(t), unit) => {
            // "0/1 file", "0/132 files".
            let unit = if t == 1 {
                unit.strip_suffix('s').unwrap_or(unit)
            } else {
                unit
            };
            format!(
                "{{spinner}} {{msg:<10}} [{{bar:30}}] {{human_pos}}/{{human_len}} {unit} {{eta}}"
            )
        }
        (None, "bytes") => "{spinner} {msg}… {size_done}".to_string(),
        (None, _) => "{spinner} {msg}…".to_string(),
    };
    let style = ProgressStyle::with_template(&template)
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
        .progress_chars("=> ");
    style
        .with_key(
            "size_done",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human::bytes(s.pos()));
            },
        )
        .with_key(
            "size_total",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&human::bytes(s.len().unwrap_or(0)));
            },
        )
        .with_key(
            "size_rate",
            |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{}/s", human::bytes(s.per_sec() as u64));
            },
        )
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

#[cfg(test)]
mod tests {
    use super::*;
    use kura_core::Progress;

    /// A terminal that keeps every line drawn on it.
    #[derive(Clone, Debug, Default)]
    struct Screen(Arc<Mutex<Vec<String>>>);

    impl indicatif::TermLike for Screen {
        fn width(&self) -> u16 {
            120
        }
        fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
            Ok(())
        }
        fn write_line(&self, s: &str) -> std::io::Result<()> {
            self.write_str(s)
        }
        fn write_str(&self, s: &str) -> std::io::Result<()> {
            if !s.trim().is_empty() {
                self.0.lock().unwrap().push(s.to_string());
            }
            Ok(())
        }
        fn clear_line(&self) -> std::io::Result<()> {
            Ok(())
        }
        fn flush(&self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn progress(
        phase: &'static str,
        done: u64,
        total: Option<u64>,
        unit: &'static str,
    ) -> Progress {
        Progress {
            phase,
            done,
            total,
            unit,
            item: None,
        }
    }

    #[test]
    fn bars_count_what_they_say_from_the_first_frame() {
        let screen = Screen::default();
        let drawn = screen.clone();
        let job = progress_job_on(
            move || ProgressDrawTarget::term_like(Box::new(drawn.clone())),
            false,
        );
        job.report(progress("copying", 0, Some(132), "files"));
        job.report(progress("copying", 12, Some(132), "files"));
        job.report(progress("storing", 0, Some(1), "files"));
        job.report(progress("writing", 1536 << 10, Some(3 << 20), "bytes"));
        job.report(progress("restoring", 49_562, None, "bytes"));
        let lines = screen.0.lock().unwrap().clone();
        let first = |phase: &str| {
            lines
                .iter()
                .find(|l| l.contains(phase))
                .unwrap_or_else(|| panic!("no frame of {phase} in {lines:#?}"))
                .clone()
        };
        let copying = first("copying");
        assert!(copying.contains(" 0/132 files"), "{copying}");
        assert!(!copying.contains(" B"), "a count is not bytes: {copying}");
        assert!(
            lines.iter().any(|l| l.contains(" 12/132 files")),
            "{lines:#?}"
        );
        let storing = first("storing");
        assert!(storing.contains(" 0/1 file "), "{storing}");
        let writing = first("writing");
        assert!(writing.contains(" 1.5 MiB/3 MiB "), "{writing}");
        let restoring = first("restoring");
        assert!(restoring.ends_with("restoring… 48.4 KiB"), "{restoring}");
    }
}
