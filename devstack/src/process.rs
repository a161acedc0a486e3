//! A child process that cannot outlive its handle: dropped, it is killed by its PID and reaped;
//! and the kernel sends it SIGTERM should the thread that started it end without running
//! destructors (a killed test, say). Each child has a process group of its own, so a Ctrl-C in
//! the terminal reaches only the parent, which then stops its children itself.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::Duration;

use crate::Error;

#[derive(Debug)]
pub struct Process {
    name: &'static str,
    child: Child,
    log: PathBuf,
}

impl Process {
    /// Starts `command` with stdout and stderr going to `<log_dir>/<name>.log`.
    pub fn spawn(name: &'static str, mut command: Command, log_dir: &Path) -> Result<Self, Error> {
        let log = log_dir.join(format!("{name}.log"));
        let file = File::create(&log)?;
        command
            .stdin(Stdio::null())
            .stdout(file.try_clone()?)
            .stderr(file);
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|source| Error::Spawn {
            program: command.get_program().to_string_lossy().into_owned(),
            source,
        })?;
        Ok(Process { name, child, log })
    }

    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// What the process has written so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// The exit status once the process has ended, `None` while it runs.
    pub fn exited(&mut self) -> Result<Option<ExitStatus>, Error> {
        Ok(self.child.try_wait()?)
    }

    /// Waits until `url` answers 200, failing early if the process exits.
    pub fn wait_for_http(&mut self, url: &str, timeout: Duration) -> Result<(), Error> {
        let ready = || crate::http_get(url, &[]).is_ok_and(|(status, _)| status == 200);
        self.wait_until(ready, timeout)
    }

    /// Waits until the process has logged `text`, failing early if it exits.
    pub fn wait_for_log(&mut self, text: &str, timeout: Duration) -> Result<(), Error> {
        let log = self.log.clone();
        let ready = || std::fs::read_to_string(&log).is_ok_and(|written| written.contains(text));
        self.wait_until(ready, timeout)
    }

    fn wait_until(&mut self, ready: impl Fn() -> bool, timeout: Duration) -> Result<(), Error> {
        let waited = crate::wait_for(&format!("{} start", self.name), timeout, || {
            if let Some(status) = self.child.try_wait()? {
                return Err(Error::Exited {
                    process: self.name,
                    status,
                    log: self.log(),
                });
            }
            Ok(ready().then_some(()))
        });
        match waited {
            Err(Error::Timeout { what, seconds, .. }) => Err(Error::Timeout {
                what,
                seconds,
                log: self.log(),
            }),
            other => other,
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asks the kernel to SIGTERM the child when the thread that started it ends, so a test that
/// is killed outright leaves no emulator or Prometheus behind. A handle must therefore live in
/// the thread that created it, as every use here does.
#[allow(unsafe_code)]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and only calls prctl and getppid, which
    // are async-signal-safe, and reads a copied integer.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            // The parent may have died before prctl ran; then nobody would stop this child.
            if u32::try_from(libc::getppid()).ok() != Some(parent) {
                return Err(std::io::Error::other(
                    "the parent exited before the child started",
                ));
            }
            Ok(())
        });
    }
}
