//! What a session of `kura mcp` allows, and the limits of its stdio protocol.

/// What a session of `kura mcp` allows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Options {
    /// Limits on one message of the stdio protocol (line length, nesting).
    pub limits: Limits,
    /// Run the tools marked destructive (restore over the working folder, delete a file, trash
    /// or delete a project); without it they are not listed, and refused if called anyway.
    pub allow_destructive: bool,
    /// Refuse every tool that changes anything (only the read-only tools are listed and run).
    pub read_only: bool,
}

/// Limits on one message of the stdio protocol. A message over a limit is refused with a
/// JSON-RPC error naming the limit (`error.data.limit`), nothing of it is done, and the session
/// goes on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The longest line (one message, without its newline) the server reads, in bytes. A
    /// longer line is skipped as it comes, never held in memory whole. Default
    /// [`Limits::DEFAULT_MAX_LINE_BYTES`] (64 MiB): a `save_file` of up to about 60 MiB of
    /// text, or 45 MiB of binary as base64.
    pub max_line_bytes: usize,
    /// How deep arrays and objects may nest in a message, its JSON-RPC envelope included (a
    /// tool's arguments are at level 3). Default [`Limits::DEFAULT_MAX_DEPTH`]; at most
    /// [`Limits::MAX_DEPTH`], above which JSON parsing itself gives up.
    pub max_depth: usize,
}

impl Limits {
    /// The default of [`Limits::max_line_bytes`]: 64 MiB.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 64 << 20;
    /// The default of [`Limits::max_depth`].
    pub const DEFAULT_MAX_DEPTH: usize = 64;
    /// The highest [`Limits::max_depth`] there is (serde_json's recursion limit is 128); a
    /// higher setting counts as this.
    pub const MAX_DEPTH: usize = 120;

    /// The nesting limit in force.
    pub(crate) fn depth(&self) -> usize {
        self.max_depth.min(Limits::MAX_DEPTH)
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_line_bytes: Limits::DEFAULT_MAX_LINE_BYTES,
            max_depth: Limits::DEFAULT_MAX_DEPTH,
        }
    }
}
