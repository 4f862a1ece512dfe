//! `kura serve`'s tokens.

use kura_server::{Scope, Token};
use serde_json::json;

use super::Out;

impl Out {
    /// The token of a scope.
    pub fn token(&self, scope: Scope, token: &str) {
        self.done_json(token, json!({"scope": scope, "token": token}));
    }

    /// The tokens that replaced the old ones, a line each: "SCOPE TOKEN".
    pub fn tokens_rotated(&self, fresh: &[Token]) {
        let text = fresh
            .iter()
            .map(|t| format!("{} {}", t.scope.as_str(), t.token))
            .collect::<Vec<_>>()
            .join("\n");
        let json = fresh
            .iter()
            .map(|t| json!({"scope": t.scope, "token": t.token}))
            .collect();
        self.done_json(&text, serde_json::Value::Array(json));
    }
}
