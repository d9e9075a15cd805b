//! `pooltrace design show|evaluate` and `pooltrace plan`.

use std::path::Path;

use pooltrace_decode::{
    builtin_names, design_from_csv, design_from_json, evaluate, Decoder, Design,
};

type CliResult = Result<(), Box<dyn std::error::Error>>;

#[derive(clap::Subcommand)]
pub enum DesignCommand {
    /// The verified properties of a built-in design or a design file (.csv or .json).
    Show {
        /// A built-in name (e.g. kirkman-45x105, pbest-48x384, array-8x12, std-13-4) or a file.
        design: String,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Simulated accuracy of a decoder with D random positives per trial.
    Evaluate {
        #[arg(long)]
        design: String,
        #[arg(long)]
        positives: usize,
        #[arg(long, default_value_t = 1000)]
        trials: usize,
        /// comp | dd | scomp | ct
        #[arg(long, default_value = "comp")]
        decoder: String,
        /// Standard deviation of the pool Ct measurement noise.
        #[arg(long, default_value_t = 0.0)]
        ct_noise: f64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
    },
}

#[derive(clap::Args)]
pub struct PlanArgs {
    /// Expected share of positive people, e.g. 0.005.
    #[arg(long)]
    prevalence: f64,
    /// Assay sensitivity.
    #[arg(long, default_value_t = 0.99)]
    se: f64,
    /// Assay specificity.
    #[arg(long, default_value_t = 0.99)]
    sp: f64,
    /// Largest Dorfman pool size to compare.
    #[arg(long, default_value_t = 20)]
    max_pool: usize,
    #[arg(long)]
    json: bool,
}

/// A built-in design by name, else a CSV or JSON file.
fn load(name: &str) -> Result<Design, Box<dyn std::error::Error>> {
    let path = Path::new(name);
    if !path.exists() {
        return Design::builtin(name).map_err(|e| {
            format!(
                "{e} (not a file either; built-in designs: {})",
                builtin_names().join(", ")
            )
            .into()
        });
    }
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read {name}: {e}"))?;
    let design = if name.ends_with(".json") {
        design_from_json(&text)
    } else {
        let stem = path
            .file_stem()
            .map_or(name.into(), |s| s.to_string_lossy());
        design_from_csv(&stem, &text)
    };
    design.map_err(|e| format!("{name}: {e}").into())
}

pub fn design(cmd: DesignCommand) -> CliResult {
    match cmd {
        DesignCommand::Show { design, json } => {
            let d = load(&design)?;
            let p = d.properties();
            if json {
                println!("{}", serde_json::to_string_pretty(p)?);
            } else {
                println!("design                {}", d.name());
                println!("pools x samples       {} x {}", p.pools, p.samples);
                println!(
                    "pool size             {}..={}",
                    p.pool_size_min, p.pool_size_max
                );
                println!(
                    "pools per sample      {}..={} (multiplicity)",
                    p.multiplicity_min, p.multiplicity_max
                );
                println!("largest overlap       {}", p.max_overlap);
                println!("decodes exactly up to {} positives", p.guaranteed_decodable);
                println!("tests per sample      {:.4}", d.tests_per_sample());
            }
        }
        DesignCommand::Evaluate {
            design,
            positives,
            trials,
            decoder,
            ct_noise,
            seed,
            json,
        } => {
            let d = load(&design)?;
            let dec = Decoder::from_name(&decoder)?;
            let e = evaluate(&d, dec, positives, trials, ct_noise, seed)?;
            if json {
                println!("{}", serde_json::to_string(&e)?);
            } else {
                println!(
                    "{} / {} / {positives} positives / {trials} trials",
                    d.name(),
                    dec.name()
                );
                println!("sensitivity           {:.4}", e.sensitivity);
                println!("specificity           {:.4}", e.specificity);
                println!("exact recovery        {:.4}", e.exact_recovery);
                println!("mean false positives  {:.3}", e.mean_false_positives);
                println!("mean undetermined     {:.3}", e.mean_undetermined);
                println!("tests per sample      {:.4}", e.tests_per_sample);
            }
        }
    }
    Ok(())
}

pub fn plan(a: PlanArgs) -> CliResult {
    let p = pooltrace_decode::plan(a.prevalence, a.se, a.sp, a.max_pool)?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&p)?);
        return Ok(());
    }
    println!("prevalence {} / Se {} / Sp {}", a.prevalence, a.se, a.sp);
    println!(
        "{:<22} {:>16} {:>16} {:>12}",
        "strategy", "tests/person", "retests/person", "sensitivity"
    );
    for r in &p.dorfman {
        println!(
            "{:<22} {:>16.4} {:>16.4} {:>12.4}",
            format!("dorfman k={}", r.pool_size),
            r.tests_per_person,
            r.retests_per_person,
            r.sensitivity
        );
    }
    for r in &p.designs {
        let se = r.sensitivity.map_or("-".to_string(), |s| format!("{s:.4}"));
        println!(
            "{:<22} {:>16.4} {:>16.4} {:>12}",
            r.design, r.tests_per_person, r.retests_per_person, se
        );
    }
    println!(
        "recommended: {} ({:.4} tests/person)",
        p.recommendation.strategy, p.recommendation.tests_per_person
    );
    Ok(())
}
