//! The JSON-lines usage log: one record per line, rotated by size.
//!
//! When a line would take the file past `max_bytes`, the file is renamed to `path.1`
//! (`path.1` to `path.2`, ... up to `keep`, the oldest deleted) and a new file started.
//! Write errors are counted, never raised: a full disk must not fail requests.

use super::hub::Observer;
use super::record::RequestRecord;
use crate::api::{Error, ErrorKind};
use crate::config::LogConfig;
use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The usage log (an observer).
#[derive(Debug)]
pub struct JsonlLog {
    path: PathBuf,
    max_bytes: u64,
    keep: u32,
    file: Mutex<Open>,
    errors: AtomicU64,
}

#[derive(Debug)]
struct Open {
    out: Option<BufWriter<File>>,
    size: u64,
}

impl JsonlLog {
    /// Opens (or creates) the log for appending.
    pub fn open(cfg: &LogConfig) -> Result<JsonlLog, Error> {
        let path = PathBuf::from(&cfg.path);
        let (out, size) = open_append(&path).map_err(|e| {
            Error::new(
                ErrorKind::Config,
                format!("telemetry.log.path: cannot open {}: {e}", path.display()),
            )
            .with_param("telemetry.log.path")
        })?;
        Ok(JsonlLog {
            path,
            max_bytes: cfg.max_bytes.max(1),
            keep: cfg.keep,
            file: Mutex::new(Open {
                out: Some(out),
                size,
            }),
            errors: AtomicU64::new(0),
        })
    }

    /// Writes that failed (lines lost).
    pub fn errors(&self) -> u64 {
        self.errors.load(Ordering::Relaxed)
    }

    fn rotated(&self, n: u32) -> PathBuf {
        let mut s = self.path.clone().into_os_string();
        s.push(format!(".{n}"));
        PathBuf::from(s)
    }

    fn rotate(&self, open: &mut Open) -> std::io::Result<()> {
        if let Some(mut out) = open.out.take() {
            out.flush()?;
        }
        if self.keep == 0 {
            std::fs::remove_file(&self.path)?;
        } else {
            let _ = std::fs::remove_file(self.rotated(self.keep));
            for n in (1..self.keep).rev() {
                let from = self.rotated(n);
                if from.exists() {
                    std::fs::rename(&from, self.rotated(n + 1))?;
                }
            }
            std::fs::rename(&self.path, self.rotated(1))?;
        }
        let (out, size) = open_append(&self.path)?;
        open.out = Some(out);
        open.size = size;
        Ok(())
    }

    fn write_line(&self, line: &[u8]) -> std::io::Result<()> {
        let mut open = self
            .file
            .lock()
            .map_err(|_| std::io::Error::other("log lock poisoned"))?;
        if open.size > 0 && open.size + line.len() as u64 > self.max_bytes {
            self.rotate(&mut open)?;
        }
        if open.out.is_none() {
            let (out, size) = open_append(&self.path)?;
            open.out = Some(out);
            open.size = size;
        }
        if let Some(out) = open.out.as_mut() {
            out.write_all(line)?;
        }
        open.size += line.len() as u64;
        Ok(())
    }
}

fn open_append(path: &Path) -> std::io::Result<(BufWriter<File>, u64)> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    let f = OpenOptions::new().create(true).append(true).open(path)?;
    let size = f.metadata()?.len();
    Ok((BufWriter::new(f), size))
}

impl Observer for JsonlLog {
    fn on_record(&self, record: &RequestRecord) {
        let mut line = match serde_json::to_vec(record) {
            Ok(l) => l,
            Err(_) => {
                self.errors.fetch_add(1, Ordering::Relaxed);
                return;
            }
        };
        line.push(b'\n');
        if self.write_line(&line).is_err() {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn flush(&self) {
        if let Ok(mut open) = self.file.lock() {
            if let Some(out) = open.out.as_mut() {
                if out.flush().is_err() {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let d =
            std::env::temp_dir().join(format!("switchpoint-jsonl-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        d
    }

    fn rec(id: &str) -> RequestRecord {
        RequestRecord {
            id: id.into(),
            ..RequestRecord::default()
        }
    }

    #[test]
    fn writes_one_json_object_per_line() {
        let dir = temp_dir("lines");
        let log = JsonlLog::open(&LogConfig {
            path: dir.join("usage.jsonl").display().to_string(),
            max_bytes: 1 << 20,
            keep: 2,
        })
        .expect("opens");
        log.on_record(&rec("a"));
        log.on_record(&rec("b"));
        log.flush();
        let text = std::fs::read_to_string(dir.join("usage.jsonl")).expect("read");
        let ids: Vec<String> = text
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("json line");
                v["id"].as_str().expect("id").to_string()
            })
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(log.errors(), 0);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn rotates_by_size_and_keeps_n_files() {
        let dir = temp_dir("rotate");
        let path = dir.join("u.jsonl");
        let line_len = serde_json::to_vec(&rec("000")).expect("json").len() as u64 + 1;
        let log = JsonlLog::open(&LogConfig {
            path: path.display().to_string(),
            max_bytes: line_len * 2,
            keep: 2,
        })
        .expect("opens");
        for i in 0..7 {
            log.on_record(&rec(&format!("{i:03}")));
        }
        log.flush();
        let ids = |p: &Path| -> Vec<String> {
            std::fs::read_to_string(p)
                .expect("read")
                .lines()
                .map(|l| {
                    serde_json::from_str::<serde_json::Value>(l).expect("json")["id"]
                        .as_str()
                        .expect("id")
                        .to_string()
                })
                .collect()
        };
        assert_eq!(ids(&path), ["006"]);
        assert_eq!(ids(&dir.join("u.jsonl.1")), ["004", "005"]);
        assert_eq!(ids(&dir.join("u.jsonl.2")), ["002", "003"]);
        assert!(!dir.join("u.jsonl.3").exists());
        let _ = std::fs::remove_dir_all(dir);
    }
}
