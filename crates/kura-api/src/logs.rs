//! Where the programs that stay on (the desktop app, `kura serve`, `kura mcp`) write what they
//! did: a file a day in the XDG state folder, kept for a week, so that a backup that failed at
//! night can be read about in the morning. Every program also writes warnings to stderr.
//!
//! The file gets `info` and up (`KURA_LOG` sets both, e.g. `KURA_LOG=debug`); the directives of
//! [`kura_backup::LOG_DIRECTIVES`] always apply, so no secret reaches either.

use std::path::{Path, PathBuf};

use serde::Serialize;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

/// Log files kept for each program (one a day).
const KEEP_DAYS: usize = 7;

/// The log folder: `$KURA_LOG_DIR`, else `$XDG_STATE_HOME/kura`, else `~/.local/state/kura`.
pub fn folder() -> Option<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(dir) = var("KURA_LOG_DIR") {
        return Some(dir);
    }
    let state = var("XDG_STATE_HOME")
        .filter(|p| p.is_absolute())
        .or_else(|| var("HOME").map(|h| h.join(".local/state")))?;
    Some(state.join("kura"))
}

/// The log files in `dir`, oldest first (names carry the date: `kura-serve.2026-11-24.log`).
pub fn files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".log"))
        .filter_map(|e| Some((e.metadata().ok()?.modified().ok()?, e.path())))
        .collect();
    files.sort();
    files.into_iter().map(|(_, p)| p).collect()
}

/// The end of a log, for `kura logs` and the app's log view.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct LogTail {
    /// The log folder.
    pub folder: String,
    /// The log files there, oldest first.
    pub files: Vec<String>,
    /// The newest of them (of the program asked for), when there is one.
    pub file: Option<String>,
    /// Its last lines, oldest first.
    pub lines: Vec<String>,
}

/// The last `lines` lines of the newest log file, of `program` (`kura-desktop`, `kura-serve`,
/// `kura-mcp`) or of any.
pub fn tail(program: Option<&str>, lines: usize) -> crate::ApiResult<LogTail> {
    let folder = folder().ok_or_else(|| {
        crate::ApiError::new(
            crate::ErrorCode::NotFound,
            "no log folder: set HOME, XDG_STATE_HOME or KURA_LOG_DIR",
        )
    })?;
    let files = files(&folder);
    let newest = files
        .iter()
        .rev()
        .find(|f| {
            let name = f.file_name().unwrap_or_default().to_string_lossy();
            program.is_none_or(|p| name.starts_with(&format!("{p}.")))
        })
        .cloned();
    let mut tail = Vec::new();
    if let Some(newest) = &newest {
        let text = std::fs::read(newest)
            .map_err(|e| crate::ApiError::from(kura_core::Error::from_io("read", newest, e)))?;
        let text = String::from_utf8_lossy(&text);
        let all: Vec<&str> = text.lines().collect();
        tail = all[all.len().saturating_sub(lines)..]
            .iter()
            .map(|l| l.to_string())
            .collect();
    }
    let shown = |p: &Path| p.display().to_string();
    Ok(LogTail {
        folder: shown(&folder),
        files: files.iter().map(|f| shown(f)).collect(),
        file: newest.as_deref().map(shown),
        lines: tail,
    })
}

fn filter(default: &str) -> EnvFilter {
    let mut filter = EnvFilter::try_from_env("KURA_LOG").unwrap_or_else(|_| default.into());
    for directive in kura_backup::LOG_DIRECTIVES {
        if let Ok(d) = directive.parse() {
            filter = filter.add_directive(d);
        }
    }
    filter
}

/// Sets up logging for `program`: warnings to stderr and, with `to_file`, everything from
/// `info` to `<folder>/<program>.YYYY-MM-DD.log` (the folder made private to the user when
/// missing). When the folder cannot be made, stderr alone is used and the reason goes there.
pub fn init(program: &str, to_file: bool) {
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(filter("warn"));
    let mut problem = None;
    // Written as it happens, not through a writer thread: a line is on disk even when the
    // program exits or dies right after it, and Kura logs little.
    let file_layer = to_file
        .then(folder)
        .flatten()
        .and_then(|dir| match appender(program, &dir) {
            Ok(a) => Some(a),
            Err(e) => {
                problem = Some(format!("no log file in {}: {e}", dir.display()));
                None
            }
        })
        .map(|appender| {
            tracing_subscriber::fmt::layer()
                .with_writer(appender)
                .with_ansi(false)
                .with_filter(filter("info"))
        });
    let _ = tracing_subscriber::registry()
        .with(stderr)
        .with(file_layer)
        .try_init();
    if let Some(p) = problem {
        tracing::warn!("{p}");
    }
}

fn appender(
    program: &str,
    dir: &Path,
) -> Result<tracing_appender::rolling::RollingFileAppender, String> {
    kura_durable::create_private_dir_all(dir).map_err(|e| e.to_string())?;
    tracing_appender::rolling::RollingFileAppender::builder()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(program)
        .filename_suffix("log")
        .max_log_files(KEEP_DAYS)
        .build(dir)
        .map_err(|e| e.to_string())
}
