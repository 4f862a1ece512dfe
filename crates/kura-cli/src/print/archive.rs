//! Archives.

use kura_backup::ColdReport;
use kura_core::{ArchiveInfo, ArchiveVerifyReport, ExtractReport};

use super::{print_json, Out};
use crate::human;

impl Out {
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

    /// What `kura archive cold` moved to the cold tier, or that the tier is off.
    pub fn cold_pass(&self, r: &ColdReport) {
        let text = if r.target.is_empty() {
            "The cold tier is off: set archive.cold_target to a backup target (kura config set archive.cold_target NAME)".to_string()
        } else {
            format!(
                "Cold tier '{}': {} archives uploaded and verified, {} local files dropped ({} freed)",
                r.target,
                r.uploaded.len(),
                r.dropped.len(),
                human::bytes(r.bytes_freed)
            )
        };
        self.done_json(&text, serde_json::json!(r));
    }
}
