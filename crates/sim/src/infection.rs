//! Who is infected, and how strongly.
//!
//! The number of infected people is Binomial(people, prevalence). A share
//! `clustering` of them are secondary cases: each picks an earlier case at
//! random and lands in that case's household (or, for the rest, its
//! building); the others are index cases placed uniformly. Every infected
//! person has a true Ct ~ N(mean, sd) clamped to (12, 45).

use rand::Rng;
use rand_distr::{Binomial, Distribution, StandardNormal};

use crate::config::SimConfig;
use crate::geography::Geography;
use crate::rng::{self, SimRng};

/// The infected, sorted by person, with a bitset for fast membership tests.
#[derive(Clone, Debug, Default)]
pub(crate) struct Infections {
    /// Infected people, ascending.
    pub people: Vec<u32>,
    /// True (undiluted) Ct of each, parallel to `people`.
    pub ct: Vec<f32>,
    /// Whether each is a secondary (clustered) case, parallel to `people`.
    pub secondary: Vec<bool>,
    bits: Vec<u64>,
}

impl Infections {
    /// Draws the infections of a city.
    pub fn generate(cfg: &SimConfig, geo: &Geography) -> Infections {
        let n = geo.people();
        let mut rng = rng::stream(cfg.seed, rng::INFECTION, 0, 0);
        let total = Binomial::new(u64::from(n), cfg.prevalence)
            .map(|b| b.sample(&mut rng))
            .unwrap_or(0) as u32;
        let secondary = Binomial::new(u64::from(total), cfg.clustering)
            .map(|b| b.sample(&mut rng))
            .unwrap_or(0) as u32;
        let index_cases = total - secondary;
        let mut inf = Infections {
            bits: vec![0; (n as usize).div_ceil(64)],
            ..Infections::default()
        };
        let mut order: Vec<(u32, bool)> = Vec::with_capacity(total as usize);
        if u64::from(index_cases) * 8 > u64::from(n) {
            // Dense: selection sampling (Knuth's algorithm S), one pass.
            let mut need = index_cases;
            for p in 0..n {
                if need == 0 {
                    break;
                }
                if rng.random_range(0..n - p) < need {
                    inf.set(p);
                    order.push((p, false));
                    need -= 1;
                }
            }
        } else {
            while order.len() < index_cases as usize {
                let p = rng.random_range(0..n);
                if !inf.contains(p) {
                    inf.set(p);
                    order.push((p, false));
                }
            }
        }
        for _ in 0..secondary {
            let p = inf.secondary_case(cfg, geo, &order, &mut rng);
            inf.set(p);
            order.push((p, true));
        }
        let (lo, hi) = (12.001, 44.999);
        let mut rows: Vec<(u32, f32, bool)> = order
            .into_iter()
            .map(|(p, sec)| {
                let z: f64 = rng.sample(StandardNormal);
                let ct = (cfg.assay.mean_ct + cfg.assay.sd_ct * z).clamp(lo, hi);
                (p, ct as f32, sec)
            })
            .collect();
        rows.sort_unstable_by_key(|r| r.0);
        inf.people = rows.iter().map(|r| r.0).collect();
        inf.ct = rows.iter().map(|r| r.1).collect();
        inf.secondary = rows.iter().map(|r| r.2).collect();
        inf
    }

    /// A not-yet-infected person next to a random earlier case (or anywhere,
    /// if that case's household and building are full).
    fn secondary_case(
        &self,
        cfg: &SimConfig,
        geo: &Geography,
        order: &[(u32, bool)],
        rng: &mut SimRng,
    ) -> u32 {
        let n = geo.people();
        if !order.is_empty() {
            for _ in 0..32 {
                let src = order[rng.random_range(0..order.len())].0;
                let h = geo.household_of(src);
                let in_household: f64 = rng.random();
                let range = if in_household < cfg.household_secondary_share {
                    geo.household_people(h)
                } else {
                    let hh = geo.building_households(geo.building_of(h));
                    geo.household_start[hh.start as usize]..geo.household_start[hh.end as usize]
                };
                let p = rng.random_range(range);
                if !self.contains(p) {
                    return p;
                }
            }
        }
        loop {
            let p = rng.random_range(0..n);
            if !self.contains(p) {
                return p;
            }
        }
    }

    fn set(&mut self, p: u32) {
        self.bits[(p / 64) as usize] |= 1 << (p % 64);
    }

    /// Whether person `p` is infected.
    pub fn contains(&self, p: u32) -> bool {
        self.bits
            .get((p / 64) as usize)
            .is_some_and(|w| w & (1 << (p % 64)) != 0)
    }

    /// The position of person `p` in `people`, if infected.
    pub fn position(&self, p: u32) -> Option<usize> {
        if !self.contains(p) {
            return None;
        }
        self.people.binary_search(&p).ok()
    }

    /// True Cts of the infected people in `range`.
    pub fn cts_in(&self, range: std::ops::Range<u32>, out: &mut Vec<f32>) {
        out.clear();
        for p in range {
            if let Some(i) = self.position(p) {
                out.push(self.ct[i]);
            }
        }
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.people.capacity() * 4
            + self.ct.capacity() * 4
            + self.secondary.capacity()
            + self.bits.capacity() * 8
    }
}
