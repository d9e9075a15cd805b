//! Decoding throughput of pooltrace-decode: every built-in design x decoder.
//!
//! Plain `main` (harness = false). For each design, 64 batches are prepared
//! with ceil(1 % of the samples) positives (at least 1), sample Ct uniform in
//! [20, 34), pool Ct from the dilution model plus N(0, 0.5) noise. A run
//! decodes all 64 batches; the figure is the median of 41 runs (after 5
//! warm-up runs), divided by 64. Each decoder runs with a perfect assay and
//! with Se 0.95 / Sp 0.99 (which adds the full per-sample posterior).
//!
//! Run: `cargo bench --bench decode` (release profile).

use std::hint::black_box;
use std::time::Instant;

use pooltrace_decode::{
    builtin_names, decode, pool_observations, Assay, Decoder, Design, PoolObservation,
};

const BATCHES: usize = 64;
const RUNS: usize = 41;
const WARMUP: usize = 5;

/// SplitMix64: deterministic inputs without extra dependencies.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }

    fn normal(&mut self) -> f64 {
        let (u1, u2) = (1.0 - self.unit(), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

fn batches(design: &Design, positives: usize, rng: &mut Mix) -> Vec<Vec<PoolObservation>> {
    let n = design.samples() as u64;
    (0..BATCHES)
        .map(|_| {
            let mut pos: Vec<(u32, f64)> = Vec::new();
            while pos.len() < positives {
                let s = (rng.next() % n) as u32;
                if pos.iter().all(|&(t, _)| t != s) {
                    pos.push((s, 20.0 + 14.0 * rng.unit()));
                }
            }
            let mut obs = pool_observations(design, &pos);
            for o in &mut obs {
                o.ct = o.ct.map(|c| c + 0.5 * rng.normal());
            }
            obs
        })
        .collect()
}

fn main() {
    let mut rng = Mix(2024);
    println!("| design | pools x samples | positives/batch | assay | decoder | median µs/batch | batches/s | samples/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let assays = [
        ("perfect", Assay::PERFECT),
        (
            "0.95/0.99",
            Assay {
                sensitivity: 0.95,
                specificity: 0.99,
            },
        ),
    ];
    for name in builtin_names() {
        let design = Design::builtin(name).expect("built-in design");
        let positives = design.samples().div_ceil(100).max(1);
        let inputs = batches(&design, positives, &mut rng);
        for (decoder, (assay_name, assay)) in assays
            .iter()
            .flat_map(|&a| Decoder::all().map(move |d| (d, a)))
        {
            let mut times = Vec::with_capacity(RUNS);
            for run in 0..WARMUP + RUNS {
                let start = Instant::now();
                for obs in &inputs {
                    let r = decode(black_box(&design), black_box(obs), decoder, assay);
                    black_box(r.expect("decodes"));
                }
                if run >= WARMUP {
                    times.push(start.elapsed().as_secs_f64() / BATCHES as f64);
                }
            }
            times.sort_by(f64::total_cmp);
            let t = times[RUNS / 2];
            println!(
                "| {name} | {} x {} | {positives} | {assay_name} | {} | {:.2} | {:.0} | {:.3e} |",
                design.pool_count(),
                design.samples(),
                decoder.name(),
                t * 1e6,
                1.0 / t,
                design.samples() as f64 / t,
            );
        }
    }
}
