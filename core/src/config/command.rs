//! `cmd:` secrets: a command (a vault or password-manager CLI) run once at resolve time whose
//! standard output is the secret.
//!
//! The command runs through the shell (`sh -c`; `cmd /C` on Windows) with stdin closed, under a
//! deadline; both pipes are read with a size cap on their own threads, so neither a chatty
//! command nor one that never ends can stall or grow the process. Errors name the field, the
//! exit status and the first line of stderr, never anything the command printed on stdout.

use super::Secret;
use crate::api::Error;
use std::io::Read;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a secret command may run.
pub const SECRET_COMMAND_TIMEOUT: Duration = Duration::from_secs(10);

/// The most bytes kept from each pipe (a key or token is far smaller).
const OUTPUT_CAP: u64 = 1 << 20;

/// How often the exit of the command is checked while waiting.
const POLL: Duration = Duration::from_millis(5);

/// Runs `command` and returns its trimmed stdout as the secret of `field`.
pub fn run_secret_command(command: &str, field: &str, timeout: Duration) -> Result<Secret, Error> {
    let fail = |what: String| Error::config(field, format!("`{field}`: {what}"));
    if command.trim().is_empty() {
        return Err(fail(
            "`cmd:` needs a command after the prefix (`cmd:vault read -field=key secret/openai`)"
                .into(),
        ));
    }
    let mut child = shell(command)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| fail(format!("the secret command cannot be started: {e}")))?;
    let stdout = drain(child.stdout.take());
    let stderr = drain(child.stderr.take());
    let deadline = Instant::now() + timeout;
    let timed_out = || {
        fail(format!(
            "the secret command did not finish within {}s and was stopped",
            timeout.as_secs_f64()
        ))
    };
    let status = match wait_until(&mut child, deadline) {
        Ok(Some(s)) => s,
        Ok(None) => {
            stop(&mut child);
            return Err(timed_out());
        }
        Err(e) => {
            stop(&mut child);
            return Err(fail(format!("waiting for the secret command failed: {e}")));
        }
    };
    // Output still held open by a process the command left behind counts against the deadline.
    let left = || deadline.saturating_duration_since(Instant::now());
    let (Ok(out), Ok(err)) = (stdout.recv_timeout(left()), stderr.recv_timeout(left())) else {
        stop(&mut child);
        return Err(timed_out());
    };
    if !status.success() {
        let first = String::from_utf8_lossy(&err)
            .lines()
            .map(str::trim)
            .find(|l| !l.is_empty())
            .map(str::to_string);
        let status = describe(status);
        return Err(fail(match first {
            Some(line) => format!("the secret command {status}: {line}"),
            None => format!("the secret command {status} (nothing on stderr)"),
        }));
    }
    let text = String::from_utf8(out)
        .map_err(|_| fail("the secret command printed output that is not UTF-8".into()))?;
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(fail("the secret command printed nothing on stdout".into()));
    }
    Ok(Secret::new(trimmed))
}

/// The shell command line; on Unix in its own process group so a timeout stops every process
/// it started.
fn shell(command: &str) -> Command {
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        let mut c = Command::new("sh");
        c.arg("-c").arg(command).process_group(0);
        c
    }
    #[cfg(not(unix))]
    {
        let mut c = Command::new("cmd");
        c.arg("/C").arg(command);
        c
    }
}

/// Reads a pipe to its end (keeping at most [`OUTPUT_CAP`] bytes) on a thread.
fn drain(pipe: Option<impl Read + Send + 'static>) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(p) = pipe {
            let _ = p.take(OUTPUT_CAP).read_to_end(&mut buf);
        }
        let _ = tx.send(buf);
    });
    rx
}

/// The exit status once the command ended, or `None` when `deadline` came first.
fn wait_until(child: &mut Child, deadline: Instant) -> std::io::Result<Option<ExitStatus>> {
    loop {
        if let Some(s) = child.try_wait()? {
            return Ok(Some(s));
        }
        if Instant::now() >= deadline {
            return Ok(None);
        }
        std::thread::sleep(POLL);
    }
}

/// Kills the command (on Unix its whole process group) and reaps it.
fn stop(child: &mut Child) {
    #[cfg(unix)]
    {
        // The group id is the child's pid (`process_group(0)`); the shell's own `kill` reaches
        // the processes the command started, which `Child::kill` alone would leave running.
        let _ = Command::new("sh")
            .arg("-c")
            .arg(format!("kill -s KILL -- -{} 2>/dev/null", child.id()))
            .stdin(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// "exited with status 3" or "was killed by signal 9".
fn describe(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return format!("was killed by signal {sig}");
        }
    }
    "ended without an exit status".to_string()
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    const FIELD: &str = "providers.p.api_key";

    fn run(cmd: &str, timeout: Duration) -> Result<Secret, Error> {
        run_secret_command(cmd, FIELD, timeout)
    }

    #[test]
    fn stdout_trimmed_is_the_secret() {
        let s = run("printf '  sk-from-cmd\\n\\n'", Duration::from_secs(5)).expect("ok");
        assert_eq!(s.expose(), "sk-from-cmd");
    }

    #[test]
    fn failure_names_status_and_first_stderr_line_never_stdout() {
        let err = run(
            "echo sk-LEAKED; echo '' >&2; echo 'vault: permission denied' >&2; echo more >&2; exit 3",
            Duration::from_secs(5),
        )
        .expect_err("fails");
        assert_eq!(err.param.as_deref(), Some(FIELD));
        assert_eq!(
            err.message,
            "`providers.p.api_key`: the secret command exited with status 3: vault: permission denied"
        );
    }

    #[test]
    fn silent_failure_says_so() {
        let err = run("exit 7", Duration::from_secs(5)).expect_err("fails");
        assert_eq!(
            err.message,
            "`providers.p.api_key`: the secret command exited with status 7 (nothing on stderr)"
        );
    }

    /// Whether process `pid` still exists (a zombie counts until init reaps it).
    fn alive(pid: &str) -> bool {
        Command::new("sh")
            .arg("-c")
            .arg(format!("kill -0 {pid} 2>/dev/null"))
            .status()
            .is_ok_and(|s| s.success())
    }

    #[test]
    fn timeout_stops_the_command_and_what_it_started() {
        let pid_file = std::env::temp_dir().join(format!("sp-cmd-pid-{}", std::process::id()));
        let start = Instant::now();
        let err = run(
            &format!("sleep 30 & echo $! > {}; sleep 30", pid_file.display()),
            Duration::from_millis(300),
        )
        .expect_err("fails");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert_eq!(
            err.message,
            "`providers.p.api_key`: the secret command did not finish within 0.3s and was stopped"
        );
        let pid = std::fs::read_to_string(&pid_file).expect("pid written");
        let _ = std::fs::remove_file(&pid_file);
        let pid = pid.trim();
        let gone_by = Instant::now() + Duration::from_secs(3);
        while alive(pid) && Instant::now() < gone_by {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(!alive(pid), "the background process {pid} was left running");
    }

    #[test]
    fn output_held_open_by_a_leftover_process_times_out() {
        let start = Instant::now();
        let err = run("echo k; sleep 30 &", Duration::from_millis(300)).expect_err("fails");
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "{:?}",
            start.elapsed()
        );
        assert!(
            err.message.contains("did not finish within 0.3s"),
            "{}",
            err.message
        );
    }

    #[test]
    fn empty_output_and_empty_command_are_errors() {
        let err = run("printf '  \\n'", Duration::from_secs(5)).expect_err("fails");
        assert_eq!(
            err.message,
            "`providers.p.api_key`: the secret command printed nothing on stdout"
        );
        let err = run("  ", Duration::from_secs(5)).expect_err("fails");
        assert!(err.message.contains("needs a command"), "{}", err.message);
    }

    #[test]
    fn signal_deaths_are_described() {
        let err = run("kill -9 $$", Duration::from_secs(5)).expect_err("fails");
        assert_eq!(
            err.message,
            "`providers.p.api_key`: the secret command was killed by signal 9 (nothing on stderr)"
        );
    }
}
