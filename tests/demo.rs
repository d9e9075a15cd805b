//! `pooltrace demo` end to end against the ground truth, its determinism, and
//! the closed loop's Dorfman arithmetic at 10^6 people.

mod support;

use std::collections::{HashMap, HashSet};
use std::path::Path;

use pooltrace_engine::{Effect, Engine, EngineConfig};
use pooltrace_model::AlertKind;
use pooltrace_sim::{AssayConfig, City, ClosedLoop, SimConfig, ZoneMix};
use serde_json::Value;
use support::{bin, read_ndjson};

// As in the binary: the engine allocates many small strings (benches/README.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn demo(out: &Path, seed: &str, extra: &[&str]) -> Value {
    demo_with_env(out, seed, extra, &[])
}

fn demo_with_env(out: &Path, seed: &str, extra: &[&str], env: &[(&str, &str)]) -> Value {
    let o = bin()
        .envs(env.iter().copied())
        .args(["demo", "--people", "20000", "--prevalence", "0.005"])
        .args(["--seed", seed, "--out"])
        .arg(out)
        .args(extra)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(stdout.contains("AGAINST GROUND TRUTH"), "{stdout}");
    let text = std::fs::read_to_string(out.join("demo_summary.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn person_alerts(alerts: &[Value], kind: &str) -> HashMap<String, Value> {
    alerts
        .iter()
        .filter(|a| a["kind"] == kind && a["version"] == 1)
        .map(|a| (a["person_id"].as_str().unwrap().to_string(), a.clone()))
        .collect()
}

#[test]
fn demo_finds_every_detectable_infected_person_and_isolates_co_residents() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("demo");
    let s = demo(&out, "11", &["--rounds", "2"]);
    let t = &s["truth"];
    let n = |v: &Value| v.as_u64().unwrap();
    assert!(n(&t["infected"]) >= 50, "{s}");
    assert_eq!(n(&t["missed_other"]), 0, "{s}");
    assert_eq!(n(&t["false_alerts"]), 0, "{s}");
    assert_eq!(
        n(&t["found"]) + n(&t["missed_undetectable"]) + n(&t["missed_tube_lost"]),
        n(&t["infected"])
    );
    assert_eq!(n(&s["dead_letters"]), 0);
    assert!(n(&s["retest_tubes"]) > 0 && n(&s["positive_pools"]) > 0);

    // Independently, from the files: alerts.ndjson against truth.ndjson.
    let alerts = read_ndjson(&out.join("alerts.ndjson"));
    let hospital = person_alerts(&alerts, "hospital_transfer");
    let isolation = person_alerts(&alerts, "isolation_transfer");
    let truth = read_ndjson(&out.join("truth.ndjson"));
    let infected: HashSet<&str> = truth
        .iter()
        .filter(|r| r["type"] == "infected")
        .map(|r| r["person_id"].as_str().unwrap())
        .collect();
    assert_eq!(hospital.len() as u64, n(&t["found"]));
    // Nobody uninfected is sent to hospital (the sim's false-positive rate is 0).
    for p in hospital.keys() {
        assert!(
            infected.contains(p.as_str()),
            "false hospital_transfer for {p}"
        );
    }
    // Detectable: a screening tube read positive with the person's own Ct
    // below the cut-off after dilution. Every such person is confirmed.
    let detectable: HashSet<&str> = truth
        .iter()
        .filter(|r| {
            r["type"] == "infected"
                && r["tube_outcome"] == "positive"
                && r["undetectable_after_dilution"] == false
        })
        .map(|r| r["person_id"].as_str().unwrap())
        .collect();
    assert!(detectable.len() >= 40, "{}", detectable.len());
    for p in &detectable {
        assert!(
            hospital.contains_key(*p),
            "detectable {p} has no hospital_transfer"
        );
    }

    // Co-residents of every confirmed person get an isolation_transfer that
    // names the confirmed person and their address.
    let cfg: SimConfig =
        serde_json::from_str(&std::fs::read_to_string(out.join("sim_config.json")).unwrap())
            .unwrap();
    let city = City::generate(&cfg).unwrap();
    let mut checked = 0;
    for (p, ht) in &hospital {
        let i = city.person_index(p).expect("a resident");
        for co in city
            .household_members(city.household_of(i))
            .filter(|c| *c != i)
        {
            let id = city.person_id(co);
            let iso = isolation
                .get(&id)
                .unwrap_or_else(|| panic!("co-resident {id} of {p} has no isolation_transfer"));
            assert_eq!(iso["address"], ht["address"]);
            assert_eq!(iso["region"], ht["region"]);
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
}

#[test]
fn same_seed_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        dir.path().join("a"),
        dir.path().join("b"),
        dir.path().join("c"),
    );
    let sa = demo(&a, "7", &[]);
    let sb = demo(&b, "7", &[]);
    demo(&c, "8", &[]);
    let bytes = |d: &Path| std::fs::read(d.join("alerts.ndjson")).unwrap();
    assert!(!bytes(&a).is_empty());
    assert!(bytes(&a) == bytes(&b), "same seed, different alerts.ndjson");
    assert!(bytes(&a) != bytes(&c), "another seed, same alerts");
    assert_eq!(sa["truth"], sb["truth"]);
    assert_eq!(sa["alerts_raised"], sb["alerts_raised"]);
}

#[test]
fn the_closed_loop_spilling_cold_state_raises_the_same_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let (kept, spilled) = (dir.path().join("kept"), dir.path().join("spilled"));
    let none = [("POOLTRACE__ENGINE__STATE_MEMORY_MB", "0")];
    let tiny = [
        ("POOLTRACE__ENGINE__STATE_MEMORY_MB", "1"),
        ("POOLTRACE__ENGINE__SPILL_AFTER_MIN", "0"),
    ];
    let a = demo_with_env(&kept, "11", &[], &none);
    let b = demo_with_env(&spilled, "11", &[], &tiny);
    let bytes = |d: &Path| std::fs::read(d.join("alerts.ndjson")).unwrap();
    assert!(
        bytes(&kept) == bytes(&spilled),
        "spilling changed alerts.ndjson"
    );
    assert_eq!(a["truth"], b["truth"]);
    assert_eq!(a["alerts_raised"], b["alerts_raised"]);
    let summary = |d: &Path| -> Value {
        serde_json::from_str(&std::fs::read_to_string(d.join("summary.json")).unwrap()).unwrap()
    };
    assert_eq!(summary(&kept)["spilled_tubes"], 0);
    assert!(summary(&spilled)["spilled_tubes"].as_u64().unwrap() > 100);
    assert!(summary(&spilled)["spilled_households"].as_u64().unwrap() > 100);
    assert!(summary(&spilled)["spilled_people"].as_u64().unwrap() > 10);
    assert!(!spilled.join(".spill").exists());
}

/// Tests per person of the closed loop over 10^6 people in k-pools with a
/// perfect assay, and the realised prevalence.
fn closed_loop_tests_per_person(k: u8, p: f64, seed: u64) -> (f64, f64) {
    let cfg = SimConfig {
        people: 1_000_000,
        seed,
        prevalence: p,
        clustering: 0.0,
        zones: ZoneMix {
            lockdown: 0.0,
            control: 1.0,
            precaution: 0.0,
        },
        pool_size_control: k,
        // Every infected person is detected even diluted in 20 (Ct <= ~29).
        assay: AssayConfig {
            mean_ct: 20.0,
            sd_ct: 1.0,
            false_positive_rate: 0.0,
            inconclusive_rate: 0.0,
            invalid_rate: 0.0,
            ..AssayConfig::default()
        },
        lost_tube_rate: 0.0,
        early_result_rate: 0.0,
        member_details: false,
        ..SimConfig::default()
    };
    let city = City::generate(&cfg).unwrap();
    let mut engine = Engine::new(EngineConfig::default());
    let mut lp = ClosedLoop::new(&city);
    let mut effects = Vec::new();
    let mut confirmed = 0;
    while let Some(r) = lp.next_record() {
        effects.clear();
        engine.handle(r.record, &mut effects);
        for e in &effects {
            if let Effect::Alert(a) = e {
                confirmed += usize::from(a.kind == AlertKind::HospitalTransfer && a.version == 1);
                lp.respond(a);
            }
        }
    }
    let infected = city.truth().infected().len();
    assert_eq!(confirmed, infected, "a perfect assay finds everyone");
    let s = lp.stats();
    let people = city.people() as f64;
    (
        (s.screening_tubes + s.retest_tubes) as f64 / people,
        infected as f64 / people,
    )
}

/// Dorfman: expected tests per person = 1/k + 1 - (1-p)^k. Compared at the
/// realised prevalence: the binomial spread of the number infected alone
/// moves the expectation by about 1 % (1 SD) at p = 0.5 %, k = 20, while the
/// spread given that number is about 0.2 %.
fn dorfman(k: u8, p: f64) {
    let (measured, realised) = closed_loop_tests_per_person(k, p, 20_220_404 + u64::from(k));
    let sd = (p * (1.0 - p) / 1e6).sqrt();
    assert!(
        (realised - p).abs() < 4.0 * sd,
        "prevalence {realised} vs {p}"
    );
    let kf = f64::from(k);
    let expected = 1.0 / kf + 1.0 - (1.0 - realised).powf(kf);
    let err = (measured - expected).abs() / expected;
    eprintln!(
        "k={k} p={p}: measured {measured:.5}, Dorfman {expected:.5} (p^ {realised}), error {:.3} %",
        100.0 * err
    );
    assert!(err < 0.01, "k={k} p={p}: {measured} vs {expected}");
}

#[test]
fn dorfman_k10_p0_5_percent() {
    dorfman(10, 0.005);
}

#[test]
fn dorfman_k10_p2_percent() {
    dorfman(10, 0.02);
}

#[test]
fn dorfman_k20_p0_5_percent() {
    dorfman(20, 0.005);
}

#[test]
fn dorfman_k20_p2_percent() {
    dorfman(20, 0.02);
}
