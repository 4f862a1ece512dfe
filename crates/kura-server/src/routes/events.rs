//! `GET /v1/events`: the event log as Server-Sent Events or NDJSON, from an id on. A client
//! that reconnects with `Last-Event-ID` (or `?since=`) gets every later event exactly once; one
//! that asks for events the log no longer keeps is told so with a `gap` event first; one that
//! asks for events after an id the log never reached (an id kept from another vault, or from a
//! log since reset) is told with a `reset` event, then gets every event from the log's end on.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap};
use axum::response::sse::{Event as SseEvent, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use kura_api::{Api, Event};
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use tokio_util::sync::CancellationToken;
use utoipa::IntoParams;

use super::St;
use crate::body::Query;
use crate::error::{HttpError, HttpResult};

/// How often an idle stream sends a keep-alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// How often a stream looks in the log for events of other processes.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// Events read from the log per page when catching up.
const PAGE: usize = 500;

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct EventsQuery {
    /// Events after this id (the `Last-Event-ID` header wins). Without either, only new events.
    pub since: Option<i64>,
    /// Comma-separated types; `operation.*` matches by prefix. All when absent.
    pub types: Option<String>,
    /// `ndjson` for one Event JSON per line instead of SSE (or `Accept: application/x-ndjson`).
    pub format: Option<String>,
}

enum Item {
    Event(Event),
    Gap(i64),
    /// The id asked for is past the log's end (`since`), which is at `last_id`.
    Reset {
        since: i64,
        last_id: i64,
    },
    KeepAlive,
}

struct Follow {
    api: Arc<Api>,
    after: i64,
    types: Vec<String>,
    rx: tokio::sync::broadcast::Receiver<Event>,
    backlog: VecDeque<Event>,
    catch_up: bool,
    /// A `reset` to send first.
    reset: Option<Item>,
    /// When the stream last sent something (a keep-alive is due 15 s after).
    sent_at: tokio::time::Instant,
    stop: CancellationToken,
}

impl Follow {
    /// Following the log from `asked` (`None`: only new events), the log's last id being `last`.
    fn new(
        api: Arc<Api>,
        types: Vec<String>,
        rx: tokio::sync::broadcast::Receiver<Event>,
        stop: CancellationToken,
        asked: Option<i64>,
        last: i64,
    ) -> Follow {
        let (after, catch_up, reset) = match asked {
            // Past the end: waiting for the log to reach it would be silence for as long.
            Some(id) if id > last => (
                last,
                false,
                Some(Item::Reset {
                    since: id,
                    last_id: last,
                }),
            ),
            Some(id) => (id.max(0), true, None),
            None => (last, false, None),
        };
        Follow {
            api,
            after,
            types,
            rx,
            backlog: VecDeque::new(),
            catch_up,
            reset,
            sent_at: tokio::time::Instant::now(),
            stop,
        }
    }

    async fn next(&mut self) -> Option<Item> {
        if let Some(reset) = self.reset.take() {
            return Some(reset);
        }
        loop {
            if let Some(e) = self.backlog.pop_front() {
                self.after = self.after.max(e.id);
                self.sent_at = tokio::time::Instant::now();
                return Some(Item::Event(e));
            }
            if self.catch_up {
                let (api, after, types) = (self.api.clone(), self.after, self.types.clone());
                let page =
                    tokio::task::spawn_blocking(move || api.events().since(after, &types, PAGE))
                        .await
                        .ok()?
                        .ok()?;
                if page.events.len() < PAGE {
                    self.catch_up = false;
                }
                // Past what was looked at, matching or not: the next look starts there.
                self.after = self.after.max(page.scanned);
                self.backlog.extend(page.events);
                if page.gap {
                    return Some(Item::Gap(after));
                }
                continue;
            }
            // Events are delivered from the log, in the order of their ids, so that events
            // other processes wrote (the desktop app, `kura mcp`, the CLI) come in their place
            // too: a live event only says when to look, and so does a look every second.
            tokio::select! {
                _ = self.stop.cancelled() => return None,
                r = tokio::time::timeout(LOOK_EVERY, self.rx.recv()) => match r {
                    Err(_) => {
                        if self.sent_at.elapsed() >= KEEP_ALIVE {
                            self.sent_at = tokio::time::Instant::now();
                            return Some(Item::KeepAlive);
                        }
                        self.catch_up = true;
                    }
                    Ok(Ok(e)) if e.id == 0 => {
                        // An event the log could not keep: delivered live only.
                        if kura_api::matches_types(&e.kind, &self.types) {
                            self.sent_at = tokio::time::Instant::now();
                            return Some(Item::Event(e));
                        }
                    }
                    Ok(Ok(e)) => {
                        if e.id > self.after {
                            self.catch_up = true;
                        }
                    }
                    Ok(Err(RecvError::Lagged(_))) => self.catch_up = true,
                    Ok(Err(RecvError::Closed)) => return None,
                },
            }
        }
    }
}

/// The event stream (`text/event-stream`, or `application/x-ndjson`).
#[utoipa::path(get, path = "/v1/events", operation_id = "streamEvents", tag = "events", params(EventsQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", body = kura_api::Event,
        description = "SSE: `id:` the event id, `event:` its type, `data:` the Event JSON; a `gap` event `{\"since\": N}` when events after N were pruned; a `reset` event `{\"since\": N, \"last_id\": L}` when N is past the log's end L (an id from another vault, or a log since reset: start over from L); keep-alive comments every 15 s. With `?format=ndjson`, one Event per line.")))]
pub async fn events(
    st: St,
    headers: HeaderMap,
    Query(q): Query<EventsQuery>,
) -> HttpResult<Response> {
    let last_event_id = last_event_id(&headers)?;
    let types = wanted_types(q.types.as_deref());
    let ndjson = q.format.as_deref() == Some("ndjson")
        || headers
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.contains("application/x-ndjson"));
    // Subscribe before reading the log, so nothing falls between the two.
    let rx = st.api.events().subscribe();
    let api = st.api.clone();
    let last = tokio::task::spawn_blocking(move || api.events().last_id())
        .await
        .map_err(|e| HttpError::internal(e.to_string()))??;
    let follow = Follow::new(
        st.api.clone(),
        types,
        rx,
        st.stopping.clone(),
        last_event_id.or(q.since),
        last,
    );
    let items =
        futures_util::stream::unfold(
            follow,
            |mut f| async move { f.next().await.map(|i| (i, f)) },
        );
    if ndjson {
        let lines = items.map(|item| Ok::<_, Infallible>(Bytes::from(ndjson_line(item))));
        return Ok((
            [
                (header::CONTENT_TYPE, "application/x-ndjson"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            Body::from_stream(lines),
        )
            .into_response());
    }
    let sse = items.map(|item| Ok::<_, Infallible>(sse_event(item)));
    Ok(([(header::CACHE_CONTROL, "no-store")], Sse::new(sse)).into_response())
}

/// The `Last-Event-ID` header's id, if sent.
fn last_event_id(headers: &HeaderMap) -> HttpResult<Option<i64>> {
    headers
        .get("last-event-id")
        .and_then(|v| v.to_str().ok())
        .map(|v| {
            v.trim()
                .parse::<i64>()
                .map_err(|_| HttpError::invalid("Last-Event-ID must be an event id (a number)"))
        })
        .transpose()
}

/// The event types of `?types=` (comma-separated); none: all.
fn wanted_types(types: Option<&str>) -> Vec<String> {
    types
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// One line of the NDJSON stream: an event, a `gap` or `reset` object, or an empty line to
/// keep the connection alive.
fn ndjson_line(item: Item) -> String {
    match item {
        Item::Event(e) => serde_json::to_string(&e).unwrap_or_default() + "\n",
        Item::Gap(since) => serde_json::json!({"id": 0, "at": now_ms(), "type": "gap", "project_id": null, "data": {"since": since}}).to_string() + "\n",
        Item::Reset { since, last_id } => serde_json::json!({"id": 0, "at": now_ms(), "type": "reset", "project_id": null, "data": {"since": since, "last_id": last_id}}).to_string() + "\n",
        Item::KeepAlive => "\n".to_string(),
    }
}

/// One Server-Sent Event: an event with its id and type, a `gap` or a `reset`, or a
/// keep-alive comment.
fn sse_event(item: Item) -> SseEvent {
    match item {
        Item::Event(e) => {
            let mut ev = SseEvent::default().event(e.kind.clone());
            if e.id > 0 {
                ev = ev.id(e.id.to_string());
            }
            ev.json_data(&e)
                .unwrap_or_else(|_| SseEvent::default().comment("unserializable event"))
        }
        Item::Gap(since) => SseEvent::default()
            .event("gap")
            .data(serde_json::json!({"since": since}).to_string()),
        Item::Reset { since, last_id } => SseEvent::default()
            .event("reset")
            .data(serde_json::json!({"since": since, "last_id": last_id}).to_string()),
        Item::KeepAlive => SseEvent::default().comment("keep-alive"),
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
