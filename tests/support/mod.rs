//! Helpers for the end-to-end tests: run the real `pooltrace` binary.
#![allow(dead_code)]

pub mod broker;
pub mod kafka_run;
pub mod s3;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub const KEY: &str = "test-pseudonym-key-0123456789";

/// A program installed with `cargo install` (or otherwise in PATH): PATH,
/// then `$CARGO_HOME/bin`, then `~/.cargo/bin`.
pub fn find_cargo_bin(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Some(home) = std::env::var_os("CARGO_HOME") {
        dirs.push(PathBuf::from(home).join("bin"));
    }
    if let Some(home) = std::env::var_os("HOME") {
        dirs.push(PathBuf::from(home).join(".cargo/bin"));
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// Starts `command` (a shell command line; its parameters come from `env`)
/// under a watchdog shell that stops it when this test process goes away,
/// even killed. The shell and the command get a process group of their
/// own: `kill -TERM -- -<pid of the returned child>` stops both.
pub fn spawn_watched(
    command: &str,
    env: &[(&str, &std::ffi::OsStr)],
    log: Option<std::fs::File>,
) -> std::io::Result<std::process::Child> {
    use std::os::unix::process::CommandExt;
    let script = format!(
        r#"
{command} &
s=$!
trap 'kill $s 2>/dev/null; wait $s; exit 0' TERM INT HUP
while kill -0 "$TEST_PID" 2>/dev/null && kill -0 $s 2>/dev/null; do sleep 0.5; done
kill $s 2>/dev/null
wait $s
"#
    );
    let (out, err) = match log {
        Some(f) => (Stdio::from(f.try_clone()?), Stdio::from(f)),
        None => (Stdio::null(), Stdio::null()),
    };
    Command::new("sh")
        .arg("-c")
        .arg(script)
        .envs(env.iter().copied())
        .env("TEST_PID", std::process::id().to_string())
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .process_group(0)
        .spawn()
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free 127.0.0.1 port")
}

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pooltrace"));
    c.env("POOLTRACE_PSEUDONYM_KEY", KEY);
    c
}

pub fn conformance(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance")
        .join(name)
}

/// Runs `pooltrace run` with the given inputs (kind, path) into `out`.
pub fn run(inputs: &[(&str, &Path)], out: &Path) -> Output {
    let mut c = bin();
    c.arg("run").arg("--out").arg(out);
    for (kind, path) in inputs {
        c.arg(format!("--{kind}")).arg(path);
    }
    let o = c.stdin(Stdio::null()).output().expect("run pooltrace");
    assert!(
        o.status.success(),
        "pooltrace run failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

pub fn read_ndjson(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
}

/// Every file below `dir` ending in `suffix`.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
