//! Analysts can query: DuckDB reads the Parquet output of a run and its
//! counts agree with the run's summary; no raw person id, name or phone
//! appears anywhere in the Parquet files.
//!
//! Needs `python3` with the `duckdb` package (`scripts/test.sh` installs it).

mod support;

use std::fmt::Write as _;
use std::process::Command;

use support::*;

fn rid(n: u32) -> String {
    let first17 = format!("31010419800{:06}", n);
    let check = pooltrace_model::resident_id_check_char(first17.as_bytes()).unwrap();
    format!("{first17}{}", check as char)
}

/// 40 pools of 5 over two districts and two days; 4 positive pools, the
/// first one re-tested in single tubes with one positive.
fn dataset(dir: &std::path::Path) -> Vec<String> {
    let (mut m, mut r) = (String::new(), String::new());
    let mut ids = Vec::new();
    for p in 0..40u32 {
        let day = if p < 20 { "10" } else { "11" };
        let district = if p % 2 == 0 {
            "Chaoyang"
        } else {
            "Pudong/East"
        };
        let members: Vec<String> = (0..5)
            .map(|i| {
                let id = rid(p * 10 + i);
                ids.push(id.clone());
                format!(r#"{{"person_id":"{id}","name":"Name {p}-{i}","phone":"1390000{:04}","address":{{"compound":"C{p}","building":"1","unit":"1","room":"10{i}"}}}}"#, p * 10 + i)
            })
            .collect();
        writeln!(m, r#"{{"tube_id":"P{p}","kind":"pool","collected_at":"2022-05-{day}T08:00:00+08:00","site_id":"S","region":{{"district":"{district}","street":"St","community":"Co"}},"members":[{}]}}"#, members.join(",")).unwrap();
        let ct = if p % 10 == 0 {
            r#"{"ORF1ab":30.0,"N":31.0,"IC":27.0}"#
        } else {
            r#"{"IC":27.0}"#
        };
        writeln!(r, r#"{{"tube_id":"P{p}","lab_id":"L","reported_at":"2022-05-{day}T09:00:00+08:00","ct":{ct}}}"#).unwrap();
    }
    for i in 0..5u32 {
        let id = rid(i);
        writeln!(m, r#"{{"tube_id":"R{i}","kind":"single","retest_of":"P0","collected_at":"2022-05-10T11:00:00+08:00","site_id":"S","region":{{"district":"Chaoyang","street":"St","community":"Co"}},"members":[{{"person_id":"{id}","name":"Name 0-{i}","phone":"1390000{i:04}","address":{{"compound":"C0","building":"1","unit":"1","room":"10{i}"}}}}]}}"#).unwrap();
        let ct = if i == 0 {
            r#"{"ORF1ab":25.0,"N":26.0,"IC":27.0}"#
        } else {
            r#"{"IC":27.0}"#
        };
        writeln!(r, r#"{{"tube_id":"R{i}","lab_id":"L","reported_at":"2022-05-10T12:00:00+08:00","ct":{ct}}}"#).unwrap();
    }
    std::fs::write(dir.join("m.ndjson"), m).unwrap();
    std::fs::write(dir.join("r.ndjson"), r).unwrap();
    ids
}

const QUERY: &str = r#"
import duckdb, json, sys
out, ids_path = sys.argv[1], sys.argv[2]
raw = [l.strip() for l in open(ids_path) if l.strip()]
con = duckdb.connect()
res = {}
for t in ["tube_results", "person_outcomes", "alerts"]:
    rel = f"read_parquet('{out}/{t}/**/*.parquet', hive_partitioning = true)"
    res[t] = con.execute(f"select count(*) from {rel}").fetchone()[0]
    cols = [c[0] for c in con.execute(f"describe select * from {rel}").fetchall()]
    res[t + "_columns"] = cols
    res[t + "_partitions"] = sorted(set(map(tuple, con.execute(f"select distinct date::varchar, district from {rel}").fetchall())))
    strings = [c[0] for c in con.execute(f"describe select * from {rel}").fetchall() if c[1] == "VARCHAR"]
    leaks = 0
    for c in strings:
        for v, in con.execute(f"select distinct \"{c}\"::varchar from {rel}").fetchall():
            if v is not None and any(r in v for r in raw):
                leaks += 1
    res[t + "_leaks"] = leaks
res["outcomes"] = dict(con.execute(f"select outcome, count(*) from read_parquet('{out}/person_outcomes/**/*.parquet', hive_partitioning = true) group by 1").fetchall())
res["raised"] = dict(con.execute(f"select kind, count(*) from read_parquet('{out}/alerts/**/*.parquet', hive_partitioning = true) where version = 1 group by 1").fetchall())
print(json.dumps(res))
"#;

#[test]
fn duckdb_reads_the_parquet_and_counts_match_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let ids = dataset(dir.path());
    let out = dir.path().join("out");
    run(
        &[
            ("manifests", &dir.path().join("m.ndjson")),
            ("results", &dir.path().join("r.ndjson")),
        ],
        &out,
    );
    let ids_path = dir.path().join("ids.txt");
    let mut raw = ids.clone();
    raw.extend((0..400).map(|n| format!("1390000{n:04}")));
    raw.extend((0..40).flat_map(|p| (0..5).map(move |i| format!("Name {p}-{i}"))));
    std::fs::write(&ids_path, raw.join("\n")).unwrap();
    let o = Command::new("python3")
        .arg("-c")
        .arg(QUERY)
        .arg(&out)
        .arg(&ids_path)
        .output()
        .expect("python3 is needed for this test (scripts/test.sh installs duckdb)");
    assert!(
        o.status.success(),
        "duckdb query failed (is the duckdb package installed? scripts/test.sh installs it): {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = summary(&out);
    for t in ["tube_results", "person_outcomes", "alerts"] {
        assert_eq!(got[t], s["parquet_rows"][t], "{t} rows");
        assert_eq!(
            got[format!("{t}_leaks")],
            0,
            "{t} leaks a raw id, name or phone"
        );
        let cols: Vec<&str> = got[format!("{t}_columns")]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        for forbidden in ["person_id", "name", "phone", "room", "address"] {
            assert!(
                !cols.contains(&forbidden),
                "{t} has a {forbidden} column: {cols:?}"
            );
        }
        assert!(
            cols.contains(&"date") && cols.contains(&"district"),
            "{t}: {cols:?}"
        );
    }
    assert_eq!(got["tube_results"], 45);
    assert_eq!(got["person_outcomes"], 205);
    assert_eq!(got["outcomes"], s["engine"]["outcomes"]);
    assert_eq!(got["raised"], s["engine"]["alerts_raised"]);
    let parts: Vec<String> = got["tube_results_partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| format!("{}|{}", p[0].as_str().unwrap(), p[1].as_str().unwrap()))
        .collect();
    assert_eq!(
        parts,
        [
            "2022-05-10|Chaoyang",
            "2022-05-10|Pudong/East",
            "2022-05-11|Chaoyang",
            "2022-05-11|Pudong/East"
        ]
    );
    // And byte for byte: no raw id in any file.
    for f in files(&out, ".parquet") {
        let bytes = std::fs::read(&f).unwrap();
        for id in &ids {
            assert!(
                !bytes.windows(id.len()).any(|w| w == id.as_bytes()),
                "{} holds {id}",
                f.display()
            );
        }
    }
}
