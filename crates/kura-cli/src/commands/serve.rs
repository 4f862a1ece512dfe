//! `kura serve`: the HTTP door (crates/kura-server), and its tokens.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use kura_api::Api;
use kura_core::{Error, ErrorKind};
use kura_server::{Bind, Scope, ServeOptions, Tokens};

use crate::print::Out;

// Serves the vault over HTTP: a Unix socket by default, loopback TCP with --listen. (Its help
// line is the variant's in `lib.rs`.)
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
#[command(defer = true)]
enum ServeCmd {
    /// Ask the running server (on 127.0.0.1) for a new one-time link that signs a browser in.
    Link {
        /// The session's scope: read, write or admin.
        #[arg(long, default_value = "admin")]
        scope: String,
        /// Also open it in the default browser (xdg-open).
        #[arg(long)]
        open: bool,
    },
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
#[command(defer = true)]
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

impl ServeArgs {
    /// Whether this runs a server (not `kura serve token` or `kura serve link`).
    pub fn is_server(&self) -> bool {
        self.cmd.is_none()
    }
}

/// Asks the server running for `vault` for a sign-in link, over its loopback address, with the
/// admin token of the token file (readable by this user alone, as the link must be).
fn link(vault: &std::path::Path, scope: Scope, open: bool, out: &Out) -> Result<ExitCode, Error> {
    use std::io::{Read, Write};
    let discovery = kura_server::runtime_dir(vault).join("serve.json");
    let d = kura_server::Discovery::read_live(&discovery).ok_or_else(|| {
        Error::new(
            ErrorKind::NotFound,
            "no kura serve is running for this vault; start one with `kura serve --listen 127.0.0.1:PORT --open`",
        )
    })?;
    let host = d
        .url
        .strip_prefix("http://")
        .filter(|_| d.socket.is_none())
        .ok_or_else(|| {
            Error::new(
                ErrorKind::Conflict,
                "the running server listens on a Unix socket, which a browser cannot reach; start it with `kura serve --listen 127.0.0.1:PORT`",
            )
        })?;
    let addr: SocketAddr = host.parse().map_err(|_| {
        Error::new(
            ErrorKind::Internal,
            format!(
                "the discovery file {} names no address: {}",
                discovery.display(),
                d.url
            ),
        )
    })?;
    let token = Tokens::of_vault(vault)
        .get_or_create(Scope::Admin)
        .map_err(io)?;
    let unreachable = |e: std::io::Error| {
        Error::new(
            ErrorKind::Unavailable,
            format!("the server at {} did not answer: {e}", d.url),
        )
    };
    let wait = Duration::from_secs(10);
    let mut stream = std::net::TcpStream::connect_timeout(&addr, wait).map_err(unreachable)?;
    stream.set_read_timeout(Some(wait)).map_err(unreachable)?;
    stream.set_write_timeout(Some(wait)).map_err(unreachable)?;
    let body = serde_json::json!({ "scope": scope }).to_string();
    write!(
        stream,
        "POST /v1/session/links HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .map_err(unreachable)?;
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).map_err(unreachable)?;
    let answer = String::from_utf8_lossy(&answer);
    let (head, json) = answer.split_once("\r\n\r\n").unwrap_or((&answer, ""));
    let value: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    if !head.starts_with("HTTP/1.1 201") {
        let why = value["message"]
            .as_str()
            .unwrap_or(head.lines().next().unwrap_or(""));
        return Err(Error::new(
            ErrorKind::Unavailable,
            format!("the server did not make a link: {why}"),
        ));
    }
    let url = value["url"].as_str().unwrap_or_default().to_string();
    if open {
        let _ = std::process::Command::new("xdg-open")
            .arg(&url)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
    }
    out.done_json(&url, value);
    Ok(ExitCode::SUCCESS)
}

/// `kura serve`: serves until stopped; `kura serve link` and `kura serve token` answer at once.
pub fn run(args: &ServeArgs, out: &Out, api: &Arc<Api>) -> Result<ExitCode, Error> {
    let vault = api.vault().root();
    if let Some(ServeCmd::Link { scope: s, open }) = &args.cmd {
        return link(vault, scope(s)?, *open, out);
    }
    if let Some(ServeCmd::Token { scope: s, cmd }) = &args.cmd {
        let tokens = Tokens::of_vault(vault);
        let scope = scope(s)?;
        match cmd {
            None => out.token(scope, &tokens.get_or_create(scope).map_err(io)?),
            Some(TokenCmd::Rotate { all }) => out.tokens_rotated(
                &tokens
                    .rotate(if *all { None } else { Some(scope) })
                    .map_err(io)?,
            ),
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
