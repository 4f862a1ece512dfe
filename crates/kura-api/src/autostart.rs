//! Start at login: the XDG autostart entry `$XDG_CONFIG_HOME/autostart/kura.desktop` (else
//! `~/.config/autostart/`), which every desktop that follows the XDG Autostart spec (GNOME, KDE,
//! Xfce, Cinnamon, MATE, LXQt) runs when the person logs in. Its `Exec` is the installed desktop
//! app with `--hidden` (`/usr/bin/kura-desktop --hidden`): the app starts in the tray, or
//! minimized where there is none, and runs the schedules.
//!
//! One implementation for every door: the app's switch, `kura autostart on|off` and the first-run
//! question all read and write the entry here.
//!
//! This is the file tauri-plugin-autostart writes on Linux (through the `auto-launch` crate):
//! the same folder, name and keys. It is written here rather than through `auto-launch` because
//! that crate writes `Exec={path} {args}` unquoted (a path with a space starts another program)
//! and calls the entry enabled whenever the file exists, while desktops honour `Hidden=true` and
//! `X-GNOME-Autostart-enabled=false` in it (what GNOME's own "Startup Applications" writes to turn
//! an entry off). The switch has to show what the desktop will do.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::{ApiError, ApiResult, ErrorCode};

/// The entry's file name in the autostart folder.
pub const ENTRY_NAME: &str = "kura.desktop";
/// The argument the entry passes: start out of the way.
pub const HIDDEN_ARG: &str = "--hidden";
/// The desktop app's binary, installed next to `kura` (both in /usr/bin).
pub const DESKTOP_BINARY: &str = "kura-desktop";

/// Whether Kura starts at login, read from its autostart entry.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct Autostart {
    /// The entry exists, is not `Hidden=true` and not `X-GNOME-Autostart-enabled=false`.
    pub enabled: bool,
    /// Where the entry is (or would be).
    pub entry: String,
    /// Its `Exec` line as written, when there is an entry.
    pub exec: Option<String>,
    /// The program that line starts.
    pub program: Option<String>,
}

/// The per-user configuration folder: `$XDG_CONFIG_HOME` when absolute, else `~/.config`.
pub fn config_home() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    var("XDG_CONFIG_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| h.join(".config")))
}

/// The entry's path.
pub fn entry_path() -> ApiResult<PathBuf> {
    config_home()
        .map(|c| c.join("autostart").join(ENTRY_NAME))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "no configuration folder for this user: set HOME or XDG_CONFIG_HOME",
            )
        })
}

/// The state of start at login.
pub fn status() -> ApiResult<Autostart> {
    let path = entry_path()?;
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(io_error("read", &path, e)),
    };
    Ok(match text {
        None => Autostart {
            enabled: false,
            entry: path.display().to_string(),
            exec: None,
            program: None,
        },
        Some(text) => {
            let entry = Entry::parse(&text);
            let exec = entry.get("Exec").map(str::to_string);
            let program = exec
                .as_deref()
                .and_then(|e| split_exec(e).into_iter().next());
            let off = |key: &str, value: &str| {
                entry
                    .get(key)
                    .is_some_and(|v| v.trim().eq_ignore_ascii_case(value))
            };
            Autostart {
                enabled: exec.is_some()
                    && !off("Hidden", "true")
                    && !off("X-GNOME-Autostart-enabled", "false"),
                entry: path.display().to_string(),
                exec,
                program,
            }
        }
    })
}

/// Turns start at login on: writes the entry, starting `program` with `--hidden`.
pub fn enable(program: &Path) -> ApiResult<Autostart> {
    let path = entry_path()?;
    write_entry(&path, program)?;
    tracing::info!("start at login turned on: {}", path.display());
    status()
}

/// Turns start at login off: removes the entry.
pub fn disable() -> ApiResult<Autostart> {
    let path = entry_path()?;
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!("start at login turned off: {} removed", path.display()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_error("remove", &path, e)),
    }
    status()
}

/// Keeps an enabled entry pointing at `program` (the running app): an entry whose `Exec` starts
/// another program (an older install, a moved binary) is rewritten. Returns whether it was.
pub fn follow(program: &Path) -> ApiResult<bool> {
    let now = status()?;
    let wanted = program.display().to_string();
    if !now.enabled || now.program.as_deref() == Some(wanted.as_str()) {
        return Ok(false);
    }
    let path = entry_path()?;
    write_entry(&path, program)?;
    tracing::info!(
        "the start-at-login entry {} started {}; it now starts {}",
        path.display(),
        now.program.as_deref().unwrap_or("nothing"),
        wanted
    );
    Ok(true)
}

/// The program a login should start to get the running app again: this executable, or the
/// AppImage file it runs from (`$APPIMAGE`; the executable itself is inside a mount that is gone
/// after the app exits).
pub fn running_program() -> ApiResult<PathBuf> {
    if let Some(image) = std::env::var_os("APPIMAGE")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute() && p.is_file())
    {
        return Ok(image);
    }
    std::env::current_exe()
        .map_err(|e| ApiError::internal(format!("cannot find this program's own path: {e}")))
}

/// The desktop app next to the running program (`kura` and `kura-desktop` are installed side by
/// side), for the CLI.
pub fn desktop_beside_current() -> ApiResult<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(|e| ApiError::internal(format!("cannot find this program's own path: {e}")))?;
    let dir = exe.parent().unwrap_or(Path::new("/"));
    let desktop = dir.join(DESKTOP_BINARY);
    if !desktop.is_file() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!(
                "the desktop app is not installed next to {}: there is no {}; install Kura's package (it puts both in /usr/bin)",
                exe.display(),
                desktop.display()
            ),
        ));
    }
    Ok(desktop)
}

fn io_error(action: &str, path: &Path, e: std::io::Error) -> ApiError {
    ApiError::from(kura_core::Error::from_io(action, path, e))
}

fn write_entry(path: &Path, program: &Path) -> ApiResult<()> {
    let exec = [program.display().to_string(), HIDDEN_ARG.to_string()]
        .iter()
        .map(|a| quote_arg(a))
        .collect::<Vec<_>>()
        .join(" ");
    let text = format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Version=1.0\n\
         Name=Kura\n\
         Comment=Keeps backups and automatic versions running after you log in\n\
         Exec={exec}\n\
         Icon={DESKTOP_BINARY}\n\
         Terminal=false\n\
         StartupNotify=false\n\
         X-GNOME-Autostart-enabled=true\n"
    );
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| io_error("create folder", dir, e))?;
    }
    kura_durable::write_file(path, text.as_bytes())
        .map_err(|f| ApiError::new(ErrorCode::Io, f.to_string()))
}

/// The keys of the `[Desktop Entry]` group (localized keys are ignored).
struct Entry(Vec<(String, String)>);

impl Entry {
    fn parse(text: &str) -> Entry {
        let mut keys = Vec::new();
        let mut in_group = false;
        for line in text.lines() {
            let line = line.trim_start();
            if line.starts_with('#') || line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                in_group = line.trim_end() == "[Desktop Entry]";
                continue;
            }
            if let (true, Some((k, v))) = (in_group, line.split_once('=')) {
                keys.push((k.trim().to_string(), v.trim_start().to_string()));
            }
        }
        Entry(keys)
    }

    fn get(&self, key: &str) -> Option<&str> {
        // The first wins, as in GLib's key files.
        self.0
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Characters that make the Desktop Entry spec require quoting an argument of `Exec`.
const RESERVED: &[char] = &[
    ' ', '\t', '\n', '"', '\'', '\\', '>', '<', '~', '|', '&', ';', '$', '*', '?', '#', '(', ')',
    '`',
];

/// One argument for `Exec`, as the spec wants it: quoted when it holds a reserved character
/// (with `"`, `` ` ``, `$` and `\` escaped inside), `%` doubled, and then the string escapes of
/// every value (`\` written `\\`, a newline `\n`).
fn quote_arg(arg: &str) -> String {
    let arg = arg.replace('%', "%%");
    let quoted = if arg.contains(RESERVED) {
        let mut q = String::from("\"");
        for c in arg.chars() {
            if matches!(c, '"' | '`' | '$' | '\\') {
                q.push('\\');
            }
            q.push(c);
        }
        q.push('"');
        q
    } else {
        arg
    };
    quoted
        .replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\t', "\\t")
}

/// The arguments of an `Exec` value (field codes such as `%f` dropped): the reverse of
/// [`quote_arg`].
fn split_exec(value: &str) -> Vec<String> {
    // The string escapes first.
    let mut unescaped = String::new();
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            unescaped.push(c);
            continue;
        }
        match chars.next() {
            Some('s') => unescaped.push(' '),
            Some('n') => unescaped.push('\n'),
            Some('t') => unescaped.push('\t'),
            Some('r') => unescaped.push('\r'),
            Some('\\') => unescaped.push('\\'),
            Some(other) => {
                unescaped.push('\\');
                unescaped.push(other);
            }
            None => unescaped.push('\\'),
        }
    }
    let mut args = Vec::new();
    let mut cur: Option<String> = None;
    let mut chars = unescaped.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' => {
                if let Some(a) = cur.take() {
                    args.push(a);
                }
            }
            '"' => {
                let a = cur.get_or_insert_with(String::new);
                while let Some(q) = chars.next() {
                    match q {
                        '"' => break,
                        '\\' => {
                            if let Some(e) = chars.next() {
                                a.push(e);
                            }
                        }
                        '%' => {
                            if chars.next_if_eq(&'%').is_some() {
                                a.push('%');
                            } else {
                                chars.next();
                            }
                        }
                        _ => a.push(q),
                    }
                }
            }
            // A field code (%f, %u, ...) is not part of the program's arguments here.
            '%' => {
                if chars.next_if_eq(&'%').is_some() {
                    cur.get_or_insert_with(String::new).push('%');
                } else {
                    chars.next();
                }
            }
            _ => cur.get_or_insert_with(String::new).push(c),
        }
    }
    if let Some(a) = cur {
        args.push(a);
    }
    args
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_arguments_survive_quoting() {
        for path in [
            "/usr/bin/kura-desktop",
            "/home/ann/my apps/kura-desktop",
            "/opt/odd \"name\" $HOME `x` \\back/100%/kura-desktop",
        ] {
            let line = format!("{} {}", quote_arg(path), quote_arg(HIDDEN_ARG));
            assert_eq!(split_exec(&line), [path, HIDDEN_ARG], "{line}");
        }
        assert_eq!(
            quote_arg("/usr/bin/kura-desktop"),
            "/usr/bin/kura-desktop",
            "a plain path is written as it is"
        );
        assert_eq!(
            quote_arg("/home/ann/my apps/kura-desktop"),
            "\"/home/ann/my apps/kura-desktop\""
        );
        assert_eq!(
            split_exec("kura-desktop %U --hidden"),
            ["kura-desktop", "--hidden"]
        );
    }

    #[test]
    fn the_desktop_entry_group_is_read_alone() {
        let e = Entry::parse(
            "# a comment\n[Desktop Entry]\nExec=/a/b --hidden\nHidden = true\n[Desktop Action x]\nExec=/other\n",
        );
        assert_eq!(e.get("Exec"), Some("/a/b --hidden"));
        assert_eq!(e.get("Hidden"), Some("true"));
    }
}
