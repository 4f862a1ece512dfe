//! A pause of scheduled backups, kept in the vault (`backup/pause.json`) so that "until
//! resumed" survives a restart of the app.

use std::path::{Path, PathBuf};

use kura_core::{Error, ErrorKind, Result};
use kura_schedule::Pause;

fn path(vault_root: &Path) -> PathBuf {
    vault_root.join("backup").join("pause.json")
}

/// The pause in force at `now`, if any (an expired one counts as none).
pub(crate) fn current(vault_root: &Path, now: i64) -> Result<Option<Pause>> {
    let path = path(vault_root);
    let text = match std::fs::read(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::from_io("read", &path, e)),
    };
    let pause: Pause = serde_json::from_slice(&text).map_err(|e| {
        Error::new(
            ErrorKind::Corrupt,
            format!(
                "{} is unreadable ({e}); delete it to resume backups",
                path.display()
            ),
        )
    })?;
    Ok(Some(pause).filter(|p| p.is_active(now)))
}

/// Records `pause`.
pub(crate) fn set(vault_root: &Path, pause: &Pause) -> Result<()> {
    let path = path(vault_root);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::from_io("create folder", dir, e))?;
    }
    let data = serde_json::to_vec(pause)
        .map_err(|e| Error::new(ErrorKind::Internal, format!("cannot record the pause: {e}")))?;
    crate::fsio::write_durably(&path, &data)
}

/// Ends any pause.
pub(crate) fn clear(vault_root: &Path) -> Result<()> {
    let path = path(vault_root);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::from_io("remove", &path, e)),
    }
}
