//! What labs publish: tube results and receipts.

use serde::{Deserialize, Serialize};

use crate::ids::validate_tube_id;
use crate::manifest::non_blank;
use crate::{RecordError, Timestamp};

/// Ct values per target. Absent or `null` = not detected.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Ct {
    #[serde(rename = "ORF1ab", default, skip_serializing_if = "Option::is_none")]
    pub orf1ab: Option<f64>,
    #[serde(rename = "N", default, skip_serializing_if = "Option::is_none")]
    pub n: Option<f64>,
    #[serde(rename = "E", default, skip_serializing_if = "Option::is_none")]
    pub e: Option<f64>,
    #[serde(rename = "IC", default, skip_serializing_if = "Option::is_none")]
    pub ic: Option<f64>,
}

impl Ct {
    fn validate(&self) -> Result<(), RecordError> {
        for (name, v) in [
            ("ct.ORF1ab", self.orf1ab),
            ("ct.N", self.n),
            ("ct.E", self.e),
            ("ct.IC", self.ic),
        ] {
            if let Some(v) = v {
                if !(v > 0.0 && v <= 50.0) {
                    return Err(RecordError::invalid(
                        name,
                        v,
                        "a Ct value must be in (0, 50]",
                    ));
                }
            }
        }
        Ok(())
    }
}

/// A lab's explicit call. When present it wins over the Ct rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Call {
    Positive,
    Negative,
    Inconclusive,
    Invalid,
}

impl Call {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Call::Positive => "positive",
            Call::Negative => "negative",
            Call::Inconclusive => "inconclusive",
            Call::Invalid => "invalid",
        }
    }
}

/// `final` (HL7 OBX-11 F) or `corrected` (C: replaces the earlier result).
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ResultStatus {
    #[default]
    Final,
    Corrected,
}

impl ResultStatus {
    fn is_default(&self) -> bool {
        *self == ResultStatus::Final
    }
}

/// A tube's RT-PCR result (wire contract v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LabResult {
    pub tube_id: String,
    pub lab_id: String,
    pub reported_at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub received_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kit: Option<String>,
    #[serde(default)]
    pub ct: Ct,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<Call>,
    #[serde(default, skip_serializing_if = "ResultStatus::is_default")]
    pub status: ResultStatus,
}

impl LabResult {
    /// Checks every rule of the contract that the JSON shape alone does not.
    pub fn validate(&self) -> Result<(), RecordError> {
        validate_tube_id("tube_id", &self.tube_id)?;
        non_blank("lab_id", &self.lab_id)?;
        if let Some(kit) = &self.kit {
            non_blank("kit", kit)?;
        }
        if let Some(received) = self.received_at {
            if received.millis() > self.reported_at.millis() {
                return Err(RecordError::invalid(
                    "received_at",
                    received,
                    format!("is after reported_at {}", self.reported_at),
                ));
            }
        }
        self.ct.validate()
    }
}

/// The lab scanned a tube in (wire contract v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub tube_id: String,
    pub lab_id: String,
    pub received_at: Timestamp,
}

impl Receipt {
    /// Checks every rule of the contract that the JSON shape alone does not.
    pub fn validate(&self) -> Result<(), RecordError> {
        validate_tube_id("tube_id", &self.tube_id)?;
        non_blank("lab_id", &self.lab_id)
    }
}
