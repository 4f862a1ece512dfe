//! `kura serve`: the HTTP door (crates/kura-server), and its tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use kura_core::{Error, ErrorKind};
use kura_server::{Bind, Scope, ServeOptions, Tokens};

use crate::print::Out;

/// Serve the vault over HTTP: a Unix socket by default, loopback TCP with --listen.
#[derive(Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ServeArgs {
    #[command(subcommand)]
    cmd: Option<ServeCmd>,
    /// Listen on TCP at this address (127.0.0.1:PORT; port 0 picks a free one) instead of the socket.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// The Unix socket (default: $XDG_RUNTIME_DIR/kura/api.sock, else <vault>/run/api.sock).
    #[arg(long, value_name = "PATH", conflicts_with = "listen")]
    socket: Option<PathBuf>,
    /// Allow a non-loopback --listen address (the token is then the only defence).
    #[arg(long)]
    allow_remote: bool,
    /// Another name the Host header may carry (repeatable).
    #[arg(long = "allow-host", value_name = "HOST[:PORT]")]
    allow_hosts: Vec<String>,
    /// An origin allowed to call from its web pages (CORS; repeatable; never "*").
    #[arg(long = "cors-origin", value_name = "ORIGIN")]
    cors_origins: Vec<String>,
    /// The built UI to serve at / (default: $KURA_UI_DIR, else ui/dist of the source tree).
    #[arg(long = "ui", value_name = "DIR", env = "KURA_UI_DIR")]
    ui_dir: Option<PathBuf>,
    /// Print a one-time link that opens the UI in a browser (and try xdg-open).
    #[arg(long)]
    open: bool,
    /// The largest uploaded file, in bytes.
    #[arg(long, value_name = "BYTES")]
    max_upload: Option<u64>,
    /// The longest a request may take to be answered, in seconds.
    #[arg(long, value_name = "SECS")]
    request_timeout: Option<u64>,
    /// How long a request body may send nothing, or a response go untaken, before the
    /// connection is cut, in seconds (default 30; also KURA_SERVE_IDLE_TIMEOUT_SECS).
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<u64>,
    /// Large uploads and downloads at once, in all (default 32; also KURA_SERVE_MAX_TRANSFERS).
    #[arg(long, value_name = "N")]
    max_transfers: Option<usize>,
    /// Large uploads and downloads at once for one token or browser session (default 8; also
    /// KURA_SERVE_MAX_TRANSFERS_PER_TOKEN).
    #[arg(long, value_name = "N")]
    max_transfers_per_token: Option<usize>,
    /// Do not run the backup and cleanup schedules.
    #[arg(long)]
    no_schedules: bool,
}

#[derive(Subcommand)]
enum ServeCmd {
    /// Print the token of a scope (made if there is none).
    Token {
        /// read, write or admin.
        #[arg(long, default_value = "admin")]
        scope: String,
        #[command(subcommand)]
        cmd: Option<TokenCmd>,
    },
}

#[derive(Subcommand)]
enum TokenCmd {
    /// Replace the token of --scope (or every token with --all); the old one stops working at once.
    Rotate {
        /// Every scope.
        #[arg(long)]
        all: bool,
    },
}

fn scope(s: &str) -> Result<Scope, Error> {
    Scope::parse(s).ok_or_else(|| {
        Error::new(
            ErrorKind::InvalidInput,
            format!("'{s}' is not a scope: read, write or admin"),
        )
    })
}

fn io(e: std::io::Error) -> Error {
    Error::new(ErrorKind::Io, format!("the token file: {e}"))
}

/// The UI next to the source tree this binary was built from, when there is one.
fn default_ui_dir() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../ui/dist");
    dir.join("index.html").is_file().then_some(dir)
}

pub fn run(args: &ServeArgs, vault: &std::path::Path, out: &Out) -> Result<ExitCode, Error> {
    if let Some(ServeCmd::Token { scope: s, cmd }) = &args.cmd {
        let tokens = Tokens::of_vault(vault);
        let scope = scope(s)?;
        match cmd {
            None => {
                let t = tokens.get_or_create(scope).map_err(io)?;
                out.done_json(&t, serde_json::json!({"scope": scope, "token": t}));
            }
            Some(TokenCmd::Rotate { all }) => {
                let fresh = tokens
                    .rotate(if *all { None } else { Some(scope) })
                    .map_err(io)?;
                let text = fresh
                    .iter()
                    .map(|t| format!("{} {}", t.scope.as_str(), t.token))
                    .collect::<Vec<_>>()
                    .join("\n");
                let json = fresh
                    .iter()
                    .map(|t| serde_json::json!({"scope": t.scope, "token": t.token}))
                    .collect();
                out.done_json(&text, serde_json::Value::Array(json));
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let bind = match (&args.listen, &args.socket) {
        (Some(addr), _) => Bind::Tcp(*addr),
        (None, Some(p)) => Bind::Unix(p.clone()),
        (None, None) => Bind::Unix(kura_server::default_socket_path(vault)),
    };
    let mut options = ServeOptions::new(bind);
    options
        .apply_env()
        .map_err(|m| Error::new(ErrorKind::InvalidInput, m))?;
    options.allow_remote = args.allow_remote;
    options.extra_hosts = args.allow_hosts.clone();
    options.cors_origins = args.cors_origins.clone();
    options.ui_dir = args.ui_dir.clone().or_else(default_ui_dir);
    options.schedules = !args.no_schedules;
    if let Some(m) = args.max_upload {
        options.max_upload = m;
    }
    if let Some(t) = args.request_timeout {
        options.request_timeout = Duration::from_secs(t.max(1));
    }
    if let Some(t) = args.idle_timeout {
        options.idle_timeout = Duration::from_secs(t.max(1));
    }
    if let Some(n) = args.max_transfers {
        options.max_transfers = n.max(1);
    }
    if let Some(n) = args.max_transfers_per_token {
        options.max_transfers_per_token = n.max(1);
    }
    kura_server::run(vault.to_path_buf(), options, args.open)
        .map_err(|m| Error::new(ErrorKind::Unavailable, m))?;
    Ok(ExitCode::SUCCESS)
}
