//! `kura-server`: the command line of `kura` (`src/lib.rs`) with the HTTP API and the MCP
//! server in it; `kura serve` and `kura mcp` run here.

fn main() -> std::process::ExitCode {
    kura_cli::main(Some(kura_cli::servers()))
}
