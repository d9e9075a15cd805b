//! 2D array (matrix) pooling: samples on an R x C grid, one pool per row and
//! one per column.

/// Pools of an `rows x cols` array. Sample `s` sits at row `s / cols`, column
/// `s % cols`; pools `0..rows` are the rows, pools `rows..rows + cols` the
/// columns. Each sample is in 2 pools and two samples share at most 1, so the
/// design is 1-disjunct.
pub fn array_pools(rows: u32, cols: u32) -> Vec<Vec<u32>> {
    let mut pools = Vec::with_capacity((rows + cols) as usize);
    for r in 0..rows {
        pools.push((0..cols).map(|c| r * cols + c).collect());
    }
    for c in 0..cols {
        pools.push((0..rows).map(|r| r * cols + c).collect());
    }
    pools
}
