//! `mediamesh deadletters list|replay`: the events a context could not publish or apply,
//! kept whole with their reason. `list` prints one JSON object per letter; `replay` moves
//! them back into their context's outbox (the running context publishes them).
use std::path::PathBuf;

use clap::{Args, Subcommand};
use mediamesh_mesh::events::deadletters;
use mediamesh_mesh::storage::store::{Database, Store};

#[derive(Subcommand)]
pub enum DeadlettersCommand {
    /// Print every dead letter as one JSON line (context, consumer, event, headers, reason).
    List(DeadlettersArgs),
    /// Move dead letters back into their context's outbox; fix the cause first.
    Replay(DeadlettersArgs),
}

#[derive(Args, Clone, Debug)]
pub struct DeadlettersArgs {
    /// Contexts to look in: `all`, an app (`vod`) or contexts (`vod.payment,vod.mileage`).
    #[arg(long, default_value = "all")]
    pub context: String,
    /// Only the event with this id.
    #[arg(long)]
    pub id: Option<String>,
    /// Folder of the SQLite files.
    #[arg(long, env = "MEDIAMESH_DATA_DIR", default_value = ".mediamesh")]
    pub data_dir: PathBuf,
    /// PostgreSQL URL instead of SQLite files.
    #[arg(long, env = "MEDIAMESH_DATABASE_URL")]
    pub database_url: Option<String>,
}

pub async fn run(command: DeadlettersCommand) -> anyhow::Result<()> {
    let (args, replay) = match command {
        DeadlettersCommand::List(args) => (args, false),
        DeadlettersCommand::Replay(args) => (args, true),
    };
    let database = match &args.database_url {
        Some(url) => Database::Postgres {
            url: url.clone(),
            pool_size: mediamesh_mesh::storage::store::DEFAULT_POOL_SIZE,
        },
        None => Database::SqliteDir {
            dir: args.data_dir.clone(),
            synchronous_full: false,
        },
    };
    if args.database_url.is_none() && !args.data_dir.is_dir() {
        anyhow::bail!(
            "no data folder at {} (--data-dir, MEDIAMESH_DATA_DIR)",
            args.data_dir.display()
        );
    }
    let mut replayed = 0;
    for context in crate::targets::select(&args.context)? {
        let info = context.info();
        let id = info.id();
        // A context never run on this data has no letters; do not create its file.
        if args.database_url.is_none() && !args.data_dir.join(format!("{id}.db")).exists() {
            continue;
        }
        let store = Store::open(&database, &id).await?;
        mediamesh_mesh::events::migrate(&store, info.migrations).await?;
        if replay {
            let n = deadletters::replay(&store, args.id.as_deref()).await?;
            if n > 0 {
                println!("{id}: {n} dead letters back in the outbox");
            }
            replayed += n;
            continue;
        }
        for letter in deadletters::list(&store, args.id.as_deref()).await? {
            // The same view of a letter as the admin console's.
            let mut line = serde_json::to_value(letter.summary())?;
            line["context"] = id.clone().into();
            println!("{line}");
        }
    }
    if replay && replayed == 0 {
        println!("no dead letters to replay");
    }
    Ok(())
}
