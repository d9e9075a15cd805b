//! The alerts one operator key has emitted, and reconciliation: given the
//! alerts that *should* exist now, emit exactly the changes.

use pooltrace_model::{Alert, AlertState, Timestamp};

use crate::Effect;

/// Emitted alerts of one key (a person, a tube, a pool), newest state each.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct AlertBook {
    emitted: Vec<Alert>,
}

impl AlertBook {
    /// True when nothing was ever emitted.
    pub fn is_empty(&self) -> bool {
        self.emitted.is_empty()
    }

    /// The alerts' latest states.
    pub fn alerts(&self) -> &[Alert] {
        &self.emitted
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
            match self.emitted.iter().position(|e| e.alert_id == d.alert_id) {
                None => {
                    d.version = 1;
                    d.updated_at = now;
                    out.push(Effect::Alert(Box::new(d.clone())));
                    // Exactly: an alert is about 500 bytes and most books
                    // hold one or two; `push` alone would make room for four
                    // (2 KB for a person with one alert: 160 MB of a 2 M
                    // people demo's 1 GB heap).
                    self.emitted.reserve_exact(1);
                    self.emitted.push(d);
                }
                Some(i) => {
                    if i < before {
                        wanted[i] = true;
                    }
                    let prev = &mut self.emitted[i];
                    if !same_content(prev, &d) {
                        d.version = prev.version + 1;
                        d.updated_at = now;
                        out.push(Effect::Alert(Box::new(d.clone())));
                        *prev = d;
                    }
                }
            }
        }
        for (i, keep) in wanted.into_iter().enumerate() {
            let prev = &mut self.emitted[i];
            if !keep && prev.state != AlertState::Resolved {
                prev.version += 1;
                prev.updated_at = now;
                prev.state = AlertState::Resolved;
                prev.superseded_by = None;
                prev.resolved_reason = Some(retract_reason.to_string());
                out.push(Effect::Alert(Box::new(prev.clone())));
            }
        }
    }
}

/// Equal in everything but `version` and `updated_at`.
fn same_content(a: &Alert, b: &Alert) -> bool {
    a.kind == b.kind
        && a.state == b.state
        && a.person_id == b.person_id
        && a.tube_id == b.tube_id
        && a.raised_at == b.raised_at
        && a.due_at == b.due_at
        && a.region == b.region
        && a.name == b.name
        && a.phone == b.phone
        && a.address == b.address
        && a.reason == b.reason
        && a.evidence == b.evidence
        && a.superseded_by == b.superseded_by
        && a.resolved_reason == b.resolved_reason
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
}
