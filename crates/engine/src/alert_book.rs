//! The alerts one operator key has emitted, and reconciliation: given the
//! alerts that *should* exist now, emit exactly the changes.
//!
//! A book keeps each alert's latest state encoded (MessagePack, one
//! allocation of some 400 bytes) rather than as an [`Alert`] (736 bytes
//! inline and a dozen strings of its own, about 1.2 KB): people in flagged
//! pools hold one each until they are retested, 650,000 of them in a
//! Shanghai-sized round. The encoding leaves out the alert id (kept in
//! front of it, compared without decoding), the version and the time of
//! the last change (kept beside it), so that two alerts with the same
//! content have the same bytes: reconciling compares bytes and decodes
//! only to resolve an alert.

use pooltrace_model::{Alert, AlertKind, AlertState, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Effect;

/// Emitted alerts of one key (a person, a tube, a pool), newest state each.
/// Snapshots hold the alerts as they always did (`{"emitted": [Alert]}`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AlertBook {
    emitted: Vec<Stored>,
}

/// One emitted alert's latest state.
#[derive(Clone, Debug, PartialEq)]
struct Stored {
    kind: AlertKind,
    state: AlertState,
    version: u32,
    updated_at: Timestamp,
    /// `[id length, u32 LE][id][the alert without id, version, updated_at]`.
    bytes: Box<[u8]>,
}

/// When every encoded alert says it changed (the real time is beside it).
const NO_TIME: Timestamp = Timestamp::from_millis(0, 0);

impl Stored {
    /// `a` as a book keeps it: `[id length][id][the rest]`; its id,
    /// version and `updated_at` are put back after.
    fn write(a: &mut Alert) -> Vec<u8> {
        let id = std::mem::take(&mut a.alert_id);
        let (version, updated_at) = (a.version, a.updated_at);
        a.version = 0;
        a.updated_at = NO_TIME;
        let id_len = u32::try_from(id.len()).expect("an alert id shorter than 4 GiB");
        let mut bytes = Vec::with_capacity(512);
        bytes.extend_from_slice(&id_len.to_le_bytes());
        bytes.extend_from_slice(id.as_bytes());
        rmp_serde::encode::write_named(&mut bytes, &*a)
            .expect("an alert encodes as MessagePack (plain fields, string keys)");
        a.alert_id = id;
        a.version = version;
        a.updated_at = updated_at;
        bytes
    }

    /// `a`, whose bytes [`Stored::write`] gave.
    fn new(a: &Alert, bytes: Vec<u8>) -> Stored {
        Stored {
            kind: a.kind,
            state: a.state,
            version: a.version,
            updated_at: a.updated_at,
            bytes: bytes.into_boxed_slice(),
        }
    }

    fn encode(a: &mut Alert) -> Stored {
        let bytes = Stored::write(a);
        Stored::new(a, bytes)
    }

    fn id(&self) -> &[u8] {
        &self.bytes[4..4 + id_len(&self.bytes)]
    }

    fn content(&self) -> &[u8] {
        content(&self.bytes)
    }

    fn decode(&self) -> Alert {
        let mut a: Alert = rmp_serde::from_slice(self.content())
            .expect("an alert book decodes the alerts it encoded itself");
        a.alert_id = String::from_utf8_lossy(self.id()).into_owned();
        a.version = self.version;
        a.updated_at = self.updated_at;
        a
    }
}

fn id_len(bytes: &[u8]) -> usize {
    let mut n = [0; 4];
    n.copy_from_slice(&bytes[..4]);
    u32::from_le_bytes(n) as usize
}

/// What two states of one alert are compared by: everything but id,
/// version and `updated_at`.
fn content(bytes: &[u8]) -> &[u8] {
    &bytes[4 + id_len(bytes)..]
}

impl AlertBook {
    /// True when nothing was ever emitted.
    pub fn is_empty(&self) -> bool {
        self.emitted.is_empty()
    }

    /// Kind and state of each emitted alert's latest state.
    pub fn states(&self) -> impl Iterator<Item = (AlertKind, AlertState)> + '_ {
        self.emitted.iter().map(|s| (s.kind, s.state))
    }

    /// The alerts' latest states, decoded.
    pub fn alerts(&self) -> Vec<Alert> {
        self.emitted.iter().map(Stored::decode).collect()
    }

    /// Emits what changed between the emitted alerts and `desired`.
    ///
    /// `desired` alerts carry any `version` / `updated_at`: both are set here.
    /// A new alert gets version 1; a changed one the next version; an emitted
    /// alert absent from `desired` is resolved with `retract_reason` (unless
    /// it is already resolved). Changes stamp `updated_at = now`.
    pub fn reconcile(
        &mut self,
        desired: Vec<Alert>,
        now: Timestamp,
        retract_reason: &str,
        out: &mut Vec<Effect>,
    ) {
        let before = self.emitted.len();
        let mut wanted = vec![false; before];
        for mut d in desired {
            d.updated_at = now;
            let found = self
                .emitted
                .iter()
                .position(|e| e.id() == d.alert_id.as_bytes());
            match found {
                None => {
                    d.version = 1;
                    let stored = Stored::encode(&mut d);
                    // Exactly: most books hold one or two alerts; `push`
                    // alone would make room for four.
                    self.emitted.reserve_exact(1);
                    self.emitted.push(stored);
                    out.push(Effect::Alert(Box::new(d)));
                }
                Some(i) => {
                    if i < before {
                        wanted[i] = true;
                    }
                    d.version = self.emitted[i].version + 1;
                    let bytes = Stored::write(&mut d);
                    let prev = &mut self.emitted[i];
                    // Unchanged (the usual case): nothing is kept of it.
                    if prev.content() != content(&bytes) {
                        *prev = Stored::new(&d, bytes);
                        out.push(Effect::Alert(Box::new(d)));
                    }
                }
            }
        }
        for (i, keep) in wanted.into_iter().enumerate() {
            let prev = &mut self.emitted[i];
            if !keep && prev.state != AlertState::Resolved {
                let mut a = prev.decode();
                a.version += 1;
                a.updated_at = now;
                a.state = AlertState::Resolved;
                a.superseded_by = None;
                a.resolved_reason = Some(retract_reason.to_string());
                *prev = Stored::encode(&mut a);
                out.push(Effect::Alert(Box::new(a)));
            }
        }
    }
}

/// A book as snapshots hold it.
#[derive(Serialize, Deserialize)]
struct BookWire {
    emitted: Vec<Alert>,
}

impl Serialize for AlertBook {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        BookWire {
            emitted: self.alerts(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for AlertBook {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let wire = BookWire::deserialize(d)?;
        let mut emitted = Vec::with_capacity(wire.emitted.len());
        for mut a in wire.emitted {
            emitted.push(Stored::encode(&mut a));
        }
        Ok(AlertBook { emitted })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::new_alert;
    use pooltrace_model::{AlertKind, Evidence};

    fn alert(cause: &str) -> Alert {
        let at = Timestamp::parse("2022-04-05T10:00:00+08:00").expect("a valid time");
        let reason = format!("caused by {cause}");
        new_alert(
            AlertKind::LabOverdue,
            cause,
            None,
            cause,
            at,
            None,
            reason,
            Evidence::default(),
        )
    }

    #[test]
    fn a_book_holds_room_for_its_alerts_only() {
        let now = Timestamp::parse("2022-04-05T11:00:00+08:00").expect("a valid time");
        let (mut book, mut out) = (AlertBook::default(), Vec::new());
        let mut desired = Vec::new();
        for cause in ["T1", "T2", "T3"] {
            desired.push(alert(cause));
            book.reconcile(desired.clone(), now, "gone", &mut out);
            assert_eq!(book.alerts().len(), desired.len());
            assert_eq!(
                book.emitted.capacity(),
                desired.len(),
                "an alert is ~500 bytes: no spare room per book"
            );
        }
        assert_eq!(out.len(), 3, "one new alert each time, nothing re-sent");
    }

    #[test]
    fn only_changes_are_emitted_and_a_retracted_alert_is_resolved() {
        let t = |h: u32| Timestamp::parse(&format!("2022-04-05T{h:02}:00:00+08:00")).expect("time");
        let (mut book, mut out) = (AlertBook::default(), Vec::new());
        book.reconcile(vec![alert("T1"), alert("T2")], t(11), "gone", &mut out);
        assert_eq!(out.len(), 2);
        out.clear();
        // Same content, other version and time: nothing to say.
        let mut again = alert("T1");
        again.version = 7;
        book.reconcile(vec![again, alert("T2")], t(12), "gone", &mut out);
        assert!(out.is_empty(), "{out:?}");
        // T1 changes, T2 is no longer wanted.
        let mut changed = alert("T1");
        changed.reason = "another reason".into();
        book.reconcile(vec![changed], t(13), "gone", &mut out);
        let emitted: Vec<&Alert> = out
            .iter()
            .map(|e| match e {
                Effect::Alert(a) => &**a,
                other => panic!("not an alert: {other:?}"),
            })
            .collect();
        assert_eq!(emitted.len(), 2);
        assert_eq!(
            (
                emitted[0].tube_id.as_str(),
                emitted[0].version,
                emitted[0].updated_at
            ),
            ("T1", 2, t(13))
        );
        assert_eq!(emitted[0].reason, "another reason");
        assert_eq!(
            (
                emitted[1].tube_id.as_str(),
                emitted[1].version,
                emitted[1].state
            ),
            ("T2", 2, AlertState::Resolved)
        );
        assert_eq!(emitted[1].resolved_reason.as_deref(), Some("gone"));
        assert_eq!(emitted[1].raised_at, t(10), "the rest of the alert is kept");
        // The book holds exactly what was last emitted.
        let held = book.alerts();
        assert_eq!(held, vec![emitted[0].clone(), emitted[1].clone()]);
        out.clear();
        book.reconcile(vec![], t(14), "gone", &mut out);
        assert_eq!(out.len(), 1, "T1 resolved; T2 already was");
    }

    #[test]
    fn a_snapshot_holds_the_alerts_and_restores_the_same_book() {
        let now = Timestamp::parse("2022-04-05T11:00:00+08:00").expect("a valid time");
        let (mut book, mut out) = (AlertBook::default(), Vec::new());
        book.reconcile(vec![alert("T1"), alert("T2")], now, "gone", &mut out);
        book.reconcile(vec![alert("T2")], now, "gone", &mut out);
        let json = serde_json::to_value(&book).expect("encode");
        let listed = json["emitted"].as_array().expect("a list of alerts");
        assert_eq!(listed.len(), 2);
        assert_eq!(listed[0]["state"], "resolved");
        let back: AlertBook = serde_json::from_value(json).expect("decode");
        assert_eq!(back, book);
        let packed = rmp_serde::to_vec_named(&book).expect("encode");
        let back: AlertBook = rmp_serde::from_slice(&packed).expect("decode");
        assert_eq!(back.alerts(), book.alerts());
    }
}
