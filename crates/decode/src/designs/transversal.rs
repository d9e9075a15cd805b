//! Shifted transversal designs (STD, Thierry-Mieg 2006).
//!
//! For a prime `q`, `k ≤ q + 1` layers and `n` samples, let `Γ` be the
//! smallest integer with `q^(Γ+1) ≥ n` and write sample `i` in base `q` with
//! digits `i_0..i_Γ`. In layer `j < q` sample `i` goes into pool
//! `j·q + (Σ_c j^c · i_c mod q)`; layer `q` (if `k = q + 1`) uses pool
//! `q² + i_Γ`. Each layer is a partition of the samples into `q` pools.
//! Two samples are two distinct polynomials of degree ≤ Γ in `j`, so they meet
//! in at most `Γ` layers: the design is `floor((k-1)/Γ)`-disjunct.

/// True if `q` is prime.
pub fn is_prime(q: u32) -> bool {
    let q = u64::from(q);
    q >= 2 && (2..).take_while(|d| d * d <= q).all(|d| q % d != 0)
}

/// The compression parameter `Γ`: smallest with `q^(Γ+1) ≥ n`.
pub fn gamma(q: u32, n: u64) -> u32 {
    let mut g = 0;
    let mut cap = u64::from(q);
    while cap < n {
        cap = cap.saturating_mul(u64::from(q));
        g += 1;
    }
    g
}

/// Pools of STD(q; k) on `n` samples. The caller checks `q` prime,
/// `1 ≤ k ≤ q + 1`.
pub fn std_pools(q: u32, k: u32, n: u32) -> Vec<Vec<u32>> {
    let g = gamma(q, u64::from(n));
    let mut pools = vec![Vec::new(); (q * k) as usize];
    for i in 0..n {
        let mut digits = Vec::with_capacity(g as usize + 1);
        let mut rest = i;
        for _ in 0..=g {
            digits.push(rest % q);
            rest /= q;
        }
        for j in 0..k {
            let cell = if j < q {
                // Horner: Σ_c j^c · i_c mod q.
                digits.iter().rev().fold(0u64, |acc, &d| {
                    (acc * u64::from(j) + u64::from(d)) % u64::from(q)
                }) as u32
            } else {
                digits[g as usize]
            };
            pools[(j * q + cell) as usize].push(i);
        }
    }
    pools
}
