//! Triple designs in the manner of Tapestry (Ghosh et al. 2020): a sample is
//! a triple of pools, and any two triples share at most one pool, so every
//! sample is in exactly 3 pools, any two samples share at most 1 pool and the
//! design is 2-disjunct.
//!
//! * `kirkman-45x105`: 7 parallel classes of a Kirkman triple system KTS(45).
//!   The KTS(45) is built by the tripling construction from a KTS(15)
//!   (Kirkman's schoolgirl problem), see [`tripled_kts`]. Tapestry's 45 x 105
//!   matrix is also 7 parallel classes of a KTS(45); ours need not be the same
//!   matrix but has the same parameters.
//! * `kirkman-93x961`: the 31 parallel classes of the resolvable transversal
//!   design TD(3, 31), see [`resolvable_transversal_triples`]. Its triples are
//!   the transversal triples of a Steiner triple system STS(93) (add an
//!   STS(31) inside each group of 31 points to complete it), but they are not
//!   claimed to be 31 classes of a Kirkman system KTS(93) as Tapestry's were.
//!   The parameters (93 pools of 31, multiplicity 3, overlap 1) are the same.

/// A resolution: parallel classes of triples, each class covering every
/// point exactly once.
pub type Resolution = Vec<Vec<[u32; 3]>>;

/// A KTS(15): 7 parallel classes of 5 triples on points 0..15, covering every
/// pair of points exactly once. Found by exhaustive backtracking and checked
/// by the tests (every pair exactly once, every class a partition).
const KTS15: [[[u32; 3]; 5]; 7] = [
    [[0, 1, 2], [3, 4, 5], [6, 7, 8], [9, 10, 11], [12, 13, 14]],
    [[0, 3, 6], [1, 4, 7], [2, 9, 12], [5, 10, 13], [8, 11, 14]],
    [[0, 4, 9], [1, 5, 11], [2, 7, 14], [3, 8, 13], [6, 10, 12]],
    [[0, 5, 14], [1, 3, 12], [2, 6, 11], [4, 8, 10], [7, 9, 13]],
    [[0, 7, 10], [1, 6, 13], [2, 5, 8], [3, 9, 14], [4, 11, 12]],
    [[0, 8, 12], [1, 10, 14], [2, 4, 13], [3, 7, 11], [5, 6, 9]],
    [[0, 11, 13], [1, 8, 9], [2, 3, 10], [4, 6, 14], [5, 7, 12]],
];

/// The Kirkman triple system of order 15 (7 parallel classes).
pub fn kts15() -> Resolution {
    KTS15.iter().map(|class| class.to_vec()).collect()
}

/// Tripling: a KTS(v) on points `0..v` gives a KTS(3v) on points
/// `x + i·v` (x in 0..v, i in Z3).
///
/// Class 0 is the "vertical" class `{x, x+v, x+2v}`. Then, for each class of
/// the KTS(v) and each `d` in Z3, one class made of the triples
/// `{(a, i), (b, i+d), (c, i-d)}` for every block `{a, b, c}` of the class
/// and `i` in Z3. These are the 9 triples `{(a,i),(b,j),(c,k)}` with
/// `i+j+k = 0 (mod 3)` for each block, so every pair of new points lies in
/// exactly one triple: `(v-1)/2 · 3 + 1 = (3v-1)/2` classes.
pub fn tripled_kts(kts: &Resolution, v: u32) -> Resolution {
    let mut out: Resolution = vec![(0..v).map(|x| [x, x + v, x + 2 * v]).collect()];
    for class in kts {
        for d in 0..3u32 {
            let mut new_class = Vec::with_capacity(class.len() * 3);
            for &[a, b, c] in class {
                for i in 0..3u32 {
                    new_class.push([a + i * v, b + ((i + d) % 3) * v, c + ((i + 3 - d) % 3) * v]);
                }
            }
            out.push(new_class);
        }
    }
    out
}

/// The resolvable transversal design TD(3, q) for odd `q`: points
/// `t`, `q + t`, `2q + t` (three groups of `q`), and for each `s` in Z_q the
/// parallel class of triples `{t, q + (s+t) mod q, 2q + (2s+t) mod q}`,
/// t in Z_q. Any two of the three coordinates determine `(s, t)` because 2 is
/// invertible mod odd `q`, so two triples share at most one point.
pub fn resolvable_transversal_triples(q: u32) -> Resolution {
    (0..q)
        .map(|s| {
            (0..q)
                .map(|t| [t, q + (s + t) % q, 2 * q + (2 * s + t) % q])
                .collect()
        })
        .collect()
}

/// Pools of the design whose samples are the triples of the first
/// `classes` parallel classes, on `points` pools.
pub fn triple_design_pools(resolution: &Resolution, classes: usize, points: u32) -> Vec<Vec<u32>> {
    let mut pools = vec![Vec::new(); points as usize];
    let triples = resolution.iter().take(classes).flatten();
    for (sample, triple) in triples.enumerate() {
        for &p in triple {
            pools[p as usize].push(sample as u32);
        }
    }
    pools
}

/// Pools of `kirkman-45x105`.
pub fn kirkman_45x105() -> Vec<Vec<u32>> {
    triple_design_pools(&tripled_kts(&kts15(), 15), 7, 45)
}

/// Pools of `kirkman-93x961`.
pub fn kirkman_93x961() -> Vec<Vec<u32>> {
    triple_design_pools(&resolvable_transversal_triples(31), 31, 93)
}
