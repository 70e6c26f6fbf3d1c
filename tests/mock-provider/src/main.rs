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

async fn shutdown_signal(exit_on_stdin_eof: bool) {
    let (eof_tx, eof_rx) = tokio::sync::oneshot::channel::<()>();
    if exit_on_stdin_eof {
        // A plain thread: reading stdin to EOF needs no async support.
        std::thread::spawn(move || {
            let mut sink = [0u8; 1024];
            let mut stdin = std::io::stdin();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
            let _ = eof_tx.send(());
        });
    } else {
        std::mem::forget(eof_tx);
    }
    let eof = async {
        if eof_rx.await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate => {}
        _ = eof => {}
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
    shutdown_signal(options.exit_on_stdin_eof).await;
    drop(server);
    ExitCode::SUCCESS
}
