//! `kura`: the command line (`src/lib.rs`); `kura serve` and `kura mcp` are handed to
//! `kura-server`.

fn main() -> std::process::ExitCode {
    kura_cli::main(None)
}
