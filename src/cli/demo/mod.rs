//! `pooltrace demo`: a synthetic city screened and traced in one process.
//!
//! The simulator's rounds and the pipeline run as a closed loop: every alert
//! the pipeline raises goes back to the simulator ([`ClosedLoop::respond`]),
//! whose retest records join the stream in entry-time order. The outputs are
//! those of `pooltrace run`, plus the ground truth and `demo_summary.json`.

mod progress;
mod rounds_ahead;
mod summary;
mod tally;

use std::path::{Path, PathBuf};
use std::time::Instant;

use pooltrace_engine::Effect;
use pooltrace_model::{RecordKind, Timestamp, HOUR_MS, MINUTE_MS};
use pooltrace_pipeline::sink::Origin;
use pooltrace_pipeline::{Config, Expected, Pipeline};
use pooltrace_sim::{City, ClosedLoop, LoopSource};

use self::progress::Progress;
use self::summary::{thousands, DemoSummary, Inputs};
use self::tally::Tally;
use super::simulate::{write_err, write_truth, SimArgs};
use super::ConfigArgs;

/// Residents of the default demo city: measured to finish well inside a
/// minute on a 2-core machine (README, `pooltrace demo`).
pub const DEMO_PEOPLE: u32 = 1_000_000;

#[derive(clap::Args)]
pub struct DemoArgs {
    #[command(flatten)]
    sim: SimArgs,
    /// Output directory (created; a previous pooltrace output there is replaced).
    #[arg(long, value_name = "DIR", default_value = "out/demo")]
    out: PathBuf,
    #[command(flatten)]
    config: ConfigArgs,
}

/// The pseudonym key of a demo run without `POOLTRACE_PSEUDONYM_KEY`.
fn demo_key(seed: u64) -> String {
    format!("pooltrace-demo-key-{seed:020}")
}

pub fn demo(args: DemoArgs) -> Result<(), Box<dyn std::error::Error>> {
    let started = Instant::now();
    let sim_cfg = args.sim.config(DEMO_PEOPLE)?;
    let mut cfg = Config::load(args.config.config.as_deref(), std::env::vars())?;
    if cfg.privacy.pseudonym_key.is_none() {
        cfg.privacy.pseudonym_key = Some(demo_key(sim_cfg.seed));
        eprintln!(
            "pooltrace demo: POOLTRACE_PSEUDONYM_KEY is not set: using a demo key derived from the seed (the data is synthetic; set the variable for real data)"
        );
    }
    let out = &args.out;
    let mut pipeline = Pipeline::create(&cfg, out)?;
    let mut progress = Progress::new();
    progress.say(&format!(
        "pooltrace demo: generating a city of {} people ({} round(s), prevalence {}, seed {})",
        thousands(u64::from(sim_cfg.people)),
        sim_cfg.rounds,
        sim_cfg.prevalence,
        sim_cfg.seed
    ));
    let city = City::generate(&sim_cfg)?;
    pipeline.reserve(expected(&city, &sim_cfg, &cfg));
    let city_secs = started.elapsed().as_secs_f64();
    std::thread::scope(|scope| {
        let lp = ClosedLoop::with_rounds(&city, |r| rounds_ahead::round_ahead(scope, &city, r));
        screen(lp, pipeline, progress, &sim_cfg, &cfg, out, city_secs)
    })
}

/// What the engine will hold at most: every household of the city, and
/// the tubes of the rounds inside the retention window (one a day), with a
/// tenth more for retests.
fn expected(city: &City, sim_cfg: &pooltrace_sim::SimConfig, cfg: &Config) -> Expected {
    let rounds = sim_cfg.rounds.max(1) as usize;
    let days_kept = match usize::try_from(cfg.engine.retention_hours) {
        Ok(h) if h > 0 => (h.div_ceil(24) + 1).min(rounds),
        _ => rounds, // 0: everything is kept
    };
    let tubes = city.tubes_per_round() * days_kept;
    Expected {
        tubes: tubes + tubes / 10,
        households: city.households(),
    }
}

/// Runs the closed loop through the pipeline and writes the outputs and
/// the summary.
fn screen(
    mut lp: ClosedLoop<'_>,
    mut pipeline: Pipeline,
    mut progress: Progress,
    sim_cfg: &pooltrace_sim::SimConfig,
    cfg: &Config,
    out: &Path,
    city_secs: f64,
) -> Result<(), Box<dyn std::error::Error>> {
    let city = lp.city();
    let piped = Instant::now();
    let expected = 3 * city.tubes_per_round() as u64 * u64::from(sim_cfg.rounds);
    let mut tally = Tally::default();
    let mut per_stream = [0u64; 3];
    // After the last record, event time goes on for a day (plus lateness):
    // tubes lost in the last round get `result_missing` and are resampled,
    // as they would be in the field.
    let mut last_at: Option<Timestamp> = None;
    let mut extended = false;
    loop {
        while let Some(r) = lp.next_record() {
            let kind = r.record.kind();
            per_stream[kind as usize] += 1;
            let at = r.record.event_time();
            last_at = Some(last_at.map_or(at, |l| l.max_instant(at)));
            let origin = Origin::File {
                stream: kind.as_str(),
                path: match r.source {
                    LoopSource::Screening(round) => format!("sim:round-{round}"),
                    LoopSource::Retest => "sim:retest".to_string(),
                },
                line: r.seq + 1,
            };
            let effects = pipeline.push(r.record, origin)?;
            feed(effects, city, &mut tally, &mut lp);
            progress.tick(|| status(&lp, &tally, expected, piped));
        }
        let (Some(last), false) = (last_at, extended) else {
            break;
        };
        extended = true;
        let lateness = cfg.engine.allowed_lateness_min * MINUTE_MS;
        let wait = cfg.engine.deadlines.result_missing_after_min * MINUTE_MS;
        let effects = pipeline.observe_time(last.plus_millis(wait + lateness + HOUR_MS))?;
        feed(effects, city, &mut tally, &mut lp);
    }
    progress.say(&status(&lp, &tally, expected, piped));
    progress.finish();
    for kind in [
        RecordKind::Manifest,
        RecordKind::Result,
        RecordKind::Receipt,
    ] {
        pipeline.count_lines(kind.as_str(), per_stream[kind as usize], 0);
    }
    let report = pipeline.finish()?;
    eprintln!("{report}");
    write_truth(city, out)?;
    let summary = DemoSummary::new(Inputs {
        lp: &lp,
        tally: &tally,
        report: &report,
        city_secs,
        pipeline_secs: piped.elapsed().as_secs_f64(),
    });
    write_summary(&summary, out)?;
    print!("{summary}");
    Ok(())
}

/// Tallies effects and answers every alert with the simulator's retests.
fn feed(effects: &[Effect], city: &City, tally: &mut Tally, lp: &mut ClosedLoop) {
    for e in effects {
        match e {
            Effect::Alert(a) => {
                tally.alert(city, a);
                lp.respond(a);
            }
            Effect::TubeResult(t) => tally.tube(t),
            Effect::PersonOutcome(_) => {}
        }
    }
}

fn status(lp: &ClosedLoop, tally: &Tally, expected: u64, since: Instant) -> String {
    let s = lp.stats();
    let done = s.screening_records;
    format!(
        "  round {} | screening records {} of ~{} ({:.0} %) | retest tubes {} | confirmed {} | {:.0} s",
        lp.current_round().map_or(0, |r| r + 1),
        thousands(done),
        thousands(expected),
        100.0 * done as f64 / expected.max(1) as f64,
        thousands(s.retest_tubes),
        thousands(tally.confirmed.len() as u64),
        since.elapsed().as_secs_f64()
    )
}

fn write_summary(s: &DemoSummary, out: &Path) -> Result<(), Box<dyn std::error::Error>> {
    let path = out.join("demo_summary.json");
    let json = serde_json::to_vec_pretty(s)?;
    std::fs::write(&path, json).map_err(|e| write_err(&path, e))?;
    Ok(())
}
