//! An S3-compatible server for the checkpoint-store tests: `s3s-fs`
//! (crates.io; `scripts/test.sh` installs it when missing) on a free
//! 127.0.0.1 port, serving a directory (a bucket is a directory in it).
//! Not found: the test panics saying how to get it (never a silent skip).
//! A watchdog shell stops the server when the test process goes away, even
//! killed; dropping the handle stops it at once.

use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use super::find_cargo_bin;

const ACCESS_KEY: &str = "pooltrace-test";
const SECRET_KEY: &str = "pooltrace-test-secret";

/// A running `s3s-fs`.
pub struct S3Server {
    endpoint: String,
    child: Child,
}

impl S3Server {
    /// Serves `root` (create a bucket as a directory in it first).
    pub fn start(root: &Path) -> S3Server {
        let bin = find_cargo_bin("s3s-fs").unwrap_or_else(|| {
            panic!(
                "`s3s-fs` is not in PATH or ~/.cargo/bin: the S3 checkpoint tests need it \
                 (`cargo install s3s-fs --version 0.14.1 --features binary --locked`, \
                 or run scripts/test.sh, which installs it)"
            )
        });
        let port = super::free_port();
        let port_text = port.to_string();
        let mut child = super::spawn_watched(
            r#""$S3S" --host 127.0.0.1 --port "$PORT" --access-key "$KEY" --secret-key "$SECRET" "$ROOT""#,
            &[
                ("S3S", bin.as_os_str()),
                ("PORT", port_text.as_ref()),
                ("KEY", ACCESS_KEY.as_ref()),
                ("SECRET", SECRET_KEY.as_ref()),
                ("ROOT", root.as_os_str()),
            ],
            None,
        )
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(&addr).is_err() {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("s3s-fs exited at start: {status}");
            }
            assert!(Instant::now() < deadline, "s3s-fs not up within 30 s");
            std::thread::sleep(Duration::from_millis(50));
        }
        S3Server {
            endpoint: format!("http://{addr}"),
            child,
        }
    }

    /// The `AWS_*` environment a pooltrace process needs for this server.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT", self.endpoint.clone()),
            ("AWS_ALLOW_HTTP", "true".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY.into()),
            ("AWS_SECRET_ACCESS_KEY", SECRET_KEY.into()),
        ]
    }

    /// The same as `object_store` options (lower-case keys).
    pub fn options(&self) -> Vec<(String, String)> {
        self.env()
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        // The whole process group: the watchdog shell and the server.
        let _ = Command::new("kill")
            .args(["-TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}
