//! The one rule for symbolic links inside a project, an unpacked archive or a version: a link
//! may point anywhere inside its root, never out of it.
//!
//! A link's target is resolved the way the kernel walks a path: from the link's folder, one
//! component at a time, `..` going up from wherever the walk has got to, and every link met on
//! the way (one of the same tree, looked up by the caller) replaced by its own target. So
//! `d0/…/d13/up -> ..` chains cannot be used to climb out while looking harmless. An absolute
//! target, a walk that goes above the root and a chain that loops are refused; a target that
//! does not exist (yet) is fine, as long as the walk stays inside.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::path::{Component, Path, PathBuf};

/// Most links expanded while resolving one (the kernel's own limit, `MAXSYMLINKS`).
const MAX_EXPANSIONS: usize = 40;

/// Where the link at `link` (relative to the root) with `target` leads, relative to the root;
/// `lookup` gives the target of any other link of the tree (`None` for a folder, a file or
/// nothing). `Err` says why the link is refused, in words that follow "it is a symbolic link".
pub(crate) fn resolve_link(
    link: &Path,
    target: &Path,
    lookup: &dyn Fn(&Path) -> Option<PathBuf>,
) -> Result<PathBuf, String> {
    let mut at: Vec<OsString> = link
        .parent()
        .map(|p| {
            p.components()
                .filter_map(|c| match c {
                    Component::Normal(n) => Some(n.to_os_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    let mut pending: VecDeque<OsString> = VecDeque::new();
    push_front(&mut pending, target, link, target)?;
    let mut expansions = 0;
    while let Some(part) = pending.pop_front() {
        if part == "." {
            continue;
        }
        if part == ".." {
            if at.pop().is_none() {
                return Err(format!(
                    "to {}, which leads outside (through '..')",
                    target.display()
                ));
            }
            continue;
        }
        at.push(part);
        let here: PathBuf = at.iter().collect();
        if let Some(next) = lookup(&here) {
            expansions += 1;
            if expansions > MAX_EXPANSIONS {
                return Err(format!(
                    "to {}, and the links it goes through loop (more than {MAX_EXPANSIONS} of them in a row)",
                    target.display()
                ));
            }
            at.pop();
            push_front(&mut pending, &next, &here, target)?;
        }
    }
    Ok(at.iter().collect())
}

/// Puts the components of `next` (the target of the link at `via`) before what is left to walk.
fn push_front(
    pending: &mut VecDeque<OsString>,
    next: &Path,
    via: &Path,
    target: &Path,
) -> Result<(), String> {
    let mut parts = Vec::new();
    for c in next.components() {
        match c {
            Component::Normal(n) => parts.push(n.to_os_string()),
            Component::CurDir => parts.push(".".into()),
            Component::ParentDir => parts.push("..".into()),
            Component::RootDir | Component::Prefix(_) => {
                return Err(if next == target {
                    format!("to the absolute path {}", target.display())
                } else {
                    format!(
                        "to {}, which goes through '{}', a link to the absolute path {}",
                        target.display(),
                        via.display(),
                        next.display()
                    )
                })
            }
        }
    }
    if next.as_os_str().is_empty() {
        return Err("with an empty target".into());
    }
    for p in parts.into_iter().rev() {
        pending.push_front(p);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::resolve_link;
    use std::collections::HashMap;
    use std::path::{Path, PathBuf};

    fn resolve(links: &[(&str, &str)], link: &str) -> Result<PathBuf, String> {
        let map: HashMap<PathBuf, PathBuf> = links
            .iter()
            .map(|(l, t)| (PathBuf::from(l), PathBuf::from(t)))
            .collect();
        let target = map[Path::new(link)].clone();
        resolve_link(Path::new(link), &target, &|p| map.get(p).cloned())
    }

    #[test]
    fn links_inside_resolve_and_links_out_are_refused() {
        assert_eq!(
            resolve(&[("a/b/l", "../c")], "a/b/l").unwrap(),
            Path::new("a/c")
        );
        assert!(resolve(&[("a/l", "../../x")], "a/l").is_err());
        assert!(resolve(&[("l", "/etc")], "l").is_err());
        // A chain of `up -> ..` links, and a link climbing through it.
        let mut links: Vec<(String, String)> = Vec::new();
        let mut dir = String::new();
        for i in 0..14 {
            dir.push_str(&format!("d{i}/"));
            links.push((format!("{dir}up"), "..".into()));
        }
        let climb = format!("{dir}{}..", "up/".repeat(14));
        links.push(("x".into(), climb));
        let refs: Vec<(&str, &str)> = links
            .iter()
            .map(|(a, b)| (a.as_str(), b.as_str()))
            .collect();
        assert!(resolve(&refs, "d0/d1/up").is_ok());
        assert!(resolve(&refs, "x").unwrap_err().contains("outside"));
        // Loops.
        assert!(resolve(&[("a", "b"), ("b", "a")], "a")
            .unwrap_err()
            .contains("loop"));
    }
}
