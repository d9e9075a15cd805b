//! People: resident ids, names and phones, derived from a person's index when
//! needed instead of stored.
//!
//! A resident id is `region code (6) + birth date (8) + sequence (3) + check`
//! (GB 11643-1999). The region code names the district (`3101dd`); within a
//! district, a seeded affine permutation maps the person's local index to a
//! unique (birth date, sequence) pair, so ids are unique, look random, and
//! can be inverted back to the person without a lookup table.

use pooltrace_model::resident_id_check_char;

use crate::rng;

/// First birth date: 1932-01-01. Birth dates span 90 years.
const FIRST_YEAR: i64 = 1932;
const YEARS: i64 = 90;
/// Sequence numbers per birth date and district.
const SEQ: u64 = 1000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// An affine bijection `x -> (a x + b) mod m` and its inverse.
#[derive(Clone, Copy, Debug)]
struct Affine {
    a: u64,
    a_inv: u64,
    b: u64,
    m: u64,
}

impl Affine {
    fn new(m: u64, h: u64) -> Affine {
        let mut a = m / 3 + rng::mix64(h) % (m / 3).max(1);
        while gcd(a, m) != 1 {
            a += 1;
        }
        let a_inv = mod_inverse(a, m);
        Affine {
            a,
            a_inv,
            b: rng::mix64(h ^ 0xABCD) % m,
            m,
        }
    }
    fn apply(&self, x: u64) -> u64 {
        ((u128::from(self.a) * u128::from(x) + u128::from(self.b)) % u128::from(self.m)) as u64
    }
    fn invert(&self, y: u64) -> u64 {
        let d = (y + self.m - self.b % self.m) % self.m;
        ((u128::from(self.a_inv) * u128::from(d)) % u128::from(self.m)) as u64
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

fn mod_inverse(a: u64, m: u64) -> u64 {
    let (mut t, mut new_t, mut r, mut new_r) = (0i128, 1i128, i128::from(m), i128::from(a));
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    t.rem_euclid(i128::from(m)) as u64
}

/// Derives ids and phones of people from their index.
#[derive(Clone, Debug)]
pub(crate) struct IdScheme {
    first_day: i64,
    days: u64,
    /// Per district: its first person and its permutation of local indices.
    districts: Vec<(u32, Affine)>,
    /// Residents in the city (the end of the last district).
    total: u32,
    phones: Affine,
    seed: u64,
}

impl IdScheme {
    /// Most residents one district can hold (unique (birth date, sequence) pairs).
    pub fn capacity_per_district() -> u64 {
        let days = days_from_civil(FIRST_YEAR + YEARS, 1, 1) - days_from_civil(FIRST_YEAR, 1, 1);
        days as u64 * SEQ
    }

    /// A scheme for districts starting at the given people, `total` residents in all.
    pub fn new(seed: u64, district_first_person: &[u32], total: u32) -> IdScheme {
        let first_day = days_from_civil(FIRST_YEAR, 1, 1);
        let days = (days_from_civil(FIRST_YEAR + YEARS, 1, 1) - first_day) as u64;
        let districts = district_first_person
            .iter()
            .enumerate()
            .map(|(d, &first)| {
                (
                    first,
                    Affine::new(days * SEQ, rng::hash4(seed, rng::IDS, d as u64, 0)),
                )
            })
            .collect();
        IdScheme {
            first_day,
            days,
            districts,
            total,
            phones: Affine::new(3_000_000_000, rng::hash4(seed, rng::IDS, u64::MAX, 1)),
            seed,
        }
    }

    /// The 18-character resident id of person `p` in district `d`.
    pub fn resident_id(&self, d: u32, p: u32) -> [u8; 18] {
        let (first, aff) = &self.districts[d as usize];
        let y = aff.apply(u64::from(p - first));
        let (year, month, day) = civil_from_days(self.first_day + (y % self.days) as i64);
        let seq = y / self.days;
        let mut out = [b'0'; 18];
        let region = 310_100 + d + 1;
        write_digits(&mut out[0..6], u64::from(region));
        write_digits(&mut out[6..10], year as u64);
        write_digits(&mut out[10..12], u64::from(month));
        write_digits(&mut out[12..14], u64::from(day));
        write_digits(&mut out[14..17], seq);
        out[17] = resident_id_check_char(&out[..17]).expect("17 digits");
        out
    }

    /// The person with this resident id, if it is one this scheme issued.
    pub fn person_of(&self, id: &str) -> Option<u32> {
        let b = id.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
            return None;
        }
        let num = |r: std::ops::Range<usize>| std::str::from_utf8(&b[r]).ok()?.parse::<u64>().ok();
        let region = num(0..6)?;
        if !(310_101..=310_199).contains(&region) {
            return None;
        }
        let d = (region - 310_101) as usize;
        let (first, aff) = self.districts.get(d)?;
        let (year, month, day) = (num(6..10)?, num(10..12)?, num(12..14)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        let dn = days_from_civil(year as i64, month as u32, day as u32) - self.first_day;
        if dn < 0
            || dn as u64 >= self.days
            || civil_from_days(dn + self.first_day) != (year as i64, month as u32, day as u32)
        {
            return None;
        }
        let y = num(14..17)? * self.days + dn as u64;
        let local = aff.invert(y);
        let p = u64::from(*first) + local;
        let end = self.districts.get(d + 1).map_or(self.total, |n| n.0);
        let p = u32::try_from(p).ok().filter(|p| *p < end)?;
        (self.resident_id(d as u32, p).as_slice() == b).then_some(p)
    }

    /// The 11-digit mobile number of person `p` (13x / 15x / 18x), unique per person.
    pub fn phone(&self, p: u32) -> String {
        let z = self.phones.apply(u64::from(p));
        let second = [b'3', b'5', b'8'][(z / 1_000_000_000) as usize];
        let mut out = [b'1', second, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        write_digits(&mut out[2..], z % 1_000_000_000);
        String::from_utf8(out.to_vec()).expect("ASCII digits")
    }

    /// A pinyin name; members of a household mostly share the surname.
    pub fn name(&self, p: u32, household: u32, member: u32) -> String {
        let h = rng::hash4(self.seed, rng::IDS, u64::from(p), 2);
        let family = if member == 1 {
            h >> 40
        } else {
            rng::hash4(self.seed, rng::IDS, u64::from(household), 3)
        };
        let surname = SURNAMES[(family % SURNAMES.len() as u64) as usize];
        let n = GIVEN.len() as u64;
        let first = GIVEN[(h % n) as usize];
        let mut s = String::with_capacity(20);
        s.push_str(surname);
        s.push(' ');
        let mut cs = first.chars();
        if let Some(c) = cs.next() {
            s.push(c.to_ascii_uppercase());
        }
        s.push_str(cs.as_str());
        if (h >> 8) % 3 != 0 {
            s.push_str(GIVEN[((h >> 16) % n) as usize]);
        }
        s
    }
}

fn write_digits(out: &mut [u8], mut v: u64) {
    for slot in out.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

const SURNAMES: [&str; 64] = [
    "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu", "Sun", "Ma",
    "Zhu", "Hu", "Guo", "He", "Gao", "Lin", "Luo", "Zheng", "Liang", "Xie", "Song", "Tang", "Han",
    "Feng", "Deng", "Cao", "Peng", "Zeng", "Xiao", "Tian", "Dong", "Yuan", "Pan", "Yu", "Jiang",
    "Cai", "Wei", "Du", "Ye", "Cheng", "Su", "Lyu", "Ding", "Ren", "Shen", "Yao", "Lu", "Cui",
    "Zhong", "Tan", "Fan", "Jin", "Shi", "Liao", "Jia", "Xia", "Fu", "Fang", "Bai", "Zou", "Qian",
];

const GIVEN: [&str; 48] = [
    "wei", "fang", "na", "xiu", "ying", "min", "jing", "li", "qiang", "lei", "jun", "yang", "yong",
    "yan", "jie", "juan", "tao", "ming", "chao", "xia", "ping", "gang", "hui", "hua", "lan",
    "hong", "bo", "dan", "ling", "peng", "hao", "yu", "xin", "zi", "han", "rui", "chen", "ting",
    "kai", "feng", "mei", "qing", "lin", "shan", "bin", "jia", "le", "an",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip() {
        for z in [-15_000i64, -1, 0, 1, 11_016, 19_000, 20_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
    }

    #[test]
    fn ids_invert_and_phones_are_mobile() {
        let s = IdScheme::new(7, &[0, 1000], 60_000);
        for p in [0u32, 1, 999, 1000, 1500, 50_000] {
            let d = u32::from(p >= 1000);
            let id = s.resident_id(d, p);
            let text = std::str::from_utf8(&id).unwrap();
            pooltrace_model::validate_resident_id("id", text).unwrap();
            assert_eq!(s.person_of(text), Some(p), "{text}");
            let ph = s.phone(p);
            assert!(
                ph.len() == 11 && ["13", "15", "18"].contains(&&ph[..2]),
                "{ph}"
            );
        }
        assert_eq!(s.person_of("22010219610708001X"), None);
        assert_eq!(s.person_of("31010119320101000"), None);
        // A valid-looking id of district 1 whose local index falls past the city.
        let mut beyond = s.resident_id(1, 60_000);
        beyond[17] = resident_id_check_char(&beyond[..17]).unwrap();
        assert_eq!(s.person_of(std::str::from_utf8(&beyond).unwrap()), None);
    }
}
