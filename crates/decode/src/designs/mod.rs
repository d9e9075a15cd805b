//! Built-in designs, by name.
//!
//! | name | pools x samples | multiplicity | overlap | d |
//! |---|---|---|---|---|
//! | `array-RxC` (any R, C ≥ 1) | (R+C) x R·C | 2 | 1 | 1 |
//! | `kirkman-45x105` | 45 x 105 | 3 | 1 | 2 |
//! | `kirkman-93x961` | 93 x 961 | 3 | 1 | 2 |
//! | `pbest-48x384` | 48 x 384 | 6 | 2 | 2 |
//! | `std-q-k` (q prime, 1 ≤ k ≤ q+1) | q·k x q² | k | 1 | k-1 |
//! | `std-q-k-n` (n ≤ 10⁷) | q·k x n | k | Γ | (k-1)/Γ |

pub mod array2d;
pub mod pbest;
pub mod steiner;
pub mod transversal;

use crate::design::Design;
use crate::error::DesignError;

/// Largest sample count a parsed built-in name may ask for.
const MAX_SAMPLES: u64 = 10_000_000;

/// Names of the built-in designs (one example each for the parametric
/// families `array-RxC` and `std-q-k`; [`Design::builtin`] accepts any
/// valid parameters).
pub fn builtin_names() -> &'static [&'static str] {
    &[
        "array-8x12",
        "kirkman-45x105",
        "kirkman-93x961",
        "pbest-48x384",
        "std-13-4",
    ]
}

impl Design {
    /// A built-in design by name: see the module table in [`crate::designs`].
    pub fn builtin(name: &str) -> Result<Design, DesignError> {
        let unknown = |why: &str| DesignError::UnknownBuiltin {
            name: name.to_string(),
            why: why.to_string(),
            known: builtin_names().join(", ") + ", array-RxC, std-q-k, std-q-k-n",
        };
        let (samples, pools) = match name {
            "kirkman-45x105" => (105, steiner::kirkman_45x105()),
            "kirkman-93x961" => (961, steiner::kirkman_93x961()),
            "pbest-48x384" => (384, pbest::pbest_48x384()),
            _ => {
                if let Some(dims) = name.strip_prefix("array-") {
                    let (r, c) = dims
                        .split_once('x')
                        .ok_or_else(|| unknown("array needs RxC, e.g. array-8x12"))?;
                    let r =
                        parse_positive(r).ok_or_else(|| unknown("R is not a positive integer"))?;
                    let c =
                        parse_positive(c).ok_or_else(|| unknown("C is not a positive integer"))?;
                    if u64::from(r) * u64::from(c) > MAX_SAMPLES {
                        return Err(unknown("more than 10^7 samples"));
                    }
                    ((r * c) as usize, array2d::array_pools(r, c))
                } else if let Some(params) = name.strip_prefix("std-") {
                    std_from_params(params).map_err(|why| unknown(&why))?
                } else {
                    return Err(unknown("no such design"));
                }
            }
        };
        Design::new(name, samples, pools)
    }
}

fn parse_positive(s: &str) -> Option<u32> {
    s.parse::<u32>().ok().filter(|&v| v > 0)
}

fn std_from_params(params: &str) -> Result<(usize, Vec<Vec<u32>>), String> {
    let parts: Vec<&str> = params.split('-').collect();
    let (q, k, n) = match parts[..] {
        [q, k] => (q, k, None),
        [q, k, n] => (q, k, Some(n)),
        _ => return Err("std needs q-k or q-k-n, e.g. std-13-4".into()),
    };
    let q = parse_positive(q).ok_or("q is not a positive integer")?;
    let k = parse_positive(k).ok_or("k is not a positive integer")?;
    if !transversal::is_prime(q) {
        return Err(format!("q = {q} is not prime"));
    }
    if k > q + 1 {
        return Err(format!(
            "k = {k} layers, but at most q + 1 = {} exist",
            q + 1
        ));
    }
    let n = match n {
        None => u64::from(q) * u64::from(q),
        Some(n) => u64::from(parse_positive(n).ok_or("n is not a positive integer")?),
    };
    if n > MAX_SAMPLES {
        return Err("more than 10^7 samples".into());
    }
    if u64::from(q) * u64::from(k) > MAX_SAMPLES {
        return Err("more than 10^7 pools".into());
    }
    Ok((n as usize, transversal::std_pools(q, k, n as u32)))
}
