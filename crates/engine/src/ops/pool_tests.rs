//! The pool operator decides by event time, not by the order in which its
//! members' messages arrive.

use std::collections::{BTreeMap, VecDeque};

use pooltrace_model::{AlertState, Region, Timestamp};

use super::{MemberRetest, PoolOp};
use crate::msg::RetestStatus;
use crate::ops::Outbox;
use crate::timers::{TimerKind, Timers};
use crate::Effect;

const MIN: i64 = 60_000;

fn t(min: i64) -> Timestamp {
    Timestamp::from_millis(1_700_000_000_000 + min * MIN, 8 * 3600)
}

#[derive(Clone, Debug)]
enum Ev {
    /// The pool (members A and B) flagged at this minute.
    Flagged(i64),
    /// A member's retest message: (person, its standing, the minute of the
    /// event that caused it).
    Retest(&'static str, MemberRetest, i64),
    /// The watermark passes this minute.
    Watermark(i64),
}

fn negative(person: &'static str, tube: &str, min: i64) -> Ev {
    Ev::Retest(
        person,
        MemberRetest {
            status: RetestStatus::Negative,
            tube: Some(tube.into()),
            reported_at: Some(t(min)),
            negative: Some((tube.into(), t(min))),
        },
        min,
    )
}

/// A positive retest reported at `min`, after the negative `neg` (if any).
fn positive(person: &'static str, tube: &str, min: i64, neg: Option<(&str, i64)>) -> Ev {
    Ev::Retest(
        person,
        MemberRetest {
            status: RetestStatus::Positive,
            tube: Some(tube.into()),
            reported_at: Some(t(min)),
            negative: neg.map(|(tube, m)| (tube.into(), t(m))),
        },
        min,
    )
}

/// A pool operator with its timers, fed events one at a time.
struct Harness {
    op: PoolOp,
    timers: Timers,
    effects: Vec<Effect>,
}

impl Harness {
    fn new(settle: i64) -> Self {
        Harness {
            op: PoolOp::new(settle * MIN),
            timers: Timers::default(),
            effects: Vec::new(),
        }
    }

    fn apply(&mut self, ev: &Ev) {
        let mut msgs = VecDeque::new();
        let mut ob = Outbox {
            effects: &mut self.effects,
            msgs: &mut msgs,
            timers: &mut self.timers,
        };
        match ev.clone() {
            Ev::Flagged(min) => self.op.on_decided(
                "P1".into(),
                vec!["A".into(), "B".into()],
                true,
                Region {
                    district: "D".into(),
                    street: "S".into(),
                    community: "C".into(),
                },
                t(min),
                &mut ob,
            ),
            Ev::Retest(person, r, min) => {
                self.op
                    .on_retest("P1".into(), person.into(), r, t(min), &mut ob)
            }
            Ev::Watermark(min) => {
                for (_, kind, key) in self.timers.due(t(min).millis()) {
                    assert_eq!(kind, TimerKind::DiscordantPool);
                    let mut ob = Outbox {
                        effects: &mut self.effects,
                        msgs: &mut msgs,
                        timers: &mut self.timers,
                    };
                    self.op.on_timer(&key, &mut ob);
                }
            }
        }
        assert!(msgs.is_empty(), "the pool operator sends no messages");
    }

    /// The final state of each alert.
    fn alerts(&self) -> BTreeMap<String, pooltrace_model::Alert> {
        let mut out = BTreeMap::new();
        for e in &self.effects {
            if let Effect::Alert(a) = e {
                out.insert(a.alert_id.clone(), (**a).clone());
            }
        }
        out
    }
}

/// Runs events through a pool operator with `settle` minutes and returns
/// the final state of each alert, the watermark passing everything at the end.
fn run(settle: i64, events: &[Ev]) -> BTreeMap<String, pooltrace_model::Alert> {
    let mut h = Harness::new(settle);
    for ev in events {
        h.apply(ev);
    }
    h.apply(&Ev::Watermark(100_000));
    h.alerts()
}

/// Every order of `events` in which each member's own messages keep their
/// order (one sender's messages to one partition arrive in order).
fn orders(events: &[Ev]) -> Vec<Vec<Ev>> {
    let position = |o: &[Ev], ev: &Ev| o.iter().position(|e| format!("{e:?}") == format!("{ev:?}"));
    permutations(events)
        .into_iter()
        .filter(|o| {
            events.iter().enumerate().all(|(i, a)| {
                events[i + 1..].iter().all(|b| match (a, b) {
                    (Ev::Retest(p, ..), Ev::Retest(q, ..)) if p == q => {
                        position(o, a) < position(o, b)
                    }
                    _ => true,
                })
            })
        })
        .collect()
}

/// Every permutation of `events`.
fn permutations(events: &[Ev]) -> Vec<Vec<Ev>> {
    if events.is_empty() {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for i in 0..events.len() {
        let mut rest = events.to_vec();
        let first = rest.remove(i);
        for mut tail in permutations(&rest) {
            tail.insert(0, first.clone());
            out.push(tail);
        }
    }
    out
}

/// Runs the flagged pool then `messages` in every order one sender's
/// messages allow: (the order, the final alerts).
fn every_order(
    settle: i64,
    messages: &[Ev],
) -> Vec<(Vec<Ev>, BTreeMap<String, pooltrace_model::Alert>)> {
    orders(messages)
        .into_iter()
        .map(|order| {
            let mut events = vec![Ev::Flagged(0)];
            events.extend(order.iter().cloned());
            (order, run(settle, &events))
        })
        .collect()
}

/// What must agree: the final state, raise time, evidence and reason.
fn summary(alerts: &BTreeMap<String, pooltrace_model::Alert>) -> Vec<String> {
    alerts
        .values()
        .map(|a| {
            format!(
                "{:?} {:?} raised {} updated {} retests {:?} {:?}",
                a.kind,
                a.state,
                a.raised_at.millis(),
                a.updated_at.millis(),
                a.evidence.retest_tube_ids,
                a.resolved_reason
            )
        })
        .collect()
}

#[test]
fn a_negative_that_arrives_after_another_members_later_positive_still_raises_the_check() {
    // In event time: A negative at 10, B negative at 20, A positive at 50.
    // Every member was negative from 20 to 50: the check was due at 20 and
    // the positive resolves it. A's person operator may have seen its
    // positive first and never sent the negative on its own.
    let in_time = run(
        0,
        &[
            Ev::Flagged(0),
            negative("A", "RA1", 10),
            negative("B", "RB1", 20),
            Ev::Watermark(30),
            positive("A", "RA2", 50, Some(("RA1", 10))),
        ],
    );
    let expected = summary(&in_time);
    assert_eq!(expected.len(), 1, "{expected:?}");
    let a = in_time.values().next().unwrap();
    assert_eq!(a.state, AlertState::Resolved);
    assert_eq!(a.raised_at, t(20));
    assert_eq!(a.updated_at, t(50));
    assert_eq!(a.evidence.retest_tube_ids, vec!["RA1", "RB1"]);

    let messages = [
        negative("B", "RB1", 20),
        positive("A", "RA2", 50, Some(("RA1", 10))),
    ];
    for (order, alerts) in every_order(0, &messages) {
        assert_eq!(summary(&alerts), expected, "{order:?}");
    }
    // With A's own negative message too, in A's order, anywhere around B's.
    for b_at in 0..3 {
        let mut events = vec![
            Ev::Flagged(0),
            negative("A", "RA1", 10),
            positive("A", "RA2", 50, Some(("RA1", 10))),
        ];
        events.insert(1 + b_at, negative("B", "RB1", 20));
        assert_eq!(summary(&run(0, &events)), expected, "{events:?}");
    }
}

#[test]
fn an_all_negative_spell_shorter_than_the_settle_time_raises_nothing_in_any_order() {
    // Negative from 20 to 40, settle 30 min: never confirmed.
    let messages = [
        negative("A", "RA1", 10),
        negative("B", "RB1", 20),
        positive("A", "RA2", 40, Some(("RA1", 10))),
    ];
    for (order, alerts) in every_order(30, &messages) {
        assert!(alerts.is_empty(), "{order:?}");
    }
    // Long enough (60 >= 20 + 30): raised at 50, resolved at 60.
    let messages = [
        negative("A", "RA1", 10),
        negative("B", "RB1", 20),
        positive("A", "RA2", 60, Some(("RA1", 10))),
    ];
    for (order, alerts) in every_order(30, &messages) {
        let a = alerts.values().next().expect("raised");
        assert_eq!(
            (a.state, a.raised_at, a.updated_at),
            (AlertState::Resolved, t(50), t(60)),
            "{order:?}"
        );
    }
}

#[test]
fn a_positive_before_the_last_negative_means_never_all_negative() {
    // A positive at 15 (after its negative at 10), B negative at 20.
    let messages = [
        positive("A", "RA2", 15, Some(("RA1", 10))),
        negative("B", "RB1", 20),
    ];
    for (order, alerts) in every_order(0, &messages) {
        assert!(alerts.is_empty(), "{order:?}");
    }
    // The same instant is not a spell either: a positive at 20.
    let messages = [
        positive("A", "RA2", 20, Some(("RA1", 10))),
        negative("B", "RB1", 20),
    ];
    for (order, alerts) in every_order(0, &messages) {
        assert!(alerts.is_empty(), "{order:?}");
    }
}

#[test]
fn an_open_spell_waits_for_the_watermark_and_stays_open() {
    let mut h = Harness::new(10);
    for ev in [
        Ev::Flagged(0),
        negative("A", "RA1", 10),
        negative("B", "RB1", 20),
        Ev::Watermark(29),
    ] {
        h.apply(&ev);
    }
    assert!(h.alerts().is_empty(), "not before 20 + 10");
    h.apply(&Ev::Watermark(30));
    let alerts = h.alerts();
    let a = alerts.values().next().expect("raised");
    assert_eq!((a.state, a.raised_at), (AlertState::Open, t(30)));
    assert_eq!(a.evidence.retest_tube_ids, vec!["RA1", "RB1"]);
}

#[test]
fn retest_standings_of_earlier_snapshots_read_back() {
    // Earlier builds stored (status, tube, reported) per member and
    // (pool, status) per told pool, as MessagePack arrays.
    let old = rmp_serde::to_vec_named(&(RetestStatus::Negative, Some("R1"), Some(t(5)))).unwrap();
    let back: MemberRetest = rmp_serde::from_slice(&old).unwrap();
    assert_eq!(back.status, RetestStatus::Negative);
    assert_eq!(back.negative(), Some((&"R1".to_string(), t(5))));
    let old = rmp_serde::to_vec_named(&(RetestStatus::Positive, Some("R2"), Some(t(9)))).unwrap();
    let back: MemberRetest = rmp_serde::from_slice(&old).unwrap();
    assert_eq!((back.negative(), back.positive_since()), (None, Some(t(9))));
}
