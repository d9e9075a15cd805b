//! [`Observation`]: one decided tube as one member sees it, what the tube
//! operator tells each member's person operator. People kept for a single
//! tube or a flagged pool hold theirs, so it is kept small: what only a
//! batch decoder's samples carry is boxed apart ([`BatchDecision`]; 200
//! bytes, not 256). Snapshots and messages keep the form they always had:
//! the batch fields as three fields of the observation.

use std::borrow::Cow;
use std::sync::Arc;

use pooltrace_model::{Ct, DecodedEvidence, Interpretation, Region, Timestamp, TubeKind};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// One decided tube as one member sees it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    pub tube_id: Arc<str>,
    /// The tube's region (shared by the rows of all its members).
    pub region: Arc<Region>,
    pub tube_kind: TubeKind,
    pub revision: u32,
    pub interpretation: Interpretation,
    pub collected_at: Timestamp,
    pub reported_at: Timestamp,
    pub retest_of: Option<Arc<str>>,
    pub ct: Ct,
    pub lab_id: String,
    pub kit: Option<String>,
    /// Set when a non-adaptive batch decoder decided this (then `tube_id`
    /// is the batch id and `interpretation` the decoder's call: positive,
    /// negative, or inconclusive for undetermined).
    pub batch: Option<Box<BatchDecision>>,
}

/// How a non-adaptive batch decoder decided a sample.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BatchDecision {
    /// The decoder.
    pub decided_by: Option<Cow<'static, str>>,
    /// The batch.
    pub batch: Option<Arc<str>>,
    /// The decoder's evidence.
    pub decoded: Option<DecodedEvidence>,
}

impl BatchDecision {
    /// The boxed decision, or `None` when nothing of it is set.
    pub fn boxed(
        decided_by: Option<Cow<'static, str>>,
        batch: Option<Arc<str>>,
        decoded: Option<DecodedEvidence>,
    ) -> Option<Box<Self>> {
        (decided_by.is_some() || batch.is_some() || decoded.is_some()).then(|| {
            Box::new(BatchDecision {
                decided_by,
                batch,
                decoded,
            })
        })
    }
}

impl Observation {
    /// The batch decoder that decided this, if one did.
    pub fn decided_by(&self) -> Option<&Cow<'static, str>> {
        self.batch.as_ref().and_then(|b| b.decided_by.as_ref())
    }

    /// The batch, for a decoded sample.
    pub fn batch_id(&self) -> Option<&Arc<str>> {
        self.batch.as_ref().and_then(|b| b.batch.as_ref())
    }

    /// The decoder's evidence, for a decoded sample.
    pub fn decoded(&self) -> Option<DecodedEvidence> {
        self.batch.as_ref().and_then(|b| b.decoded)
    }
}

/// An observation as snapshots and messages have always written it.
#[derive(Serialize)]
struct ObservationRef<'a> {
    tube_id: &'a Arc<str>,
    region: &'a Arc<Region>,
    tube_kind: TubeKind,
    revision: u32,
    interpretation: Interpretation,
    collected_at: Timestamp,
    reported_at: Timestamp,
    retest_of: &'a Option<Arc<str>>,
    ct: &'a Ct,
    lab_id: &'a str,
    kit: &'a Option<String>,
    decided_by: Option<&'a Cow<'static, str>>,
    batch: Option<&'a Arc<str>>,
    decoded: Option<DecodedEvidence>,
}

/// The same, owned: what earlier builds derived their serde form from.
#[derive(Serialize, Deserialize)]
struct ObservationOwned {
    tube_id: Arc<str>,
    region: Arc<Region>,
    tube_kind: TubeKind,
    revision: u32,
    interpretation: Interpretation,
    collected_at: Timestamp,
    reported_at: Timestamp,
    retest_of: Option<Arc<str>>,
    ct: Ct,
    lab_id: String,
    kit: Option<String>,
    decided_by: Option<Cow<'static, str>>,
    batch: Option<Arc<str>>,
    decoded: Option<DecodedEvidence>,
}

impl Serialize for Observation {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        ObservationRef {
            tube_id: &self.tube_id,
            region: &self.region,
            tube_kind: self.tube_kind,
            revision: self.revision,
            interpretation: self.interpretation,
            collected_at: self.collected_at,
            reported_at: self.reported_at,
            retest_of: &self.retest_of,
            ct: &self.ct,
            lab_id: &self.lab_id,
            kit: &self.kit,
            decided_by: self.decided_by(),
            batch: self.batch_id(),
            decoded: self.decoded(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for Observation {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let o = ObservationOwned::deserialize(d)?;
        Ok(Observation {
            tube_id: o.tube_id,
            region: o.region,
            tube_kind: o.tube_kind,
            revision: o.revision,
            interpretation: o.interpretation,
            collected_at: o.collected_at,
            reported_at: o.reported_at,
            retest_of: o.retest_of,
            ct: o.ct,
            lab_id: o.lab_id,
            kit: o.kit,
            batch: BatchDecision::boxed(o.decided_by, o.batch, o.decoded),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An observation in the form earlier builds derived.
    fn earlier(decoded: bool) -> ObservationOwned {
        let t = Timestamp::from_millis(1_700_000_000_000, 8 * 3600);
        ObservationOwned {
            tube_id: "B1".into(),
            region: Arc::new(Region {
                district: "D".into(),
                street: "S".into(),
                community: "C".into(),
            }),
            tube_kind: TubeKind::Pool,
            revision: 2,
            interpretation: Interpretation::Positive,
            collected_at: t,
            reported_at: t.plus_millis(60_000),
            retest_of: None,
            ct: Ct {
                orf1ab: Some(31.5),
                ..Ct::default()
            },
            lab_id: "LAB".into(),
            kit: Some("K".into()),
            decided_by: decoded.then_some(Cow::Borrowed("dd")),
            batch: decoded.then(|| "B1".into()),
            decoded: decoded.then_some(DecodedEvidence {
                p_positive: 0.5,
                pools_positive: 2,
                pools_negative: 1,
            }),
        }
    }

    #[test]
    fn snapshots_and_messages_keep_the_earlier_form() {
        for decoded in [false, true] {
            let bytes = rmp_serde::to_vec_named(&earlier(decoded)).unwrap();
            let o: Observation = rmp_serde::from_slice(&bytes).unwrap();
            assert_eq!(o.batch.is_some(), decoded, "boxed only when set");
            assert_eq!(o.decided_by().is_some(), decoded);
            assert_eq!(o.batch_id().map(|b| &**b), decoded.then_some("B1"));
            assert_eq!(o.decoded().map(|d| d.pools_positive), decoded.then_some(2));
            assert_eq!(rmp_serde::to_vec_named(&o).unwrap(), bytes);
            let json = serde_json::to_string(&earlier(decoded)).unwrap();
            assert_eq!(serde_json::to_string(&o).unwrap(), json);
        }
    }

    #[test]
    fn an_observation_is_200_bytes() {
        assert_eq!(std::mem::size_of::<Observation>(), 200);
    }
}
