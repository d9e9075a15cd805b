//! Range checks of a [`SimConfig`], naming the field at fault.

use super::SimConfig;
use crate::SimError;

fn bad(what: impl Into<String>) -> SimError {
    SimError::Config(what.into())
}

fn share(name: &str, v: f64) -> Result<(), SimError> {
    if (0.0..=1.0).contains(&v) {
        Ok(())
    } else {
        Err(bad(format!("{name} must be in [0, 1], is {v}")))
    }
}

fn range<T: PartialOrd + Copy + std::fmt::Debug>(
    name: &str,
    r: (T, T),
    min: T,
) -> Result<(), SimError> {
    if r.0 < min || r.1 < r.0 {
        return Err(bad(format!(
            "{name} must be (lo, hi) with {min:?} <= lo <= hi, is {r:?}"
        )));
    }
    Ok(())
}

impl SimConfig {
    /// Checks that every value is usable; the message names the field.
    pub fn validate(&self) -> Result<(), SimError> {
        if !(1..=1_000_000_000).contains(&self.people) {
            return Err(bad(format!(
                "people must be in 1..=1000000000, is {}",
                self.people
            )));
        }
        for (n, v) in [
            ("prevalence", self.prevalence),
            ("clustering", self.clustering),
            ("household_secondary_share", self.household_secondary_share),
            ("lockdown_household_share", self.lockdown_household_share),
            ("lost_tube_rate", self.lost_tube_rate),
            ("early_result_rate", self.early_result_rate),
            ("assay.false_positive_rate", self.assay.false_positive_rate),
            ("assay.inconclusive_rate", self.assay.inconclusive_rate),
            ("assay.invalid_rate", self.assay.invalid_rate),
            ("labs.slow_share", self.labs.slow_share),
        ] {
            share(n, v)?;
        }
        let hs = &self.household_sizes;
        if hs.iter().any(|w| !(*w >= 0.0 && w.is_finite())) || hs.iter().sum::<f64>() <= 0.0 {
            return Err(bad(
                "household_sizes must be non-negative weights with a positive sum",
            ));
        }
        let z = &self.zones;
        let zs = [z.lockdown, z.control, z.precaution];
        if zs.iter().any(|w| !(*w >= 0.0 && w.is_finite())) || zs.iter().sum::<f64>() <= 0.0 {
            return Err(bad("zones must be non-negative shares with a positive sum"));
        }
        for (n, k) in [
            ("pool_size_control", self.pool_size_control),
            ("pool_size_precaution", self.pool_size_precaution),
        ] {
            if !(2..=20).contains(&k) {
                return Err(bad(format!("{n} must be in 2..=20, is {k}")));
            }
        }
        let g = &self.geography;
        if g.people_per_district == 0 || !(1..=99).contains(&g.max_districts) {
            return Err(bad(
                "geography: people_per_district >= 1 and max_districts in 1..=99",
            ));
        }
        range("geography.street_people", g.street_people, 1)?;
        range("geography.community_people", g.community_people, 1)?;
        range("geography.compound_buildings", g.compound_buildings, 1)?;
        range("geography.building_units", g.building_units, 1)?;
        range("geography.building_floors", g.building_floors, 1)?;
        range("geography.rooms_per_floor", g.rooms_per_floor, 1)?;
        if g.building_units.1 > 99 || g.building_floors.1 > 99 || g.rooms_per_floor.1 > 99 {
            return Err(bad(
                "geography: units, floors and rooms per floor are at most 99",
            ));
        }
        let a = &self.assay;
        if !(a.cutoff > 0.0 && a.cutoff <= 50.0) {
            return Err(bad(format!(
                "assay.cutoff must be in (0, 50], is {}",
                a.cutoff
            )));
        }
        for (n, v) in [
            ("assay.sd_ct", a.sd_ct),
            ("assay.dilution_sd", a.dilution_sd),
            ("assay.target_sd", a.target_sd),
            ("assay.ic_sd", a.ic_sd),
        ] {
            if !(0.0..=10.0).contains(&v) {
                return Err(bad(format!("{n} must be in [0, 10], is {v}")));
            }
        }
        if !(12.0..=45.0).contains(&a.mean_ct) || !(5.0..=45.0).contains(&a.ic_mean) {
            return Err(bad(
                "assay.mean_ct must be in [12, 45] and assay.ic_mean in [5, 45]",
            ));
        }
        if a.kits.is_empty() || a.kits.iter().any(|k| k.trim().is_empty()) {
            return Err(bad("assay.kits must name at least one kit, none blank"));
        }
        let l = &self.labs;
        if !(1..=99).contains(&l.count) || l.slow_labs > l.count {
            return Err(bad(
                "labs.count must be in 1..=99 and labs.slow_labs <= labs.count",
            ));
        }
        range("labs.receipt_delay_hours", l.receipt_delay_hours, 0.0)?;
        range("labs.report_delay_hours", l.report_delay_hours, 0.0)?;
        range("labs.slow_delay_hours", l.slow_delay_hours, 0.0)?;
        if l.receipt_delay_hours.1 + l.slow_delay_hours.1.max(l.report_delay_hours.1) > 240.0 {
            return Err(bad("labs: delays add up to more than 240 hours"));
        }
        if !(self.collection_hours > 0.0 && self.collection_hours <= 24.0) {
            return Err(bad("collection_hours must be in (0, 24]"));
        }
        if self.rounds > 1000 {
            return Err(bad("rounds must be at most 1000"));
        }
        Ok(())
    }
}
