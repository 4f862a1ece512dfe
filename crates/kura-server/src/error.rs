//! Errors on the wire: `{ code, message }` with the HTTP status the code calls for. The codes are
//! the service layer's ([`kura_api::ErrorCode`]) plus what only an HTTP door can say.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use kura_api::{ApiError, ErrorCode};
use serde::Serialize;
use utoipa::ToSchema;

/// Every error code an HTTP client can meet; switch on it, never on the message.
#[derive(Serialize, ToSchema, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum HttpErrorCode {
    NotFound,
    InvalidInput,
    AlreadyExists,
    Conflict,
    PathEscape,
    QuotaExceeded,
    DiskFull,
    Corrupt,
    Busy,
    Cancelled,
    Io,
    Internal,
    Unavailable,
    WrongPassphrase,
    /// No token, or a wrong one.
    Unauthorized,
    /// The token's scope does not allow this, or the request came from another site.
    Forbidden,
    /// The Host header is not one this server answers to (DNS rebinding).
    Misdirected,
    /// The request body is larger than the server accepts.
    PayloadTooLarge,
    /// Too many failed attempts; wait a little.
    TooManyRequests,
    /// The request took longer than the server allows, or its body stopped arriving.
    Timeout,
    /// The request itself is malformed (a body that cannot be read as sent, duplicate headers).
    BadRequest,
    /// The path exists but not with this method (the `Allow` header lists those it has).
    MethodNotAllowed,
}

impl From<ErrorCode> for HttpErrorCode {
    fn from(code: ErrorCode) -> HttpErrorCode {
        match code {
            ErrorCode::NotFound => HttpErrorCode::NotFound,
            ErrorCode::InvalidInput => HttpErrorCode::InvalidInput,
            ErrorCode::AlreadyExists => HttpErrorCode::AlreadyExists,
            ErrorCode::Conflict => HttpErrorCode::Conflict,
            ErrorCode::PathEscape => HttpErrorCode::PathEscape,
            ErrorCode::QuotaExceeded => HttpErrorCode::QuotaExceeded,
            ErrorCode::DiskFull => HttpErrorCode::DiskFull,
            ErrorCode::Corrupt => HttpErrorCode::Corrupt,
            ErrorCode::Busy => HttpErrorCode::Busy,
            ErrorCode::Cancelled => HttpErrorCode::Cancelled,
            ErrorCode::Io => HttpErrorCode::Io,
            ErrorCode::Internal => HttpErrorCode::Internal,
            ErrorCode::Unavailable => HttpErrorCode::Unavailable,
            ErrorCode::WrongPassphrase => HttpErrorCode::WrongPassphrase,
        }
    }
}

impl HttpErrorCode {
    /// The HTTP status this code is answered with (the table in the API contract).
    pub fn status(self) -> StatusCode {
        use HttpErrorCode as C;
        match self {
            C::NotFound => StatusCode::NOT_FOUND,
            C::InvalidInput | C::PathEscape | C::WrongPassphrase => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            C::AlreadyExists | C::Conflict | C::Busy | C::Cancelled => StatusCode::CONFLICT,
            C::QuotaExceeded | C::DiskFull => StatusCode::INSUFFICIENT_STORAGE,
            C::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            C::Corrupt | C::Io | C::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            C::Unauthorized => StatusCode::UNAUTHORIZED,
            C::Forbidden => StatusCode::FORBIDDEN,
            C::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            C::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            C::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            C::Timeout => StatusCode::REQUEST_TIMEOUT,
            C::BadRequest => StatusCode::BAD_REQUEST,
            C::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        }
    }
}

/// An error answer: `{ code, message }`.
/// (`HttpError` in the OpenAPI document: the service layer's `ApiError` codes plus the door's.)
#[derive(Serialize, ToSchema, Debug, Clone)]
pub struct HttpError {
    /// What kind of failure; switch on this.
    pub code: HttpErrorCode,
    /// What happened, to what, and what to do.
    pub message: String,
    /// What the error is about (a form field, a project, a target), when the engine knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<kura_api::Subject>,
    /// The operation that failed or was cancelled, when a long operation was waited for
    /// (`?wait=true`); its URL is in the `Location` header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<Box<kura_api::Operation>>,
    /// Seconds after which trying again may work (sent as `Retry-After`).
    #[serde(skip)]
    pub retry_after: Option<u64>,
}

impl HttpError {
    pub fn new(code: HttpErrorCode, message: impl Into<String>) -> HttpError {
        HttpError {
            code,
            message: message.into(),
            subject: None,
            operation: None,
            retry_after: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> HttpError {
        HttpError::new(HttpErrorCode::InvalidInput, message)
    }

    pub fn forbidden(message: impl Into<String>) -> HttpError {
        HttpError::new(HttpErrorCode::Forbidden, message)
    }

    pub fn bad_request(message: impl Into<String>) -> HttpError {
        HttpError::new(HttpErrorCode::BadRequest, message)
    }

    pub fn internal(message: impl Into<String>) -> HttpError {
        HttpError::new(HttpErrorCode::Internal, message)
    }
}

impl From<ApiError> for HttpError {
    fn from(e: ApiError) -> HttpError {
        HttpError {
            code: e.code.into(),
            message: e.message,
            subject: e.subject,
            operation: None,
            retry_after: None,
        }
    }
}

impl From<kura_core::Error> for HttpError {
    fn from(e: kura_core::Error) -> HttpError {
        ApiError::from(e).into()
    }
}

impl IntoResponse for HttpError {
    fn into_response(self) -> Response {
        let retry_after = self.retry_after;
        let mut res = (self.code.status(), axum::Json(self)).into_response();
        if let Some(secs) = retry_after {
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        }
        if res.status() == StatusCode::UNAUTHORIZED {
            // How to authenticate (RFC 9110): a bearer token.
            res.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"kura\""),
            );
        }
        if res.status() == StatusCode::REQUEST_TIMEOUT {
            // What is left of the request is not read: the connection cannot carry another.
            res.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        res
    }
}

/// What handlers return.
pub type HttpResult<T> = Result<T, HttpError>;
