//! Projects, their metadata, templates and the trash.

use std::path::Path;
use std::sync::Arc;

use kura_core::{ImportReport, Project, RestoreReport, Template};

use super::{print_json, Out};
use crate::human;

impl Out {
    /// An import's project, then what its first version left out (on stderr, as a snapshot's).
    pub fn imported(&self, r: &ImportReport, verb: &str, now: i64) {
        if self.json {
            return print_json(r);
        }
        self.project(&r.project, Some(verb), now);
        if !r.skipped.is_empty() {
            eprintln!("Left out of the first version:");
        }
        for s in &r.skipped {
            eprintln!("  skipped {}: {}", s.path, s.reason);
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

    pub fn project_deleted(&self, p: &Project) {
        self.done(&format!("Deleted project '{}' for good", p.name));
    }

    pub fn exported(&self, r: &RestoreReport, dest: &Path) {
        self.restored(r, &format!("Exported to {}", dest.display()));
    }
}
