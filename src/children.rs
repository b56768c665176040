//! Child processes of `mediamesh up` (nats-server, Envoy): found on PATH or in `.tools/`,
//! and tied to this process so they die with it, even when it is killed with SIGKILL.
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Finds `name` on PATH, else under `.tools/` of the working directory or of the checkout
/// the binary was built in.
pub fn find_tool(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    let mut roots = vec![PathBuf::from(".")];
    if let Ok(exe) = std::env::current_exe() {
        // target/<profile>/mediamesh -> the checkout root
        roots.extend(exe.ancestors().nth(3).map(Path::to_path_buf));
    }
    roots
        .iter()
        .map(|root| root.join(".tools/venv/bin").join(name))
        .find(|p| p.is_file())
        .ok_or_else(|| {
            anyhow::anyhow!("{name} not found on PATH or in .tools/ (run scripts/install-tools)")
        })
}

/// A child that is killed when dropped, and by the kernel when this process dies; one that
/// exits on its own is started again (`restart_if_exited`), so `up` never runs on without its
/// broker or gateway.
pub struct Supervised {
    name: &'static str,
    child: Child,
    program: PathBuf,
    args: Vec<std::ffi::OsString>,
    env: Vec<(String, String)>,
    log: PathBuf,
}

impl Supervised {
    /// Starts `program` with `args` and extra `env`, its output appended to `log`.
    pub fn spawn(
        name: &'static str,
        program: PathBuf,
        args: Vec<std::ffi::OsString>,
        env: &[(&str, &str)],
        log: &Path,
    ) -> anyhow::Result<Supervised> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let child = start(name, &program, &args, &env, log)?;
        Ok(Supervised {
            name,
            child,
            program,
            args,
            env,
            log: log.to_owned(),
        })
    }

    /// Starts the child again if it exited; says how it ended.
    pub fn restart_if_exited(&mut self) -> anyhow::Result<Option<std::process::ExitStatus>> {
        let Some(status) = self.child.try_wait()? else {
            return Ok(None);
        };
        tracing::error!(child = self.name, %status, "child exited; starting it again");
        self.child = start(self.name, &self.program, &self.args, &self.env, &self.log)?;
        Ok(Some(status))
    }
}

fn start(
    name: &'static str,
    program: &Path,
    args: &[std::ffi::OsString],
    env: &[(String, String)],
    log: &Path,
) -> anyhow::Result<Child> {
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)?;
    let mut command = Command::new(program);
    command
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(out.try_clone()?)
        .stderr(out);
    die_with_parent(&mut command);
    // Its own process group: a Ctrl-C at the terminal reaches only `mediamesh up`, which
    // then stops the children in order (NATS last, after the relays flushed).
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let child = command
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot start {name}: {e}"))?;
    tracing::info!(child = name, pid = child.id(), "started");
    Ok(child)
}

impl Supervised {
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the child exited (e.g. a port clash) before `addr` accepted connections.
    pub fn wait_for_port(&mut self, addr: SocketAddr, within: Duration) -> anyhow::Result<()> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait()? {
                anyhow::bail!(
                    "{} exited with {status} before listening on {addr}",
                    self.name
                );
            }
            if TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                anyhow::bail!("{} did not listen on {addr} within {within:?}", self.name);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Supervised {
    fn drop(&mut self) {
        // SIGTERM first so the child can flush (nats-server syncs JetStream), then SIGKILL.
        let pid = self.child.id() as i32;
        #[allow(unsafe_code)]
        // SAFETY: signalling our own child process by pid.
        unsafe {
            libc::kill(pid, libc::SIGTERM);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks the kernel to SIGKILL the child when the spawning thread (the main thread) dies.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    #[allow(unsafe_code)]
    // SAFETY: prctl is async-signal-safe; nothing else runs between fork and exec.
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}
