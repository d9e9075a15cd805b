//! A run that spills cold state to disk writes exactly what a run that
//! keeps it all in memory writes, and leaves no spill files behind.

use std::fmt::Write as _;
use std::path::Path;

use pooltrace_pipeline::{run_files, Config, Inputs, RunReport};

/// `pools` pools of ten over ten hours of one day, a result an hour after
/// each; every 50th pool is positive and its members retest in single
/// tubes four hours later (one positive), three people to a room from
/// pools ten minutes apart,
/// and the first day's results corrected (negative to negative) the next
/// morning, when their tubes are long spilled.
fn write_inputs(dir: &Path, pools: u32) -> Inputs {
    let (mut manifests, mut results) = (String::new(), String::new());
    let person = |n: u32| {
        let first17 = format!("11010119800{:06}", n);
        let check = pooltrace_model::resident_id_check_char(first17.as_bytes()).unwrap();
        format!("{first17}{}", check as char)
    };
    let member = |n: u32| {
        format!(
            r#"{{"person_id":"{}","name":"P{n}","phone":"139{n:08}","address":{{"compound":"C{}","building":"1","unit":"1","room":"{}"}}}}"#,
            person(n),
            n / 3000,
            n % 1000
        )
    };
    let time = |minute: u32| {
        let (d, m) = (10 + minute / 1440, minute % 1440);
        format!("2022-05-{d:02}T{:02}:{:02}:00+08:00", m / 60, m % 60)
    };
    let region = r#""region":{"district":"D1","street":"S1","community":"K1"}"#;
    for p in 0..pools {
        let at = 8 * 60 + p * 600 / pools;
        let members: Vec<String> = (0..10).map(|i| member(p * 10 + i)).collect();
        writeln!(
            manifests,
            r#"{{"tube_id":"P{p}","kind":"pool","collected_at":"{}","site_id":"S",{region},"members":[{}]}}"#,
            time(at),
            members.join(",")
        )
        .unwrap();
        let positive = p % 50 == 7;
        let ct = |detected: bool, orf: f64| match detected {
            true => format!(r#"{{"ORF1ab":{orf},"N":{},"IC":27.0}}"#, orf + 1.0),
            false => r#"{"IC":27.0}"#.to_string(),
        };
        let result = |tube: String, minute: u32, ct: String| {
            format!(
                r#"{{"tube_id":"{tube}","lab_id":"L","reported_at":"{}","ct":{ct}}}"#,
                time(minute)
            ) + "\n"
        };
        results += &result(format!("P{p}"), at + 60, ct(positive, 31.0));
        if positive {
            for i in 0..10 {
                let n = p * 10 + i;
                writeln!(
                    manifests,
                    r#"{{"tube_id":"S{n}","kind":"single","collected_at":"{}","site_id":"S",{region},"members":[{}],"retest_of":"P{p}"}}"#,
                    time(at + 240),
                    member(n)
                )
                .unwrap();
                results += &result(format!("S{n}"), at + 300, ct(i == 3, 25.0));
            }
        } else if p % 97 == 0 {
            writeln!(
                results,
                r#"{{"tube_id":"P{p}","lab_id":"L","reported_at":"{}","ct":{{"IC":26.5}},"status":"corrected"}}"#,
                time(1440 + 8 * 60 + p % 60)
            )
            .unwrap();
        }
    }
    // Each file in time order, as a lab or sampling point streams it.
    let in_time_order = |text: String, field: &str| {
        let mut lines: Vec<&str> = text.lines().collect();
        let key = |l: &&str| l.split(field).nth(1).map(|t| t[3..28].to_string());
        lines.sort_by_key(key);
        lines.join("\n") + "\n"
    };
    let manifests = in_time_order(manifests, "collected_at");
    let results = in_time_order(results, "reported_at");
    std::fs::write(dir.join("manifests.ndjson"), manifests).unwrap();
    std::fs::write(dir.join("results.ndjson"), results).unwrap();
    Inputs {
        manifests: Some(dir.join("manifests.ndjson")),
        results: Some(dir.join("results.ndjson")),
        receipts: None,
    }
}

fn run(inputs: &Inputs, out: &Path, state_memory_mb: u64) -> RunReport {
    let mut cfg = Config::default();
    cfg.privacy.pseudonym_key = Some("a-test-key-of-sixteen-bytes-or-more".into());
    cfg.engine.state_memory_mb = state_memory_mb;
    // Ten pools a minute: the 1 MiB budget holds about an hour and a half
    // of them; what is ten minutes old goes.
    cfg.engine.spill_after_min = 10;
    run_files(&cfg, inputs, out).unwrap()
}

#[test]
fn a_run_that_spills_writes_what_a_run_in_memory_writes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 6000);
    let (kept, spilled) = (dir.path().join("kept"), dir.path().join("spilled"));
    let a = run(&inputs, &kept, 0);
    let b = run(&inputs, &spilled, 1);
    assert_eq!(
        (a.spilled_tubes, a.spilled_households, a.spilled_people),
        (0, 0, 0)
    );
    assert!(b.spilled_tubes > 3000, "{} tubes spilled", b.spilled_tubes);
    assert!(
        b.spilled_households > 15000,
        "{} households",
        b.spilled_households
    );
    assert!(
        !spilled.join(".spill").exists(),
        "the spill files go with the run"
    );
    let read = |out: &Path, name: &str| std::fs::read_to_string(out.join(name)).unwrap();
    let alerts = read(&kept, "alerts.ndjson");
    assert!(alerts.contains("isolation_transfer") && alerts.contains("hospital_transfer"));
    assert_eq!(alerts, read(&spilled, "alerts.ndjson"));
    assert_eq!(
        read(&kept, "dead_letters.ndjson"),
        read(&spilled, "dead_letters.ndjson")
    );
    assert_eq!(a.engine, b.engine);
    assert_eq!(a.parquet_rows, b.parquet_rows);
    assert_eq!(a.engine.records_processed, a.records_valid);
}

#[test]
fn a_spill_folder_that_cannot_be_made_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = write_inputs(dir.path(), 10);
    let blocked = dir.path().join("a-file");
    std::fs::write(&blocked, "in the way").unwrap();
    let mut cfg = Config::default();
    cfg.privacy.pseudonym_key = Some("a-test-key-of-sixteen-bytes-or-more".into());
    cfg.engine.spill_dir = Some(blocked.clone());
    let err = run_files(&cfg, &inputs, &dir.path().join("out")).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("spill") && msg.contains("a-file"), "{msg}");
}
