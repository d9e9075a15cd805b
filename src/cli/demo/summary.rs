//! The demo's summary: what the pipeline did, and how it did against the
//! simulator's ground truth. Printed as a table and written as
//! `demo_summary.json`. Definitions: README, `pooltrace demo`.

use std::collections::BTreeMap;
use std::fmt;

use pooltrace_pipeline::RunReport;
use pooltrace_sim::{ClosedLoop, MissReason};
use serde::Serialize;

use super::tally::Tally;

#[derive(Debug, Serialize)]
pub struct DemoSummary {
    pub seed: u64,
    pub people: u64,
    pub rounds: u32,
    pub prevalence: f64,
    /// Screening tubes (first-round tubes of every round).
    pub screening_tubes: u64,
    /// Retest tubes (the closed loop's answers to alerts).
    pub retest_tubes: u64,
    pub records: u64,
    pub dead_letters: u64,
    /// Pool and household tubes decided positive.
    pub positive_pools: u64,
    /// People with a `hospital_transfer`.
    pub people_confirmed: u64,
    /// Distinct alerts raised, by kind.
    pub alerts_raised: BTreeMap<String, u64>,
    pub hospital_transfer_in_time: InTime,
    pub sample_to_hospital_transfer_hours: Latency,
    pub truth: AgainstTruth,
    /// (screening tubes + retest tubes) / (people x rounds).
    pub tests_per_person: f64,
    pub elapsed_secs: Elapsed,
}

#[derive(Debug, Serialize)]
pub struct InTime {
    pub in_time: u64,
    pub total: u64,
    pub share: f64,
}

#[derive(Debug, Serialize)]
pub struct Latency {
    pub median: f64,
    pub p95: f64,
    pub max: f64,
}

#[derive(Debug, Default, Serialize)]
pub struct AgainstTruth {
    pub infected: u64,
    /// Infected and given a `hospital_transfer`.
    pub found: u64,
    pub missed_undetectable: u64,
    pub missed_tube_lost: u64,
    /// Must be 0.
    pub missed_other: u64,
    /// `hospital_transfer` for someone not infected.
    pub false_alerts: u64,
}

#[derive(Debug, Serialize)]
pub struct Elapsed {
    pub city: f64,
    pub pipeline: f64,
    pub total: f64,
}

/// Per-round timing and counts gathered by the caller.
pub struct Inputs<'a, 'city> {
    pub lp: &'a ClosedLoop<'city>,
    pub tally: &'a Tally,
    pub report: &'a RunReport,
    pub city_secs: f64,
    pub pipeline_secs: f64,
}

impl DemoSummary {
    pub fn new(i: Inputs<'_, '_>) -> Self {
        let city = i.lp.city();
        let cfg = city.config();
        let stats = i.lp.stats();
        let mut truth = AgainstTruth {
            false_alerts: i.tally.false_alerts,
            ..AgainstTruth::default()
        };
        for (k, inf) in city.truth().infected().iter().enumerate() {
            truth.infected += 1;
            if i.tally.confirmed.contains_key(&inf.person) {
                truth.found += 1;
                continue;
            }
            match i.lp.why_missed(k) {
                MissReason::Undetectable => truth.missed_undetectable += 1,
                MissReason::TubeLost => truth.missed_tube_lost += 1,
                MissReason::Unexplained => truth.missed_other += 1,
            }
        }
        let conf: Vec<_> = i.tally.confirmed.values().collect();
        let in_time = conf.iter().filter(|c| c.in_time).count() as u64;
        let mut hours: Vec<f64> = conf
            .iter()
            .map(|c| c.sample_to_alert_ms as f64 / 3.6e6)
            .collect();
        hours.sort_by(f64::total_cmp);
        let pct = |q: f64| {
            let n = hours.len();
            if n == 0 {
                return 0.0;
            }
            let k = ((q * n as f64).ceil() as usize).clamp(1, n) - 1;
            (hours[k] * 100.0).round() / 100.0
        };
        let tubes = stats.screening_tubes + stats.retest_tubes;
        let people = city.people() as u64;
        DemoSummary {
            seed: cfg.seed,
            people,
            rounds: cfg.rounds,
            prevalence: cfg.prevalence,
            screening_tubes: stats.screening_tubes,
            retest_tubes: stats.retest_tubes,
            records: stats.screening_records + stats.retest_records,
            dead_letters: i.report.dead_total(),
            positive_pools: i.tally.positive_pools,
            people_confirmed: conf.len() as u64,
            alerts_raised: i
                .report
                .engine
                .alerts_raised
                .iter()
                .map(|(k, v)| (k.to_string(), *v))
                .collect(),
            hospital_transfer_in_time: InTime {
                in_time,
                total: conf.len() as u64,
                share: in_time as f64 / (conf.len().max(1)) as f64,
            },
            sample_to_hospital_transfer_hours: Latency {
                median: pct(0.5),
                p95: pct(0.95),
                max: pct(1.0),
            },
            truth,
            tests_per_person: tubes as f64 / (people * u64::from(cfg.rounds)).max(1) as f64,
            elapsed_secs: Elapsed {
                city: i.city_secs,
                pipeline: i.pipeline_secs,
                total: i.city_secs + i.pipeline_secs,
            },
        }
    }
}

/// `1234567` as `1,234,567`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

impl fmt::Display for DemoSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = |v: u64| thousands(v);
        let t = &self.truth;
        let it = &self.hospital_transfer_in_time;
        let l = &self.sample_to_hospital_transfer_hours;
        writeln!(
            f,
            "pooltrace demo: seed {}, prevalence {}, {} round(s) (synthetic data)",
            self.seed, self.prevalence, self.rounds
        )?;
        let rows: Vec<(String, String)> = vec![
            ("people".into(), n(self.people)),
            (
                "tubes".into(),
                format!(
                    "{} (screening {}, retest {})",
                    n(self.screening_tubes + self.retest_tubes),
                    n(self.screening_tubes),
                    n(self.retest_tubes)
                ),
            ),
            ("positive pools".into(), n(self.positive_pools)),
            ("retests".into(), n(self.retest_tubes)),
            ("people confirmed".into(), n(self.people_confirmed)),
        ];
        let mut rows = rows;
        for (k, v) in &self.alerts_raised {
            rows.push((format!("alerts: {k}"), n(*v)));
        }
        rows.extend([
            (
                "hospital_transfer in time".into(),
                format!(
                    "{:.1} % ({} of {}; by the due time of the pool retest that led to it)",
                    100.0 * it.share,
                    n(it.in_time),
                    n(it.total)
                ),
            ),
            (
                "sample -> hospital_transfer".into(),
                format!(
                    "median {:.1} h, p95 {:.1} h, max {:.1} h",
                    l.median, l.p95, l.max
                ),
            ),
            ("AGAINST GROUND TRUTH".into(), String::new()),
            ("infected people".into(), n(t.infected)),
            (
                "  found".into(),
                format!("{} (have a hospital_transfer)", n(t.found)),
            ),
            (
                "  missed: undetectable".into(),
                format!(
                    "{} (Ct above the cut-off after dilution)",
                    n(t.missed_undetectable)
                ),
            ),
            (
                "  missed: tube lost".into(),
                format!(
                    "{} (lab never reported; no result_missing yet)",
                    n(t.missed_tube_lost)
                ),
            ),
            (
                "  missed: other reason".into(),
                format!("{} (must be 0)", n(t.missed_other)),
            ),
            (
                "false alerts".into(),
                format!(
                    "{} (hospital_transfer for an uninfected person)",
                    n(t.false_alerts)
                ),
            ),
            (
                "tests per person".into(),
                format!(
                    "{:.4} ((screening + retest tubes) / (people x rounds))",
                    self.tests_per_person
                ),
            ),
            ("dead letters".into(), n(self.dead_letters)),
            (
                "elapsed".into(),
                format!(
                    "{:.1} s (city {:.1} s, pipeline {:.1} s), {} people/s",
                    self.elapsed_secs.total,
                    self.elapsed_secs.city,
                    self.elapsed_secs.pipeline,
                    n((self.people as f64 * f64::from(self.rounds)
                        / self.elapsed_secs.total.max(1e-9)) as u64)
                ),
            ),
        ]);
        let width = rows.iter().map(|r| r.0.len()).max().unwrap_or(0);
        for (k, v) in rows {
            writeln!(f, "  {k:<width$}  {v}")?;
        }
        Ok(())
    }
}
