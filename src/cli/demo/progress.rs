//! A progress line on stderr: one line rewritten with `\r` on a terminal,
//! plain lines every few seconds otherwise (logs, CI).

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

pub struct Progress {
    tty: bool,
    every: Duration,
    last: Instant,
    calls: u64,
    shown: bool,
}

impl Progress {
    pub fn new() -> Self {
        let tty = std::io::stderr().is_terminal();
        Progress {
            tty,
            every: Duration::from_millis(if tty { 250 } else { 5_000 }),
            last: Instant::now(),
            calls: 0,
            shown: false,
        }
    }

    /// Shows `line()` if enough time has passed (checked every 4096 calls).
    pub fn tick(&mut self, line: impl FnOnce() -> String) {
        self.calls += 1;
        if self.calls % 4096 != 0 || self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        self.show(&line());
    }

    /// Shows a line now (a phase change).
    pub fn say(&mut self, line: &str) {
        self.last = Instant::now();
        self.show(line);
    }

    fn show(&mut self, line: &str) {
        let mut err = std::io::stderr().lock();
        // Progress is best effort: a closed stderr must not stop the run.
        let _ = if self.tty {
            write!(err, "\r{line}\x1b[K")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
        self.shown = true;
    }

    /// Ends the updating line so that what follows starts on a new one.
    pub fn finish(&mut self) {
        if self.tty && self.shown {
            let _ = writeln!(std::io::stderr());
        }
        self.shown = false;
    }
}
