//! A P-BEST-like design (Shental et al. 2020 used 48 pools of 48 for 384
//! samples, each sample in 6 pools), built as a Reed-Solomon code over GF(8).
//!
//! A sample is a polynomial `f(x) = a + b·x + c·x²` over GF(8); it goes into
//! pool `8j + f(j)` of layer `j` for the 6 evaluation points `j = 0..6`. Two
//! distinct polynomials of degree ≤ 2 agree on at most 2 points, so two
//! samples share at most 2 pools: with multiplicity 6 the design is
//! `floor(5/2) = 2`-disjunct. Taking `c` in 0..6 (of 8 values) gives 384
//! samples, and for fixed `(b, c)` the 8 values of `a` hit every value of
//! every layer once, so every pool holds exactly 48 samples.

/// Multiplication in GF(8) = GF(2)[x] / (x³ + x + 1).
fn gf8_mul(mut a: u32, mut b: u32) -> u32 {
    let mut r = 0;
    while b != 0 {
        if b & 1 != 0 {
            r ^= a;
        }
        b >>= 1;
        a <<= 1;
        if a & 0b1000 != 0 {
            a ^= 0b1011;
        }
    }
    r
}

/// Pools of `pbest-48x384`.
pub fn pbest_48x384() -> Vec<Vec<u32>> {
    let mut pools: Vec<Vec<u32>> = (0..48).map(|_| Vec::with_capacity(48)).collect();
    for s in 0..384u32 {
        let (a, b, c) = (s % 8, (s / 8) % 8, s / 64);
        for x in 0..6u32 {
            let value = a ^ gf8_mul(b, x) ^ gf8_mul(c, gf8_mul(x, x));
            pools[(8 * x + value) as usize].push(s);
        }
    }
    pools
}

#[cfg(test)]
mod tests {
    use super::gf8_mul;

    #[test]
    fn gf8_is_a_field() {
        // x * x^2 = x^3 = x + 1 (the modulus) and every non-zero element has
        // an inverse.
        assert_eq!(gf8_mul(0b010, 0b100), 0b011);
        for a in 1..8 {
            assert_eq!((1..8).filter(|&b| gf8_mul(a, b) == 1).count(), 1);
        }
    }
}
