//! The `mock-provider` binary: its printed line, serving, and shutdown on stdin EOF / SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mock-provider"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("binary starts");
    let stdout = child.stdout.take().expect("stdout piped");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("reads the line");
    (child, line)
}

fn wait_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("mock-provider did not exit");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[tokio::test]
async fn prints_its_url_serves_and_exits_on_stdin_eof() {
    let (mut child, line) = spawn(&["--exit-on-stdin-eof"]);
    let url = line
        .trim_end()
        .strip_prefix("mock-provider listening on ")
        .unwrap_or_else(|| panic!("unexpected line {line:?}"))
        .to_string();
    assert!(line.ends_with('\n'));
    let port: u16 = url
        .strip_prefix("http://127.0.0.1:")
        .expect("loopback URL")
        .parse()
        .expect("port");
    assert!(port > 0);

    let client = reqwest::Client::new();
    let health = client
        .get(format!("{url}/_mock/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.text().await.expect("text"), "ok");
    let answer = client
        .post(format!("{url}/v1/chat/completions"))
        .header("authorization", "Bearer k")
        .body(r#"{"model":"m","messages":[{"role":"user","content":"from a process"}]}"#)
        .send()
        .await
        .expect("chat");
    let body: serde_json::Value =
        serde_json::from_str(&answer.text().await.expect("text")).expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "from a process");

    drop(child.stdin.take());
    assert!(wait_exit(&mut child).success());
}

#[cfg(unix)]
#[test]
fn fixed_port_and_sigterm() {
    // Find a free port, release it, and ask the binary for it.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let (mut child, line) = spawn(&["--port", &port.to_string()]);
    assert_eq!(
        line,
        format!("mock-provider listening on http://127.0.0.1:{port}\n")
    );
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
    assert!(wait_exit(&mut child).success());
}

#[test]
fn bad_arguments_exit_2() {
    let output = Command::new(env!("CARGO_BIN_EXE_mock-provider"))
        .arg("--bogus")
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("usage: mock-provider"));
}
