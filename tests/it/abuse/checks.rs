//! What the mesh as a whole must show after the abuse: no task died, no event was
//! dead-lettered, no unknown method got its own metrics label, a clean exit on SIGTERM, and
//! no panic in its log.
use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::rest::get;
use crate::harness::{BIN, Db, Mesh};

use super::values;

/// From `/metrics`: relays or consumers that died (restarted by their supervisor), and any
/// label naming a method the mesh does not serve (`marker` is in every such name sent).
pub async fn metrics(mesh: &Mesh, marker: &str) -> Vec<String> {
    let (_, body) = get(format!("http://127.0.0.1:{}/metrics", mesh.admin_port)).await;
    let text = body.as_str().unwrap_or_default().to_owned();
    let restarts = text
        .lines()
        .filter(|l| l.starts_with("mediamesh_task_restarts_total"))
        .filter(|l| l.rsplit(' ').next().is_some_and(|n| n != "0"))
        .map(|l| format!("[mesh] task restarted during the abuse: {l}"));
    let labels = text
        .lines()
        .filter(|l| l.contains(marker))
        .take(3)
        .map(|l| {
            format!(
                "[mesh] /metrics labels an unknown method: {}",
                values::clip(l, 200)
            )
        });
    restarts.chain(labels).collect()
}

/// SIGTERM: the mesh must exit cleanly and soon, even after the abuse.
pub fn stop(mesh: &mut Mesh) -> Vec<String> {
    mesh.proc.signal(libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match mesh.proc.child.try_wait().unwrap() {
            Some(status) if status.success() => return Vec::new(),
            Some(status) => return vec![format!("[mesh] SIGTERM after the abuse: {status}")],
            None if Instant::now() > deadline => {
                mesh.proc.kill9();
                return vec!["[mesh] did not exit within 30 s of SIGTERM".into()];
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Events that could not be published or applied: an input the edge let through that the
/// flow cannot carry.
pub fn dead_letters(db: &Db) -> Vec<String> {
    let mut command = Command::new(BIN);
    command.args(["deadletters", "list"]);
    match db {
        Db::Sqlite(dir) => command.arg("--data-dir").arg(dir),
        Db::Postgres(url) => command.args(["--database-url", url]),
    };
    let out = command.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let letter: serde_json::Value =
                serde_json::from_str(line).unwrap_or(serde_json::json!(line));
            format!(
                "[{}] dead letter: consumer {} subject {} ({} payload bytes): {}",
                letter["context"].as_str().unwrap_or("?"),
                letter["consumer"],
                values::clip(&letter["subject"].to_string(), 80),
                letter["payloadBytes"],
                values::clip(&letter["error"].to_string(), 200)
            )
        })
        .collect()
}

/// `panicked` anywhere in the mesh's log (both runs append to it).
pub fn panics(mesh: &Mesh) -> Vec<String> {
    let log = std::fs::read_to_string(&mesh.log).unwrap_or_default();
    log.lines()
        .filter(|l| l.contains("panicked"))
        .map(|l| format!("[mesh] log: {}", values::clip(l, 300)))
        .collect()
}
