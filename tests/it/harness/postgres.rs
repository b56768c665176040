//! One real PostgreSQL server per test run, started on first use; each test gets its own
//! database. The server is a child of a thread that lives as long as the test binary, and
//! the kernel kills it when the binary exits (parent-death signal).
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use super::{free_port, wait_for_port};

pub struct Postgres {
    port: u16,
}

fn bin_dir() -> PathBuf {
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL server not installed (scripts/install-tools installs it)")
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("postgres").is_file())
        .collect();
    found.sort();
    found
        .pop()
        .expect("no PostgreSQL server binaries under /usr/lib/postgresql")
}

/// The user the server runs as: `postgres` when we are root (PostgreSQL refuses root).
fn run_as() -> Option<(u32, u32)> {
    #[allow(unsafe_code)]
    // SAFETY: getuid has no preconditions.
    let root = unsafe { libc::getuid() } == 0;
    if !root {
        return None;
    }
    let out = Command::new("id").args(["-u", "postgres"]).output().ok()?;
    let uid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    let out = Command::new("id").args(["-g", "postgres"]).output().ok()?;
    let gid = String::from_utf8_lossy(&out.stdout).trim().parse().ok()?;
    Some((uid, gid))
}

fn as_user(command: &mut Command, user: Option<(u32, u32)>) -> &mut Command {
    use std::os::unix::process::CommandExt;
    #[allow(unsafe_code)]
    // SAFETY: only async-signal-safe calls between fork and exec. The parent-death signal
    // is set after the uid change, which would otherwise clear it.
    unsafe {
        command.pre_exec(move || {
            if let Some((uid, gid)) = user
                && (libc::setgid(gid) != 0 || libc::setuid(uid) != 0)
            {
                return Err(std::io::Error::last_os_error());
            }
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        })
    }
}

impl Postgres {
    /// The shared server, started on first use.
    pub fn shared() -> &'static Postgres {
        static SERVER: OnceLock<Postgres> = OnceLock::new();
        SERVER.get_or_init(|| {
            let (tx, rx) = std::sync::mpsc::channel();
            // The keeper thread never ends, so the server's parent-death signal never fires
            // before the test binary exits.
            std::thread::spawn(move || {
                let port = start();
                tx.send(port).unwrap();
                loop {
                    std::thread::park();
                }
            });
            let port = rx
                .recv_timeout(Duration::from_secs(60))
                .expect("postgres started");
            Postgres { port }
        })
    }

    /// A fresh, empty database; returns its URL.
    pub fn database(&self) -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        // PostgreSQL refuses concurrent CREATE DATABASE from one template ("template1 is
        // being accessed by other users"): tests create theirs one at a time.
        static CREATING: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _one_at_a_time = CREATING.lock().unwrap_or_else(|e| e.into_inner());
        // The port opens before the server accepts sessions ("the database system is
        // starting up"): the first database waits for it.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            let status = Command::new(bin_dir().join("psql"))
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-U",
                    "postgres",
                    "-q",
                ])
                .args(["-c", &format!("CREATE DATABASE {name}")])
                .status()
                .expect("psql");
            if status.success() {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "CREATE DATABASE {name}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

fn start() -> u16 {
    let bin = bin_dir();
    let user = run_as();
    // Under the system temp dir, which the `postgres` user can always reach (a checkout
    // under /root could not be), named by this run; earlier runs' folders go first.
    remove_stale_runs();
    let dir = std::env::temp_dir().join(format!("mediamesh-it-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if let Some((uid, gid)) = user {
        std::os::unix::fs::chown(&dir, Some(uid), Some(gid)).unwrap();
    }
    let status = as_user(
        Command::new(bin.join("initdb"))
            .args([
                "-D",
                dir.to_str().unwrap(),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ])
            .stdout(std::process::Stdio::null()),
        user,
    )
    .status()
    .expect("initdb");
    assert!(status.success(), "initdb failed");
    let port = free_port();
    let log = std::fs::File::create(dir.with_extension("log")).unwrap();
    let child = as_user(
        Command::new(bin.join("postgres"))
            .args([
                "-D",
                dir.to_str().unwrap(),
                "-p",
                &port.to_string(),
                "-k",
                "/tmp",
            ])
            // fsync off: tests kill the mesh, never the database server. Many connections:
            // tests run side by side, and a full mesh is 25 contexts with a pool each.
            .args([
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "max_connections=1000",
            ])
            .stdout(log.try_clone().unwrap())
            .stderr(log),
        user,
    )
    .spawn()
    .expect("postgres");
    std::mem::forget(child);
    wait_for_port(port, Duration::from_secs(30));
    port
}

/// Removes the data folders of earlier test runs whose process is gone.
fn remove_stale_runs() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        let Some(pid) = name
            .strip_prefix("mediamesh-it-pg-")
            .and_then(|p| p.split('.').next())
        else {
            continue;
        };
        if !PathBuf::from(format!("/proc/{pid}")).exists() {
            let path = entry.path();
            let _ = if path.is_dir() {
                std::fs::remove_dir_all(&path)
            } else {
                std::fs::remove_file(&path)
            };
        }
    }
}
