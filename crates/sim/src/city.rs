//! The city as a whole: generation, lookups, and the records of one tube.

use std::ops::Range;

use pooltrace_model::{Address, Manifest, Member, Region, Timestamp, TubeKind};
use serde::Serialize;

use crate::assay::{self, TubeAssay};
use crate::config::SimConfig;
use crate::geography::Geography;
use crate::infection::Infections;
use crate::labs::{self, Timing};
use crate::people::IdScheme;
use crate::rng;
use crate::truth::Truth;
use crate::zones::{Layout, Zone};
use crate::SimError;

/// One day in milliseconds.
pub(crate) const DAY_MS: i64 = 24 * 3_600_000;

/// A synthetic city: residents, households, zones, tubes, infections and the
/// ground truth of its screening rounds. See the crate docs.
#[derive(Clone, Debug)]
pub struct City {
    pub(crate) cfg: SimConfig,
    pub(crate) geo: Geography,
    pub(crate) ids: IdScheme,
    pub(crate) layout: Layout,
    pub(crate) labs: Vec<u8>,
    pub(crate) regions: Vec<Region>,
    pub(crate) inf: Infections,
    pub(crate) truth: Truth,
}

/// A resident, with everything a tracing team would see.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Person {
    /// Index in `0..city.people()`.
    pub index: usize,
    pub person_id: String,
    pub name: String,
    pub phone: String,
    /// Index of the household (one room) in `0..city.households()`.
    pub household: usize,
    pub zone: Zone,
    pub region: Region,
    pub address: Address,
}

/// The id of tube `t` in round `r`: `T{round:02}-{tube:08}`.
pub fn tube_id(round: u32, t: usize) -> String {
    format!("T{round:02}-{t:08}")
}

/// The (round, tube) of a screening tube id made by [`tube_id`].
pub fn parse_tube_id(id: &str) -> Option<(u32, usize)> {
    let (r, t) = id.strip_prefix('T')?.split_once('-')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(r) || !digits(t) {
        return None;
    }
    Some((r.parse().ok()?, t.parse().ok()?))
}

impl City {
    /// Generates the city and the ground truth of `cfg.rounds` rounds.
    pub fn generate(cfg: &SimConfig) -> Result<City, SimError> {
        cfg.validate()?;
        let geo = Geography::generate(cfg);
        let cap = IdScheme::capacity_per_district();
        for d in 0..geo.districts.len() as u32 {
            if geo.district_people(d).len() as u64 > cap {
                return Err(SimError::Config(format!(
                    "district {d} would hold more than {cap} residents: raise geography.max_districts"
                )));
            }
        }
        let firsts: Vec<u32> = geo.districts.iter().map(|d| d.first_person).collect();
        let ids = IdScheme::new(cfg.seed, &firsts, geo.people());
        let layout = Layout::generate(cfg, &geo);
        let labs = labs::assign(cfg, geo.communities.len());
        let regions = (0..geo.communities.len() as u32)
            .map(|c| geo.region(c))
            .collect();
        let inf = Infections::generate(cfg, &geo);
        let mut city = City {
            cfg: cfg.clone(),
            geo,
            ids,
            layout,
            labs,
            regions,
            inf,
            truth: Truth::default(),
        };
        city.truth = Truth::compute(&city);
        Ok(city)
    }

    /// The configuration the city was generated from.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// Number of residents.
    pub fn people(&self) -> usize {
        self.geo.people() as usize
    }

    /// Number of households (one per occupied room).
    pub fn households(&self) -> usize {
        self.geo.households()
    }

    /// The residents of household `h`, as person indices.
    pub fn household_members(&self, h: usize) -> Range<usize> {
        let r = self.geo.household_people(h as u32);
        r.start as usize..r.end as usize
    }

    /// The household of person `p`.
    pub fn household_of(&self, p: usize) -> usize {
        self.geo.household_of(p as u32) as usize
    }

    /// Number of communities (the unit zones are drawn for).
    pub fn communities(&self) -> usize {
        self.geo.communities.len()
    }

    /// The zone of community `c`.
    pub fn community_zone(&self, c: usize) -> Zone {
        self.layout.zone[c]
    }

    /// The region names of community `c`.
    pub fn community_region(&self, c: usize) -> &Region {
        &self.regions[c]
    }

    /// The residents of community `c`, as person indices.
    pub fn community_members(&self, c: usize) -> Range<usize> {
        let r = self.geo.community_people(c as u32);
        r.start as usize..r.end as usize
    }

    /// Number of districts and streets.
    pub fn districts_and_streets(&self) -> (usize, usize) {
        (self.geo.districts.len(), self.geo.streets.len())
    }

    /// Tubes in every screening round (the layout is the same each round).
    pub fn tubes_per_round(&self) -> usize {
        self.layout.tubes()
    }

    /// The kind of tube `t`.
    pub fn tube_kind(&self, t: usize) -> TubeKind {
        self.layout.tube_kind[t]
    }

    /// The people sampled into tube `t`, as person indices.
    pub fn tube_members(&self, t: usize) -> Range<usize> {
        let r = self.layout.tube_people(t as u32);
        r.start as usize..r.end as usize
    }

    /// The tube person `p` is sampled into in a screening round.
    pub fn tube_of(&self, p: usize) -> usize {
        self.layout.tube_of(p as u32) as usize
    }

    /// The community of tube `t`.
    pub fn tube_community(&self, t: usize) -> usize {
        self.layout.community_of_tube(t as u32) as usize
    }

    /// The resident id of person `p` (18 characters, GB 11643 check digit).
    pub fn person_id(&self, p: usize) -> String {
        let p = p as u32;
        let id = self.ids.resident_id(self.geo.district_of(p), p);
        String::from_utf8(id.to_vec()).expect("ASCII id")
    }

    /// The person with this resident id, if they live in this city.
    pub fn person_index(&self, person_id: &str) -> Option<usize> {
        self.ids.person_of(person_id).map(|p| p as usize)
    }

    /// Everything about person `p`.
    pub fn person(&self, p: usize) -> Person {
        let h = self.geo.household_of(p as u32);
        let c = self.geo.community_of(p as u32) as usize;
        let member = p as u32 - self.geo.household_start[h as usize];
        Person {
            index: p,
            person_id: self.person_id(p),
            name: self.ids.name(p as u32, h, member),
            phone: self.ids.phone(p as u32),
            household: h as usize,
            zone: self.layout.zone[c],
            region: self.regions[c].clone(),
            address: self.geo.address(h),
        }
    }

    /// The ground truth of rounds `0..config().rounds`.
    pub fn truth(&self) -> &Truth {
        &self.truth
    }

    /// Approximate heap bytes held by the city (state and truth).
    pub fn heap_bytes(&self) -> usize {
        let regions: usize = self
            .regions
            .iter()
            .map(|r| 72 + r.district.capacity() + r.street.capacity() + r.community.capacity())
            .sum();
        self.geo.heap_bytes()
            + self.layout.heap_bytes()
            + self.labs.capacity()
            + regions
            + self.inf.heap_bytes()
            + self.truth.heap_bytes()
    }

    /// Start of round `r`'s collection day, in epoch milliseconds.
    pub(crate) fn round_start(&self, r: u32) -> i64 {
        self.cfg.start.millis() + i64::from(r) * DAY_MS
    }

    /// A timestamp in the configured offset.
    pub(crate) fn ts(&self, millis: i64) -> Timestamp {
        Timestamp::from_millis(millis, self.cfg.start.offset_secs())
    }

    /// The lab of tube `t` (of community `c`) and its timing in round `r`.
    pub(crate) fn tube_timing_in(&self, r: u32, t: u32, c: u32) -> (u32, Timing) {
        let tubes = self.layout.community_tubes(c);
        let lab = u32::from(self.labs[c as usize]);
        let mut s = rng::stream(self.cfg.seed, rng::TIMING, u64::from(r), u64::from(t));
        let n = tubes.end - tubes.start;
        let timing = labs::timing(
            &self.cfg,
            lab,
            self.round_start(r),
            t - tubes.start,
            n,
            &mut s,
        );
        (lab, timing)
    }

    /// The measurement of tube `t` in round `r`.
    pub(crate) fn tube_assay(&self, r: u32, t: u32, scratch: &mut Vec<f32>) -> TubeAssay {
        let people = self.layout.tube_people(t);
        let k = people.len();
        self.inf.cts_in(people, scratch);
        let mut s = rng::stream(self.cfg.seed, rng::ASSAY, u64::from(r), u64::from(t));
        assay::run(&self.cfg.assay, scratch, k, &mut s)
    }

    /// The members of a tube holding `people`, the first of whom lives in household `h`.
    pub(crate) fn members(&self, people: Range<u32>, mut h: u32) -> Vec<Member> {
        let mut out = Vec::with_capacity(people.len());
        let detail = self.cfg.member_details;
        let mut address = detail.then(|| self.geo.address(h));
        let district = self.geo.district_of(people.start);
        let district_end = self.geo.district_people(district).end;
        for p in people {
            while self.geo.household_start[h as usize + 1] <= p {
                h += 1;
                address = detail.then(|| self.geo.address(h));
            }
            let d = if p < district_end {
                district
            } else {
                self.geo.district_of(p)
            };
            let id = self.ids.resident_id(d, p);
            let member = p - self.geo.household_start[h as usize];
            out.push(Member {
                person_id: String::from_utf8(id.to_vec()).expect("ASCII id").into(),
                id_type: Default::default(),
                name: detail.then(|| self.ids.name(p, h, member).into()),
                phone: detail.then(|| self.ids.phone(p).into()),
                address: address.clone(),
            });
        }
        out
    }

    /// The sampling site of a tube whose first person lives in household `h` (one site per compound).
    pub(crate) fn site_of(&self, h: u32) -> String {
        let b = self.geo.building_of(h);
        format!("SITE-{:06}", self.geo.buildings[b as usize].compound + 1)
    }

    /// The manifest of screening tube `t` in round `r`.
    pub(crate) fn manifest(&self, r: u32, t: u32, c: u32, timing: &Timing) -> Manifest {
        let people = self.layout.tube_people(t);
        let h = self.layout.tube_household[t as usize];
        Manifest {
            tube_id: tube_id(r, t as usize),
            kind: self.layout.tube_kind[t as usize],
            collected_at: self.ts(timing.collected),
            site_id: self.site_of(h),
            region: self.regions[c as usize].clone(),
            members: self.members(people, h),
            retest_of: None,
            batch_id: None,
            design: None,
            pool_index: None,
        }
    }
}
