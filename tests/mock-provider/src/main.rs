//! `mock-provider [--port N] [--exit-on-stdin-eof]`: runs the mock as a process for test
//! suites in other languages. Prints one line with the URL, then serves until SIGINT/SIGTERM
//! (or stdin EOF when asked, so a dead test runner leaves no orphan).

use std::io::{Read, Write};
use std::process::ExitCode;

use mock_provider::MockServer;

const USAGE: &str = "usage: mock-provider [--port N] [--exit-on-stdin-eof]";

struct Options {
    port: u16,
    exit_on_stdin_eof: bool,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        port: 0,
        exit_on_stdin_eof: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                let value = args.next().ok_or("--port needs a value")?;
                options.port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {value}"))?;
            }
            "--exit-on-stdin-eof" => options.exit_on_stdin_eof = true,
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other}\n{USAGE}")),
        }
    }
    Ok(options)
}

/// The ways the process is told to stop, registered before the URL line is printed so a
/// signal sent right after reading it is never missed.
struct Shutdown {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
    stdin_eof: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Shutdown {
    fn install(exit_on_stdin_eof: bool) -> std::io::Result<Shutdown> {
        let stdin_eof = exit_on_stdin_eof.then(|| {
            let (tx, rx) = tokio::sync::oneshot::channel();
            // A plain thread: reading stdin to EOF needs no async support.
            std::thread::spawn(move || {
                let mut sink = [0u8; 1024];
                let mut stdin = std::io::stdin();
                while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
                let _ = tx.send(());
            });
            rx
        });
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            Ok(Shutdown {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
                stdin_eof,
            })
        }
        #[cfg(not(unix))]
        Ok(Shutdown { stdin_eof })
    }

    async fn wait(mut self) {
        let eof = async {
            match self.stdin_eof.take() {
                Some(rx) => {
                    let _ = rx.await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = eof => {}
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = eof => {}
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let options = match parse_args() {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let shutdown = match Shutdown::install(options.exit_on_stdin_eof) {
        Ok(shutdown) => shutdown,
        Err(e) => {
            eprintln!("mock-provider: cannot install signal handlers: {e}");
            return ExitCode::FAILURE;
        }
    };
    let server = match MockServer::start_on(options.port).await {
        Ok(server) => server,
        Err(e) => {
            eprintln!(
                "mock-provider: cannot listen on 127.0.0.1:{}: {e}",
                options.port
            );
            return ExitCode::FAILURE;
        }
    };
    let mut stdout = std::io::stdout();
    if writeln!(stdout, "mock-provider listening on {}", server.url())
        .and_then(|_| stdout.flush())
        .is_err()
    {
        return ExitCode::FAILURE;
    }
    shutdown.wait().await;
    drop(server);
    ExitCode::SUCCESS
}
