//! The tube manifest a sampling point publishes: which people are in which tube.

use compact_str::CompactString;
use serde::{Deserialize, Serialize};

use crate::ids::{validate_resident_id, validate_tube_id};
use crate::{RecordError, Timestamp};

/// How many people a tube holds and how its result is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeKind {
    /// One person (单采单检): the result is that person's result.
    Single,
    /// One household, 1-20 people: a positive needs single-tube retests.
    Household,
    /// A pool (混管) of 2-20 people: a positive needs single-tube retests.
    Pool,
}

impl TubeKind {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            TubeKind::Single => "single",
            TubeKind::Household => "household",
            TubeKind::Pool => "pool",
        }
    }

    /// The allowed member counts.
    pub fn member_range(self) -> std::ops::RangeInclusive<usize> {
        match self {
            TubeKind::Single => 1..=1,
            TubeKind::Household => 1..=20,
            TubeKind::Pool => 2..=20,
        }
    }
}

/// Where the tube was collected: the unit transfer teams are organised by.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Region {
    pub district: String,
    pub street: String,
    pub community: String,
}

/// A person's home address within the region.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Address {
    pub compound: CompactString,
    pub building: CompactString,
    pub unit: CompactString,
    pub room: CompactString,
}

/// What kind of identity document `person_id` is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 18-character GB 11643-1999 resident identity number (check digit verified).
    #[default]
    ResidentId,
    Passport,
    Other,
}

impl IdType {
    fn is_default(&self) -> bool {
        *self == IdType::ResidentId
    }
}

/// One person whose swab went into the tube.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
///
/// Strings up to 24 bytes (ids, names, phones, address parts) are stored
/// inline: a manifest of ten members parses with one allocation, not seventy.
pub struct Member {
    pub person_id: CompactString,
    #[serde(default, skip_serializing_if = "IdType::is_default")]
    pub id_type: IdType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<CompactString>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Address>,
}

/// A tube's manifest (wire contract v1).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub tube_id: String,
    pub kind: TubeKind,
    pub collected_at: Timestamp,
    pub site_id: String,
    pub region: Region,
    pub members: Vec<Member>,
    /// This single tube re-tests a member of that pool tube.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retest_of: Option<String>,
    /// Non-adaptive batch this pool tube belongs to (decoding issue).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_id: Option<String>,
    /// Design name or id of the batch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub design: Option<String>,
    /// The pool's index in the batch design.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pool_index: Option<u32>,
}

impl Manifest {
    /// Checks every rule of the contract that the JSON shape alone does not.
    pub fn validate(&self) -> Result<(), RecordError> {
        validate_tube_id("tube_id", &self.tube_id)?;
        non_blank("site_id", &self.site_id)?;
        non_blank("region.district", &self.region.district)?;
        non_blank("region.street", &self.region.street)?;
        non_blank("region.community", &self.region.community)?;
        let range = self.kind.member_range();
        if !range.contains(&self.members.len()) {
            return Err(RecordError::invalid(
                "members",
                format!("{} members", self.members.len()),
                format!(
                    "a {} tube holds {}..={} people",
                    self.kind.as_str(),
                    range.start(),
                    range.end()
                ),
            ));
        }
        for (i, m) in self.members.iter().enumerate() {
            // Named only for an error: most manifests have none.
            let field = || format!("members[{i}].person_id");
            match m.id_type {
                IdType::ResidentId => validate_resident_id("person_id", &m.person_id)
                    .map_err(|e| e.in_field(field()))?,
                IdType::Passport | IdType::Other => {
                    if m.person_id.trim().is_empty() || m.person_id.chars().count() > 64 {
                        return Err(RecordError::invalid(
                            field(),
                            format!("{:?}", m.person_id),
                            "must be 1-64 characters and not blank",
                        ));
                    }
                }
            }
            if let Some(prev) = self.members[..i]
                .iter()
                .position(|p| p.person_id == m.person_id)
            {
                return Err(RecordError::invalid(
                    field(),
                    format!("{:?}", m.person_id),
                    format!("the same person is already members[{prev}]"),
                ));
            }
        }
        if let Some(of) = &self.retest_of {
            validate_tube_id("retest_of", of)?;
            if self.kind != TubeKind::Single {
                return Err(RecordError::invalid(
                    "retest_of",
                    format!("{of:?}"),
                    format!(
                        "only a single tube re-tests a pool member, this is a {} tube",
                        self.kind.as_str()
                    ),
                ));
            }
            if *of == self.tube_id {
                return Err(RecordError::invalid(
                    "retest_of",
                    format!("{of:?}"),
                    "a tube cannot re-test itself",
                ));
            }
        }
        if self.pool_index.is_some() && self.batch_id.is_none() {
            return Err(RecordError::invalid(
                "pool_index",
                self.pool_index.unwrap_or_default(),
                "a pool index needs a batch_id",
            ));
        }
        Ok(())
    }
}

pub(crate) fn non_blank(field: &str, value: &str) -> Result<(), RecordError> {
    if value.trim().is_empty() {
        return Err(RecordError::invalid(
            field,
            format!("{value:?}"),
            "must not be blank",
        ));
    }
    Ok(())
}
