//! Workspaces.

use kura_core::Workspace;

use super::{print_json, Out};

impl Out {
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

    pub fn workspace_deleted(&self, name: &str) {
        self.done(&format!("Deleted workspace '{name}'"));
    }
}
