//! The HTTP side: routes per dialect, taking turns in order, logging, delays and hangs.

use std::fs::File;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};
use tokio::sync::watch;

use super::log::{self, Dialect, LoggedRequest};
use super::script::{Action, ErrorReply, Script, Turn};
use super::wire::{self, Reply, Summary};
use super::{anthropic, chat, gemini, responses};

/// What every connection shares: the script, where it stands, and the log.
#[derive(Debug)]
pub(super) struct Shared {
    script: Script,
    inner: Mutex<Inner>,
    /// How many requests have been logged, for those who wait on it.
    seen: watch::Sender<usize>,
    /// Turns true when the server stops; hanging requests end then.
    stop: watch::Receiver<bool>,
}

#[derive(Debug)]
struct Inner {
    next_turn: usize,
    requests: Vec<LoggedRequest>,
    log_file: Option<File>,
}

impl Shared {
    /// Shared state for a server that plays `script` and stops when `stop` turns true.
    pub(super) fn new(
        script: Script,
        log_file: Option<File>,
        stop: watch::Receiver<bool>,
    ) -> Shared {
        Shared {
            script,
            inner: Mutex::new(Inner {
                next_turn: 0,
                requests: Vec::new(),
                log_file,
            }),
            seen: watch::Sender::new(0),
            stop,
        }
    }

    /// Every request logged so far, in arrival order.
    pub(super) fn requests(&self) -> Vec<LoggedRequest> {
        self.lock().requests.clone()
    }

    /// A receiver of the number of requests logged so far.
    pub(super) fn seen(&self) -> watch::Receiver<usize> {
        self.seen.subscribe()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Logs a request that takes no turn; returns its serial number.
    fn log(&self, request: LoggedRequest) -> usize {
        self.record(request, false).0
    }

    /// Logs a model request and takes the next turn for it (or answers it with the first
    /// matching aside, which takes no turn), in one step so the log's order is the turns'
    /// order. Returns the request's serial number and its turn.
    fn take_turn(&self, request: LoggedRequest) -> (usize, Turn) {
        self.record(request, true)
    }

    fn record(&self, mut request: LoggedRequest, takes_turn: bool) -> (usize, Turn) {
        let mut inner = self.lock();
        let aside = takes_turn
            .then(|| {
                self.script
                    .aside
                    .iter()
                    .position(|aside| aside.when.matches(&request))
            })
            .flatten();
        let turn = if let Some(index) = aside {
            request.aside = Some(index + 1);
            self.script.aside[index].turn.clone()
        } else if takes_turn {
            let index = inner.next_turn;
            inner.next_turn += 1;
            match self.script.turns.get(index) {
                Some(turn) => {
                    request.turn = Some(index + 1);
                    turn.clone()
                }
                None => self.script.when_exhausted.clone(),
            }
        } else {
            self.script.when_exhausted.clone()
        };
        if let Some(file) = inner.log_file.as_mut() {
            log::append(file, &request);
        }
        inner.requests.push(request);
        let serial = inner.requests.len();
        self.seen.send_replace(serial);
        (serial, turn)
    }

    async fn stopped(&self) {
        let mut stop = self.stop.clone();
        // A dropped sender means the server is going away: stopped as well.
        let _ = stop.wait_for(|stopped| *stopped).await;
    }
}

/// The router serving every dialect from `shared`.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/", get(probe))
        .route("/v1/messages", post(anthropic_messages))
        .route("/v1/messages/count_tokens", post(anthropic_count_tokens))
        .route("/v1/responses", post(openai_responses))
        .route("/v1/chat/completions", post(openai_chat))
        .route("/v1/models", get(list_models))
        .route("/api/tags", get(ollama_tags))
        .route("/v1beta/models/{target}", post(gemini_models))
        .route("/v1/models/{target}", post(gemini_models))
        .fallback(unknown)
        .with_state(shared)
}

type SharedState = State<Arc<Shared>>;

fn path_of(uri: &Uri) -> String {
    uri.path_and_query()
        .map_or_else(|| uri.path().to_owned(), |path| path.as_str().to_owned())
}

/// `HEAD /` and `GET /`: Claude Code checks the server is there before it starts.
async fn probe(State(shared): SharedState, method: Method, uri: Uri) -> Response {
    shared.log(LoggedRequest::plain(method.as_str(), &path_of(&uri)));
    StatusCode::OK.into_response()
}

async fn unknown(State(shared): SharedState, method: Method, uri: Uri) -> Response {
    let path = path_of(&uri);
    shared.log(LoggedRequest::plain(method.as_str(), &path));
    let body = json!({"error": {"message": format!("the fake LLM server has no {method} {path}")}});
    wire::json_response(StatusCode::NOT_FOUND, &body)
}

async fn list_models(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    shared.log(LoggedRequest::plain(method.as_str(), &path_of(&uri)).with_auth(&headers, &uri));
    wire::json_response(StatusCode::OK, &chat::models(&shared.script.models))
}

/// `GET /api/tags`: Ollama's own list of the models it has pulled.
async fn ollama_tags(State(shared): SharedState, method: Method, uri: Uri) -> Response {
    shared.log(LoggedRequest::plain(method.as_str(), &path_of(&uri)));
    wire::json_response(StatusCode::OK, &chat::ollama_tags(&shared.script.models))
}

async fn anthropic_messages(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let turn = Exchange {
        shared: &shared,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        dialect: Dialect::AnthropicMessages,
    };
    turn.answer(anthropic::summarize, anthropic::error, anthropic::reply)
        .await
}

async fn anthropic_count_tokens(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    shared.log(LoggedRequest::plain(method.as_str(), &path_of(&uri)));
    wire::json_response(StatusCode::OK, &anthropic::count_tokens(body.len()))
}

async fn openai_responses(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let turn = Exchange {
        shared: &shared,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        dialect: Dialect::OpenaiResponses,
    };
    turn.answer(responses::summarize, responses::error, responses::reply)
        .await
}

async fn openai_chat(
    State(shared): SharedState,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let turn = Exchange {
        shared: &shared,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        dialect: Dialect::OpenaiChat,
    };
    turn.answer(chat::summarize, chat::error, chat::reply).await
}

async fn gemini_models(
    State(shared): SharedState,
    Path(target): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((model, gemini_method)) = gemini::parse_target(&target) else {
        return unknown(State(shared), method, uri).await;
    };
    if gemini_method == gemini::Method::CountTokens {
        shared.log(LoggedRequest::plain(method.as_str(), &path_of(&uri)));
        return wire::json_response(StatusCode::OK, &gemini::count_tokens(body.len()));
    }
    let stream = gemini_method == gemini::Method::Stream;
    let sse = uri
        .query()
        .is_some_and(|query| query.split('&').any(|pair| pair == "alt=sse"));
    let turn = Exchange {
        shared: &shared,
        method: &method,
        uri: &uri,
        headers: &headers,
        body: &body,
        dialect: Dialect::Gemini,
    };
    let summarize = move |body: &Value| Summary {
        model: Some(model.clone()),
        stream: Some(stream),
        ..gemini::summarize(body)
    };
    turn.answer(summarize, gemini::error, move |reply: &Reply<'_>| {
        gemini::reply(reply, sse)
    })
    .await
}

/// One model request on its way to an answer.
struct Exchange<'a> {
    shared: &'a Shared,
    method: &'a Method,
    uri: &'a Uri,
    headers: &'a HeaderMap,
    body: &'a Bytes,
    dialect: Dialect,
}

impl Exchange<'_> {
    /// Logs the request, takes its turn, waits out the turn's delay and answers as the turn
    /// says in the dialect's words.
    async fn answer(
        &self,
        summarize: impl Fn(&Value) -> Summary,
        error: fn(&ErrorReply) -> Response,
        render: impl Fn(&Reply<'_>) -> Response,
    ) -> Response {
        let path = path_of(self.uri);
        let request: Value = match serde_json::from_slice(self.body) {
            Ok(value) => value,
            Err(err) => {
                let mut logged = LoggedRequest::plain(self.method.as_str(), &path)
                    .with_auth(self.headers, self.uri);
                logged.dialect = Some(self.dialect);
                self.shared.log(logged);
                return error(&ErrorReply {
                    status: 400,
                    retry_after: None,
                    retry_after_as_date: false,
                    in_stream: false,
                    body: Some(format!("the request body is not JSON: {err}")),
                });
            }
        };
        let summary = summarize(&request);
        let model = summary
            .model
            .clone()
            .or_else(|| self.shared.script.models.first().cloned())
            .unwrap_or_default();
        let stream = summary.stream.unwrap_or(false);
        let logged = LoggedRequest::model_request(
            self.method.as_str(),
            &path,
            self.dialect,
            &request,
            summary,
        )
        .with_auth(self.headers, self.uri);
        let (serial, turn) = self.shared.take_turn(logged);
        if !turn.delay.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(turn.delay) => {}
                () = self.shared.stopped() => return shutting_down(error),
            }
        }
        match &turn.action {
            Action::Hang => {
                self.shared.stopped().await;
                shutting_down(error)
            }
            Action::Error(reply) if reply.in_stream => wire::stream_error(self.dialect, reply),
            Action::Error(reply) => error(reply),
            Action::Reply { text, tool_calls } => render(&Reply {
                text,
                tool_calls,
                usage: turn.usage_for(self.body.len()),
                model: &model,
                stream,
                serial,
                request: &request,
            }),
        }
    }
}

fn shutting_down(error: fn(&ErrorReply) -> Response) -> Response {
    error(&ErrorReply {
        status: 503,
        retry_after: None,
        retry_after_as_date: false,
        in_stream: false,
        body: Some("the fake LLM server is shutting down".to_owned()),
    })
}
