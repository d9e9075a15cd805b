//! The simulation's knobs: city size, epidemic, zones, assay, labs and time.
//!
//! Every field has a default (`SimConfig::default()` is a 100,000-person
//! city); a JSON or TOML file may set any subset of them.

use pooltrace_model::Timestamp;
use serde::{Deserialize, Serialize};

mod validate;

/// Everything that shapes a synthetic city and its screening rounds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SimConfig {
    /// Number of residents (exact), 1..=1,000,000,000.
    pub people: u32,
    /// Seed of every random draw: the same seed and config give the same city,
    /// records and truth on every machine.
    pub seed: u64,
    /// Share of residents infected (the number drawn is Binomial(people, prevalence)).
    pub prevalence: f64,
    /// Share of infections that are secondary cases placed next to an earlier
    /// case (same household or building); the rest are index cases placed uniformly.
    pub clustering: f64,
    /// Of the secondary cases, the share placed in the same household (the rest
    /// go to the same building).
    pub household_secondary_share: f64,
    /// Relative frequency of households of 1, 2, ..., 6 people (default: China
    /// 2020 census shape, mean about 2.6).
    pub household_sizes: [f64; 6],
    /// Share of communities in each zone.
    pub zones: ZoneMix,
    /// Pool size (people per tube) in control zones.
    pub pool_size_control: u8,
    /// Pool size (people per tube) in precaution zones.
    pub pool_size_precaution: u8,
    /// In lockdown zones, the share of households of 2+ people sampled into one
    /// household tube; the other households get one single tube per person.
    pub lockdown_household_share: f64,
    /// Sizes of the administrative and residential units.
    pub geography: GeoConfig,
    /// The RT-PCR assay.
    pub assay: AssayConfig,
    /// The labs: count, delays, the slow ones.
    pub labs: LabConfig,
    /// Share of tubes the lab receives but never reports (manifest and receipt, no result).
    pub lost_tube_rate: f64,
    /// Share of tubes whose result enters the stream before their manifest.
    pub early_result_rate: f64,
    /// Number of screening rounds (one a day) the ground truth covers.
    pub rounds: u32,
    /// Start of round 0's collection; its offset is used for every timestamp.
    pub start: Timestamp,
    /// Length of the collection day in hours (tubes are collected from `start`
    /// to `start + collection_hours`, each community in queue order).
    pub collection_hours: f64,
    /// Put name, phone and address on every manifest member (off: person_id only,
    /// which is faster and smaller).
    pub member_details: bool,
}

/// Share of communities per zone; normalised, so they need not add up to 1.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ZoneMix {
    /// Lockdown zones (封控区): single or household tubes.
    pub lockdown: f64,
    /// Control zones (管控区): `pool_size_control`-in-1 pools.
    pub control: f64,
    /// Precaution zones (防范区): `pool_size_precaution`-in-1 pools.
    pub precaution: f64,
}

/// Sizes of the units of the city, as inclusive ranges drawn uniformly.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GeoConfig {
    /// Target residents per district; the city has `people / this` districts
    /// (at least 1, at most `max_districts`).
    pub people_per_district: u32,
    /// Upper bound on districts (at most 99: the region code has two digits).
    pub max_districts: u32,
    /// Target residents per street (sub-district, 街道).
    pub street_people: (u32, u32),
    /// Target residents per community (居委会): a community ends at the first
    /// building boundary past its target.
    pub community_people: (u32, u32),
    /// Buildings per compound (小区).
    pub compound_buildings: (u32, u32),
    /// Units (entrances) per building.
    pub building_units: (u32, u32),
    /// Floors per building.
    pub building_floors: (u32, u32),
    /// Rooms (flats) per floor and unit; each room holds one household.
    pub rooms_per_floor: (u32, u32),
}

/// The RT-PCR assay model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AssayConfig {
    /// Mean of an infected person's true (undiluted) Ct.
    pub mean_ct: f64,
    /// Standard deviation of the true Ct; draws are clamped to (12, 45).
    pub sd_ct: f64,
    /// Standard deviation of the pooling noise added to the log2(k) dilution shift.
    pub dilution_sd: f64,
    /// Standard deviation of each target's own measurement noise.
    pub target_sd: f64,
    /// Mean Ct of the internal control (IC).
    pub ic_mean: f64,
    /// Standard deviation of the internal control's Ct.
    pub ic_sd: f64,
    /// A target is reported (detected) when its Ct is at or below this.
    pub cutoff: f64,
    /// Share of tubes without an infected member that read positive anyway.
    pub false_positive_rate: f64,
    /// Share of tubes that report exactly one target (inconclusive).
    pub inconclusive_rate: f64,
    /// Share of tubes whose internal control fails (no IC, no targets).
    pub invalid_rate: f64,
    /// Reagent kits; lab i uses kit `i % kits.len()`, parallel retests another one.
    pub kits: Vec<String>,
}

/// The labs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LabConfig {
    /// Number of labs (`LAB-01` ...); each community sends its tubes to one lab.
    pub count: u32,
    /// Hours from collection to receipt at the lab.
    pub receipt_delay_hours: (f64, f64),
    /// Hours from receipt to the reported result.
    pub report_delay_hours: (f64, f64),
    /// How many labs (the last ones) are slow.
    pub slow_labs: u32,
    /// Share of a slow lab's tubes reported late.
    pub slow_share: f64,
    /// Hours from receipt to result for a slow lab's late tubes (past the 6 h limit).
    pub slow_delay_hours: (f64, f64),
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            people: 100_000,
            seed: 20_220_404,
            prevalence: 0.002,
            clustering: 0.5,
            household_secondary_share: 0.7,
            household_sizes: [25.4, 29.7, 20.9, 13.2, 6.5, 4.3],
            zones: ZoneMix::default(),
            pool_size_control: 10,
            pool_size_precaution: 20,
            lockdown_household_share: 0.5,
            geography: GeoConfig::default(),
            assay: AssayConfig::default(),
            labs: LabConfig::default(),
            lost_tube_rate: 0.0005,
            early_result_rate: 0.001,
            rounds: 1,
            start: Timestamp::parse("2022-04-04T06:00:00+08:00").expect("valid default start"),
            collection_hours: 12.0,
            member_details: true,
        }
    }
}

impl Default for ZoneMix {
    fn default() -> Self {
        ZoneMix {
            lockdown: 0.05,
            control: 0.25,
            precaution: 0.70,
        }
    }
}

impl Default for GeoConfig {
    fn default() -> Self {
        GeoConfig {
            people_per_district: 1_600_000,
            max_districts: 16,
            street_people: (60_000, 180_000),
            community_people: (2_000, 6_000),
            compound_buildings: (2, 12),
            building_units: (1, 4),
            building_floors: (6, 18),
            rooms_per_floor: (2, 4),
        }
    }
}

impl Default for AssayConfig {
    fn default() -> Self {
        AssayConfig {
            mean_ct: 28.0,
            sd_ct: 4.0,
            dilution_sd: 0.5,
            target_sd: 0.3,
            ic_mean: 27.0,
            ic_sd: 1.0,
            cutoff: 40.0,
            false_positive_rate: 0.0,
            inconclusive_rate: 0.002,
            invalid_rate: 0.001,
            kits: vec!["KIT-1".into(), "KIT-2".into(), "KIT-3".into()],
        }
    }
}

impl Default for LabConfig {
    fn default() -> Self {
        LabConfig {
            count: 8,
            receipt_delay_hours: (0.5, 2.0),
            report_delay_hours: (2.0, 5.0),
            slow_labs: 1,
            slow_share: 0.2,
            slow_delay_hours: (6.0, 9.0),
        }
    }
}
