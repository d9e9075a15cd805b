//! The city: districts -> streets -> communities -> compounds -> buildings ->
//! units -> rooms, one household of 1-6 people per room.
//!
//! Stored compactly: people are numbered in that nesting order, so every unit
//! is a contiguous range of people and only the first index of each unit is
//! kept (about 4 bytes per household, a few bytes per person overall).

use pooltrace_model::{Address, Region};

use crate::config::SimConfig;
use crate::rng::{self, uniform_u32, SimRng};

/// A district and its first resident.
#[derive(Clone, Debug)]
pub(crate) struct District {
    pub first_person: u32,
}

/// A street (sub-district, 街道).
#[derive(Clone, Debug)]
pub(crate) struct Street {
    pub district: u32,
}

/// A community (居委会 / 村委会): the unit zones are assigned to.
#[derive(Clone, Debug)]
pub(crate) struct Community {
    pub street: u32,
    pub first_household: u32,
    pub first_person: u32,
}

/// A building: `units` entrances of `floors` floors of `rooms_per_floor` rooms.
#[derive(Clone, Debug)]
pub(crate) struct Building {
    pub compound: u32,
    pub first_household: u32,
    pub number: u16,
    pub floors: u8,
    pub rooms_per_floor: u8,
}

/// The city's nesting, as first-index tables.
#[derive(Clone, Debug, Default)]
pub(crate) struct Geography {
    pub districts: Vec<District>,
    pub streets: Vec<Street>,
    pub communities: Vec<Community>,
    /// Number of residential compounds (小区).
    pub compounds: u32,
    pub buildings: Vec<Building>,
    /// First person of each household, plus the total at the end.
    pub household_start: Vec<u32>,
}

/// The index of the unit containing `x`, given the units' sorted first indices.
fn locate<T>(items: &[T], x: u32, first: impl Fn(&T) -> u32) -> usize {
    items.partition_point(|it| first(it) <= x) - 1
}

impl Geography {
    /// Builds the city for `cfg.people` residents (exactly).
    pub fn generate(cfg: &SimConfig) -> Geography {
        let g = &cfg.geography;
        let people = cfg.people;
        let mut rng = rng::stream(cfg.seed, rng::GEOGRAPHY, 0, 0);
        let cum = cumulative(&cfg.household_sizes);
        let n_districts = people
            .div_ceil(g.people_per_district)
            .clamp(1, g.max_districts);
        let per_district = people / n_districts;
        let mut geo = Geography {
            household_start: Vec::with_capacity((people as f64 / 2.4) as usize + 16),
            ..Geography::default()
        };
        let mut placed: u32 = 0;
        for d in 0..n_districts {
            if placed >= people {
                break;
            }
            let d_end = if d + 1 == n_districts {
                people
            } else {
                placed + per_district
            };
            geo.districts.push(District {
                first_person: placed,
            });
            while placed < d_end.min(people) {
                let s_end = placed.saturating_add(uniform_u32(&mut rng, g.street_people));
                geo.streets.push(Street { district: d });
                while placed < s_end.min(d_end) {
                    let c_end = placed.saturating_add(uniform_u32(&mut rng, g.community_people));
                    geo.communities.push(Community {
                        street: geo.streets.len() as u32 - 1,
                        first_household: geo.household_start.len() as u32,
                        first_person: placed,
                    });
                    while placed < c_end.min(people) {
                        geo.compound(cfg, &mut rng, &cum, &mut placed, c_end);
                    }
                }
            }
        }
        geo.household_start.push(placed);
        geo.household_start.shrink_to_fit();
        geo
    }

    /// One compound of buildings, stopping early at the community's end.
    fn compound(
        &mut self,
        cfg: &SimConfig,
        rng: &mut SimRng,
        cum: &[f64; 6],
        placed: &mut u32,
        c_end: u32,
    ) {
        let g = &cfg.geography;
        let compound = self.compounds;
        self.compounds += 1;
        let n_buildings = uniform_u32(rng, g.compound_buildings);
        for number in 1..=n_buildings {
            if *placed >= c_end || *placed >= cfg.people {
                break;
            }
            let units = uniform_u32(rng, g.building_units);
            let floors = uniform_u32(rng, g.building_floors);
            let rooms_per_floor = uniform_u32(rng, g.rooms_per_floor);
            self.buildings.push(Building {
                compound,
                first_household: self.household_start.len() as u32,
                number: number.min(u32::from(u16::MAX)) as u16,
                floors: floors as u8,
                rooms_per_floor: rooms_per_floor as u8,
            });
            for _ in 0..units * floors * rooms_per_floor {
                if *placed >= cfg.people {
                    break;
                }
                let u: f64 = rand::Rng::random(rng);
                let size = cum.iter().position(|c| u < *c).unwrap_or(5) as u32 + 1;
                self.household_start.push(*placed);
                *placed += size.min(cfg.people - *placed);
            }
        }
    }

    /// Number of residents.
    pub fn people(&self) -> u32 {
        *self.household_start.last().unwrap_or(&0)
    }

    /// Number of households.
    pub fn households(&self) -> usize {
        self.household_start.len().saturating_sub(1)
    }

    /// The people of household `h`.
    pub fn household_people(&self, h: u32) -> std::ops::Range<u32> {
        self.household_start[h as usize]..self.household_start[h as usize + 1]
    }

    /// The household of person `p`.
    pub fn household_of(&self, p: u32) -> u32 {
        (self.household_start.partition_point(|&s| s <= p) - 1) as u32
    }

    /// The building of household `h`.
    pub fn building_of(&self, h: u32) -> u32 {
        locate(&self.buildings, h, |b| b.first_household) as u32
    }

    /// The households of building `b`.
    pub fn building_households(&self, b: u32) -> std::ops::Range<u32> {
        let end = self
            .buildings
            .get(b as usize + 1)
            .map_or(self.households() as u32, |n| n.first_household);
        self.buildings[b as usize].first_household..end
    }

    /// The community of person `p`.
    pub fn community_of(&self, p: u32) -> u32 {
        locate(&self.communities, p, |c| c.first_person) as u32
    }

    /// The people of community `c`.
    pub fn community_people(&self, c: u32) -> std::ops::Range<u32> {
        let end = self
            .communities
            .get(c as usize + 1)
            .map_or(self.people(), |n| n.first_person);
        self.communities[c as usize].first_person..end
    }

    /// The households of community `c`.
    pub fn community_households(&self, c: u32) -> std::ops::Range<u32> {
        let end = self
            .communities
            .get(c as usize + 1)
            .map_or(self.households() as u32, |n| n.first_household);
        self.communities[c as usize].first_household..end
    }

    /// The district of person `p`.
    pub fn district_of(&self, p: u32) -> u32 {
        locate(&self.districts, p, |d| d.first_person) as u32
    }

    /// The people of district `d`.
    pub fn district_people(&self, d: u32) -> std::ops::Range<u32> {
        let end = self
            .districts
            .get(d as usize + 1)
            .map_or(self.people(), |n| n.first_person);
        self.districts[d as usize].first_person..end
    }

    /// Region names of community `c`.
    pub fn region(&self, c: u32) -> Region {
        let street = self.communities[c as usize].street;
        let district = self.streets[street as usize].district;
        Region {
            district: format!("{} District", place_name(district, 11)),
            street: format!("{} Subdistrict", place_name(street, 23)),
            community: format!("{} Community", place_name(c, 37)),
        }
    }

    /// The address of household `h`.
    pub fn address(&self, h: u32) -> Address {
        let b = self.building_of(h);
        let bl = &self.buildings[b as usize];
        let j = h - bl.first_household;
        let per_floor = u32::from(bl.rooms_per_floor.max(1));
        let per_unit = u32::from(bl.floors.max(1)) * per_floor;
        let (unit, rem) = (j / per_unit + 1, j % per_unit);
        const KINDS: [&str; 5] = ["Garden", "Court", "Xincun", "Residence", "Yuan"];
        Address {
            compound: format!(
                "{} {}",
                place_name(bl.compound, 53),
                KINDS[(rng::mix64(u64::from(bl.compound)) % 5) as usize]
            )
            .into(),
            building: format!("Building {}", bl.number).into(),
            unit: format!("Unit {unit}").into(),
            room: format!("{}{:02}", rem / per_floor + 1, rem % per_floor + 1).into(),
        }
    }

    /// Approximate heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.districts.capacity() * size_of::<District>()
            + self.streets.capacity() * size_of::<Street>()
            + self.communities.capacity() * size_of::<Community>()
            + self.buildings.capacity() * size_of::<Building>()
            + self.household_start.capacity() * 4
    }
}

/// Cumulative, normalised household-size weights.
fn cumulative(w: &[f64; 6]) -> [f64; 6] {
    let total: f64 = w.iter().sum();
    let mut out = [0.0; 6];
    let mut acc = 0.0;
    for (o, x) in out.iter_mut().zip(w) {
        acc += x / total;
        *o = acc;
    }
    out[5] = f64::INFINITY;
    out
}

const SYLLABLES: [&str; 40] = [
    "an", "bao", "chang", "dong", "feng", "fu", "gu", "hong", "hua", "jia", "jin", "jing", "kang",
    "lin", "long", "mei", "ming", "nan", "ning", "ping", "qing", "rui", "shan", "sheng", "shu",
    "tai", "tian", "wan", "xi", "xin", "xing", "yang", "yi", "yong", "yuan", "yun", "ze", "zhong",
    "hai", "he",
];

/// A pinyin-like place name, distinct for the first 1600 indices of a level
/// (then with a number appended).
pub(crate) fn place_name(i: u32, salt: u32) -> String {
    let n = SYLLABLES.len() as u32;
    let q = (i % (n * n)) * 617 % (n * n);
    let q = (q + salt * 97) % (n * n);
    let (a, b) = (SYLLABLES[(q / n) as usize], SYLLABLES[(q % n) as usize]);
    let mut s = String::with_capacity(16);
    let mut chars = a.chars();
    if let Some(c) = chars.next() {
        s.push(c.to_ascii_uppercase());
    }
    s.push_str(chars.as_str());
    s.push_str(b);
    if i >= n * n {
        s.push_str(&format!(" {}", i / (n * n) + 1));
    }
    s
}
