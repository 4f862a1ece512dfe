//! `kura serve`: Kura's HTTP door.
//!
//! A Unix socket by default (mode 0600 in a 0700 folder), loopback TCP on request. Every request
//! passes the [guard](guard::guard): an exact Host allow-list, Origin and `Sec-Fetch-Site`
//! checks, then a bearer token (scopes `read` < `write` < `admin`, kept in a 0600 file, compared
//! in constant time) or a browser session cookie with a CSRF header. Paths are versioned
//! (`/v1/...`) and described by an OpenAPI 3.1 document generated from the Rust types
//! (`/v1/openapi.json`, committed as `docs/api/openapi.json`).
//!
//! Handlers are adapters of a few lines over [`kura_api::Api`]: parse, call one function, convert.
//! Long work answers `202` with an operation resource; what changed is announced on the event
//! log, which `GET /v1/events` streams (SSE or NDJSON), resumable by event id.
//!
//! ```
//! use kura_server::{Bind, Scope, ServeOptions, Server};
//!
//! # fn main() -> std::io::Result<()> {
//! let dir = tempfile::tempdir()?;
//! let vault = kura_core::Vault::open(&dir.path().join("vault")).unwrap();
//! let api = kura_api::Api::open(vault).unwrap();
//! let runtime = tokio::runtime::Runtime::new()?;
//! runtime.block_on(async {
//!     let mut options = ServeOptions::new(Bind::Tcp("127.0.0.1:0".parse().unwrap()));
//!     options.discovery_file = Some(dir.path().join("serve.json"));
//!     let server = Server::bind(api, options).await?;
//!     let token = server.tokens().get_or_create(Scope::Read)?;
//!     assert!(token.starts_with("kura_read_"));
//!     assert!(server.listening().base_url().starts_with("http://127.0.0.1:"));
//!     // Answers until the future given completes (here: at once), then cleans up.
//!     server.serve(async {}).await
//! })?;
//! assert!(!dir.path().join("serve.json").exists());
//! # Ok(())
//! # }
//! ```

mod auth;
mod body;
mod error;
mod guard;
mod listen;
mod openapi;
mod routes;
mod transfer;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use kura_api::Api;

pub use auth::{Scope, Token, Tokens};
pub use error::{HttpError, HttpErrorCode};
pub use listen::{default_socket_path, runtime_dir, Discovery, Listening};
pub use routes::openapi_json;

/// Where to listen.
#[derive(Clone, Debug)]
pub enum Bind {
    /// A Unix socket at this path (its folder is made 0700, the socket 0600).
    Unix(PathBuf),
    /// TCP at this address. A non-loopback address needs [`ServeOptions::allow_remote`].
    Tcp(SocketAddr),
}

/// How `kura serve` runs.
#[derive(Clone, Debug)]
pub struct ServeOptions {
    pub bind: Bind,
    /// Allow a non-loopback TCP address (the token is then the only defence; use TLS in front).
    pub allow_remote: bool,
    /// Extra names the Host header may carry (beside localhost and the bound address).
    pub extra_hosts: Vec<String>,
    /// Origins allowed to call from another web page (CORS); none by default, never `*`.
    pub cors_origins: Vec<String>,
    /// The largest JSON request body.
    pub max_json_body: usize,
    /// The largest uploaded file or archive.
    pub max_upload: u64,
    /// How long a request may take to be answered (streams and `?wait=true` are bounded by it).
    pub request_timeout: Duration,
    /// How long a request's headers may take to arrive; the connection is closed after that.
    pub header_timeout: Duration,
    /// The most bytes a request line and its headers may take (at least 8 KiB); larger is
    /// answered 431 and the connection closed.
    pub max_header_bytes: usize,
    /// How long a request body may go without a byte arriving (then 408 and the connection
    /// closed), and a response without the client taking a byte (then the connection is
    /// closed): a stalled client does not hold the server's resources longer than this.
    pub idle_timeout: Duration,
    /// Uploads and downloads that stream (a file saved from a body of unknown or more than
    /// 1 MiB length, a read of more than 256 KiB, an archive or multipart upload, a tar.zst
    /// export) running at once, in all.
    pub max_transfers: usize,
    /// The same, for one token or browser session.
    pub max_transfers_per_token: usize,
    /// How long a transfer waits for its turn past those limits before it is answered 503 with
    /// `Retry-After`.
    pub transfer_queue_wait: Duration,
    /// Threads for blocking work (engine calls, file reads) in the runtime [`run`] makes.
    pub blocking_threads: usize,
    /// The built UI (`ui/dist`), served at `/`.
    pub ui_dir: Option<PathBuf>,
    /// Where the discovery file goes (`None`: next to the default socket).
    pub discovery_file: Option<PathBuf>,
    /// Run the backup and cleanup schedules and automatic versions (`kura_api::Scheduler`).
    pub schedules: bool,
}

impl ServeOptions {
    /// The defaults: the Unix socket of [`default_socket_path`], 1 MiB JSON bodies, 64 GiB
    /// uploads, a five-minute request limit, 30 seconds and 64 KiB for a request's headers, a
    /// 30-second idle timeout on bodies, 32 streamed transfers at once (8 per token) waiting
    /// up to 10 seconds for their turn, 64 blocking threads.
    pub fn new(bind: Bind) -> ServeOptions {
        ServeOptions {
            bind,
            allow_remote: false,
            extra_hosts: Vec::new(),
            cors_origins: Vec::new(),
            max_json_body: 1 << 20,
            max_upload: 64 << 30,
            request_timeout: Duration::from_secs(300),
            header_timeout: Duration::from_secs(30),
            max_header_bytes: 64 << 10,
            idle_timeout: Duration::from_secs(30),
            max_transfers: 32,
            max_transfers_per_token: 8,
            transfer_queue_wait: Duration::from_secs(10),
            blocking_threads: 64,
            ui_dir: None,
            discovery_file: None,
            schedules: true,
        }
    }
}

impl ServeOptions {
    /// Applies `KURA_SERVE_*` environment variables over these options (`kura serve` does,
    /// before its flags): `KURA_SERVE_IDLE_TIMEOUT_SECS`, `KURA_SERVE_MAX_TRANSFERS`,
    /// `KURA_SERVE_MAX_TRANSFERS_PER_TOKEN`, `KURA_SERVE_TRANSFER_QUEUE_SECS`,
    /// `KURA_SERVE_MAX_HEADER_BYTES`, `KURA_SERVE_BLOCKING_THREADS`,
    /// `KURA_SERVE_HEADER_TIMEOUT_SECS`. A value that is not a whole number above 0 is an error.
    pub fn apply_env(&mut self) -> Result<(), String> {
        self.apply_vars(std::env::vars())
    }

    fn apply_vars(&mut self, vars: impl Iterator<Item = (String, String)>) -> Result<(), String> {
        for (name, raw) in vars {
            let Some(key) = name.strip_prefix("KURA_SERVE_") else {
                continue;
            };
            let n = || -> Result<u64, String> {
                raw.trim()
                    .parse::<u64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| format!("{name} must be a whole number above 0, not '{raw}'"))
            };
            let count = || n().map(|v| usize::try_from(v).unwrap_or(usize::MAX));
            match key {
                "IDLE_TIMEOUT_SECS" => self.idle_timeout = Duration::from_secs(n()?),
                "MAX_TRANSFERS" => self.max_transfers = count()?,
                "MAX_TRANSFERS_PER_TOKEN" => self.max_transfers_per_token = count()?,
                "TRANSFER_QUEUE_SECS" => self.transfer_queue_wait = Duration::from_secs(n()?),
                "MAX_HEADER_BYTES" => self.max_header_bytes = count()?,
                "BLOCKING_THREADS" => self.blocking_threads = count()?,
                "HEADER_TIMEOUT_SECS" => self.header_timeout = Duration::from_secs(n()?),
                _ => {}
            }
        }
        Ok(())
    }
}

/// What the guard checks requests against.
pub(crate) struct Doors {
    /// Exact values the Host header may have.
    pub hosts: Vec<String>,
    /// A request without Host (only over the Unix socket).
    pub allow_missing_host: bool,
    pub cors_origins: Vec<String>,
}

/// What every handler shares.
pub(crate) struct AppState {
    pub api: Arc<Api>,
    pub tokens: Tokens,
    pub sessions: auth::Sessions,
    pub failures: auth::Failures,
    pub doors: Doors,
    pub options: ServeOptions,
    /// Turns for streamed uploads and downloads.
    pub transfers: transfer::Transfers,
    /// Cancelled when the server stops, which ends the event streams.
    pub stopping: tokio_util::sync::CancellationToken,
}

/// A server bound and ready, not yet answering: see [`Server::serve`].
pub struct Server {
    state: Arc<AppState>,
    listener: listen::Listener,
    listening: Listening,
}

impl Server {
    /// Binds as `options` say, over `api`'s vault; refuses a non-loopback address without
    /// `allow_remote`, and a socket or discovery file a live server still uses.
    pub async fn bind(api: Arc<Api>, options: ServeOptions) -> std::io::Result<Server> {
        api.vault().set_door(kura_core::Trigger::Http);
        let (listener, listening) = listen::bind(&options, api.vault().root()).await?;
        let mut hosts = vec![];
        let allow_missing_host = match &listening.addr {
            Some(addr) => {
                let port = addr.port();
                hosts.push(format!("localhost:{port}"));
                hosts.push(match addr {
                    SocketAddr::V4(a) => format!("{}:{port}", a.ip()),
                    SocketAddr::V6(a) => format!("[{}]:{port}", a.ip()),
                });
                false
            }
            None => {
                hosts.push("localhost".into());
                true
            }
        };
        hosts.extend(options.extra_hosts.iter().cloned());
        let tokens = Tokens::of_vault(api.vault().root());
        let state = Arc::new(AppState {
            doors: Doors {
                hosts,
                allow_missing_host,
                cors_origins: options.cors_origins.clone(),
            },
            tokens,
            sessions: auth::Sessions::default(),
            failures: auth::Failures::default(),
            transfers: transfer::Transfers::new(&options),
            options,
            stopping: tokio_util::sync::CancellationToken::new(),
            api,
        });
        Ok(Server {
            state,
            listener,
            listening,
        })
    }

    /// Where it listens.
    pub fn listening(&self) -> &Listening {
        &self.listening
    }

    /// A one-time link that opens a browser session of `scope` (valid for ten minutes, once).
    pub fn session_link(&self, scope: Scope) -> String {
        let token = self.state.sessions.new_link(scope);
        format!("{}/v1/session?token={token}", self.listening.base_url())
    }

    /// The token file this server checks.
    pub fn tokens(&self) -> &Tokens {
        &self.state.tokens
    }

    /// Answers requests until `shutdown` completes, then removes the socket and the discovery
    /// file.
    pub async fn serve(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        // Backups, cleanup and automatic versions on their schedules, unless another process
        // (the desktop app, another server) runs this vault's already: then this one takes
        // over when that one stops. Dropped, and the schedule lock released, when serving ends.
        let _schedules = self
            .state
            .options
            .schedules
            .then(|| kura_api::Scheduler::start(self.state.api.clone()));
        let app = router(self.state.clone());
        let stopping = self.state.stopping.clone();
        let shutdown = async move {
            shutdown.await;
            stopping.cancel();
        };
        let result = self
            .listener
            .serve(app, &self.state.options, shutdown)
            .await;
        self.listening.remove();
        result
    }
}

/// The HTTP routes with the guard and the limits in front.
fn router(state: Arc<AppState>) -> Router {
    routes::router(state)
}

/// Opens the vault at `vault`, binds, prints where it listens, and answers until Ctrl-C or
/// SIGTERM: what `kura serve` does. `open_browser`: print a one-time session link (and try
/// `xdg-open`) for the browser UI.
pub fn run(vault: PathBuf, options: ServeOptions, open_browser: bool) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .max_blocking_threads(options.blocking_threads.max(8))
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the server's runtime: {e}"))?;
    runtime.block_on(async move {
        // Before anything says the server is there: a SIGTERM from then on stops it cleanly.
        let stop = shutdown_signal().map_err(|e| format!("cannot watch for signals: {e}"))?;
        let vault = kura_core::Vault::open(&vault).map_err(|e| e.message().to_string())?;
        let api = Api::open(vault).map_err(|e| e.message)?;
        let server = Server::bind(api, options)
            .await
            .map_err(|e| format!("cannot listen: {e}"))?;
        let admin = server
            .tokens()
            .get_or_create(Scope::Admin)
            .map_err(|e| format!("cannot make the token file: {e}"))?;
        let _ = admin;
        let l = server.listening();
        match (&l.socket, &l.addr) {
            (Some(sock), _) => eprintln!(
                "kura serve: listening on {} (try: curl --unix-socket {} -H \"Authorization: Bearer $(kura serve token)\" http://localhost/v1/status)",
                sock.display(),
                sock.display()
            ),
            (None, Some(_)) => eprintln!("kura serve: listening on {}", l.base_url()),
            _ => {}
        }
        eprintln!("kura serve: token file {}", server.tokens().path().display());
        if open_browser {
            if l.addr.is_none() {
                eprintln!("kura serve: --open needs --listen 127.0.0.1:PORT (a browser cannot use a Unix socket)");
            } else {
                let link = server.session_link(Scope::Admin);
                println!("{link}");
                let _ = std::process::Command::new("xdg-open")
                    .arg(&link)
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::null())
                    .spawn();
            }
        }
        server
            .serve(stop)
            .await
            .map_err(|e| format!("the server stopped: {e}"))
    })
}

/// Ctrl-C or SIGTERM. Both are watched from this call on (a watch set up on the future's
/// first poll would leave a signal that comes before it to kill the process instead).
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = term.recv() => {}
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_come_from_kura_serve_variables() {
        let mut o = ServeOptions::new(Bind::Tcp("127.0.0.1:0".parse().unwrap()));
        let vars = [
            ("KURA_SERVE_IDLE_TIMEOUT_SECS", "5"),
            ("KURA_SERVE_MAX_TRANSFERS_PER_TOKEN", "2"),
            ("KURA_OTHER", "x"),
        ];
        o.apply_vars(vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
            .unwrap();
        assert_eq!(o.idle_timeout, Duration::from_secs(5));
        assert_eq!(o.max_transfers_per_token, 2);
        assert_eq!(o.max_transfers, 32);
        let bad = [("KURA_SERVE_MAX_TRANSFERS".to_string(), "0".to_string())];
        assert!(o.apply_vars(bad.into_iter()).is_err());
    }
}
