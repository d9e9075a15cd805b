//! A non-adaptive batch decoded end to end from NDJSON by `pooltrace run`.

mod support;

use std::fmt::Write as _;

use support::*;

fn rid(n: u32) -> String {
    let first17 = format!("31010419800{:06}", n);
    let check = pooltrace_model::resident_id_check_char(first17.as_bytes()).unwrap();
    format!("{first17}{}", check as char)
}

#[test]
fn kirkman_batch_with_two_positives_is_decoded_in_one_round() {
    // kirkman-45x105: 45 pools, each sample in 3 pools, any two samples share
    // at most one pool: 2 positives always decode exactly.
    let design = pooltrace_decode::Design::builtin("kirkman-45x105").unwrap();
    let positives = [7u32, 60];
    let (mut m, mut r) = (String::new(), String::new());
    for (i, pool) in design.pools().iter().enumerate() {
        let members: Vec<String> = pool
            .iter()
            .map(|s| format!(r#"{{"person_id":"{}","name":"Sample {s}"}}"#, rid(*s)))
            .collect();
        writeln!(m, r#"{{"tube_id":"K-{i:02}","kind":"pool","collected_at":"2022-05-10T08:00:00+08:00","site_id":"S","region":{{"district":"D","street":"St","community":"C"}},"members":[{}],"batch_id":"K1","design":"kirkman-45x105","pool_index":{i}}}"#, members.join(",")).unwrap();
        let positive = pool.iter().any(|s| positives.contains(s));
        let ct = if positive {
            r#"{"ORF1ab":30.0,"N":31.0,"IC":27.0}"#
        } else {
            r#"{"IC":27.0}"#
        };
        writeln!(r, r#"{{"tube_id":"K-{i:02}","lab_id":"L","reported_at":"2022-05-10T09:{i:02}:00+08:00","ct":{ct}}}"#).unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("m.ndjson"), m).unwrap();
    std::fs::write(dir.path().join("r.ndjson"), r).unwrap();
    let out = dir.path().join("out");
    run(
        &[
            ("manifests", &dir.path().join("m.ndjson")),
            ("results", &dir.path().join("r.ndjson")),
        ],
        &out,
    );
    let alerts = read_ndjson(&out.join("alerts.ndjson"));
    let mut people: Vec<&str> = alerts
        .iter()
        .map(|a| a["person_id"].as_str().unwrap())
        .collect();
    people.sort();
    assert_eq!(
        people,
        [rid(7), rid(60)]
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );
    for a in &alerts {
        assert_eq!(a["kind"], "presumptive_positive");
        assert_eq!(
            a["due_at"], "2022-05-10T11:44:00+08:00",
            "2 h after the last pool result"
        );
        assert_eq!(a["evidence"]["batch_id"], "K1");
    }
    let s = summary(&out);
    assert_eq!(s["engine"]["outcomes"]["cleared_by_pool"], 103);
    assert_eq!(s["engine"]["outcomes"]["pool_positive_pending"], 2);
    assert!(read_ndjson(&out.join("dead_letters.ndjson")).is_empty());
}
