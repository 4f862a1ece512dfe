//! A real server on a temp vault, and a real HTTP/1.1 client (hyper) that checks every JSON
//! answer against the committed OpenAPI document.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use kura_api::Api;
use kura_server::{Bind, Scope, ServeOptions, Server, Tokens};
use serde_json::Value;

pub struct TestServer {
    pub dir: tempfile::TempDir,
    pub addr: SocketAddr,
    pub api: Arc<Api>,
    /// One-time browser session links (paths), one per scope, made before serving.
    links: std::sync::Mutex<Vec<(Scope, String)>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    handle: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(tempfile::tempdir().unwrap(), |_| {}).await
    }

    pub async fn start_with(
        dir: tempfile::TempDir,
        change: impl FnOnce(&mut ServeOptions),
    ) -> TestServer {
        let vault = kura_core::Vault::open(&dir.path().join("vault")).unwrap();
        let api = Api::open(vault).unwrap();
        let mut options = ServeOptions::new(Bind::Tcp("127.0.0.1:0".parse().unwrap()));
        options.discovery_file = Some(dir.path().join("run").join("serve.json"));
        options.schedules = false;
        change(&mut options);
        let server = Server::bind(api.clone(), options).await.unwrap();
        let addr = server
            .listening()
            .addr
            .unwrap_or_else(|| "127.0.0.1:9".parse().unwrap());
        let links = [Scope::Read, Scope::Write, Scope::Admin]
            .into_iter()
            .map(|scope| {
                let link = server.session_link(scope);
                let path = link.find("/v1/").map(|i| link[i..].to_string());
                (scope, path.unwrap_or(link))
            })
            .collect();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let handle = tokio::spawn(server.serve(async move {
            let _ = rx.await;
        }));
        TestServer {
            dir,
            addr,
            api,
            links: std::sync::Mutex::new(links),
            stop: Some(tx),
            handle: Some(handle),
        }
    }

    pub fn vault_root(&self) -> PathBuf {
        self.dir.path().join("vault")
    }

    pub fn token(&self, scope: Scope) -> String {
        Tokens::of_vault(&self.vault_root())
            .get_or_create(scope)
            .unwrap()
    }

    pub fn client(&self, scope: Scope) -> Client {
        Client {
            addr: self.addr,
            token: Some(self.token(scope)),
            host: format!("127.0.0.1:{}", self.addr.port()),
        }
    }

    pub fn anonymous(&self) -> Client {
        Client {
            addr: self.addr,
            token: None,
            host: format!("127.0.0.1:{}", self.addr.port()),
        }
    }

    /// Stops the server cleanly (socket and discovery file removed); gives the vault back.
    pub async fn stop(mut self) -> tempfile::TempDir {
        let _ = self.stop.take().unwrap().send(());
        self.handle.take().unwrap().await.unwrap().unwrap();
        drop(self.api);
        self.dir
    }
}

pub struct Resp {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
}

#[derive(Clone)]
pub struct Client {
    pub addr: SocketAddr,
    pub token: Option<String>,
    pub host: String,
}

pub struct Call<'a> {
    client: &'a Client,
    method: &'a str,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Client {
    pub fn call<'a>(&'a self, method: &'a str, path: impl Into<String>) -> Call<'a> {
        Call {
            client: self,
            method,
            path: path.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }
    pub async fn get(&self, path: &str) -> Resp {
        self.call("GET", path).send().await
    }
    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.call("POST", path).json(body).send().await
    }
    pub async fn patch(&self, path: &str, body: Value) -> Resp {
        self.call("PATCH", path).json(body).send().await
    }
    pub async fn delete(&self, path: &str) -> Resp {
        self.call("DELETE", path).send().await
    }
}

impl<'a> Call<'a> {
    pub fn header(mut self, k: &str, v: &str) -> Self {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }
    pub fn json(mut self, v: Value) -> Self {
        self.body = serde_json::to_vec(&v).unwrap();
        self.header("content-type", "application/json")
    }
    pub fn bytes(mut self, b: impl Into<Vec<u8>>) -> Self {
        self.body = b.into();
        self
    }

    fn request(&self) -> hyper::Request<Full<Bytes>> {
        let mut b = hyper::Request::builder()
            .method(self.method)
            .uri(&self.path);
        let has = |n: &str| self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case(n));
        if !has("host") {
            b = b.header("host", &self.client.host);
        }
        if let (Some(t), false) = (&self.client.token, has("authorization")) {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        for (k, v) in &self.headers {
            b = b.header(k, v);
        }
        b.body(Full::new(Bytes::from(self.body.clone()))).unwrap()
    }

    /// Sends and reads the whole answer; a JSON answer is checked against the OpenAPI document.
    pub async fn send(self) -> Resp {
        let res = self.open().await;
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let body = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        let resp = Resp {
            status,
            headers,
            body,
        };
        let is_json = resp
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"));
        if is_json && self.path.starts_with("/v1/") {
            crate::openapi::check_response(self.method, &self.path, status, &resp.json());
        }
        resp
    }

    /// Sends and returns the answer with its body still streaming.
    pub async fn open(&self) -> hyper::Response<Incoming> {
        let stream = tokio::net::TcpStream::connect(self.client.addr)
            .await
            .unwrap();
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(async move {
            let _ = conn.await;
        });
        sender.send_request(self.request()).await.unwrap()
    }
}

/// Reads a streaming body until `done` says enough (on the text so far).
pub async fn read_until(
    res: &mut hyper::Response<Incoming>,
    done: impl Fn(&str) -> bool,
) -> String {
    let mut text = String::new();
    while !done(&text) {
        match res.body_mut().frame().await {
            Some(Ok(f)) => {
                if let Some(d) = f.data_ref() {
                    text.push_str(&String::from_utf8_lossy(d));
                }
            }
            _ => break,
        }
    }
    text
}

/// The SSE events in `text`: (id, event type, data).
pub fn sse_events(text: &str) -> Vec<(Option<i64>, String, Value)> {
    let mut out = Vec::new();
    for block in text.split("\n\n") {
        let (mut id, mut kind, mut data) = (None, String::from("message"), String::new());
        for line in block.lines() {
            if let Some(v) = line.strip_prefix("id:") {
                id = v.trim().parse().ok();
            } else if let Some(v) = line.strip_prefix("event:") {
                kind = v.trim().to_string();
            } else if let Some(v) = line.strip_prefix("data:") {
                data.push_str(v.trim_start());
            }
        }
        if !data.is_empty() {
            out.push((id, kind, serde_json::from_str(&data).unwrap_or(Value::Null)));
        }
    }
    out
}

/// Opens a browser session of `scope` (once per scope and server): the `Cookie` header to send
/// and the CSRF token for `X-Kura-CSRF`.
pub async fn browser_session(s: &TestServer, scope: Scope) -> (String, String) {
    let path = {
        let mut links = s.links.lock().unwrap();
        let i = links.iter().position(|(sc, _)| *sc == scope).unwrap();
        links.remove(i).1
    };
    let r = s.anonymous().get(&path).await;
    assert_eq!(r.status, 303);
    let cookie = |name: &str| {
        r.headers
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|c| c.starts_with(name))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let (session, csrf) = (cookie("kura_session="), cookie("kura_csrf="));
    let token = csrf.trim_start_matches("kura_csrf=").to_string();
    (format!("{session}; {csrf}"), token)
}

/// Path of the workspace's root (for the committed OpenAPI document).
pub fn repo_root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .canonicalize()
            .unwrap()
    })
}

/// Creates a project with one file and returns its id.
pub async fn project_with_file(c: &Client, name: &str, file: &str, content: &[u8]) -> String {
    let r = c
        .post("/v1/projects", serde_json::json!({"name": name}))
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    let r = c
        .call("PUT", format!("/v1/projects/{id}/files/{file}"))
        .bytes(content.to_vec())
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    id
}
