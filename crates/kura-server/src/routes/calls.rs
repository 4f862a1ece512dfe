//! The routes of the service's calls that say where they are on HTTP, written from their one
//! declaration ([`kura_api::for_each_call!`]). An entry says it after its operation:
//!
//! ```text
//! fn rename_workspace(#[path] name: String, new_name: String) -> kura_core::Workspace {
//!     writes()...;
//!     http(patch, "/v1/workspaces/{name}", tag = "workspaces");
//!     |api| api.rename_workspace(&name, &new_name)
//! }
//! ```
//!
//! Each argument has a place in the request: `#[path]` (a `{parameter}` of the path, named as
//! the argument), `#[query]`, `#[queries]` (a struct whose fields are the query's parameters),
//! `#[body]` (the whole JSON body), or, unmarked, a field of the JSON body named as the argument
//! (`#[default]`: one that may be left out). An argument's `///` documentation describes its
//! parameter or field. After the tag, `created` answers 201 and `done` answers `{"ok": true}`
//! (for a call that gives nothing). A long call answers 202 with its operation (`?wait=true`
//! waits for it), its project the path's `{id}` under `/v1/projects`.
//!
//! Each such call gets a module of its name, with its handler (`handler`, with its
//! `#[utoipa::path]`, so the router and the OpenAPI document take the route from the same
//! place), the structs of its path, query and body (named `<Call>Body` in the document, see
//! `openapi::name_call_bodies`), and [`routes`] registers them all. Every handler reads its
//! input with the door's extractors (`crate::body`), so a bad request is refused in the API's
//! error shape, a body field the call does not take by name. The calls whose HTTP form is not a
//! mapping of their arguments keep hand-written handlers (`routes/*.rs`): bytes streamed, a path
//! on the server's machine, a dry run that needs less than the run, one call answering several
//! operations.

use std::sync::Arc;

use axum::extract::RawPathParams;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use kura_api::calls::{self, kinds};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{blocking, done, json, long, Done, St, Wait};
use crate::body::{Json, Path, Query};
use crate::error::HttpResult;
use crate::AppState;

/// What a long call's 202 says it will produce: `started; result: ArchiveInfo` (`Project[]` for
/// a list), which the document's finishing pass reads (`openapi::result_of`).
pub(crate) fn started<T>() -> String {
    fn short(name: &str) -> &str {
        let name = name.split('<').next().unwrap_or(name);
        name.rsplit("::").next().unwrap_or(name)
    }
    let full = std::any::type_name::<T>();
    let result = match full.strip_prefix("alloc::vec::Vec<") {
        Some(item) => format!("{}[]", short(item.trim_end_matches('>'))),
        None => short(full).to_string(),
    };
    format!("started; result: {result}")
}

/// The project a long call's operation concerns: the `{id}` of a path under `/v1/projects`.
fn project_of(path: &str, params: &RawPathParams) -> Option<String> {
    if !path.starts_with("/v1/projects/{id}") {
        return None;
    }
    params
        .iter()
        .find(|(name, _)| *name == "id")
        .map(|(_, value)| value.to_string())
}

macro_rules! http_calls {
    // The handler of an entry that says where it is on HTTP; nothing for the others.
    (@call $meta:tt $name:ident $args:tt [$out:ty] {
        $declared:expr; http($($http:tt)*); mcp($($mcp:tt)*); $($run:tt)*
    }) => {
        http_calls!(@call $meta $name $args [$out] { $declared; http($($http)*); $($run)* });
    };
    (@call $meta:tt $name:ident $args:tt [$out:ty] {
        $declared:expr; http($($http:tt)*); $($run:tt)*
    }) => {
        http_calls!(@split [$meta $name [$out] [$($http)*] [$($run)*]] [] [] [] [] [] [] [] $args);
    };
    (@call $($rest:tt)*) => {};

    // Sorts the arguments by their place, keeping their order: the path, the query, a struct
    // spread over the query, the whole body, the body's fields; an argument's documentation
    // goes with it (the last list holds it until its argument comes).
    (@split $ctx:tt $all:tt $p:tt $q:tt $s:tt $w:tt $f:tt $doc:tt []) => {
        http_calls!(@make $ctx $all $p $q $s $w $f);
    };
    (@split $ctx:tt $all:tt $p:tt $q:tt $s:tt $w:tt $f:tt [$($doc:tt)*]
        [#[doc = $d:literal] $($rest:tt)*]) => {
        http_calls!(@split $ctx $all $p $q $s $w $f [$($doc)* #[doc = $d]] [$($rest)*]);
    };
    (@split $ctx:tt [$($all:ident)*] [$($p:tt)*] $q:tt $s:tt $w:tt $f:tt [$($doc:tt)*]
        [#[path] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] [$($p)* {$($doc)*} $a: $t,] $q $s $w $f []
            [$($($rest)*)?]);
    };
    (@split $ctx:tt [$($all:ident)*] $p:tt [$($q:tt)*] $s:tt $w:tt $f:tt [$($doc:tt)*]
        [#[query] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] $p [$($q)* {$($doc)*} $a: $t,] $s $w $f []
            [$($($rest)*)?]);
    };
    (@split $ctx:tt [$($all:ident)*] $p:tt $q:tt [] $w:tt $f:tt $doc:tt
        [#[queries] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] $p $q [$a: $t,] $w $f [] [$($($rest)*)?]);
    };
    (@split $ctx:tt [$($all:ident)*] $p:tt $q:tt $s:tt [] $f:tt $doc:tt
        [#[body] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] $p $q $s [$a: $t,] $f [] [$($($rest)*)?]);
    };
    (@split $ctx:tt [$($all:ident)*] $p:tt $q:tt $s:tt $w:tt [$($f:tt)*] [$($doc:tt)*]
        [#[default] $a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] $p $q $s $w
            [$($f)* {$($doc)* #[serde(default)]} $a: $t,] [] [$($($rest)*)?]);
    };
    (@split $ctx:tt [$($all:ident)*] $p:tt $q:tt $s:tt $w:tt [$($f:tt)*] [$($doc:tt)*]
        [$a:ident : $t:ty $(, $($rest:tt)*)?]) => {
        http_calls!(@split $ctx [$($all)* $a] $p $q $s $w [$($f)* {$($doc)*} $a: $t,] []
            [$($($rest)*)?]);
    };

    // The module of the call, with its path and query structs; then its body.
    (@make [$meta:tt $name:ident [$out:ty] $http:tt $run:tt] $all:tt
        [$({$($pm:tt)*} $pa:ident : $pt:ty,)*] [$({$($qm:tt)*} $qa:ident : $qt:ty,)*] []
        $whole:tt $fields:tt) => {
        http_calls!(@module [$meta $name [$out] $http $run $all [$($pa)*] [$($qa)*]
            [Query(QueryArgs { $($qa),* }): Query<QueryArgs>,] [QueryArgs]]
            [$({$($pm)*} $pa: $pt,)*] [$({$($qm)*} $qa: $qt,)*] $whole $fields);
    };
    (@make [$meta:tt $name:ident [$out:ty] $http:tt $run:tt] $all:tt
        [$({$($pm:tt)*} $pa:ident : $pt:ty,)*] [] [$sa:ident : $st:ty,] $whole:tt $fields:tt) => {
        http_calls!(@module [$meta $name [$out] $http $run $all [$($pa)*] []
            [Query($sa): Query<$st>,] [$st]]
            [$({$($pm)*} $pa: $pt,)*] [] $whole $fields);
    };
    (@module [$meta:tt $name:ident $($ctx:tt)*]
        [$({$(#[$pm:meta])*} $pa:ident : $pt:ty,)*] [$({$(#[$qm:meta])*} $qa:ident : $qt:ty,)*]
        $whole:tt $fields:tt) => {
        #[doc = concat!("The HTTP route of `", stringify!($name), "`.")]
        pub(crate) mod $name {
            use super::*;

            /// The path's parameters.
            #[derive(Deserialize, IntoParams)]
            #[into_params(parameter_in = Path)]
            pub struct PathArgs {
                $($(#[$pm])* pub $pa: $pt,)*
            }

            /// The query's parameters (a long call has none but `Wait`'s, and reads those).
            #[derive(Deserialize, IntoParams)]
            #[allow(dead_code)]
            #[into_params(parameter_in = Query)]
            pub struct QueryArgs {
                $($(#[$qm])* pub $qa: $qt,)*
            }

            http_calls!(@body [$meta $name $($ctx)*] $whole $fields);
        }
    };

    // The body: none, the whole body, or a struct of the other arguments.
    (@body $ctx:tt [] []) => {
        http_calls!(@run $ctx [] [] []);
    };
    (@body $ctx:tt [$wa:ident : $wt:ty,] []) => {
        http_calls!(@run $ctx [Json($wa): Json<$wt>] [request_body = $wt,] []);
    };
    (@body [$meta:tt $name:ident $($ctx:tt)*] []
        [$({$(#[$fm:meta])*} $fa:ident : $ft:ty,)+]) => {
        /// The JSON body's fields.
        #[derive(Deserialize, ToSchema)]
        #[schema(as = $name::Body)]
        pub struct Body {
            $($(#[$fm])* pub $fa: $ft,)+
        }
        http_calls!(@run [$meta $name $($ctx)*]
            [Json(Body { $($fa),+ }): Json<Body>] [request_body = Body,] []);
    };

    // What the handler runs and answers: a long call, one that answers at once, or one that
    // needs no vault.
    (@run [$meta:tt $name:ident [$out:ty] [$method:ident, $path:literal, tag = $tag:literal]
            [long $kind:literal |$api:ident, $job:ident| $body:expr] [$($all:ident)*] $pa:tt []
            $qx:tt $qp:tt]
        $extract:tt $request:tt []) => {
        http_calls!(@emit $meta $name [$method, $path, $tag] [st headers] $pa $extract $request
            [Query(wait): Query<Wait>, raw: RawPathParams,]
            [params(PathArgs, Wait), responses((status = 202, body = kura_api::Operation,
                description = started::<$out>()))]
            [{
                let project = super::project_of($path, &raw);
                long(&st, &headers, &wait, kinds::$name, project, move |api, job| {
                    calls::$name(api, $($all,)* job)
                })
                .await
            }]);
    };
    (@run [$meta:tt $name:ident [$out:ty]
            [$method:ident, $path:literal, tag = $tag:literal $(, $answer:ident)?]
            [|$api:ident| $body:expr] [$($all:ident)*] $pa:tt $qa:tt $qx:tt $qp:tt]
        $extract:tt $request:tt []) => {
        http_calls!(@answer $meta $name [$out] [$method, $path, $tag] [st headers] $pa $qx $qp
            $extract $request
            [blocking(&st, move |api| Ok(calls::$name(api, $($all),*)?)).await?]
            [$($answer)?]);
    };
    (@run [$meta:tt $name:ident [$out:ty]
            [$method:ident, $path:literal, tag = $tag:literal $(, $answer:ident)?]
            [|| $body:expr] [$($all:ident)*] $pa:tt $qa:tt $qx:tt $qp:tt]
        $extract:tt $request:tt []) => {
        http_calls!(@answer $meta $name [$out] [$method, $path, $tag] [st headers] $pa $qx $qp
            $extract $request
            [calls::$name($($all),*)?]
            [$($answer)?]);
    };

    // How a call that answers at once answers: 200 with what it gives, 201 with what it
    // created, or `{"ok": true}`.
    (@answer $meta:tt $name:ident [$out:ty] $route:tt $idents:tt $pa:tt [$($qx:tt)*]
        [$($qp:tt)*] $extract:tt $request:tt
        [$value:expr] []) => {
        http_calls!(@emit $meta $name $route $idents $pa $extract $request
            [$($qx)*]
            [params(PathArgs, $($qp)*), responses((status = 200, body = $out))]
            [{ Ok(json($value)) }]);
    };
    (@answer $meta:tt $name:ident [$out:ty] $route:tt $idents:tt $pa:tt [$($qx:tt)*]
        [$($qp:tt)*] $extract:tt $request:tt
        [$value:expr] [created]) => {
        http_calls!(@emit $meta $name $route $idents $pa $extract $request
            [$($qx)*]
            [params(PathArgs, $($qp)*), responses((status = 201, body = $out))]
            [{ Ok((StatusCode::CREATED, axum::Json($value)).into_response()) }]);
    };
    (@answer $meta:tt $name:ident [$out:ty] $route:tt $idents:tt $pa:tt [$($qx:tt)*]
        [$($qp:tt)*] $extract:tt $request:tt
        [$value:expr] [done]) => {
        http_calls!(@emit $meta $name $route $idents $pa $extract $request
            [$($qx)*]
            [params(PathArgs, $($qp)*), responses((status = 200, body = Done))]
            [{
                let () = $value;
                Ok(done())
            }]);
    };

    // The handler.
    (@emit [$(#[$meta:meta])*] $name:ident [$method:ident, $path:literal, $tag:literal]
        [$st:ident $headers:ident] [$($pa:ident)*] [$($extract:tt)*] [$($request:tt)*]
        [$($query:tt)*]
        [$($doc:tt)*] [$work:block]) => {
        $(#[$meta])*
        #[utoipa::path($method, path = $path,
            operation_id = kura_api::declare::camel_case(stringify!($name)),
            tag = $tag, $($request)* $($doc)*)]
        pub async fn handler(
            $st: St,
            $headers: HeaderMap,
            Path(PathArgs { $($pa),* }): Path<PathArgs>,
            $($query)*
            $($extract)*
        ) -> HttpResult<Response> {
            let _ = &$headers;
            $work
        }
    };

    ($(
        $(#[$meta:meta])*
        fn $name:ident ($($args:tt)*) -> $out:ty { $($body:tt)* }
    )*) => {
        $(http_calls!(@call [$(#[$meta])*] $name [$($args)*] [$out] { $($body)* });)*

        /// The routes of every call that says where it is on HTTP.
        pub(crate) fn routes() -> OpenApiRouter<Arc<AppState>> {
            let router = OpenApiRouter::new();
            $(let router = http_calls!(@route router $name { $($body)* });)*
            router
        }
    };

    (@route $router:ident $name:ident { $declared:expr; http($($http:tt)*); $($rest:tt)* }) => {
        $router.routes(routes!($name::handler))
    };
    (@route $router:ident $name:ident { $($rest:tt)* }) => {
        $router
    };
}

kura_api::for_each_call!(http_calls);
