//! Versions: snapshots, the history, diffs and restores.

use kura_core::{Diff, RestoreReport, SnapshotReport, Version};

use super::{print_json, Out};
use crate::human;

impl Out {
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

    pub fn restored_version(&self, r: &RestoreReport) {
        self.restored(r, &format!("Restored version {}", &r.version[..10]));
    }
}
