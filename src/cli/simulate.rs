//! `pooltrace simulate`: a synthetic city's screening rounds as NDJSON files,
//! with the ground truth. The flags shared with `demo` live here too.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use pooltrace_sim::{write_ndjson, City, SimConfig, SimError, StreamCounts};
use thiserror::Error;

/// What a simulation could not do.
#[derive(Debug, Error)]
pub enum SimulateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: not a simulation config: {source}")]
    BadConfigFile {
        path: String,
        source: serde_json::Error,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: std::io::Error,
    },
    #[error("--rounds must be at least 1")]
    NoRounds,
    #[error("simulation: {0}")]
    Sim(#[from] SimError),
}

/// The city and epidemic flags of `simulate` and `demo`.
#[derive(clap::Args, Clone, Debug)]
pub struct SimArgs {
    /// Residents of the synthetic city [default: 1000000 for demo, 100000 for simulate].
    #[arg(long, value_name = "N")]
    pub people: Option<u32>,
    /// Screening rounds, one a day [default: 1].
    #[arg(long, value_name = "R")]
    pub rounds: Option<u32>,
    /// Seed of every random draw: same seed and flags, same bytes [default: 20220404].
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Share of residents infected [default: 0.002].
    #[arg(long, value_name = "P")]
    pub prevalence: Option<f64>,
    /// JSON file with any simulation settings (fields of `SimConfig`, e.g.
    /// `{"zones": {"lockdown": 0, "control": 1, "precaution": 0}}`); flags win.
    #[arg(long, value_name = "FILE")]
    pub sim_config: Option<PathBuf>,
}

impl SimArgs {
    /// The simulation config: defaults, then the file, then the flags.
    pub fn config(&self, default_people: u32) -> Result<SimConfig, SimulateError> {
        let mut cfg = match &self.sim_config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| SimulateError::Read {
                    path: path.display().to_string(),
                    source,
                })?;
                let bad = |source| SimulateError::BadConfigFile {
                    path: path.display().to_string(),
                    source,
                };
                let mut v: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
                // The command's own default city size, unless the file sets one.
                if let Some(obj) = v.as_object_mut() {
                    obj.entry("people").or_insert(default_people.into());
                }
                serde_json::from_value(v).map_err(bad)?
            }
            None => SimConfig {
                people: default_people,
                ..SimConfig::default()
            },
        };
        if let Some(p) = self.people {
            cfg.people = p;
        }
        if let Some(r) = self.rounds {
            cfg.rounds = r;
        }
        if let Some(s) = self.seed {
            cfg.seed = s;
        }
        if let Some(p) = self.prevalence {
            cfg.prevalence = p;
        }
        if cfg.rounds == 0 {
            return Err(SimulateError::NoRounds);
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    sim: SimArgs,
    /// Output directory (created): manifests, results, receipts, truth (NDJSON) and sim_config.json.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
}

/// Creates `path` for buffered writing.
pub fn create(path: &Path) -> Result<BufWriter<File>, SimulateError> {
    File::create(path)
        .map(|f| BufWriter::with_capacity(1 << 20, f))
        .map_err(|source| write_err(path, source))
}

pub fn write_err(path: &Path, source: std::io::Error) -> SimulateError {
    SimulateError::Write {
        path: path.display().to_string(),
        source,
    }
}

/// Flushes a buffered file.
pub fn close(path: &Path, mut w: BufWriter<File>) -> Result<(), SimulateError> {
    w.flush().map_err(|source| write_err(path, source))
}

/// Writes the ground truth and the config a city was generated from into `out`.
pub fn write_truth(city: &City, out: &Path) -> Result<usize, SimulateError> {
    let path = out.join("truth.ndjson");
    let mut w = create(&path)?;
    let lines = city.truth().write_ndjson(&mut w)?;
    close(&path, w)?;
    let path = out.join("sim_config.json");
    let json = serde_json::to_vec_pretty(city.config()).map_err(SimError::from)?;
    std::fs::write(&path, json).map_err(|source| write_err(&path, source))?;
    Ok(lines)
}

pub fn simulate(args: SimulateArgs) -> Result<(), Box<dyn std::error::Error>> {
    let cfg = args.sim.config(SimConfig::default().people)?;
    let out = &args.out;
    std::fs::create_dir_all(out).map_err(|source| write_err(out, source))?;
    let city = City::generate(&cfg)?;
    let paths = ["manifests", "results", "receipts"].map(|s| out.join(format!("{s}.ndjson")));
    let [mut m, mut r, mut c] = [create(&paths[0])?, create(&paths[1])?, create(&paths[2])?];
    let mut n = StreamCounts::default();
    for round in 0..cfg.rounds {
        let k = write_ndjson(city.round(round), &mut m, &mut r, &mut c)?;
        n.manifests += k.manifests;
        n.results += k.results;
        n.receipts += k.receipts;
    }
    for (path, w) in paths.iter().zip([m, r, c]) {
        close(path, w)?;
    }
    let truth_lines = write_truth(&city, out)?;
    println!(
        "pooltrace simulate: {} people, {} rounds, {} tubes a round, {} infected (seed {})",
        city.people(),
        cfg.rounds,
        city.tubes_per_round(),
        city.truth().infected().len(),
        cfg.seed
    );
    println!(
        "  wrote {}: manifests {}, results {}, receipts {}, truth {} lines (first-round records only: retests need the closed loop, see `pooltrace demo`)",
        out.display(),
        n.manifests,
        n.results,
        n.receipts,
        truth_lines
    );
    Ok(())
}
