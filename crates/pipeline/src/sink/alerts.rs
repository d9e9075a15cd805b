//! Alert state changes as NDJSON, one object per line, in the engine's order.

use std::io::Write;

use pooltrace_model::Alert;

/// Writes alerts as NDJSON.
pub struct AlertWriter<W: Write> {
    out: W,
    /// Alert records written.
    pub written: u64,
}

impl<W: Write> AlertWriter<W> {
    pub fn new(out: W) -> Self {
        AlertWriter { out, written: 0 }
    }

    pub fn write(&mut self, a: &Alert) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.out, a)?;
        self.out.write_all(b"\n")?;
        self.written += 1;
        Ok(())
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
