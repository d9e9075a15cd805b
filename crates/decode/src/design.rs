//! A pooling design (which sample goes into which pool) and its verified
//! properties.

use serde::Serialize;

use crate::error::DesignError;

/// A verified non-adaptive pooling design.
///
/// Samples are numbered `0..samples`; pool `p` holds the samples listed in
/// `pools()[p]`. A `Design` can only be made through [`Design::new`] (or the
/// loaders and [`Design::builtin`], which call it), so every `Design` in hand
/// has passed verification: indices in range, no duplicates within a pool,
/// every sample in at least one pool.
#[derive(Debug, Clone, PartialEq)]
pub struct Design {
    name: String,
    samples: usize,
    pools: Vec<Vec<u32>>,
    /// `sample_pools[sample_start[s]..sample_start[s + 1]]` = pools holding `s`.
    sample_start: Vec<u32>,
    sample_pools: Vec<u32>,
    properties: DesignProperties,
}

/// What verification measured about a design.
///
/// `guaranteed_decodable` is the `d` for which the design is d-disjunct: if
/// every sample is in at least `w = multiplicity_min` pools and any two
/// samples share at most `λ = max_overlap` pools, then no union of `d`
/// samples' pools covers another sample's pools when `d·λ < w`, i.e. for
/// `d = floor((w - 1) / λ)`. With at most `d` positives and a perfect assay,
/// COMP (and every decoder here) recovers the positives exactly. When no two
/// samples share a pool (`λ = 0`) the design is individual testing and `d`
/// is the number of samples.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DesignProperties {
    pub pools: usize,
    pub samples: usize,
    /// Pools with no sample (allowed, reported; they carry no information).
    pub empty_pools: usize,
    pub pool_size_min: usize,
    pub pool_size_max: usize,
    /// Fewest pools any sample is in.
    pub multiplicity_min: usize,
    /// Most pools any sample is in.
    pub multiplicity_max: usize,
    /// Most pools shared by any two samples.
    pub max_overlap: usize,
    /// `floor((multiplicity_min - 1) / max_overlap)`, see above.
    pub guaranteed_decodable: usize,
}

impl Design {
    /// Verify and build a design.
    ///
    /// Errors: no samples, a sample index out of range, a sample listed twice
    /// in one pool, a sample in no pool. Empty pools are allowed and counted
    /// in [`DesignProperties::empty_pools`].
    pub fn new(
        name: impl Into<String>,
        samples: usize,
        pools: Vec<Vec<u32>>,
    ) -> Result<Design, DesignError> {
        let name = name.into();
        if samples == 0 {
            return Err(DesignError::NoSamples { name });
        }
        if samples > u32::MAX as usize {
            return Err(DesignError::TooManySamples { name, samples });
        }
        let mut multiplicity = vec![0u32; samples];
        let mut last_seen = vec![u32::MAX; samples];
        for (p, pool) in pools.iter().enumerate() {
            for &s in pool {
                let Some(m) = multiplicity.get_mut(s as usize) else {
                    return Err(DesignError::SampleOutOfRange {
                        name,
                        pool: p,
                        sample: u64::from(s),
                        samples,
                    });
                };
                if last_seen[s as usize] == p as u32 {
                    return Err(DesignError::DuplicateInPool {
                        name,
                        pool: p,
                        sample: s,
                    });
                }
                last_seen[s as usize] = p as u32;
                *m += 1;
            }
        }
        let orphans: Vec<usize> = (0..samples).filter(|&s| multiplicity[s] == 0).collect();
        if let Some(&first) = orphans.first() {
            return Err(DesignError::SampleInNoPool {
                name,
                sample: first,
                count: orphans.len(),
            });
        }
        let mut sample_start = Vec::with_capacity(samples + 1);
        sample_start.push(0u32);
        for &m in &multiplicity {
            let last = sample_start[sample_start.len() - 1];
            sample_start.push(last + m);
        }
        let mut fill: Vec<u32> = sample_start[..samples].to_vec();
        let mut sample_pools = vec![0u32; sample_start[samples] as usize];
        for (p, pool) in pools.iter().enumerate() {
            for &s in pool {
                sample_pools[fill[s as usize] as usize] = p as u32;
                fill[s as usize] += 1;
            }
        }
        let max_overlap = max_overlap(samples, &pools, &sample_start, &sample_pools);
        let sizes = pools.iter().map(Vec::len);
        let mult = multiplicity.iter().map(|&m| m as usize);
        let multiplicity_min = mult.clone().min().unwrap_or(0);
        let properties = DesignProperties {
            pools: pools.len(),
            samples,
            empty_pools: pools.iter().filter(|p| p.is_empty()).count(),
            pool_size_min: sizes.clone().min().unwrap_or(0),
            pool_size_max: sizes.max().unwrap_or(0),
            multiplicity_min,
            multiplicity_max: mult.max().unwrap_or(0),
            max_overlap,
            guaranteed_decodable: match max_overlap {
                0 => samples,
                l => (multiplicity_min - 1) / l,
            },
        };
        Ok(Design {
            name,
            samples,
            pools,
            sample_start,
            sample_pools,
            properties,
        })
    }

    /// The design's name (e.g. `kirkman-45x105`, or the name given when loading).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Number of samples.
    pub fn samples(&self) -> usize {
        self.samples
    }

    /// Number of pools (= tests per batch).
    pub fn pool_count(&self) -> usize {
        self.pools.len()
    }

    /// Sample indices in each pool.
    pub fn pools(&self) -> &[Vec<u32>] {
        &self.pools
    }

    /// The pools holding `sample` (empty slice if out of range).
    pub fn pools_of(&self, sample: usize) -> &[u32] {
        match (
            self.sample_start.get(sample),
            self.sample_start.get(sample + 1),
        ) {
            (Some(&a), Some(&b)) => &self.sample_pools[a as usize..b as usize],
            _ => &[],
        }
    }

    /// The properties measured at verification.
    pub fn properties(&self) -> &DesignProperties {
        &self.properties
    }

    /// Tests per sample: pools / samples.
    pub fn tests_per_sample(&self) -> f64 {
        self.pools.len() as f64 / self.samples as f64
    }
}

/// Largest number of pools shared by two distinct samples. Cost: sum over
/// pools of size², using one counter per sample.
fn max_overlap(samples: usize, pools: &[Vec<u32>], start: &[u32], sp: &[u32]) -> usize {
    let mut count = vec![0u32; samples];
    let mut touched = Vec::new();
    let mut best = 0;
    for s in 0..samples {
        for &p in &sp[start[s] as usize..start[s + 1] as usize] {
            for &t in &pools[p as usize] {
                if (t as usize) > s {
                    if count[t as usize] == 0 {
                        touched.push(t);
                    }
                    count[t as usize] += 1;
                }
            }
        }
        for &t in &touched {
            best = best.max(count[t as usize] as usize);
            count[t as usize] = 0;
        }
        touched.clear();
    }
    best
}
