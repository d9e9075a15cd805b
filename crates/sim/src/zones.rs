//! Zones per community and the tube layout they imply.
//!
//! Lockdown communities sample each household into one household tube (a
//! configurable share of households of 2+) or each person into a single tube;
//! control and precaution communities fill k-in-1 pools in queue order,
//! building by building: consecutive rooms share a tube, a pool never exceeds
//! k, the community's last pool may be smaller, and a lone leftover person
//! gets a single tube (a pool has at least 2 members).
//!
//! Tubes partition the people in order, so a tube is stored as its first
//! person and its kind (5 bytes per tube).

use pooltrace_model::TubeKind;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::SimConfig;
use crate::geography::Geography;
use crate::rng;

/// A community's screening regime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    /// 封控区: single or household tubes.
    Lockdown,
    /// 管控区: control-size pools (10-in-1 by default).
    Control,
    /// 防范区: precaution-size pools (20-in-1 by default).
    Precaution,
}

impl Zone {
    /// Every zone, in order.
    pub const ALL: [Zone; 3] = [Zone::Lockdown, Zone::Control, Zone::Precaution];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Zone::Lockdown => "lockdown",
            Zone::Control => "control",
            Zone::Precaution => "precaution",
        }
    }
}

/// Every community's zone and the tubes of one round.
#[derive(Clone, Debug, Default)]
pub(crate) struct Layout {
    /// Zone of each community.
    pub zone: Vec<Zone>,
    /// First person of each tube, plus the total at the end.
    pub tube_start: Vec<u32>,
    /// Kind of each tube.
    pub tube_kind: Vec<TubeKind>,
    /// Household of each tube's first person (saves a search per manifest).
    pub tube_household: Vec<u32>,
    /// First tube of each community, plus the total at the end.
    pub community_first_tube: Vec<u32>,
}

impl Layout {
    /// Draws zones and lays out the tubes.
    pub fn generate(cfg: &SimConfig, geo: &Geography) -> Layout {
        let mut rng = rng::stream(cfg.seed, rng::ZONES, 0, 0);
        let z = &cfg.zones;
        let total = z.lockdown + z.control + z.precaution;
        let (t_lock, t_ctrl) = (z.lockdown / total, (z.lockdown + z.control) / total);
        let n = geo.communities.len();
        let estimate = (f64::from(geo.people()) / 8.0) as usize + n + 1;
        let mut out = Layout {
            zone: Vec::with_capacity(n),
            tube_start: Vec::with_capacity(estimate),
            tube_kind: Vec::with_capacity(estimate),
            tube_household: Vec::new(),
            community_first_tube: Vec::with_capacity(n + 1),
        };
        for c in 0..n as u32 {
            let u: f64 = rng.random();
            let zone = if u < t_lock {
                Zone::Lockdown
            } else if u < t_ctrl {
                Zone::Control
            } else {
                Zone::Precaution
            };
            out.zone.push(zone);
            out.community_first_tube.push(out.tube_start.len() as u32);
            match zone {
                Zone::Lockdown => {
                    for h in geo.community_households(c) {
                        let people = geo.household_people(h);
                        let draw: f64 = rng.random();
                        if people.len() >= 2 && draw < cfg.lockdown_household_share {
                            out.push(people.start, TubeKind::Household);
                        } else {
                            for p in people {
                                out.push(p, TubeKind::Single);
                            }
                        }
                    }
                }
                Zone::Control => out.pools(geo.community_people(c), cfg.pool_size_control),
                Zone::Precaution => out.pools(geo.community_people(c), cfg.pool_size_precaution),
            }
        }
        out.community_first_tube.push(out.tube_start.len() as u32);
        out.tube_start.push(geo.people());
        out.tube_start.shrink_to_fit();
        out.tube_kind.shrink_to_fit();
        let mut h = 0usize;
        out.tube_household = out.tube_start[..out.tube_kind.len()]
            .iter()
            .map(|&first| {
                while geo.household_start[h + 1] <= first {
                    h += 1;
                }
                h as u32
            })
            .collect();
        out
    }

    fn push(&mut self, first: u32, kind: TubeKind) {
        self.tube_start.push(first);
        self.tube_kind.push(kind);
    }

    fn pools(&mut self, people: std::ops::Range<u32>, k: u8) {
        let k = u32::from(k);
        let mut p = people.start;
        while p < people.end {
            let len = k.min(people.end - p);
            self.push(
                p,
                if len >= 2 {
                    TubeKind::Pool
                } else {
                    TubeKind::Single
                },
            );
            p += len;
        }
    }

    /// Tubes in one round.
    pub fn tubes(&self) -> usize {
        self.tube_kind.len()
    }

    /// The people of tube `t`.
    pub fn tube_people(&self, t: u32) -> std::ops::Range<u32> {
        self.tube_start[t as usize]..self.tube_start[t as usize + 1]
    }

    /// The tube of person `p`.
    pub fn tube_of(&self, p: u32) -> u32 {
        (self.tube_start.partition_point(|&s| s <= p) - 1) as u32
    }

    /// The community of tube `t`.
    pub fn community_of_tube(&self, t: u32) -> u32 {
        (self.community_first_tube.partition_point(|&s| s <= t) - 1) as u32
    }

    /// The tubes of community `c`.
    pub fn community_tubes(&self, c: u32) -> std::ops::Range<u32> {
        self.community_first_tube[c as usize]..self.community_first_tube[c as usize + 1]
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.zone.capacity()
            + self.tube_start.capacity() * 4
            + self.tube_kind.capacity() * std::mem::size_of::<TubeKind>()
            + self.tube_household.capacity() * 4
            + self.community_first_tube.capacity() * 4
    }
}
