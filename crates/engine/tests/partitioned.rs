//! The engine split over partitions (as in Kafka mode) decides what the
//! engine in one piece decides: random streams run through 1..=4 partitioned
//! engines wired by in-memory "topics" that deliver messages late and in
//! random interleavings end with the same final alerts as one engine, and a
//! tube's own timers fire by its own records, not by how dense the stream is.

mod common;

use std::collections::{BTreeMap, VecDeque};

use common::random_tubes::*;
use common::*;
use pooltrace_engine::msg::Msg;
use pooltrace_engine::partition::tube_partition;
use pooltrace_engine::{Effect, Engine, EngineConfig, Partition};
use pooltrace_model::{Alert, AlertKind, AlertState, Record};
use proptest::prelude::*;

/// What must agree between runs: everything of an alert's final state but
/// its version count and update time (intermediate states may differ with
/// arrival order).
fn final_key(effects: &[Effect]) -> BTreeMap<String, Alert> {
    finals(effects)
        .into_iter()
        .map(|(id, mut a)| {
            a.version = 0;
            a.updated_at = a.raised_at;
            (id, a)
        })
        .collect()
}

/// A tiny deterministic generator (the test must not depend on a crate's
/// random stream staying the same).
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Runs records (in the given order) through `count` partitioned engines.
/// Messages between partitions wait in per-partition in-flight queues and
/// are delivered at random later moments; the watermark (every source's
/// progress) reaches each partition at random moments too, possibly before
/// messages caused by earlier records. At the end everything is delivered
/// and every partition sees the final time.
fn run_partitioned(cfg: &EngineConfig, records: Vec<Record>, count: u32, seed: u64) -> Vec<Effect> {
    let mut rng = Lcg(seed);
    let mut engines: Vec<Engine> = (0..count)
        .map(|index| Engine::partitioned(cfg.clone(), Partition { index, count }))
        .collect();
    let mut in_flight: Vec<VecDeque<Msg>> = vec![VecDeque::new(); count as usize];
    let mut out = Vec::new();
    let mut max_seen = None;
    let collect = |engines: &mut Vec<Engine>, in_flight: &mut Vec<VecDeque<Msg>>| {
        for e in engines.iter_mut() {
            for (to, msg) in e.take_outgoing() {
                in_flight[to as usize].push_back(msg);
            }
        }
    };
    for record in records {
        let at = record.event_time();
        max_seen = Some(max_seen.map_or(
            at,
            |m: pooltrace_model::Timestamp| {
                if at.millis() > m.millis() {
                    at
                } else {
                    m
                }
            },
        ));
        let p = tube_partition(record.tube_id(), count) as usize;
        engines[p].handle(record, &mut out);
        collect(&mut engines, &mut in_flight);
        for p in 0..count as usize {
            // Deliver a random prefix of what waits for this partition.
            let n = (rng.next() as usize) % (in_flight[p].len() + 1);
            for _ in 0..n {
                if let Some(msg) = in_flight[p].pop_front() {
                    engines[p].deliver(msg, &mut out);
                }
            }
            if rng.next().is_multiple_of(3) {
                if let Some(t) = max_seen {
                    engines[p].observe_time(t, &mut out);
                }
            }
        }
        collect(&mut engines, &mut in_flight);
    }
    // End of input: everything delivered, every partition at the final time.
    loop {
        let mut busy = false;
        for p in 0..count as usize {
            while let Some(msg) = in_flight[p].pop_front() {
                busy = true;
                engines[p].deliver(msg, &mut out);
            }
        }
        collect(&mut engines, &mut in_flight);
        if !busy {
            break;
        }
    }
    if let Some(t) = max_seen {
        for e in engines.iter_mut() {
            e.observe_time(t, &mut out);
        }
    }
    collect(&mut engines, &mut in_flight);
    assert!(
        in_flight.iter().all(|q| q.is_empty()),
        "timers sent nothing across"
    );
    out
}

/// Records in event-time order (stable), as a source would publish them.
fn in_time_order(mut records: Vec<Record>) -> Vec<Record> {
    records.sort_by_key(|r| r.event_time().millis());
    records
}

fn check_same_as_one_engine(
    cfg: EngineConfig,
    tubes: &[Tube],
    seed: u64,
) -> Result<(), TestCaseError> {
    let recs = in_time_order(records(tubes));
    let (one, _) = run_with(cfg.clone(), recs.clone());
    let expected = final_key(&one);
    for count in 1..=4 {
        let split = final_key(&run_partitioned(
            &cfg,
            recs.clone(),
            count,
            seed ^ u64::from(count),
        ));
        prop_assert_eq!(
            expected.keys().collect::<Vec<_>>(),
            split.keys().collect::<Vec<_>>(),
            "same alert ids with {} partitions: one engine {:#?}\nsplit {:#?}",
            count,
            expected,
            split
        );
        for (id, a) in &expected {
            let b = &split[id];
            if a.kind == AlertKind::Resample && a != b {
                // The documented order effect (see properties.rs): a negative
                // pool that reaches a person before an earlier invalid tube
                // is not kept, so it cannot resolve the resample: the
                // resample stays open, or a later tube resolves it (in one
                // engine too, when records come in that order). Across
                // partitions messages interleave in any order, so it shows
                // here too; it is always on the safe side.
                let mut b = b.clone();
                let states = [a.state, b.state];
                prop_assert!(
                    states.contains(&AlertState::Open) || a.state == b.state,
                    "{:?} vs {:?}",
                    a,
                    b
                );
                prop_assert!(
                    !states.contains(&AlertState::Superseded),
                    "{:?} vs {:?}",
                    a,
                    b
                );
                b.state = a.state;
                b.resolved_reason = a.resolved_reason.clone();
                prop_assert_eq!(a, &b);
            } else {
                prop_assert_eq!(a, b, "alert {} with {} partitions", id, count);
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn partitions_decide_what_one_engine_decides(tubes in tube_strategy(false), seed in any::<u64>()) {
        check_same_as_one_engine(EngineConfig::default(), &tubes, seed)?;
    }
}

#[test]
fn a_partition_routes_foreign_keys_out_and_handles_its_own() {
    let recs = in_time_order(vec![
        manifest(
            "P1",
            "pool",
            "08:00",
            vec![member(1, "301"), member(2, "302"), member(3, "303")],
        ),
        result("P1", "10:00", pos()),
    ]);
    let count = 4;
    let home = tube_partition("P1", count);
    let mut engine = Engine::partitioned(EngineConfig::default(), Partition { index: home, count });
    let mut out = Vec::new();
    for r in recs {
        engine.handle(r, &mut out);
    }
    let outgoing = engine.take_outgoing();
    assert!(engine.take_outgoing().is_empty(), "taken once");
    // The three members' observations and the pool follow-up are somewhere:
    // locally (alerts in `out`) or in `outgoing`, never both, never lost.
    let observed_out = outgoing
        .iter()
        .filter(|(_, m)| matches!(m, Msg::Observed { .. }))
        .count();
    let retests_here = alerts(&out)
        .iter()
        .filter(|a| a.kind == AlertKind::PoolRetest)
        .count();
    assert_eq!(observed_out + retests_here, 3, "{outgoing:#?} {out:#?}");
    assert!(outgoing.iter().all(|(to, _)| *to != home && *to < count));
}

#[test]
fn a_tubes_own_late_record_fires_its_timer_first() {
    // Receipt at 08:00, nothing else for 7 h, then the result: the lab was
    // overdue at 14:00 whatever the density of the rest of the stream.
    let recs = vec![
        manifest("S1", "single", "07:30", vec![member(1, "301")]),
        receipt("S1", "08:00"),
        result("S1", "15:00", neg()),
    ];
    let f = finals(&run(recs));
    let overdue: Vec<&Alert> = f
        .values()
        .filter(|a| a.kind == AlertKind::LabOverdue)
        .collect();
    assert_eq!(overdue.len(), 1, "{f:#?}");
    assert_eq!(overdue[0].state, AlertState::Resolved);
    assert_eq!(
        overdue[0].raised_at.millis(),
        pooltrace_model::Timestamp::parse(&t("14:00"))
            .unwrap()
            .millis()
    );

    // Within the allowed lateness (5 min) it is not late.
    let recs = vec![
        manifest("S1", "single", "07:30", vec![member(1, "301")]),
        receipt("S1", "08:00"),
        result("S1", "14:04", neg()),
    ];
    let f = finals(&run(recs));
    assert!(
        f.values().all(|a| a.kind != AlertKind::LabOverdue),
        "{f:#?}"
    );
}
