//! What the crash, fault and concurrency tests check after each failure: the vault verifies,
//! every completed version of a project is still listed and exports byte-identical to the tree it
//! was taken from, and a backup target verifies in full.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;

use crate::disk::Tree;
use crate::sandbox::{s, Sandbox};

/// The versions of one project seen so far, and the tree each was taken from.
pub struct Versions {
    project: String,
    trees: BTreeMap<String, Tree>,
    exported: BTreeSet<String>,
}

impl Versions {
    pub fn new(project: &str) -> Versions {
        Versions {
            project: project.to_string(),
            trees: BTreeMap::new(),
            exported: BTreeSet::new(),
        }
    }

    /// Checks that every version seen is still listed and attributes new ones to `tree` (only
    /// the operation just run can have made them; a "Restored version X" one holds X's tree),
    /// then exports the versions not exported yet (all of them with `all`) and compares each
    /// with its tree.
    pub fn check(&mut self, sb: &Sandbox, tree: &Tree, all: bool, round: &str) {
        let history = sb.ok(&["history", &self.project]);
        let entries = history.as_array().unwrap();
        let listed: Vec<String> = entries
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect();
        let listed_set: BTreeSet<&String> = listed.iter().collect();
        for id in self.trees.keys() {
            assert!(
                listed_set.contains(id),
                "{round}: version {id} of {} disappeared",
                self.project
            );
        }
        // Oldest first, so that a restore's source is known before the restore.
        for entry in entries.iter().rev() {
            let id = entry["id"].as_str().unwrap();
            if self.trees.contains_key(id) {
                continue;
            }
            let message = entry["message"].as_str().unwrap_or("");
            let got = match message.strip_prefix("Restored version ") {
                Some(short) => self
                    .trees
                    .iter()
                    .find(|(k, _)| k.starts_with(short.trim()))
                    .map(|(_, t)| t.clone())
                    .unwrap_or_else(|| panic!("{round}: {message}: an unknown version")),
                None => tree.clone(),
            };
            self.trees.insert(id.to_string(), got);
        }
        let todo: Vec<&String> = listed
            .iter()
            .filter(|id| all || !self.exported.contains(*id))
            .collect();
        for id in todo {
            let dest = sb.path(&format!("check-{}", self.project));
            let _ = fs::remove_dir_all(&dest);
            sb.ok(&[
                "project",
                "export",
                &self.project,
                s(&dest),
                "--version",
                id,
            ]);
            self.trees[id].assert_same(
                &Tree::read(&dest),
                &format!("{round}: version {} of {}", &id[..10], self.project),
            );
            fs::remove_dir_all(&dest).unwrap();
            self.exported.insert(id.clone());
        }
    }
}

/// `kura verify` exits 0.
pub fn vault_verifies(sb: &Sandbox, round: &str) {
    let run = sb.json_run(&["verify"]);
    assert_eq!(
        run.code,
        Some(0),
        "{round}: verify failed\n{}\n{}",
        run.text(),
        run.stderr
    );
}

/// `kura backup verify <target> --full` exits 0 and finds no problem.
pub fn backup_verifies(sb: &Sandbox, target: &str, round: &str) {
    let run = sb.json_run(&["backup", "verify", target, "--full"]);
    assert_eq!(
        run.code,
        Some(0),
        "{round}: backup verify failed\n{}\n{}",
        run.text(),
        run.stderr
    );
    let v = run.json();
    assert!(
        v["problems"].as_array().is_some_and(|p| p.is_empty()),
        "{round}: {v}"
    );
}

/// The seed of a randomized test: `var` if set, else the clock; printed so a failure repeats.
pub fn seed(var: &str, test: &str) -> u64 {
    let seed = std::env::var(var)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos() as u64
        });
    eprintln!("{test}: seed {seed} (repeat with {var}={seed})");
    seed
}
