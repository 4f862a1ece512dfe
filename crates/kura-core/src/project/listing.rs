//! Project lists answered from memory.
//!
//! Listing thousands of projects through SQL costs tens of milliseconds (every row carries its
//! labels and metadata). The vault keeps one copy of every project in memory instead, loaded by
//! one query and reloaded only when the catalog changed: SQLite's `data_version` moves when
//! another process commits, and the connection's `total_changes` when this process writes. A
//! filter then runs over plain structs, with exactly the catalog's rules (labels compare without
//! ASCII case, text search is an ASCII-case-insensitive substring, names sort like `NOCASE`), and
//! the list it answers shares the projects (`Arc`): a list of thousands copies none of them.

use std::cmp::Ordering;
use std::sync::Arc;

use rusqlite::Connection;

use crate::catalog::projects;
use crate::error::Result;
use crate::model::{Project, ProjectFilter, ProjectSort, ProjectStatus};

/// Every project of the catalog, sorted by name (then workspace), and the catalog state it was
/// read at.
#[derive(Default)]
pub(crate) struct Listing {
    read_at: Option<(i64, u64)>,
    /// The catalog's revision (`catalog_rev`) the list is up to date with.
    rev: i64,
    all: Arc<Vec<Arc<Project>>>,
    /// `all` by id, rebuilt with it.
    by_id: rustc_hash::FxHashMap<String, Arc<Project>>,
}

/// Above this many changed projects a full reload is quicker than merging them in.
const MERGE_MAX: usize = 1000;

impl Listing {
    /// Every project, brought up to date if the catalog changed since the last call: the
    /// projects changed since are merged in when few changed, else every project is read again.
    pub(crate) fn all(&mut self, conn: &Connection) -> Result<Arc<Vec<Arc<Project>>>> {
        let state = projects::read_state(conn)?;
        if self.read_at == Some(state) {
            return Ok(self.all.clone());
        }
        // One read transaction: the revision and the rows agree.
        let tx = conn.unchecked_transaction()?;
        let (rev, removed_floor) = projects::revision(&tx)?;
        let loaded = self.read_at.is_some();
        // How many projects changed since the list was read (unknown: a first read, a catalog
        // whose revision went back, or a list older than the removals the catalog remembers).
        let changed: Option<i64> = if loaded && rev >= self.rev && self.rev >= removed_floor {
            Some(projects::count_changed_since(&tx, self.rev)?)
        } else {
            None
        };
        match changed {
            // Something else changed (file lists, usage samples...): the list stands.
            Some(0) if rev == self.rev => {}
            Some(n) if n as usize <= MERGE_MAX => {
                let (changed, removed) = projects::changed_since(&tx, self.rev)?;
                self.all = Arc::new(merge(&self.all, changed, &removed));
            }
            _ => {
                let mut all: Vec<Arc<Project>> =
                    projects::every(&tx)?.into_iter().map(Arc::new).collect();
                all.sort_by(|a, b| by_name(a, b));
                self.all = Arc::new(all);
            }
        }
        tx.commit()?;
        if self.rev != rev || self.read_at.is_none() {
            self.by_id = self.all.iter().map(|p| (p.id.clone(), p.clone())).collect();
        }
        self.rev = rev;
        self.read_at = Some(state);
        Ok(self.all.clone())
    }

    /// The project with this id, from the list brought up to date as [`Listing::all`] does;
    /// `None` when no list was read yet, for the caller to look the project up in the catalog.
    /// A lookup does not read the list itself: a command naming one project (every `kura`
    /// command, a process of its own) would pay for reading every project: with 500 projects,
    /// an unchanged snapshot took 1.2 times as long as with the lookup in the catalog.
    pub(crate) fn get(&mut self, conn: &Connection, id: &str) -> Result<Option<Arc<Project>>> {
        if self.read_at.is_none() {
            return Ok(None);
        }
        self.all(conn)?;
        Ok(self.by_id.get(id).cloned())
    }
}

fn by_name(a: &Project, b: &Project) -> Ordering {
    nocase_cmp(&a.name, &b.name).then_with(|| nocase_cmp(&a.workspace, &b.workspace))
}

/// `all` (sorted by name) without the `removed` projects and with the `changed` ones in their
/// place, still sorted.
fn merge(all: &[Arc<Project>], changed: Vec<Project>, removed: &[String]) -> Vec<Arc<Project>> {
    let gone: rustc_hash::FxHashSet<&str> = changed
        .iter()
        .map(|p| p.id.as_str())
        .chain(removed.iter().map(String::as_str))
        .collect();
    let mut out: Vec<Arc<Project>> = all
        .iter()
        .filter(|p| !gone.contains(p.id.as_str()))
        .cloned()
        .collect();
    for p in changed {
        let at = out.partition_point(|q| by_name(q, &p) != Ordering::Greater);
        out.insert(at, Arc::new(p));
    }
    out
}

/// The projects of `all` (sorted by name) that pass `filter`, in its order; `workspace` is the
/// workspace to keep (`None`: every workspace).
pub(crate) fn select(
    all: &[Arc<Project>],
    filter: &ProjectFilter,
    workspace: Option<&str>,
) -> Vec<Arc<Project>> {
    let text = filter
        .text
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_ascii_lowercase);
    let mut out: Vec<&Arc<Project>> = all
        .iter()
        .filter(|p| workspace.is_none_or(|w| p.workspace.eq_ignore_ascii_case(w)))
        .filter(|p| match filter.status {
            Some(s) => p.status == s,
            None => p.status != ProjectStatus::Deleted,
        })
        .filter(|p| {
            filter
                .language
                .as_deref()
                .is_none_or(|l| has(&p.languages, l))
        })
        .filter(|p| {
            filter
                .framework
                .as_deref()
                .is_none_or(|f| has(&p.frameworks, f))
        })
        .filter(|p| filter.tags.iter().all(|t| has(&p.tags, t)))
        .filter(|p| filter.min_size.is_none_or(|n| p.logical_size >= n))
        .filter(|p| filter.max_size.is_none_or(|n| p.logical_size <= n))
        .filter(|p| filter.updated_since.is_none_or(|t| p.updated_at >= t))
        .filter(|p| filter.updated_before.is_none_or(|t| p.updated_at < t))
        .filter(|p| text.as_deref().is_none_or(|t| mentions(p, t)))
        .filter(|p| {
            filter
                .metadata
                .iter()
                .all(|(key, value)| match (p.metadata.get(key), value) {
                    (None, _) => false,
                    (Some(_), None) => true,
                    (Some(have), Some(want)) => have == want,
                })
        })
        .collect();
    // `all` is in name order and the sort is stable: ties stay by name.
    match filter.sort {
        ProjectSort::Name => {}
        ProjectSort::Size => out.sort_by_key(|p| std::cmp::Reverse(p.logical_size)),
        ProjectSort::Updated => out.sort_by_key(|p| std::cmp::Reverse(p.updated_at)),
        ProjectSort::Created => out.sort_by_key(|p| std::cmp::Reverse(p.created_at)),
    }
    if let Some(limit) = filter.limit {
        out.truncate(limit as usize);
    }
    out.into_iter().cloned().collect()
}

fn has(values: &[String], wanted: &str) -> bool {
    values.iter().any(|v| v.eq_ignore_ascii_case(wanted))
}

/// Whether `needle` (lower case) is in the name, the description or a label.
fn mentions(p: &Project, needle: &str) -> bool {
    let found = |s: &str| contains_nocase(s, needle);
    found(&p.name)
        || found(&p.description)
        || p.languages.iter().any(|v| found(v))
        || p.frameworks.iter().any(|v| found(v))
        || p.tags.iter().any(|v| found(v))
}

fn contains_nocase(haystack: &str, needle_lower: &str) -> bool {
    let n = needle_lower.as_bytes();
    n.is_empty()
        || haystack
            .as_bytes()
            .windows(n.len())
            .any(|w| w.iter().zip(n).all(|(a, b)| a.to_ascii_lowercase() == *b))
}

/// SQLite's `NOCASE` order: ASCII letters folded, then bytes.
fn nocase_cmp(a: &str, b: &str) -> Ordering {
    a.bytes()
        .map(|c| c.to_ascii_lowercase())
        .cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_search_ignores_ascii_case_only() {
        assert!(contains_nocase("My API Server", "api"));
        assert!(contains_nocase("api", "api"));
        assert!(!contains_nocase("ap", "api"));
        assert!(contains_nocase("x", ""));
        // Like SQLite's LIKE, non-ASCII letters are compared as they are.
        assert!(!contains_nocase("ÉCOLE", "école"));
    }

    /// A vault that listed no project yet answers a lookup from the catalog, without reading
    /// every project; once it listed them, from its list, kept up to date with what another
    /// handle (another process) changes.
    #[test]
    fn a_lookup_reads_the_list_only_once_something_listed_it() {
        let dir = tempfile::tempdir().unwrap();
        let writer = crate::Vault::open(dir.path()).unwrap();
        let made: Vec<Project> = ["one", "two", "three"]
            .into_iter()
            .map(|name| {
                writer
                    .create_project(&crate::NewProject {
                        name: name.into(),
                        ..Default::default()
                    })
                    .unwrap()
            })
            .collect();
        let reader = crate::Vault::open(dir.path()).unwrap();
        assert_eq!(reader.project(&made[1].id).unwrap().name, "two");
        assert_eq!(reader.project("three").unwrap().id, made[2].id);
        assert!(
            reader.listing().read_at.is_none(),
            "no list read for a lookup"
        );

        let listed = reader.projects(&ProjectFilter::default()).unwrap();
        assert_eq!(listed.len(), 3);
        assert!(reader.listing().read_at.is_some());
        writer
            .change_project(
                &made[1].id,
                &crate::ProjectEdit {
                    name: Some("deux".into()),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(reader.project(&made[1].id).unwrap().name, "deux");
        assert_eq!(reader.project("deux").unwrap().id, made[1].id);
    }

    #[test]
    fn names_sort_like_nocase() {
        let mut names = vec!["beta", "Alpha", "alpha2", "_x", "Zed", "zed"];
        names.sort_by(|a, b| nocase_cmp(a, b));
        assert_eq!(names, vec!["_x", "Alpha", "alpha2", "beta", "Zed", "zed"]);
    }
}
