//! Ct interpretation: from Ct values (or a lab's call) to positive / negative /
//! inconclusive / invalid, with rules per kit.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Call, LabResult};

/// What a tube's result means.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Interpretation {
    Negative,
    Positive,
    /// One target only, or a grey-zone value: retest (in parallel, other kit).
    Inconclusive,
    /// The internal control failed: resample.
    Invalid,
}

impl Interpretation {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Interpretation::Negative => "negative",
            Interpretation::Positive => "positive",
            Interpretation::Inconclusive => "inconclusive",
            Interpretation::Invalid => "invalid",
        }
    }
}

impl From<Call> for Interpretation {
    fn from(c: Call) -> Self {
        match c {
            Call::Positive => Interpretation::Positive,
            Call::Negative => Interpretation::Negative,
            Call::Inconclusive => Interpretation::Inconclusive,
            Call::Invalid => Interpretation::Invalid,
        }
    }
}

/// One kit's rule: a target counts as detected when its Ct is at or below
/// `cutoff`. Values in `(cutoff, grey_zone_upper]` make the tube inconclusive.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KitRule {
    /// Detected at or below this Ct (default 40).
    pub cutoff: f64,
    /// Optional grey zone above the cut-off (e.g. cut-off 37, grey zone up to 40).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grey_zone_upper: Option<f64>,
}

impl Default for KitRule {
    fn default() -> Self {
        KitRule {
            cutoff: 40.0,
            grey_zone_upper: None,
        }
    }
}

/// Ct rules per kit, with a default for kits not listed.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CtRules {
    /// The rule for kits without their own entry.
    #[serde(default)]
    pub default: KitRule,
    /// Rules by kit name (the result's `kit`).
    #[serde(default)]
    pub kits: BTreeMap<String, KitRule>,
}

impl CtRules {
    /// The rule that applies to a kit.
    pub fn rule_for(&self, kit: Option<&str>) -> KitRule {
        kit.and_then(|k| self.kits.get(k))
            .copied()
            .unwrap_or(self.default)
    }

    /// Interprets a result. A present `call` wins; otherwise ORF1ab and N
    /// both detected -> positive; exactly one (or a grey-zone value) ->
    /// inconclusive; none and IC detected -> negative; none and no IC -> invalid.
    pub fn interpret(&self, r: &LabResult) -> Interpretation {
        if let Some(call) = r.call {
            return call.into();
        }
        let rule = self.rule_for(r.kit.as_deref());
        let level = |v: Option<f64>| match v {
            Some(ct) if ct <= rule.cutoff => 2u8,
            Some(ct) if rule.grey_zone_upper.is_some_and(|g| ct <= g) => 1,
            _ => 0,
        };
        let (orf, n) = (level(r.ct.orf1ab), level(r.ct.n));
        match (orf, n) {
            (2, 2) => Interpretation::Positive,
            (0, 0) => {
                if r.ct.ic.is_some() {
                    Interpretation::Negative
                } else {
                    Interpretation::Invalid
                }
            }
            _ => Interpretation::Inconclusive,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Ct, ResultStatus, Timestamp};

    fn result(ct: Ct, call: Option<Call>, kit: Option<&str>) -> LabResult {
        LabResult {
            tube_id: "T".into(),
            lab_id: "L".into(),
            reported_at: Timestamp::parse("2022-05-10T09:00:00+08:00").unwrap(),
            received_at: None,
            kit: kit.map(String::from),
            ct,
            call,
            status: ResultStatus::Final,
        }
    }

    fn ct(orf: Option<f64>, n: Option<f64>, ic: Option<f64>) -> Ct {
        Ct {
            orf1ab: orf,
            n,
            e: None,
            ic,
        }
    }

    #[test]
    fn default_rules() {
        let r = CtRules::default();
        use Interpretation::*;
        assert_eq!(
            r.interpret(&result(ct(Some(31.2), Some(30.4), Some(27.0)), None, None)),
            Positive
        );
        assert_eq!(
            r.interpret(&result(ct(Some(40.0), Some(40.0), None), None, None)),
            Positive
        );
        assert_eq!(
            r.interpret(&result(ct(Some(40.1), Some(30.0), Some(27.0)), None, None)),
            Inconclusive
        );
        assert_eq!(
            r.interpret(&result(ct(None, Some(35.5), Some(27.0)), None, None)),
            Inconclusive
        );
        assert_eq!(
            r.interpret(&result(ct(None, None, Some(27.0)), None, None)),
            Negative
        );
        assert_eq!(
            r.interpret(&result(ct(None, None, None), None, None)),
            Invalid
        );
        // E alone does not make a tube positive or inconclusive under the default rule.
        let e_only = Ct {
            e: Some(30.0),
            ic: Some(27.0),
            ..Ct::default()
        };
        assert_eq!(r.interpret(&result(e_only, None, None)), Negative);
    }

    #[test]
    fn call_wins() {
        let r = CtRules::default();
        let pos = result(
            ct(Some(20.0), Some(20.0), Some(27.0)),
            Some(Call::Negative),
            None,
        );
        assert_eq!(r.interpret(&pos), Interpretation::Negative);
    }

    #[test]
    fn per_kit_grey_zone() {
        let mut r = CtRules::default();
        r.kits.insert(
            "KIT-2".into(),
            KitRule {
                cutoff: 37.0,
                grey_zone_upper: Some(40.0),
            },
        );
        let both_grey = ct(Some(38.0), Some(38.5), Some(27.0));
        assert_eq!(
            r.interpret(&result(both_grey, None, Some("KIT-2"))),
            Interpretation::Inconclusive
        );
        assert_eq!(
            r.interpret(&result(both_grey, None, Some("KIT-1"))),
            Interpretation::Positive
        );
        let above = ct(Some(41.0), Some(42.0), Some(27.0));
        assert_eq!(
            r.interpret(&result(above, None, Some("KIT-2"))),
            Interpretation::Negative
        );
    }
}
