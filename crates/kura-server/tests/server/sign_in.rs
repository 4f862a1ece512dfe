//! Signing a browser in by pasting a token (`POST /v1/session`).

use std::time::{Duration, Instant};

use kura_server::Scope;
use serde_json::json;

use crate::harness::{browser_session, project_with_file, Client, Resp, TestServer};

/// The `Set-Cookie` headers of an answer.
fn set_cookies(r: &Resp) -> Vec<String> {
    r.headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

/// A cookie's attributes, its value left out.
fn attributes(cookies: &[String], name: &str) -> Vec<String> {
    let cookie = cookies
        .iter()
        .find(|c| c.starts_with(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name} cookie in {cookies:?}"));
    cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_string())
        .collect()
}

/// Pastes `token` as the page does: JSON, from the server's own origin.
async fn paste(s: &TestServer, token: &str) -> Resp {
    s.anonymous()
        .call("POST", "/v1/session")
        .header("origin", &format!("http://127.0.0.1:{}", s.addr.port()))
        .header("sec-fetch-site", "same-origin")
        .json(json!({ "token": token }))
        .send()
        .await
}

/// The `Cookie` header and CSRF token of the session an answer opened.
fn session_of(r: &Resp) -> (String, String) {
    let cookies = set_cookies(r);
    let pair = |name: &str| {
        cookies
            .iter()
            .find(|c| c.starts_with(&format!("{name}=")))
            .unwrap()
            .split(';')
            .next()
            .unwrap()
            .to_string()
    };
    let (session, csrf) = (pair("kura_session"), pair("kura_csrf"));
    let token = csrf.trim_start_matches("kura_csrf=").to_string();
    (format!("{session}; {csrf}"), token)
}

#[tokio::test]
async fn a_pasted_token_opens_the_session_a_link_would_with_its_scope() {
    let s = TestServer::start().await;
    let r = paste(&s, &format!("  {}\n", s.token(Scope::Admin))).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["scope"], "admin");
    assert_eq!(r.header("cache-control").as_deref(), Some("no-store"));
    let pasted = set_cookies(&r);
    // The same cookies, with the same attributes, as the one-time link sets.
    let link = s.anonymous().get(&link_path(&s).await).await;
    assert_eq!(link.status, 303);
    let linked = set_cookies(&link);
    for name in ["kura_session", "kura_csrf"] {
        assert_eq!(
            attributes(&pasted, name),
            attributes(&linked, name),
            "{name}"
        );
    }
    assert!(attributes(&pasted, "kura_session").contains(&"HttpOnly".to_string()));
    assert!(attributes(&pasted, "kura_session").contains(&"SameSite=Strict".to_string()));

    // The cookie is a session for what follows: reads, and changes with the CSRF header.
    let (cookie, csrf) = session_of(&r);
    let c = s.anonymous();
    let r = c
        .call("GET", "/v1/projects")
        .header("cookie", &cookie)
        .send()
        .await;
    assert_eq!(r.status, 200);
    let r = c
        .call("POST", "/v1/projects")
        .header("cookie", &cookie)
        .header("x-kura-csrf", &csrf)
        .json(json!({"name": "pasted"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let id = r.json()["id"].as_str().unwrap().to_string();
    // An admin session may destroy.
    let r = c
        .call("DELETE", format!("/v1/projects/{id}"))
        .header("cookie", &cookie)
        .header("x-kura-csrf", &csrf)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    s.stop().await;
}

/// A sign-in link's path, made over the API as `kura serve link` does.
async fn link_path(s: &TestServer) -> String {
    let r = s
        .client(Scope::Admin)
        .post("/v1/session/links", json!({}))
        .await;
    assert_eq!(r.status, 201);
    let url = r.json()["url"].as_str().unwrap().to_string();
    url[url.find("/v1/").unwrap()..].to_string()
}

#[tokio::test]
async fn a_read_token_gives_a_session_that_can_only_read() {
    let s = TestServer::start().await;
    let admin = s.client(Scope::Admin);
    let id = project_with_file(&admin, "site", "a.txt", b"a").await;
    let r = paste(&s, &s.token(Scope::Read)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["scope"], "read");
    let (cookie, csrf) = session_of(&r);
    let c = s.anonymous();
    let with_session = |method: &'static str, path: String| {
        c.call(method, path)
            .header("cookie", &cookie)
            .header("x-kura-csrf", &csrf)
    };
    assert_eq!(
        with_session("GET", format!("/v1/projects/{id}"))
            .send()
            .await
            .status,
        200
    );
    let r = with_session("POST", "/v1/projects".into())
        .json(json!({"name": "nope"}))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    let r = with_session("DELETE", format!("/v1/projects/{id}"))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    // Nor can it make itself a stronger session: links are for admins.
    let r = with_session("POST", "/v1/session/links".into())
        .json(json!({"scope": "admin"}))
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    assert_eq!(admin.get(&format!("/v1/projects/{id}")).await.status, 200);

    // A write token: changes, but no destruction.
    let (cookie, csrf) = session_of(&paste(&s, &s.token(Scope::Write)).await);
    let r = c
        .call("DELETE", format!("/v1/projects/{id}"))
        .header("cookie", &cookie)
        .header("x-kura-csrf", &csrf)
        .send()
        .await;
    assert_eq!((r.status, r.code().as_str()), (403, "forbidden"));
    s.stop().await;
}

#[tokio::test]
async fn a_wrong_token_is_401_without_a_cookie_and_held_back_like_a_wrong_bearer() {
    let s = TestServer::start().await;
    let real = s.token(Scope::Admin);
    let last = if real.ends_with('0') { '1' } else { '0' };
    let wrong = format!("{}{last}", &real[..real.len() - 1]);
    let r = paste(&s, &wrong).await;
    assert_eq!((r.status, r.code().as_str()), (401, "unauthorized"));
    assert!(set_cookies(&r).is_empty(), "{:?}", set_cookies(&r));
    let said = String::from_utf8_lossy(&r.body).to_string();
    assert!(said.contains("not valid for this server"), "{said}");
    assert!(
        !said.contains(&wrong),
        "the answer repeats the token: {said}"
    );
    for token in ["", &real[..real.len() - 1]] {
        let r = paste(&s, token).await;
        assert_eq!(r.status, 401, "{token}");
        assert!(set_cookies(&r).is_empty());
    }
    // Three failures so far: the next is held back (100 ms doubling per failure, up to 5 s), and
    // so is a wrong bearer token, which counts with them.
    let start = Instant::now();
    assert_eq!(paste(&s, &wrong).await.status, 401);
    assert!(
        start.elapsed() >= Duration::from_millis(800),
        "{:?}",
        start.elapsed()
    );
    let start = Instant::now();
    let bearer = Client {
        token: Some(wrong.clone()),
        ..s.anonymous()
    };
    assert_eq!(bearer.get("/v1/projects").await.status, 401);
    assert!(
        start.elapsed() >= Duration::from_millis(1600),
        "{:?}",
        start.elapsed()
    );
    // The right token still works, and forgives the client.
    assert_eq!(paste(&s, &real).await.status, 200);
    let start = Instant::now();
    assert_eq!(paste(&s, &wrong).await.status, 401);
    assert!(
        start.elapsed() < Duration::from_millis(1000),
        "{:?}",
        start.elapsed()
    );
    s.stop().await;
}

#[tokio::test]
async fn another_web_page_cannot_sign_a_browser_in() {
    let s = TestServer::start().await;
    let token = s.token(Scope::Admin);
    let c = s.anonymous();
    // Another site; another port on the same machine (another origin, but the same site); a
    // browser that says the request is cross-site.
    let other_pages: [&[(&str, &str)]; 3] = [
        &[("origin", "https://evil.example")],
        &[
            ("origin", "http://127.0.0.1:1"),
            ("sec-fetch-site", "same-site"),
        ],
        &[("sec-fetch-site", "cross-site")],
    ];
    for headers in other_pages {
        let mut call = c.call("POST", "/v1/session");
        for (name, value) in headers {
            call = call.header(name, value);
        }
        let r = call.json(json!({ "token": token })).send().await;
        assert_eq!(
            (r.status, r.code().as_str()),
            (403, "forbidden"),
            "{headers:?}"
        );
        assert!(set_cookies(&r).is_empty(), "{headers:?}");
    }
    // A plain HTML form (which needs no preflight) cannot send JSON.
    let r = c
        .call("POST", "/v1/session")
        .header("content-type", "application/x-www-form-urlencoded")
        .bytes(format!("token={token}"))
        .send()
        .await;
    assert!(r.status >= 400 && r.status < 500, "{}", r.status);
    assert!(set_cookies(&r).is_empty());
    // A foreign Host (DNS rebinding) is refused before anything.
    let r = c
        .call("POST", "/v1/session")
        .header("host", "evil.example")
        .json(json!({ "token": token }))
        .send()
        .await;
    assert_eq!(r.status, 421);
    assert!(set_cookies(&r).is_empty());
    // The session a link opened (with its CSRF header) may sign in again with another token.
    let (cookie, csrf) = browser_session(&s, Scope::Read).await;
    let r = c
        .call("POST", "/v1/session")
        .header("cookie", &cookie)
        .header("x-kura-csrf", &csrf)
        .json(json!({ "token": token }))
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["scope"], "admin");
    s.stop().await;
}
