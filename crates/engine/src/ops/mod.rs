//! The keyed operators. Each is a pure state machine over the state of its
//! keys: messages in, effects and messages out.

pub mod batch;
pub mod household;
mod household_cold;
mod household_wire;
pub(crate) mod oldest;
pub mod person;
mod person_cold;
mod person_rules;
pub mod pool;
pub mod tube;
mod tube_cold;
mod tube_state;

use pooltrace_model::{alert_id, Alert, AlertKind, AlertState, Evidence, Timestamp};

use crate::msg::Contact;

/// An alert with everything but version and update time (the
/// [`crate::alert_book::AlertBook`] sets those).
#[allow(clippy::too_many_arguments)]
pub(crate) fn new_alert(
    kind: AlertKind,
    cause: &str,
    contact: Option<&Contact>,
    tube_id: &str,
    raised_at: Timestamp,
    due_at: Option<Timestamp>,
    reason: String,
    evidence: Evidence,
) -> Alert {
    let subject = contact.map_or(tube_id, |c| c.person_id());
    Alert {
        alert_id: alert_id(kind, subject, cause),
        version: 0,
        kind,
        state: AlertState::Open,
        person_id: contact.map(|c| c.person_id().to_string()),
        tube_id: tube_id.to_string(),
        raised_at,
        due_at,
        updated_at: raised_at,
        region: contact.map(|c| c.region()),
        name: contact.and_then(|c| c.name().map(String::from)),
        phone: contact.and_then(|c| c.phone().map(String::from)),
        address: contact.and_then(|c| c.address()),
        reason,
        evidence,
        superseded_by: None,
        resolved_reason: None,
    }
}

/// Marks a desired alert resolved with a reason.
pub(crate) fn resolved(mut a: Alert, why: String) -> Alert {
    a.state = AlertState::Resolved;
    a.resolved_reason = Some(why);
    a
}

/// Marks a desired alert superseded by another alert.
pub(crate) fn superseded(mut a: Alert, by: &str) -> Alert {
    a.state = AlertState::Superseded;
    a.superseded_by = Some(by.to_string());
    a
}

/// Where an operator puts what it produces.
pub struct Outbox<'a> {
    /// Effects for the outside world.
    pub effects: &'a mut Vec<Effect>,
    /// Messages for other operators (routed by [`crate::msg::Msg::route`]).
    pub msgs: &'a mut std::collections::VecDeque<crate::msg::Msg>,
    /// Timers to register.
    pub timers: &'a mut crate::timers::Timers,
}

use crate::Effect;
