//! Designs from text (the caller reads the file) and back to text.
//!
//! * CSV, as Tapestry publishes its matrices: one line per pool, one `0`/`1`
//!   cell per sample. Cells may be separated by commas, semicolons, tabs or
//!   spaces; trailing separators and whitespace are ignored, as are blank
//!   lines and lines starting with `#`. Errors name the 1-based line and
//!   column.
//! * JSON: `{"name": "...", "samples": N, "pools": [[0, 5, 9], ...]}`.

use serde::{Deserialize, Serialize};

use crate::design::Design;
use crate::error::{DesignError, LoadError};

/// Parse a 0/1 pool-by-sample matrix (see the module docs) into a verified
/// design called `name`.
pub fn design_from_csv(name: &str, text: &str) -> Result<Design, LoadError> {
    let mut pools = Vec::new();
    let mut width: Option<(usize, usize)> = None; // (columns, line)
    for (idx, raw) in text.lines().enumerate() {
        let line_no = idx + 1;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let line = line.trim_end_matches(|c: char| matches!(c, ',' | ';') || c.is_whitespace());
        let mut pool = Vec::new();
        let mut columns = 0;
        for (col, cell) in split_cells(line).enumerate() {
            columns += 1;
            match cell {
                "1" => pool.push(col as u32),
                "0" => {}
                other => {
                    return Err(LoadError::BadCell {
                        line: line_no,
                        column: col + 1,
                        cell: other.chars().take(40).collect(),
                    })
                }
            }
        }
        match width {
            None => width = Some((columns, line_no)),
            Some((expected, first_line)) if expected != columns => {
                return Err(LoadError::RaggedRow {
                    line: line_no,
                    found: columns,
                    first_line,
                    expected,
                })
            }
            Some(_) => {}
        }
        pools.push(pool);
    }
    let (samples, _) = width.ok_or(LoadError::EmptyCsv)?;
    Ok(Design::new(name, samples, pools)?)
}

/// Cells of one line: split on commas/semicolons if there are any, else on
/// whitespace; each cell trimmed.
fn split_cells(line: &str) -> Box<dyn Iterator<Item = &str> + '_> {
    if line.contains([',', ';']) {
        Box::new(line.split([',', ';']).map(str::trim))
    } else {
        Box::new(line.split_whitespace())
    }
}

/// The JSON shape of a design file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct DesignFile {
    name: String,
    samples: usize,
    pools: Vec<Vec<u64>>,
}

/// Parse `{"name", "samples", "pools"}` JSON into a verified design.
pub fn design_from_json(text: &str) -> Result<Design, LoadError> {
    let file: DesignFile = serde_json::from_str(text).map_err(|e| LoadError::Json {
        line: e.line(),
        column: e.column(),
        why: e.to_string(),
    })?;
    let mut pools = Vec::with_capacity(file.pools.len());
    for (p, pool) in file.pools.into_iter().enumerate() {
        let mut out = Vec::with_capacity(pool.len());
        for s in pool {
            let Ok(s32) = u32::try_from(s) else {
                return Err(DesignError::SampleOutOfRange {
                    name: file.name,
                    pool: p,
                    sample: s,
                    samples: file.samples,
                }
                .into());
            };
            out.push(s32);
        }
        pools.push(out);
    }
    Ok(Design::new(file.name, file.samples, pools)?)
}

/// The design as a 0/1 CSV matrix (one line per pool), readable by
/// [`design_from_csv`].
pub fn design_to_csv(design: &Design) -> String {
    let mut out = String::with_capacity(design.pool_count() * design.samples() * 2);
    let mut row = vec![b'0'; design.samples()];
    for pool in design.pools() {
        row.fill(b'0');
        for &s in pool {
            row[s as usize] = b'1';
        }
        for (i, &cell) in row.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push(cell as char);
        }
        out.push('\n');
    }
    out
}

/// The design as JSON, readable by [`design_from_json`].
pub fn design_to_json(design: &Design) -> String {
    let file = DesignFile {
        name: design.name().to_string(),
        samples: design.samples(),
        pools: design
            .pools()
            .iter()
            .map(|p| p.iter().map(|&s| u64::from(s)).collect())
            .collect(),
    };
    // Serialising plain strings, integers and vectors cannot fail.
    serde_json::to_string(&file).unwrap_or_default()
}
