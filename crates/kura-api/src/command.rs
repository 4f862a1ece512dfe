//! The command bar's language: what a person types ("create project shop", "switch to
//! clients", "snapshot shop", "list files", "storage status", "back up now", "archive old-site")
//! read into one action, with the names it refers to looked up in the vault, completions for
//! the word being typed, and a sentence saying what will happen.
//!
//! Running the action is each door's: every action is one call the buttons already make, with
//! the same confirmation where [`CommandPlan::confirm`] says so (archiving, the trash). Nothing
//! here changes the vault.

use kura_core::{check_project_name, Project, ProjectFilter, ProjectSort, ProjectStatus};
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::Api;

/// At most this many completions are offered.
pub const MAX_COMPLETIONS: usize = 8;

/// What a command does, with the names it refers to resolved.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum CommandAction {
    /// Create a project (in the active workspace).
    CreateProject { name: String },
    /// Make a workspace the active one.
    SwitchWorkspace { workspace: String },
    /// Take a version of a project.
    Snapshot { project_id: String, project: String },
    /// Take a version of every project whose folder changed.
    SnapshotChanged,
    /// Show a project's files.
    ListFiles { project_id: String, project: String },
    /// Open a project's page.
    OpenProject { project_id: String, project: String },
    /// Show where the space goes (the dashboard).
    StorageStatus,
    /// Back up now: to one target, or to every target.
    BackUpNow { target: Option<String> },
    /// Archive a project (asks first, as the button does).
    Archive { project_id: String, project: String },
    /// Bring an archived project back.
    Unarchive { project_id: String, project: String },
    /// Move a project to the trash (asks first, as the button does).
    Trash { project_id: String, project: String },
}

/// One way to go on typing: the whole text it would make, and what it names.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CommandCompletion {
    /// The command bar's text with this completion taken.
    pub text: String,
    /// What it names, for the list ("snapshot PROJECT", "shop").
    pub label: String,
}

/// What a typed command would do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct CommandPlan {
    /// Whether the text starts with a command's words; otherwise it is a search (which may
    /// still get `completions`: the commands its first letters could become).
    pub is_command: bool,
    /// The action, when the text names one completely.
    pub action: Option<CommandAction>,
    /// What will happen ("Take a version of shop"), or what is still to type.
    pub preview: String,
    /// Why it cannot run as typed ("no project named 'shp' in workspace 'default'").
    pub problem: Option<String>,
    /// Whether it asks before it runs, as its button does.
    pub confirm: bool,
    /// Ways to go on typing, best first.
    pub completions: Vec<CommandCompletion>,
}

/// What to read a command's text in.
#[derive(Clone, Debug, Default, Deserialize)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema, utoipa::IntoParams))]
#[cfg_attr(feature = "utoipa", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct CommandInput {
    /// What was typed.
    pub text: String,
    /// The project on screen (its id), which "snapshot" and "list files" mean when they name
    /// none.
    pub project: Option<String>,
}

/// What follows a command's words.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Arg {
    Nothing,
    NewProject,
    Workspace,
    /// A project with one of these states.
    Project(&'static [ProjectStatus]),
    /// A project, or the one on screen.
    ProjectOrHere(&'static [ProjectStatus]),
    /// Optionally "to TARGET".
    Target,
}

const ACTIVE: &[ProjectStatus] = &[ProjectStatus::Active];
const LIVE: &[ProjectStatus] = &[ProjectStatus::Active, ProjectStatus::Archived];
const ARCHIVED: &[ProjectStatus] = &[ProjectStatus::Archived];

/// The commands: their words (the first is the one offered), what follows, and the example
/// shown while only the words are typed. Longer words first where one starts another.
const COMMANDS: &[(&[&str], Arg, &str)] = &[
    (
        &["create project", "new project"],
        Arg::NewProject,
        "create project NAME",
    ),
    (
        &["switch to", "switch workspace"],
        Arg::Workspace,
        "switch to WORKSPACE",
    ),
    (&["snapshot changed"], Arg::Nothing, "snapshot changed"),
    (
        &["snapshot"],
        Arg::ProjectOrHere(ACTIVE),
        "snapshot PROJECT",
    ),
    (
        &["list files", "files"],
        Arg::ProjectOrHere(LIVE),
        "list files PROJECT",
    ),
    (&["open"], Arg::Project(LIVE), "open PROJECT"),
    (
        &["storage status", "storage"],
        Arg::Nothing,
        "storage status",
    ),
    (
        &["back up now", "backup now", "back up"],
        Arg::Target,
        "back up now",
    ),
    (&["unarchive"], Arg::Project(ARCHIVED), "unarchive PROJECT"),
    (&["archive"], Arg::Project(ACTIVE), "archive PROJECT"),
    (&["trash"], Arg::Project(LIVE), "trash PROJECT"),
];

/// Splits `text` after `words` when it starts with them (case and spacing aside); the rest.
fn after<'t>(text: &'t str, words: &str) -> Option<&'t str> {
    let mut rest = text;
    for word in words.split(' ') {
        rest = rest.trim_start();
        let head = rest.get(..word.len())?;
        if !head.eq_ignore_ascii_case(word) {
            return None;
        }
        rest = &rest[word.len()..];
        if !(rest.is_empty() || rest.starts_with(char::is_whitespace)) {
            return None;
        }
    }
    Some(rest.trim())
}

/// Whether `text` could still become `words` (it is a start of them, spacing aside).
fn starts(words: &str, text: &str) -> bool {
    let typed = text.split_whitespace().collect::<Vec<_>>().join(" ");
    !typed.is_empty()
        && words.len() > typed.len()
        && words[..typed.len()].eq_ignore_ascii_case(&typed)
}

/// Candidates whose name matches `typed`: starting with it first, then containing it.
fn matching<'a>(names: impl Iterator<Item = &'a str>, typed: &str) -> Vec<&'a str> {
    let t = typed.to_lowercase();
    let names: Vec<&str> = names.collect();
    let mut out: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| n.to_lowercase().starts_with(&t))
        .collect();
    out.extend(
        names
            .iter()
            .copied()
            .filter(|n| !n.to_lowercase().starts_with(&t) && n.to_lowercase().contains(&t)),
    );
    out.truncate(MAX_COMPLETIONS);
    out
}

/// Completions naming `names`, each making the text `text(name)`.
fn completions(names: &[&str], text: impl Fn(&str) -> String) -> Vec<CommandCompletion> {
    names
        .iter()
        .map(|n| CommandCompletion {
            text: text(n),
            label: n.to_string(),
        })
        .collect()
}

impl CommandPlan {
    fn search() -> CommandPlan {
        CommandPlan {
            is_command: false,
            action: None,
            preview: String::new(),
            problem: None,
            confirm: false,
            completions: Vec::new(),
        }
    }

    fn incomplete(
        preview: String,
        problem: Option<String>,
        completions: Vec<CommandCompletion>,
    ) -> CommandPlan {
        CommandPlan {
            is_command: true,
            action: None,
            preview,
            problem,
            confirm: false,
            completions,
        }
    }

    fn ready(action: CommandAction, preview: String, confirm: bool) -> CommandPlan {
        CommandPlan {
            is_command: true,
            action: Some(action),
            preview,
            problem: None,
            confirm,
            completions: Vec::new(),
        }
    }
}

impl Api {
    /// Reads what was typed in the command bar: the action it names, if complete, what it
    /// would do, why it cannot run, and completions for the word being typed. Text that starts
    /// no command is a search (`is_command` false).
    pub fn plan_command(&self, input: &CommandInput) -> ApiResult<CommandPlan> {
        let text = input.text.trim_start();
        for (words, arg, example) in COMMANDS {
            for w in *words {
                if let Some(rest) = after(text, w) {
                    return self.plan_with(words[0], *arg, example, rest, input.project.as_deref());
                }
            }
        }
        // The start of a command's words: offer the commands it could become.
        let completions: Vec<CommandCompletion> = COMMANDS
            .iter()
            .filter(|(words, _, _)| words.iter().any(|w| starts(w, text)))
            .map(|(words, arg, example)| CommandCompletion {
                // Words that run as they are come without a space; the others wait for a name.
                text: if matches!(arg, Arg::Nothing | Arg::Target) {
                    words[0].to_string()
                } else {
                    format!("{} ", words[0])
                },
                label: example.to_string(),
            })
            .take(MAX_COMPLETIONS)
            .collect();
        if completions.is_empty() {
            return Ok(CommandPlan::search());
        }
        // Still possibly a search ("s" may start a project's name): suggestions only.
        Ok(CommandPlan {
            completions,
            ..CommandPlan::search()
        })
    }

    /// The plan of the command whose words are `verb`, with `rest` read as its `arg`: one stage
    /// per kind of argument.
    fn plan_with(
        &self,
        verb: &str,
        arg: Arg,
        example: &str,
        rest: &str,
        here: Option<&str>,
    ) -> ApiResult<CommandPlan> {
        let workspace = self.vault.current_workspace()?.name;
        match arg {
            Arg::Nothing => Ok(plan_nothing(verb, example, rest)),
            Arg::NewProject => Ok(self.plan_new_project(example, rest, &workspace)),
            Arg::Workspace => self.plan_workspace(verb, example, rest),
            Arg::Target => self.plan_target(verb, rest),
            Arg::Project(states) => {
                self.plan_project(verb, states, example, rest, None, &workspace)
            }
            Arg::ProjectOrHere(states) => {
                self.plan_project(verb, states, example, rest, here, &workspace)
            }
        }
    }

    /// "create project NAME": a name no project of `workspace` has.
    fn plan_new_project(&self, example: &str, rest: &str, workspace: &str) -> CommandPlan {
        if rest.is_empty() {
            return CommandPlan::incomplete(format!("Keep typing: {example}"), None, Vec::new());
        }
        let name = match check_project_name(rest) {
            Ok(name) => name,
            Err(e) => {
                return CommandPlan::incomplete(
                    String::new(),
                    Some(e.message().to_string()),
                    Vec::new(),
                )
            }
        };
        if self
            .vault
            .project(&name)
            .is_ok_and(|p| p.workspace == workspace)
        {
            return CommandPlan::incomplete(
                String::new(),
                Some(format!(
                    "a project named '{name}' exists already in '{workspace}'"
                )),
                Vec::new(),
            );
        }
        CommandPlan::ready(
            CommandAction::CreateProject { name: name.clone() },
            format!("Create the empty project '{name}' in '{workspace}'"),
            false,
        )
    }

    /// "switch to WORKSPACE": a workspace by its name, any case.
    fn plan_workspace(&self, verb: &str, example: &str, rest: &str) -> ApiResult<CommandPlan> {
        let all = self.vault.workspaces()?;
        if let Some(ws) = all.iter().find(|w| w.name.eq_ignore_ascii_case(rest)) {
            let preview = if ws.active {
                format!("Stay in '{}' (it is the active workspace)", ws.name)
            } else {
                format!(
                    "Switch to the workspace '{}' ({} projects)",
                    ws.name, ws.project_count
                )
            };
            return Ok(CommandPlan::ready(
                CommandAction::SwitchWorkspace {
                    workspace: ws.name.clone(),
                },
                preview,
                false,
            ));
        }
        let names = matching(all.iter().map(|w| w.name.as_str()), rest);
        let problem =
            (!rest.is_empty() && names.is_empty()).then(|| format!("no workspace named '{rest}'"));
        Ok(CommandPlan::incomplete(
            format!("Keep typing: {example}"),
            problem,
            completions(&names, |n| format!("{verb} {n}")),
        ))
    }

    /// "back up now [to TARGET]": every backup target, or one by its name.
    fn plan_target(&self, verb: &str, rest: &str) -> ApiResult<CommandPlan> {
        let rest = after(rest, "to").unwrap_or(rest);
        let targets = self.backups().targets()?;
        if targets.is_empty() {
            return Ok(CommandPlan::incomplete(
                String::new(),
                Some("no backup target is set up; add one in Backups".into()),
                Vec::new(),
            ));
        }
        if rest.is_empty() {
            let names: Vec<&str> = targets.iter().map(|t| t.name.as_str()).collect();
            return Ok(CommandPlan::ready(
                CommandAction::BackUpNow { target: None },
                format!("Back the vault up now to {}", names.join(", ")),
                false,
            ));
        }
        if let Some(t) = targets.iter().find(|t| t.name.eq_ignore_ascii_case(rest)) {
            return Ok(CommandPlan::ready(
                CommandAction::BackUpNow {
                    target: Some(t.name.clone()),
                },
                format!(
                    "Back the vault up now to '{}' ({})",
                    t.name,
                    t.location.describe()
                ),
                false,
            ));
        }
        let names = matching(targets.iter().map(|t| t.name.as_str()), rest);
        let problem = names
            .is_empty()
            .then(|| format!("no backup target named '{rest}'"));
        Ok(CommandPlan::incomplete(
            String::new(),
            problem,
            completions(&names, |n| format!("{verb} to {n}")),
        ))
    }

    /// A command on a project in one of `states`, named in `rest`, or when `rest` is empty
    /// the one on screen (`here`, given only to the commands that take it).
    fn plan_project(
        &self,
        verb: &str,
        states: &[ProjectStatus],
        example: &str,
        rest: &str,
        here: Option<&str>,
        workspace: &str,
    ) -> ApiResult<CommandPlan> {
        let rest = match verb {
            "list files" => after(rest, "of")
                .or_else(|| after(rest, "in"))
                .unwrap_or(rest),
            _ => rest,
        };
        let candidates = self.vault.projects(&ProjectFilter {
            sort: ProjectSort::Updated,
            ..Default::default()
        })?;
        let fits = |p: &Project| states.contains(&p.status);
        let chosen: Option<Project> = if rest.is_empty() {
            here.and_then(|id| self.vault.project(id).ok().filter(|p| fits(p)))
        } else {
            candidates
                .iter()
                .find(|p| p.name.eq_ignore_ascii_case(rest) && fits(p))
                .map(|p| (**p).clone())
        };
        if let Some(p) = chosen {
            return Ok(project_plan(verb, p));
        }
        let fitting: Vec<&str> = candidates
            .iter()
            .filter(|p| fits(p))
            .map(|p| p.name.as_str())
            .collect();
        let names = matching(fitting.iter().copied(), rest);
        let problem = if !rest.is_empty() && names.is_empty() {
            let which = match states {
                [ProjectStatus::Active] => "active project",
                [ProjectStatus::Archived] => "archived project",
                _ => "project",
            };
            Some(format!("no {which} named '{rest}' in '{workspace}'"))
        } else if fitting.is_empty() {
            Some(format!("'{workspace}' has no project to {verb}"))
        } else {
            None
        };
        Ok(CommandPlan::incomplete(
            format!("Keep typing: {example}"),
            problem,
            completions(&names, |n| format!("{verb} {n}")),
        ))
    }
}

/// A command that takes nothing after its words ("snapshot changed", "storage status").
fn plan_nothing(verb: &str, example: &str, rest: &str) -> CommandPlan {
    if !rest.is_empty() {
        return CommandPlan::incomplete(
            String::new(),
            Some(format!("'{verb}' takes nothing after it")),
            vec![CommandCompletion {
                text: verb.to_string(),
                label: example.to_string(),
            }],
        );
    }
    match verb {
        "snapshot changed" => CommandPlan::ready(
            CommandAction::SnapshotChanged,
            "Take a version of every project whose folder changed, in every workspace".into(),
            false,
        ),
        _ => CommandPlan::ready(
            CommandAction::StorageStatus,
            "Show where the space goes".into(),
            false,
        ),
    }
}

/// The plan of a command on project `p`.
fn project_plan(verb: &str, p: Project) -> CommandPlan {
    let (project_id, project) = (p.id, p.name);
    let name = project.clone();
    match verb {
        "snapshot" => CommandPlan::ready(
            CommandAction::Snapshot {
                project_id,
                project,
            },
            format!("Take a version of '{name}' (if its folder changed)"),
            false,
        ),
        "list files" => CommandPlan::ready(
            CommandAction::ListFiles {
                project_id,
                project,
            },
            format!("Show the files of '{name}'"),
            false,
        ),
        "open" => CommandPlan::ready(
            CommandAction::OpenProject {
                project_id,
                project,
            },
            format!("Open '{name}'"),
            false,
        ),
        "archive" => CommandPlan::ready(
            CommandAction::Archive {
                project_id,
                project,
            },
            format!(
                "Archive '{name}' to a tar.zst and take it out of the working set (asks first)"
            ),
            true,
        ),
        "unarchive" => CommandPlan::ready(
            CommandAction::Unarchive {
                project_id,
                project,
            },
            format!("Bring '{name}' back from its archive"),
            false,
        ),
        _ => CommandPlan::ready(
            CommandAction::Trash {
                project_id,
                project,
            },
            format!("Move '{name}' to the trash (asks first; it can be restored)"),
            true,
        ),
    }
}

#[cfg(test)]
mod tests {
    use kura_core::NewProject;

    use super::*;
    use crate::testing::Scene;

    fn plan(s: &Scene, text: &str) -> CommandPlan {
        s.api
            .plan_command(&CommandInput {
                text: text.into(),
                project: None,
            })
            .unwrap()
    }

    fn texts(p: &CommandPlan) -> Vec<&str> {
        p.completions.iter().map(|c| c.text.as_str()).collect()
    }

    #[test]
    fn commands_are_read_as_a_person_types_them() {
        let s = Scene::new();
        for name in ["shop", "shop-admin", "old-site"] {
            s.api
                .create_project(&NewProject {
                    name: name.into(),
                    ..Default::default()
                })
                .unwrap();
        }
        s.api.create_workspace("clients").unwrap();

        // A search is not a command.
        assert!(!plan(&s, "invoices").is_command);
        // The start of a command's words is still a search, with the commands as suggestions.
        let p = plan(&s, "sna");
        assert!(!p.is_command && p.action.is_none());
        assert_eq!(texts(&p), ["snapshot changed", "snapshot "]);
        assert_eq!(texts(&plan(&s, "Back u")), ["back up now"]);

        // Names are completed, starting with what is typed first.
        let p = plan(&s, "snapshot sh");
        assert_eq!(texts(&p), ["snapshot shop", "snapshot shop-admin"]);
        assert_eq!(p.problem, None);
        let p = plan(&s, "snapshot   SHOP");
        assert_eq!(
            p.action,
            Some(CommandAction::Snapshot {
                project_id: s.api.vault().project("shop").unwrap().id,
                project: "shop".into()
            })
        );
        assert!(!p.confirm);
        let p = plan(&s, "snapshot nothing-like-it");
        assert_eq!(
            p.problem.as_deref(),
            Some("no active project named 'nothing-like-it' in 'default'")
        );

        // Destructive ones ask first, like their buttons.
        let p = plan(&s, "archive old-site");
        assert!(p.confirm);
        assert!(matches!(p.action, Some(CommandAction::Archive { .. })));
        assert!(plan(&s, "trash shop").confirm);
        assert_eq!(
            plan(&s, "unarchive old").problem.as_deref(),
            Some("no archived project named 'old' in 'default'")
        );

        // New names are checked as creating them would check them.
        assert_eq!(
            plan(&s, "create project docs").action,
            Some(CommandAction::CreateProject {
                name: "docs".into()
            })
        );
        assert_eq!(
            plan(&s, "new project shop").problem.as_deref(),
            Some("a project named 'shop' exists already in 'default'")
        );
        assert!(plan(&s, "create project a/b")
            .problem
            .unwrap()
            .contains("may not contain '/'"));

        // Workspaces, the one on screen, the dashboard, backups.
        assert_eq!(texts(&plan(&s, "switch to c")), ["switch to clients"]);
        assert_eq!(
            plan(&s, "switch to Clients").action,
            Some(CommandAction::SwitchWorkspace {
                workspace: "clients".into()
            })
        );
        let here = s.api.vault().project("shop-admin").unwrap().id;
        let p = s
            .api
            .plan_command(&CommandInput {
                text: "list files".into(),
                project: Some(here.clone()),
            })
            .unwrap();
        assert_eq!(
            p.action,
            Some(CommandAction::ListFiles {
                project_id: here,
                project: "shop-admin".into()
            })
        );
        assert_eq!(
            plan(&s, "storage status").action,
            Some(CommandAction::StorageStatus)
        );
        assert_eq!(
            plan(&s, "storage status now").problem.as_deref(),
            Some("'storage status' takes nothing after it")
        );
        let p = plan(&s, "back up now");
        assert_eq!(p.action, Some(CommandAction::BackUpNow { target: None }));
        assert_eq!(p.preview, "Back the vault up now to drive");
        assert_eq!(
            plan(&s, "back up now to DRIVE").action,
            Some(CommandAction::BackUpNow {
                target: Some("drive".into())
            })
        );
        assert_eq!(
            plan(&s, "back up now to nas").problem.as_deref(),
            Some("no backup target named 'nas'")
        );
        // Nothing here changed the vault.
        assert_eq!(
            s.api.vault().projects(&Default::default()).unwrap().len(),
            4
        );
    }
}
