//! `mediamesh`: one binary, many targets. `up` runs everything with its NATS and Envoy
//! children; `serve` runs some contexts (what containers run); `config`, `map` and `bench`
//! help operate it.
mod bench;
mod children;
mod cli;
mod contracts;
mod deadletters;
mod envoy;
mod gateway;
mod map;
mod targets;
mod token;
mod up;

use clap::Parser;

// Many small allocations across threads (requests, rows, events): mimalloc measured ahead of
// the system allocator in `mediamesh bench`. Built without transparent huge pages: with them
// every thread's heap was backed by 2 MiB pages, and all five apps in one process sat at
// 104 MB idle and 205 MB at peak instead of 40 and 139 (`scripts/bench-memory`).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use crate::cli::{Cli, Command, ViewsCommand};

fn main() -> anyhow::Result<()> {
    cli::load_config_file()?;
    let cli = Cli::parse();
    let _otel = mediamesh_mesh::observe::telemetry::init(cli.log_json)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    // The main future runs on this thread, so children spawned from it (parent-death
    // signal is per thread) live exactly as long as this process.
    runtime.block_on(async move {
        match cli.command {
            Command::Up(args) => up::up(args).await,
            Command::Serve(args) => up::serve(args).await,
            Command::Config(args) => cli::print_config(&args),
            Command::Map => {
                print!("{}", map::mermaid(&targets::all_contexts()));
                Ok(())
            }
            Command::Gateway(args) => gateway::run(&args),
            Command::Token(args) => token::run(&args),
            Command::Bench(args) => bench::run(args).await,
            Command::Views {
                command: ViewsCommand::Rebuild(args),
            } => up::rebuild_views(args).await,
            Command::Deadletters { command } => deadletters::run(command).await,
        }
    })
}
