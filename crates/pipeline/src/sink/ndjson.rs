//! NDJSON writing: one JSON object per line (alerts, dead letters).

use std::io::Write;

use serde::Serialize;

/// Writes values as NDJSON, counting them.
pub struct NdjsonWriter<W: Write> {
    out: W,
    /// Lines written.
    pub written: u64,
}

impl<W: Write> NdjsonWriter<W> {
    pub fn new(out: W) -> Self {
        NdjsonWriter { out, written: 0 }
    }

    pub fn write<T: Serialize>(&mut self, value: &T) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, value)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
