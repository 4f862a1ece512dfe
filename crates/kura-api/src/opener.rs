//! Opening a project's folder in the person's own programs, from the desktop window: the file
//! manager, their editor, a terminal. Which program is found by the rules here, once, so the
//! window only says which of the three it wants.
//!
//! - **Folder**: the desktop's default application for folders (`xdg-open`; `open` on macOS).
//! - **Editor**: the one chosen in Settings › App (app.toml's `editor`: a program, or `system`
//!   for the default application for folders); else `$VISUAL`, else `$EDITOR`, when it names a
//!   program on `PATH` that opens its own window (a terminal editor such as vim or nano is
//!   passed over: there is no terminal to run it in); else the first of VS Code (`code`), VSCodium, Zed, Sublime Text and the JetBrains
//!   launchers (`idea`, `pycharm`, ...) on `PATH`; else the desktop's default application for the
//!   folder, as for "Open folder".
//! - **Terminal**: `x-terminal-emulator` (Debian's choice of terminal), else `$TERMINAL`, else the
//!   first of gnome-terminal, konsole, xfce4-terminal, kitty, alacritty, wezterm and xterm on
//!   `PATH`, started in the folder.
//!
//! Nothing found gives an `unavailable` error that says what to install or set.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult, ErrorCode};

/// What to open a project's folder with.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum OpenWith {
    /// The file manager.
    Folder,
    /// The person's code editor.
    Editor,
    /// A terminal, in the folder.
    Terminal,
}

/// Editors that need a terminal: passed over when `$VISUAL`/`$EDITOR` names them.
const TERMINAL_EDITORS: &[&str] = &[
    "vi", "vim", "nvim", "nano", "pico", "emacs", "micro", "hx", "helix", "kak", "joe", "ne", "ed",
    "mg", "jed",
];
/// Editors with a window, in the order they are looked for on `PATH`, with their names.
const WINDOW_EDITORS: &[(&str, &str)] = &[
    ("code", "Visual Studio Code"),
    ("codium", "VSCodium"),
    ("zed", "Zed"),
    ("subl", "Sublime Text"),
    ("idea", "IntelliJ IDEA"),
    ("pycharm", "PyCharm"),
    ("webstorm", "WebStorm"),
    ("goland", "GoLand"),
    ("clion", "CLion"),
    ("rustrover", "RustRover"),
];

/// The `editor` choice that means the desktop's default application for folders.
pub const SYSTEM_EDITOR: &str = "system";
/// Terminals looked for on `PATH` after `x-terminal-emulator` and `$TERMINAL`.
const TERMINALS: &[&str] = &[
    "gnome-terminal",
    "konsole",
    "xfce4-terminal",
    "kitty",
    "alacritty",
    "wezterm",
    "xterm",
];

/// Reads one environment variable.
type Lookup = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The environment the rules read: variables and the `PATH` to search. A seam for tests.
pub struct Environment {
    vars: Lookup,
    /// The editor chosen in Settings › App, if any.
    editor: Option<String>,
}

impl Environment {
    /// This process's environment, with the editor chosen in Settings › App.
    pub fn current() -> Environment {
        let editor = crate::app_settings::AppSettings::load()
            .map_err(|e| tracing::warn!("{}", e.message))
            .ok()
            .and_then(|s| s.preferences.editor);
        Environment {
            vars: Box::new(|k| std::env::var(k).ok()),
            editor,
        }
    }

    /// The same, with `editor` as the one chosen (see [`crate::app_settings::Preferences`]).
    pub fn with_editor(self, editor: Option<&str>) -> Environment {
        Environment {
            editor: editor.map(str::to_string),
            ..self
        }
    }

    /// An environment of the given variables only (`PATH` among them).
    pub fn of(vars: &[(&str, &str)]) -> Environment {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Environment {
            vars: Box::new(move |k| vars.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())),
            editor: None,
        }
    }

    fn var(&self, key: &str) -> Option<String> {
        (self.vars)(key).filter(|v| !v.trim().is_empty())
    }

    /// The executable `name` (a bare name looked up on `PATH`, or a path).
    fn find(&self, name: &str) -> Option<PathBuf> {
        let is_exe = |p: &Path| {
            use std::os::unix::fs::PermissionsExt;
            p.metadata()
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        };
        if name.contains('/') {
            let p = PathBuf::from(name);
            return is_exe(&p).then_some(p);
        }
        let path = OsString::from(self.var("PATH")?);
        std::env::split_paths(&path)
            .map(|dir| dir.join(name))
            .find(|p| is_exe(p))
    }
}

/// A program to start, with its arguments, in a folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Launch {
    pub program: PathBuf,
    pub args: Vec<OsString>,
    pub dir: PathBuf,
}

impl Launch {
    /// The program's file name, for messages.
    pub fn name(&self) -> String {
        self.program
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    }
}

fn default_opener() -> &'static str {
    if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    }
}

/// What would open `folder` with `with` in `env`, by the rules of this module.
pub fn launch_for(env: &Environment, with: OpenWith, folder: &Path) -> ApiResult<Launch> {
    launch_with(env, with, folder, env.editor.as_deref())
}

/// The same, with `editor` as the editor chosen in Settings › App.
fn launch_with(
    env: &Environment,
    with: OpenWith,
    folder: &Path,
    editor: Option<&str>,
) -> ApiResult<Launch> {
    match with {
        OpenWith::Folder => file_manager(env, folder),
        OpenWith::Editor => editor_launch(env, folder, editor),
        OpenWith::Terminal => terminal(env, folder),
    }
}

/// `program` with `args`, started in `folder`.
fn launch(program: PathBuf, args: Vec<OsString>, folder: &Path) -> Launch {
    Launch {
        program,
        args,
        dir: folder.to_path_buf(),
    }
}

/// The desktop's default application for folders, on `folder`.
fn file_manager(env: &Environment, folder: &Path) -> ApiResult<Launch> {
    env.find(default_opener())
        .map(|p| launch(p, vec![folder.as_os_str().to_owned()], folder))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unavailable,
                format!(
                    "cannot open {}: {} is not installed; install xdg-utils, or open the folder yourself",
                    folder.display(),
                    default_opener()
                ),
            )
        })
}

/// The editor on `folder`: the one chosen in Settings › App (`editor`), else the one of
/// `$VISUAL` or `$EDITOR` that opens a window, else the first editor with a window on `PATH`,
/// else the file manager.
fn editor_launch(env: &Environment, folder: &Path, editor: Option<&str>) -> ApiResult<Launch> {
    match editor.map(str::trim) {
        Some(SYSTEM_EDITOR) => return file_manager(env, folder),
        Some(chosen) => return chosen_editor(env, folder, chosen),
        None => {}
    }
    if let Some(found) = editor_of_environment(env, folder) {
        return Ok(found);
    }
    if let Some(p) = WINDOW_EDITORS.iter().find_map(|(n, _)| env.find(n)) {
        return Ok(launch(p, vec![folder.as_os_str().to_owned()], folder));
    }
    file_manager(env, folder)
}

/// The editor chosen in Settings › App: a program and its own arguments, then the folder.
fn chosen_editor(env: &Environment, folder: &Path, chosen: &str) -> ApiResult<Launch> {
    let mut words = chosen.split_whitespace();
    let program = words.next().unwrap_or_default();
    let found = env.find(program).ok_or_else(|| {
        ApiError::new(
            ErrorCode::Unavailable,
            format!(
                "the editor chosen in Settings › App ({program}) is not installed; choose another there"
            ),
        )
    })?;
    let mut args: Vec<OsString> = words.map(OsString::from).collect();
    args.push(folder.as_os_str().to_owned());
    Ok(launch(found, args, folder))
}

/// The editor `$VISUAL` or `$EDITOR` names, the first that is installed and is not one that
/// needs a terminal.
fn editor_of_environment(env: &Environment, folder: &Path) -> Option<Launch> {
    for var in ["VISUAL", "EDITOR"] {
        let Some(value) = env.var(var) else { continue };
        // "code --wait" and the like: the program and its own arguments.
        let mut words = value.split_whitespace();
        let Some(program) = words.next() else {
            continue;
        };
        let base = program.rsplit('/').next().unwrap_or(program);
        if TERMINAL_EDITORS.contains(&base) {
            continue;
        }
        if let Some(p) = env.find(program) {
            let mut args: Vec<OsString> = words
                .filter(|w| *w != "--wait" && *w != "-w")
                .map(OsString::from)
                .collect();
            args.push(folder.as_os_str().to_owned());
            return Some(launch(p, args, folder));
        }
    }
    None
}

/// A terminal started in `folder`.
fn terminal(env: &Environment, folder: &Path) -> ApiResult<Launch> {
    let found = env
        .find("x-terminal-emulator")
        .or_else(|| env.var("TERMINAL").and_then(|t| env.find(t.trim())))
        .or_else(|| TERMINALS.iter().find_map(|n| env.find(n)))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unavailable,
                "no terminal found: install one (gnome-terminal, konsole, xterm, ...) or set TERMINAL to the one you use",
            )
        })?;
    let name = found
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Started in the folder; the terminals that keep one server process for all their
    // windows are told the folder too.
    let args = match name.as_str() {
        "gnome-terminal" | "xfce4-terminal" => {
            let mut a = OsString::from("--working-directory=");
            a.push(folder.as_os_str());
            vec![a]
        }
        "konsole" => vec!["--workdir".into(), folder.as_os_str().to_owned()],
        _ => vec![],
    };
    Ok(launch(found, args, folder))
}

/// An editor Settings › App offers.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Editor {
    /// What app.toml's `editor` holds for it.
    pub command: String,
    /// Its name, for people.
    pub name: String,
}

/// The editors to choose from in Settings › App, and what "automatic" opens now.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct EditorChoices {
    /// The program the rules pick without a choice (`$VISUAL`, `$EDITOR`, the first editor
    /// found, else the default application for folders), by its name.
    pub automatic: String,
    /// The editors with a window installed here.
    pub installed: Vec<Editor>,
}

/// The editors installed in `env`, and what the rules pick without a choice.
pub fn editor_choices(env: &Environment) -> EditorChoices {
    let installed = WINDOW_EDITORS
        .iter()
        .filter(|(command, _)| env.find(command).is_some())
        .map(|(command, name)| Editor {
            command: command.to_string(),
            name: name.to_string(),
        })
        .collect();
    let automatic = match launch_with(env, OpenWith::Editor, Path::new("."), None) {
        Ok(l) if l.name() == default_opener() => "the default app for folders".to_string(),
        Ok(l) => WINDOW_EDITORS
            .iter()
            .find(|(command, _)| *command == l.name())
            .map_or_else(|| l.name(), |(_, name)| name.to_string()),
        Err(_) => "nothing (no editor is installed)".to_string(),
    };
    EditorChoices {
        automatic,
        installed,
    }
}

/// Opens `folder` with `with` (see the module's rules) and returns the program's name. The
/// program runs on by itself; Kura does not wait for it.
pub fn open(with: OpenWith, folder: &Path) -> ApiResult<String> {
    if !folder.is_dir() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("the folder {} is missing", folder.display()),
        ));
    }
    let l = launch_for(&Environment::current(), with, folder)?;
    Command::new(&l.program)
        .args(&l.args)
        .current_dir(&l.dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| {
            ApiError::new(
                ErrorCode::Unavailable,
                format!("cannot start {}: {e}", l.program.display()),
            )
        })?;
    Ok(l.name())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `PATH` folder with the given executables (empty scripts).
    fn bin(names: &[&str]) -> tempfile::TempDir {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        for n in names {
            let p = dir.path().join(n);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        dir
    }

    fn name(env: &Environment, with: OpenWith) -> Result<(String, Vec<String>), ErrorCode> {
        launch_for(env, with, Path::new("/work/site"))
            .map(|l| {
                let args = l
                    .args
                    .iter()
                    .map(|a| a.to_string_lossy().into_owned())
                    .collect();
                (l.name(), args)
            })
            .map_err(|e| e.code)
    }

    #[test]
    fn the_editor_is_visual_or_editor_when_it_has_a_window_else_code_else_the_default_app() {
        let b = bin(&["vim", "gedit", "code", "zed", "xdg-open"]);
        let path = b.path().to_str().unwrap();
        let env = Environment::of(&[
            ("PATH", path),
            ("VISUAL", "gedit --new-window"),
            ("EDITOR", "vim"),
        ]);
        assert_eq!(
            name(&env, OpenWith::Editor),
            Ok((
                "gedit".into(),
                vec!["--new-window".into(), "/work/site".into()]
            ))
        );
        // A terminal editor is passed over, then code is preferred to the other editors.
        let env = Environment::of(&[("PATH", path), ("EDITOR", "vim")]);
        assert_eq!(name(&env, OpenWith::Editor).unwrap().0, "code");
        // An editor named but not installed is passed over too.
        let env = Environment::of(&[("PATH", path), ("VISUAL", "subl")]);
        assert_eq!(name(&env, OpenWith::Editor).unwrap().0, "code");
        let b = bin(&["xdg-open"]);
        let env = Environment::of(&[("PATH", b.path().to_str().unwrap()), ("EDITOR", "nano")]);
        assert_eq!(name(&env, OpenWith::Editor).unwrap().0, default_opener());
    }

    #[test]
    fn the_editor_chosen_in_settings_comes_first_and_the_choices_are_what_is_installed() {
        let b = bin(&["gedit", "code", "idea", "xdg-open"]);
        let path = b.path().to_str().unwrap();
        let env = Environment::of(&[("PATH", path), ("VISUAL", "gedit")]);
        let choices = editor_choices(&env);
        assert_eq!(choices.automatic, "gedit");
        assert_eq!(
            choices
                .installed
                .iter()
                .map(|e| (e.command.as_str(), e.name.as_str()))
                .collect::<Vec<_>>(),
            [("code", "Visual Studio Code"), ("idea", "IntelliJ IDEA")]
        );
        let env = env.with_editor(Some("idea nosplash"));
        assert_eq!(
            name(&env, OpenWith::Editor),
            Ok(("idea".into(), vec!["nosplash".into(), "/work/site".into()]))
        );
        let env = env.with_editor(Some("system"));
        assert_eq!(name(&env, OpenWith::Editor).unwrap().0, "xdg-open");
        let env = env.with_editor(Some("zed"));
        let e = launch_for(&env, OpenWith::Editor, Path::new("/x")).unwrap_err();
        assert_eq!(e.code, ErrorCode::Unavailable);
        assert!(e.message.contains("Settings › App (zed)"), "{}", e.message);
        let env = Environment::of(&[("PATH", path)]);
        assert_eq!(editor_choices(&env).automatic, "Visual Studio Code");
    }

    #[test]
    fn the_terminal_is_debians_choice_else_terminal_else_one_found_on_path() {
        let b = bin(&["x-terminal-emulator", "kitty", "xterm", "konsole"]);
        let path = b.path().to_str().unwrap();
        let env = Environment::of(&[("PATH", path), ("TERMINAL", "kitty")]);
        assert_eq!(
            name(&env, OpenWith::Terminal).unwrap().0,
            "x-terminal-emulator"
        );
        std::fs::remove_file(b.path().join("x-terminal-emulator")).unwrap();
        assert_eq!(name(&env, OpenWith::Terminal).unwrap().0, "kitty");
        let env = Environment::of(&[("PATH", path)]);
        assert_eq!(
            name(&env, OpenWith::Terminal),
            Ok((
                "konsole".into(),
                vec!["--workdir".into(), "/work/site".into()]
            ))
        );
    }

    #[test]
    fn nothing_found_is_a_clear_unavailable_error() {
        let b = bin(&[]);
        let env = Environment::of(&[("PATH", b.path().to_str().unwrap())]);
        for with in [OpenWith::Folder, OpenWith::Editor, OpenWith::Terminal] {
            assert_eq!(name(&env, with), Err(ErrorCode::Unavailable), "{with:?}");
        }
        let e = launch_for(&env, OpenWith::Terminal, Path::new("/x")).unwrap_err();
        assert!(e.message.contains("set TERMINAL"), "{}", e.message);
        // Not executable is not found.
        let p = b.path().join("xterm");
        std::fs::write(&p, "").unwrap();
        assert_eq!(name(&env, OpenWith::Terminal), Err(ErrorCode::Unavailable));
    }
}
