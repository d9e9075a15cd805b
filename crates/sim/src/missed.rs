//! Why an infected person was not confirmed, from the ground truth of every
//! tube that carried them: the screening tubes ([`Truth`]) and the retests
//! the closed loop produced.

use serde::Serialize;

use crate::closed_loop::ClosedLoop;
use crate::truth::TubeOutcome;

/// Why an infected person ended without a `hospital_transfer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MissReason {
    /// Undetectable: every tube that carried them read negative in the end
    /// (their Ct after dilution in the pool, plus the assay's noise, was above
    /// the cut-off), and every tube that needed a follow-up got one.
    Undetectable,
    /// A screening tube of theirs was lost by the lab (never reported) and
    /// no later tube carried them: `result_missing` fires 24 h after
    /// collection only if event time gets that far (it does when another
    /// round follows; the loop then resamples the tube).
    TubeLost,
    /// Anything else: a positive single tube with no hospital transfer, or a
    /// positive, inconclusive or invalid tube with no later retest of theirs.
    /// A correct pipeline leaves none.
    Unexplained,
}

impl MissReason {
    /// The name used in summaries.
    pub fn as_str(self) -> &'static str {
        match self {
            MissReason::Undetectable => "undetectable",
            MissReason::TubeLost => "tube_lost",
            MissReason::Unexplained => "unexplained",
        }
    }
}

struct Carried {
    retest: bool,
    collected: i64,
    single: bool,
    outcome: TubeOutcome,
}

impl ClosedLoop<'_> {
    /// Why infected person `i` (index in `Truth::infected`), assumed to have
    /// no `hospital_transfer`, was missed. Call after the loop has run dry.
    ///
    /// Every tube that carried them (each round's screening tube, every
    /// retest) is checked: a positive single tube must have led to a hospital
    /// transfer, a positive or inconclusive pool to a later single-tube
    /// retest, an inconclusive single or an invalid tube to a later retest;
    /// if one did not, the
    /// miss is [`MissReason::Unexplained`]. Otherwise a lost screening tube
    /// with nothing after it is [`MissReason::TubeLost`], and the rest
    /// [`MissReason::Undetectable`].
    pub fn why_missed(&self, i: usize) -> MissReason {
        let city = self.city();
        let mut tubes: Vec<Carried> = Vec::new();
        for rt in city.truth().rounds() {
            let Some(t) = rt.tubes.get(i) else { continue };
            let c = city.layout.community_of_tube(t.tube as u32);
            let (_, timing) = city.tube_timing_in(rt.round, t.tube as u32, c);
            tubes.push(Carried {
                retest: false,
                collected: timing.collected,
                single: t.size == 1,
                outcome: t.outcome,
            });
        }
        tubes.extend(self.retests_of(i).iter().map(|r| Carried {
            retest: true,
            collected: r.collected,
            single: r.single,
            outcome: r.outcome,
        }));
        // Followed by a retest of theirs collected later (a single tube, when
        // `single_only`: what a flagged pool needs).
        let followed = |t: &Carried, single_only: bool| {
            tubes
                .iter()
                .any(|u| u.retest && u.collected > t.collected && (u.single || !single_only))
        };
        let mut lost = false;
        for t in &tubes {
            let ok = match t.outcome {
                TubeOutcome::Negative => true,
                TubeOutcome::Positive if t.single => false,
                TubeOutcome::Lost => {
                    lost |= !followed(t, false);
                    true
                }
                TubeOutcome::Positive | TubeOutcome::Inconclusive => followed(t, !t.single),
                TubeOutcome::Invalid => followed(t, false),
            };
            if !ok {
                return MissReason::Unexplained;
            }
        }
        if lost {
            MissReason::TubeLost
        } else {
            MissReason::Undetectable
        }
    }
}
