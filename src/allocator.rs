//! The process's memory allocator: mimalloc, with freed memory kept for a
//! while before it is given back to the operating system.
//!
//! The engine allocates many small strings; mimalloc halves the cost of
//! that against glibc malloc (benches/README.md). By default mimalloc (v3)
//! returns ("purges") memory unused for 1 s. The pipelines free and
//! allocate in waves (record batches, effect batches, message buffers), so
//! memory went back and came again many times a second: each time the
//! kernel zeroed it anew (transparent huge pages: 2 MiB at a time). That
//! was a fifth of the Kafka runtime's main thread and most of the file
//! pipeline's 1.2-1.6 s of system time on 1 M people. Keeping freed memory
//! for 10 s removes the churn and still gives memory back when state
//! really shrinks (retention). `MIMALLOC_PURGE_DELAY` in the environment
//! still wins.
//!
//! `pooltrace run` (files and Kafka) also turns transparent huge pages off
//! for its process ([`small_pages_for_run`]): its state grows from nothing
//! as people are seen, and with huge pages every first touch had the kernel
//! zero 2 MiB. Measured on 2 cores (benches/README.md): Kafka mode used a
//! fifth less CPU and its bench run took 15 % less time; the file
//! pipeline on 1 M people had 40 % less system time and 10 % less peak
//! memory. The demo keeps them: its multi-gigabyte tables, read at random,
//! gain from fewer TLB misses. `MIMALLOC_ALLOW_THP` in the environment
//! (0 or 1) wins for every command.

use std::ffi::{c_int, c_long};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v3's `mi_option_t` (the version
/// `libmimalloc-sys` builds by default); a test checks that it answers
/// that option's default (1000 ms in mimalloc's `options.c`).
const MI_OPTION_PURGE_DELAY: c_int = 15;

/// Milliseconds freed memory stays with the process before it is returned.
const PURGE_DELAY_MS: c_long = 10_000;

unsafe extern "C" {
    fn mi_option_set_default(option: c_int, value: c_long);
    #[cfg(test)]
    fn mi_option_get(option: c_int) -> c_long;
}

/// Applies the settings above (call first thing in `main`).
pub fn configure() {
    // SAFETY: a plain setter of mimalloc's option table, valid at any time;
    // it leaves an option the environment set alone.
    unsafe { mi_option_set_default(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) }
}

/// Turns transparent huge pages off for this process (see the module doc),
/// unless `MIMALLOC_ALLOW_THP` is set: then mimalloc follows it. Call it
/// before the work allocates; threads started after it share the setting.
/// Linux only; elsewhere nothing changes. Tested in `tests/run_cli.rs`.
pub fn small_pages_for_run() {
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        disable_thp();
    }
}

#[cfg(target_os = "linux")]
fn disable_thp() {
    // SAFETY: PR_SET_THP_DISABLE takes plain integers and only sets a flag
    // on this process's memory map (the kernel then backs no new fault with
    // a huge page); it fails harmlessly on a kernel without it.
    let _ = unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
}

#[cfg(not(target_os = "linux"))]
fn disable_thp() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_option_is_the_one_we_mean() {
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_some() {
            return; // set from outside: its value is not ours to check
        }
        // SAFETY: a plain getter of mimalloc's option table.
        let before = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert!(
            before == 1000 || before == PURGE_DELAY_MS,
            "option {MI_OPTION_PURGE_DELAY} is not mimalloc's purge delay (default 1000 ms): {before}"
        );
        configure();
        // SAFETY: as above.
        let after = unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) };
        assert_eq!(after, PURGE_DELAY_MS);
    }
}
