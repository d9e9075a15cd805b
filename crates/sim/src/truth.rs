//! Ground truth: who is infected, how strongly, which tube carried them in
//! each round and what that tube read, who was undetectable after dilution,
//! which tubes were lost and which results came early.

use std::io::Write;

use pooltrace_model::{Interpretation, TubeKind};
use serde::Serialize;

use crate::assay;
use crate::city::{tube_id, City};
use crate::SimError;

/// An infected resident.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfectedPerson {
    /// Index in `0..city.people()`.
    pub person: usize,
    pub person_id: String,
    /// True (undiluted) Ct.
    pub ct: f64,
    pub household: usize,
    /// A clustered (household / building) case rather than an index case.
    pub secondary: bool,
}

/// What a tube carrying an infected person read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TubeOutcome {
    Negative,
    Positive,
    Inconclusive,
    Invalid,
    /// Received and never reported.
    Lost,
}

impl From<Interpretation> for TubeOutcome {
    fn from(i: Interpretation) -> Self {
        match i {
            Interpretation::Negative => TubeOutcome::Negative,
            Interpretation::Positive => TubeOutcome::Positive,
            Interpretation::Inconclusive => TubeOutcome::Inconclusive,
            Interpretation::Invalid => TubeOutcome::Invalid,
        }
    }
}

/// An infected person's tube in one round.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InfectedTube {
    pub tube: usize,
    pub kind: TubeKind,
    /// People in the tube.
    pub size: usize,
    /// The person's own Ct after dilution: `ct + log2(size) + pooling noise`.
    pub diluted_ct: f64,
    /// In a tube of 2+ people, the person's diluted Ct is above the cut-off
    /// (the tube may still read positive through another member).
    pub undetectable_after_dilution: bool,
    /// What the tube read under the default rule with the configured cut-off.
    pub outcome: TubeOutcome,
}

/// The truth of one round.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RoundTruth {
    pub round: u32,
    /// One entry per infected person, parallel to [`Truth::infected`].
    pub tubes: Vec<InfectedTube>,
    /// Tubes received and never reported, ascending.
    pub lost_tubes: Vec<usize>,
    /// Tubes whose result enters the stream before their manifest, ascending.
    pub early_tubes: Vec<usize>,
}

/// Ground truth of a city's screening rounds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Truth {
    infected: Vec<InfectedPerson>,
    rounds: Vec<RoundTruth>,
    /// Indices into `infected`, sorted by person_id.
    by_id: Vec<u32>,
}

#[derive(Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum Row<'a> {
    Infected {
        round: u32,
        #[serde(flatten)]
        person: &'a InfectedPerson,
        tube_id: String,
        tube_kind: TubeKind,
        tube_size: usize,
        diluted_ct: f64,
        undetectable_after_dilution: bool,
        tube_outcome: TubeOutcome,
    },
    LostTube {
        round: u32,
        tube_id: String,
    },
    EarlyResult {
        round: u32,
        tube_id: String,
    },
}

impl Truth {
    pub(crate) fn compute(city: &City) -> Truth {
        let inf = &city.inf;
        let infected: Vec<InfectedPerson> = (0..inf.people.len())
            .map(|i| {
                let p = inf.people[i] as usize;
                InfectedPerson {
                    person: p,
                    person_id: city.person_id(p),
                    ct: assay::round2(f64::from(inf.ct[i])),
                    household: city.household_of(p),
                    secondary: inf.secondary[i],
                }
            })
            .collect();
        let mut by_id: Vec<u32> = (0..infected.len() as u32).collect();
        by_id.sort_unstable_by(|a, b| {
            infected[*a as usize]
                .person_id
                .cmp(&infected[*b as usize].person_id)
        });
        let rounds = (0..city.cfg.rounds).map(|r| round_truth(city, r)).collect();
        Truth {
            infected,
            rounds,
            by_id,
        }
    }

    /// Every infected resident, by person index.
    pub fn infected(&self) -> &[InfectedPerson] {
        &self.infected
    }

    /// The resident ids of the infected.
    pub fn infected_person_ids(&self) -> impl Iterator<Item = &str> + '_ {
        self.infected.iter().map(|i| i.person_id.as_str())
    }

    /// Position in [`Truth::infected`] and the record of an infected resident.
    pub fn find(&self, person_id: &str) -> Option<(usize, &InfectedPerson)> {
        let k = self
            .by_id
            .binary_search_by(|i| self.infected[*i as usize].person_id.as_str().cmp(person_id))
            .ok()?;
        let i = self.by_id[k] as usize;
        Some((i, &self.infected[i]))
    }

    /// Whether this resident is infected.
    pub fn is_infected(&self, person_id: &str) -> bool {
        self.find(person_id).is_some()
    }

    /// The truth of every configured round.
    pub fn rounds(&self) -> &[RoundTruth] {
        &self.rounds
    }

    /// Infected people (with their tube) undetectable after dilution in round `r`.
    pub fn undetectable_after_dilution(
        &self,
        r: u32,
    ) -> impl Iterator<Item = (&InfectedPerson, &InfectedTube)> + '_ {
        let tubes = self
            .rounds
            .get(r as usize)
            .map_or(&[][..], |rt| &rt.tubes[..]);
        self.infected
            .iter()
            .zip(tubes)
            .filter(|(_, t)| t.undetectable_after_dilution)
    }

    /// Writes one JSON object per line: `{"type":"infected", ...}` for every
    /// infected person in every round, then `lost_tube` and `early_result`
    /// rows. Returns the number of lines.
    pub fn write_ndjson<W: Write>(&self, mut w: W) -> Result<usize, SimError> {
        let mut lines = 0;
        let mut put = |row: &Row| -> Result<(), SimError> {
            serde_json::to_writer(&mut w, row)?;
            w.write_all(b"\n")?;
            lines += 1;
            Ok(())
        };
        for rt in &self.rounds {
            for (person, t) in self.infected.iter().zip(&rt.tubes) {
                put(&Row::Infected {
                    round: rt.round,
                    person,
                    tube_id: tube_id(rt.round, t.tube),
                    tube_kind: t.kind,
                    tube_size: t.size,
                    diluted_ct: t.diluted_ct,
                    undetectable_after_dilution: t.undetectable_after_dilution,
                    tube_outcome: t.outcome,
                })?;
            }
            for &t in &rt.lost_tubes {
                put(&Row::LostTube {
                    round: rt.round,
                    tube_id: tube_id(rt.round, t),
                })?;
            }
            for &t in &rt.early_tubes {
                put(&Row::EarlyResult {
                    round: rt.round,
                    tube_id: tube_id(rt.round, t),
                })?;
            }
        }
        Ok(lines)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        let people: usize = self
            .infected
            .iter()
            .map(|i| std::mem::size_of::<InfectedPerson>() + i.person_id.capacity())
            .sum();
        let rounds: usize = self
            .rounds
            .iter()
            .map(|r| {
                r.tubes.capacity() * std::mem::size_of::<InfectedTube>()
                    + (r.lost_tubes.capacity() + r.early_tubes.capacity()) * 8
            })
            .sum();
        people + rounds + self.by_id.capacity() * 4
    }
}

fn round_truth(city: &City, r: u32) -> RoundTruth {
    let mut out = RoundTruth {
        round: r,
        ..RoundTruth::default()
    };
    for c in 0..city.communities() as u32 {
        for t in city.layout.community_tubes(c) {
            let (_, timing) = city.tube_timing_in(r, t, c);
            if timing.lost {
                out.lost_tubes.push(t as usize);
            }
            if timing.early {
                out.early_tubes.push(t as usize);
            }
        }
    }
    let cutoff = city.cfg.assay.cutoff;
    let mut scratch = Vec::new();
    out.tubes = city
        .truth_people()
        .map(|(p, ct)| {
            let t = city.layout.tube_of(p);
            let size = city.layout.tube_people(t).len();
            let a = city.tube_assay(r, t, &mut scratch);
            let diluted = assay::own_diluted_ct(ct, size, a.dilution_noise);
            let outcome = if out.lost_tubes.binary_search(&(t as usize)).is_ok() {
                TubeOutcome::Lost
            } else {
                assay::interpret(&a.ct, cutoff).into()
            };
            InfectedTube {
                tube: t as usize,
                kind: city.layout.tube_kind[t as usize],
                size,
                diluted_ct: assay::round2(diluted),
                undetectable_after_dilution: size >= 2 && diluted > cutoff,
                outcome,
            }
        })
        .collect();
    out
}

impl City {
    /// (person, true Ct) of each infected person, by person.
    fn truth_people(&self) -> impl Iterator<Item = (u32, f64)> + '_ {
        self.inf
            .people
            .iter()
            .zip(&self.inf.ct)
            .map(|(p, c)| (*p, f64::from(*c)))
    }
}
