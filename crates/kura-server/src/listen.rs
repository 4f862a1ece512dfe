//! Where the server listens, and the discovery file that lets clients find it.

use std::fs;
use std::net::SocketAddr;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use axum::Router;
use serde::{Deserialize, Serialize};

use crate::{Bind, ServeOptions};

/// The folder for the socket and the discovery file: `$XDG_RUNTIME_DIR/kura`, or, when that is
/// not set, `<vault>/run` (never a shared folder like /tmp, where another user could squat it).
pub fn runtime_dir(vault_root: &Path) -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()) {
        Some(dir) => PathBuf::from(dir).join("kura"),
        None => vault_root.join("run"),
    }
}

/// The default socket: `<runtime dir>/api.sock`.
pub fn default_socket_path(vault_root: &Path) -> PathBuf {
    runtime_dir(vault_root).join("api.sock")
}

/// What the discovery file says: enough for a client to find the running server.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub struct Discovery {
    pub pid: u32,
    /// `http://127.0.0.1:PORT` for TCP, `http://localhost` over the socket.
    pub url: String,
    /// The Unix socket, when it listens on one.
    pub socket: Option<PathBuf>,
    /// The vault it serves.
    pub vault: PathBuf,
}

impl Discovery {
    /// Reads the discovery file at `path`; `None` when there is none, or when the process that
    /// wrote it is gone (a stale file from a server that did not stop cleanly).
    pub fn read_live(path: &Path) -> Option<Discovery> {
        let d: Discovery = serde_json::from_slice(&fs::read(path).ok()?).ok()?;
        pid_alive(d.pid).then_some(d)
    }
}

fn pid_alive(pid: u32) -> bool {
    pid == std::process::id() || Path::new(&format!("/proc/{pid}")).exists()
}

/// Where a bound server listens.
#[derive(Debug, Clone)]
pub struct Listening {
    /// The TCP address, when on TCP.
    pub addr: Option<SocketAddr>,
    /// The socket, when on a Unix socket.
    pub socket: Option<PathBuf>,
    /// The discovery file written.
    pub discovery: PathBuf,
}

impl Listening {
    /// `http://127.0.0.1:PORT`, or `http://localhost` over the socket.
    pub fn base_url(&self) -> String {
        match self.addr {
            Some(SocketAddr::V6(a)) => format!("http://[{}]:{}", a.ip(), a.port()),
            Some(a) => format!("http://{a}"),
            None => "http://localhost".into(),
        }
    }

    /// Removes the socket and the discovery file (on a clean shutdown).
    pub fn remove(&self) {
        if let Some(s) = &self.socket {
            let _ = fs::remove_file(s);
        }
        // Only our own: a newer server may have replaced it.
        if Discovery::read_live(&self.discovery).is_some_and(|d| d.pid == std::process::id()) {
            let _ = fs::remove_file(&self.discovery);
        }
    }
}

pub(crate) enum Listener {
    Tcp(tokio::net::TcpListener),
    Unix(tokio::net::UnixListener),
}

fn private_dir(dir: &Path) -> std::io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

fn in_use(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::AddrInUse, message)
}

pub(crate) async fn bind(
    options: &ServeOptions,
    vault_root: &Path,
) -> std::io::Result<(Listener, Listening)> {
    let (listener, addr, socket) = match &options.bind {
        Bind::Tcp(addr) => {
            if !addr.ip().is_loopback() && !options.allow_remote {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!(
                        "{addr} is not a loopback address; anyone on the network could reach it. \
                         Pass --allow-remote to mean it (and put TLS in front)"
                    ),
                ));
            }
            let l = tokio::net::TcpListener::bind(addr).await?;
            let local = l.local_addr()?;
            (Listener::Tcp(l), Some(local), None)
        }
        Bind::Unix(path) => {
            let dir = path.parent().unwrap_or(Path::new("."));
            private_dir(dir)?;
            if path.exists() {
                if std::os::unix::net::UnixStream::connect(path).is_ok() {
                    return Err(in_use(format!(
                        "a server already listens on {}",
                        path.display()
                    )));
                }
                // Left by a server that did not stop cleanly.
                fs::remove_file(path)?;
            }
            let l = tokio::net::UnixListener::bind(path)?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o600))?;
            (Listener::Unix(l), None, Some(path.clone()))
        }
    };
    let discovery = match (&options.discovery_file, &socket) {
        (Some(p), _) => p.clone(),
        (None, Some(s)) => s.with_file_name("serve.json"),
        (None, None) => runtime_dir(vault_root).join("serve.json"),
    };
    if let Some(d) = Discovery::read_live(&discovery) {
        if d.pid != std::process::id() {
            if let Some(s) = &socket {
                let _ = fs::remove_file(s);
            }
            return Err(in_use(format!(
                "a kura server (pid {}) already serves {} at {} (discovery file {}); `kura serve link` asks it for a browser sign-in link",
                d.pid,
                d.vault.display(),
                d.url,
                discovery.display()
            )));
        }
    }
    let listening = Listening {
        addr,
        socket,
        discovery: discovery.clone(),
    };
    let info = Discovery {
        pid: std::process::id(),
        url: listening.base_url(),
        socket: listening.socket.clone(),
        vault: vault_root.to_path_buf(),
    };
    private_dir(discovery.parent().unwrap_or(Path::new(".")))?;
    let tmp = discovery.with_extension("json.tmp");
    fs::write(&tmp, serde_json::to_vec_pretty(&info)?)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600))?;
    fs::rename(&tmp, &discovery)?;
    Ok((listener, listening))
}

impl Listener {
    pub(crate) async fn serve(
        self,
        app: Router,
        options: &ServeOptions,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let limits = Limits {
            header_timeout: options.header_timeout,
            max_header_bytes: options.max_header_bytes,
            idle_timeout: options.idle_timeout,
        };
        match self {
            Listener::Tcp(l) => {
                use axum::serve::ListenerExt;
                // No Nagle: a response's headers and a small body written apart must not wait
                // for the client's delayed ACK (40 ms a request).
                let l = l.tap_io(|tcp| {
                    if let Err(e) = tcp.set_nodelay(true) {
                        tracing::debug!("TCP_NODELAY not set: {e}");
                    }
                });
                accept_loop(l, app, limits, shutdown, |peer| Some(*peer)).await
            }
            Listener::Unix(l) => accept_loop(l, app, limits, shutdown, |_| None).await,
        }
    }
}

/// What one connection may take.
#[derive(Clone, Copy)]
struct Limits {
    header_timeout: std::time::Duration,
    max_header_bytes: usize,
    idle_timeout: std::time::Duration,
}

/// Serves each accepted connection with HTTP/1.1 until `shutdown`, then lets every connection
/// finish its request and waits for them. What `axum::serve` does, plus limits on how long a
/// request's headers may take to arrive and how large they may be, and on how long a client may
/// leave a response untaken: a client that sends slowly (or never), or reads slowly (or never),
/// does not hold a connection and a task forever.
async fn accept_loop<L>(
    mut listener: L,
    app: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    peer: fn(&L::Addr) -> Option<SocketAddr>,
) -> std::io::Result<()>
where
    L: axum::serve::Listener,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::ServiceExt;

    let (close_tx, close_rx) = tokio::sync::watch::channel(());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (io, addr) = tokio::select! {
            conn = listener.accept() => conn,
            () = &mut shutdown => break,
        };
        let peer = peer(&addr);
        let app = app.clone();
        let service = hyper::service::service_fn(
            move |mut req: axum::http::Request<hyper::body::Incoming>| {
                if let Some(peer) = peer {
                    req.extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                }
                app.clone().oneshot(req.map(axum::body::Body::new))
            },
        );
        let mut close = close_rx.clone();
        tokio::spawn(async move {
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                // A request line and headers larger than this are answered 431 at once, instead
                // of waiting for the rest of an endless method name or header.
                .max_buf_size(limits.max_header_bytes.max(8192));
            let io = crate::transfer::StallGuard::new(io, limits.idle_timeout);
            let conn = http.serve_connection(TokioIo::new(io), service);
            let mut conn = std::pin::pin!(conn);
            tokio::select! {
                result = conn.as_mut() => {
                    if let Err(e) = result {
                        tracing::trace!("a connection ended: {e}");
                    }
                    return;
                }
                _ = close.changed() => {}
            }
            conn.as_mut().graceful_shutdown();
            if let Err(e) = conn.await {
                tracing::trace!("a connection ended: {e}");
            }
            drop(close);
        });
    }
    drop(listener);
    drop(close_rx);
    // Every connection is told to finish; serving ends when the last one has.
    let _ = close_tx.send(());
    close_tx.closed().await;
    Ok(())
}
