//! The person's own settings of the desktop app, which belong to no vault:
//! `$XDG_CONFIG_HOME/kura/app.toml` (else `~/.config/kura/app.toml`). What the window asked once
//! (start at login? how to get a tray), the person's [`Preferences`] (theme, notifications,
//! editor), and the vault folder chosen in the window, which every door then opens
//! ([`vault_location`]): the window and `kura status` see the same vault.
//!
//! Written whole and atomically (a temporary file, fsynced, renamed); a missing file is a
//! person's first start.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ApiError, ApiResult, ErrorCode};

/// The settings.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[serde(default)]
pub struct AppSettings {
    /// The first-run question "Start Kura when you log in?" was answered (either way).
    pub start_at_login_asked: bool,
    /// The window said how to get a tray on a desktop that shows none.
    pub tray_hint_shown: bool,
    /// The vault folder the person chose in the window; `KURA_HOME` wins over it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vault: Option<PathBuf>,
    /// What the person set in Settings › App.
    #[serde(flatten)]
    pub preferences: Preferences,
}

/// What a person sets for the app in Settings › App.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Preferences {
    /// Light, dark, or as the system says.
    pub theme: Theme,
    /// Which desktop notifications are shown.
    pub notifications: Notifications,
    /// The editor "Open in editor" starts: a program on `PATH` or a full path, with its own
    /// arguments (`code`, `idea`, `/opt/zed/bin/zed`), or `system` for the desktop's default
    /// application for folders; `None`: found by the rules of [`crate::opener`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub editor: Option<String>,
}

/// The window's colours.
#[derive(Serialize, Deserialize, Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Theme {
    /// As the system's setting (light or dark) says, following its changes.
    #[default]
    System,
    Light,
    Dark,
}

/// Which desktop notifications are shown; each is shown once per change of state (see the
/// `*.health` events).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[serde(default)]
pub struct Notifications {
    /// A backup target starts failing, or works again.
    pub backups: bool,
    /// An automatic version could not be made, or is made again.
    pub automatic_versions: bool,
    /// The vault's disk has less free than Kura keeps free, or has enough again.
    pub disk_space: bool,
    /// A quota is reached, or is no longer.
    pub quotas: bool,
}

impl Default for Notifications {
    fn default() -> Self {
        Notifications {
            backups: true,
            automatic_versions: true,
            disk_space: true,
            quotas: true,
        }
    }
}

impl Notifications {
    /// Whether the notification of an event of type `kind` (`backup.health`, ...) is shown;
    /// `None` for a type that is no notification.
    pub fn shows(&self, kind: &str) -> Option<bool> {
        match kind {
            "backup.health" => Some(self.backups),
            "autoversion.health" => Some(self.automatic_versions),
            "disk.health" => Some(self.disk_space),
            "quota.health" => Some(self.quotas),
            _ => None,
        }
    }
}

impl Preferences {
    /// Checks what a person set: an editor is one line.
    pub fn validate(&self) -> ApiResult<()> {
        if let Some(editor) = &self.editor {
            if editor.trim().is_empty() || editor.contains(['\n', '\r', '\0']) {
                return Err(ApiError::new(
                    ErrorCode::InvalidInput,
                    "the editor must be a program's name or path on one line, or `system`",
                ));
            }
        }
        Ok(())
    }
}

/// Where the settings are.
pub fn path() -> ApiResult<PathBuf> {
    crate::autostart::config_home()
        .map(|c| c.join("kura").join("app.toml"))
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::NotFound,
                "no configuration folder for this user: set HOME or XDG_CONFIG_HOME",
            )
        })
}

impl AppSettings {
    /// The settings in the file; the defaults when there is none yet.
    pub fn load() -> ApiResult<AppSettings> {
        AppSettings::load_from(&path()?)
    }

    fn load_from(path: &Path) -> ApiResult<AppSettings> {
        match std::fs::read_to_string(path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                ApiError::new(
                    ErrorCode::InvalidInput,
                    format!(
                        "the app settings in {} cannot be read: {}; correct or remove the file",
                        path.display(),
                        e.message()
                    ),
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(AppSettings::default()),
            Err(e) => Err(ApiError::from(kura_core::Error::from_io("read", path, e))),
        }
    }

    /// Changes the settings in the file with `change`; returns them as saved.
    pub fn update(change: impl FnOnce(&mut AppSettings)) -> ApiResult<AppSettings> {
        let path = path()?;
        let mut settings = AppSettings::load_from(&path)?;
        change(&mut settings);
        settings.save_to(&path)?;
        Ok(settings)
    }

    fn save_to(&self, path: &Path) -> ApiResult<()> {
        let text = toml::to_string(self)
            .map_err(|e| ApiError::internal(format!("cannot write the app settings: {e}")))?;
        if let Some(dir) = path.parent() {
            kura_durable::create_private_dir_all(dir)
                .map_err(|e| ApiError::from(kura_core::Error::from_io("create folder", dir, e)))?;
        }
        kura_durable::write_file(path, text.as_bytes())
            .map_err(|f| ApiError::new(ErrorCode::Io, f.to_string()))
    }
}

/// Where the vault is when no `--vault` names one, and why there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VaultLocation {
    /// `KURA_HOME`.
    Home(PathBuf),
    /// The folder chosen in the window (app.toml's `vault`).
    Chosen(PathBuf),
    /// `$XDG_DATA_HOME/kura`, else `~/.local/share/kura`.
    Default(PathBuf),
}

impl VaultLocation {
    pub fn path(&self) -> &Path {
        match self {
            VaultLocation::Home(p) | VaultLocation::Chosen(p) | VaultLocation::Default(p) => p,
        }
    }
}

/// Where the vault is: `KURA_HOME`, else the folder chosen in the window, else the default.
pub fn vault_location() -> kura_core::Result<VaultLocation> {
    if let Some(home) = std::env::var_os("KURA_HOME").filter(|v| !v.is_empty()) {
        return Ok(VaultLocation::Home(PathBuf::from(home)));
    }
    // No configuration folder (no HOME): nothing was chosen.
    let chosen = match path() {
        Ok(path) => {
            AppSettings::load_from(&path)
                .map_err(|e| kura_core::Error::new(e.code, e.message))?
                .vault
        }
        Err(_) => None,
    };
    match chosen {
        Some(dir) => Ok(VaultLocation::Chosen(dir)),
        None => Ok(VaultLocation::Default(kura_core::Vault::default_location()?)),
    }
}

/// Opens the vault at [`vault_location`]: `KURA_HOME` and the default are created with their
/// parents ([`kura_core::Vault::open_default`]); a chosen folder is opened with the guard against
/// a drive that is not connected ([`kura_core::Vault::open`] refuses a missing parent).
pub fn open_vault() -> kura_core::Result<kura_core::Vault> {
    match vault_location()? {
        VaultLocation::Chosen(dir) => kura_core::Vault::open(&dir),
        VaultLocation::Home(_) | VaultLocation::Default(_) => kura_core::Vault::open_default(),
    }
}

/// Where the vault is, for the window's screen when it cannot be opened.
#[derive(Serialize, Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
pub struct VaultPlace {
    /// The vault folder.
    pub path: String,
    /// Named by `KURA_HOME` (which wins over a folder chosen in the window).
    pub from_kura_home: bool,
    /// The parent folder, when it does not exist (a drive not connected, or folders never
    /// made): "Create it here" makes it.
    pub missing_parent: Option<String>,
}

/// Where the vault is, and whether its parent folder is missing.
pub fn vault_place() -> ApiResult<VaultPlace> {
    let location = vault_location()?;
    let path = location.path();
    let missing_parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty() && !p.is_dir())
        .map(|p| p.display().to_string());
    Ok(VaultPlace {
        path: path.display().to_string(),
        from_kura_home: matches!(location, VaultLocation::Home(_)),
        missing_parent,
    })
}

/// The vault folder for a folder a person picked: the folder itself when it is a vault already,
/// empty or not there yet; else (their home, a drive's root, a project) a `kura` folder inside
/// it, so that Kura's files never land among theirs.
pub fn vault_in(picked: &Path) -> PathBuf {
    let is_vault = picked.join("catalog.db").is_file();
    let is_empty = std::fs::read_dir(picked)
        .map(|mut entries| entries.next().is_none())
        .unwrap_or(true);
    if is_vault || is_empty {
        picked.to_path_buf()
    } else {
        picked.join("kura")
    }
}

/// Opens the vault at `dir` and remembers it for the next start (of the window and of `kura`):
/// a folder the person picked (see [`vault_in`]), or, with `create`, the configured folder whose
/// parent is missing, made first (private to the user). Without `create`, a missing parent is
/// refused as a drive not connected.
pub fn open_chosen(dir: &Path, create: bool) -> ApiResult<kura_core::Vault> {
    if !dir.is_absolute() {
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("the vault folder must be a full path: {}", dir.display()),
        ));
    }
    if create {
        if let Some(parent) = dir.parent() {
            kura_durable::create_private_dir_all(parent).map_err(|e| {
                ApiError::from(kura_core::Error::from_io("create folder", parent, e))
            })?;
        }
    }
    let dir = if create {
        dir.to_path_buf()
    } else {
        vault_in(dir)
    };
    let vault = kura_core::Vault::open(&dir)?;
    AppSettings::update(|s| s.vault = Some(vault.root().to_path_buf()))?;
    tracing::info!("the vault is now {}", vault.root().display());
    Ok(vault)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_saved_whole_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kura/app.toml");
        assert_eq!(
            AppSettings::load_from(&path).unwrap(),
            AppSettings::default()
        );
        let chosen = AppSettings {
            start_at_login_asked: true,
            tray_hint_shown: false,
            vault: Some(PathBuf::from("/media/usb/kura")),
            preferences: Preferences {
                theme: Theme::Dark,
                notifications: Notifications {
                    quotas: false,
                    ..Notifications::default()
                },
                editor: Some("code --new-window".into()),
            },
        };
        chosen.save_to(&path).unwrap();
        assert_eq!(AppSettings::load_from(&path).unwrap(), chosen);
        // What a person reads and edits.
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("theme = \"dark\""), "{text}");
        assert!(text.contains("[notifications]\nbackups = true\nautomatic_versions = true\ndisk_space = true\nquotas = false"), "{text}");
        // A file of an earlier version, without them: the defaults.
        std::fs::write(&path, "start_at_login_asked = true\n").unwrap();
        let older = AppSettings::load_from(&path).unwrap();
        assert_eq!(older.preferences, Preferences::default());
        assert!(older.preferences.notifications.quotas);
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(path.parent().unwrap())
                .unwrap()
                .permissions(),
        );
        assert_eq!(mode & 0o777, 0o700);
        std::fs::write(&path, "vault = [").unwrap();
        let err = AppSettings::load_from(&path).unwrap_err();
        assert!(err.message.contains("app.toml"), "{}", err.message);
    }

    #[test]
    fn a_picked_folder_holding_other_files_gets_a_kura_folder_inside() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        std::fs::create_dir_all(home.join("Documents")).unwrap();
        assert_eq!(vault_in(&home), home.join("kura"));
        let empty = dir.path().join("empty");
        std::fs::create_dir(&empty).unwrap();
        assert_eq!(vault_in(&empty), empty);
        let vault = dir.path().join("vault");
        kura_core::Vault::open(&vault).unwrap();
        assert_eq!(vault_in(&vault), vault);
        assert_eq!(vault_in(&dir.path().join("new")), dir.path().join("new"));
    }
}
