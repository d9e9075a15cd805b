//! Differential tests: the fast path against serde_json on the same text.
//! Whatever the fast path builds, serde builds the same; whatever serde
//! refuses, the fast path refuses too; the plain shape takes the fast path.

use std::fmt::Debug;

use proptest::prelude::*;
use serde::de::DeserializeOwned;

use super::{manifest, receipt, result, string_end};
use crate::{LabResult, Manifest, Receipt};

/// The fast path's answer agrees with serde's on `text`. True when the
/// fast path took it.
fn agrees<T: DeserializeOwned + PartialEq + Debug>(fast: Option<T>, text: &str) -> bool {
    match (fast, serde_json::from_str::<T>(text)) {
        (Some(f), Ok(s)) => {
            assert_eq!(f, s, "fast path and serde differ on {text}");
            true
        }
        (Some(f), Err(e)) => panic!("fast path took what serde refuses ({e}): {text}\n{f:?}"),
        (None, _) => false,
    }
}

fn all_agree(text: &str) -> [bool; 3] {
    [
        agrees::<Manifest>(manifest(text), text),
        agrees::<LabResult>(result(text), text),
        agrees::<Receipt>(receipt(text), text),
    ]
}

const POOL: &str = r#"{"tube_id":"P0-00000007","kind":"pool","collected_at":"2022-04-04T06:00:00+08:00","site_id":"SITE-7","region":{"district":"D7","street":"S7","community":"C7"},"members":[{"person_id":"310104198000000703","name":"Person 70","phone":"13800000070","address":{"compound":"C7","building":"7","unit":"1","room":"70"}},{"person_id":"22010219610708001X","id_type":"resident_id","name":null},{"person_id":"E12345678","id_type":"passport","phone":"+86 138","address":null}],"retest_of":null,"batch_id":"B1","design":"kirkman-45x105","pool_index":0}"#;

const RESULT: &str = r#"{"tube_id":"P0-00000007","lab_id":"LAB-7","reported_at":"2022-04-04T10:00:00+08:00","received_at":"2022-04-04T08:00:00.250Z","kit":"KIT-1","ct":{"ORF1ab":30.1,"N":31,"E":null,"IC":27.0},"call":null,"status":"corrected"}"#;

const RECEIPT: &str =
    r#"{ "tube_id": "P0-00000007", "lab_id": "LAB-7", "received_at": "2022-04-04T08:00:00Z" }"#;

#[test]
fn the_plain_shape_takes_the_fast_path() {
    assert!(agrees::<Manifest>(manifest(POOL), POOL));
    assert!(agrees::<LabResult>(result(RESULT), RESULT));
    assert!(agrees::<Receipt>(receipt(RECEIPT), RECEIPT));
    let minimal = r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z"}"#;
    assert!(agrees::<LabResult>(result(minimal), minimal));
    // Pretty-printed, other field order: still plain.
    let m: Manifest = serde_json::from_str(POOL).unwrap();
    let pretty = serde_json::to_string_pretty(&m).unwrap();
    assert!(agrees::<Manifest>(manifest(&pretty), &pretty));
}

#[test]
fn the_conformance_examples_take_the_fast_path() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/conformance");
    let mut taken = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            if name.ends_with("manifests.ndjson") {
                assert!(agrees::<Manifest>(manifest(line), line), "{name}: {line}");
                taken += 1;
            } else if name.ends_with("results.ndjson") {
                assert!(agrees::<LabResult>(result(line), line), "{name}: {line}");
                taken += 1;
            }
        }
    }
    assert!(taken >= 4, "only {taken} example lines found in {dir}");
}

#[test]
fn what_is_left_to_serde() {
    for text in [
        // An escape, even one serde reads as a plain field name.
        r#"{"tube\u005fid":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z"}"#,
        r#"{"tube_id":"T\n","lab_id":"L","reported_at":"2022-04-04T10:00:00Z"}"#,
        // A repeated field, an unknown field, a missing one.
        r#"{"tube_id":"T","tube_id":"U","lab_id":"L","reported_at":"2022-04-04T10:00:00Z"}"#,
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z","colour":1}"#,
        r#"{"tube_id":"T","reported_at":"2022-04-04T10:00:00Z"}"#,
        // null where no option is, a wrong type, a bad time, trailing text.
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z","status":null}"#,
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z","ct":{"N":"30"}}"#,
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00"}"#,
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z"} x"#,
        // Numbers of a form serde reads its own way, or refuses.
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z","ct":{"N":01}}"#,
        r#"{"tube_id":"T","lab_id":"L","reported_at":"2022-04-04T10:00:00Z","ct":{"N":1e999}}"#,
    ] {
        assert_eq!(result(text), None, "{text}");
        all_agree(text);
    }
    let index = POOL.replace(r#""pool_index":0"#, r#""pool_index":1.0"#);
    assert_eq!(manifest(&index), None);
    all_agree(&index);
}

/// How much more often a generator picks the plain choice than each odd
/// one, whose weight is the noise `n` (1: mostly plain records; 20: many
/// errors).
const PLAIN: u32 = 200;

/// JSON whitespace, sometimes something that is not.
fn ws(n: u32) -> impl Strategy<Value = &'static str> {
    prop_oneof![
        PLAIN => Just(""),
        PLAIN / 4 => Just(" "),
        PLAIN / 8 => Just("\n  "),
        PLAIN / 8 => Just("\t"),
        PLAIN / 8 => Just("\r\n"),
        n => Just("\u{a0}"),
        n => Just("\x0c"),
    ]
}

/// A JSON string: plain mostly, sometimes escaped or broken.
fn string(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        PLAIN => "[A-Za-z0-9 _\\-é管]{0,10}".prop_map(|s| format!("\"{s}\"")),
        n => Just(r#""a\"b""#.to_string()),
        n => Just(r#""\u00e9""#.to_string()),
        n => Just(r#""\ud800""#.to_string()),
        n => Just("\"tab\there\"".to_string()),
        n => Just("\"open".to_string()),
    ]
}

/// Any value: the right type or not.
fn other(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        Just("null".to_string()),
        Just("nul".to_string()),
        Just("true".to_string()),
        Just("1".to_string()),
        Just("{}".to_string()),
        Just("[]".to_string()),
        Just("[1,]".to_string()),
        string(n),
    ]
}

fn time(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        PLAIN => Just(r#""2022-04-04T06:00:00+08:00""#.to_string()),
        PLAIN / 4 => Just(r#""2022-04-04T06:00:00.250Z""#.to_string()),
        n => Just(r#""2022-04-04T06:00:00""#.to_string()),
        n => Just(r#""2022-13-04T06:00:00Z""#.to_string()),
        n => other(n),
    ]
}

fn number(n: u32) -> impl Strategy<Value = String> {
    prop_oneof![
        PLAIN => (0.0f64..60.0).prop_map(|v| format!("{v}")),
        PLAIN / 2 => (0u32..60).prop_map(|v| v.to_string()),
        n * 8 => prop::sample::select(vec![
            "1e1", "3E+1", "-1", "-0", "0", "1.", ".5", "01", "1e999", "1e-400",
            "30.100000000000001", "2.2250738585072011e-308", "1-2", "--1", "+1",
            "18446744073709551616", "0.1e", "4294967296", "4294967295", "007",
        ])
        .prop_map(str::to_string),
        n => other(n),
    ]
}

fn pick(n: u32, names: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop_oneof![
        PLAIN => prop::sample::select(names).prop_map(|s| format!("\"{s}\"")),
        n => other(n),
    ]
}

/// These fields (each once mostly, sometimes absent or twice), in any
/// order, sometimes with an unknown one, as a JSON object.
fn object(n: u32, fields: Vec<(&'static str, BoxedStrategy<String>)>) -> BoxedStrategy<String> {
    let parts: Vec<_> = fields
        .into_iter()
        .map(|(name, value)| {
            (
                prop_oneof![PLAIN => Just(1usize), n => Just(0), n => Just(2)],
                value,
            )
                .prop_map(move |(times, v)| vec![(name, v); times])
        })
        .collect();
    let unknown = prop_oneof![PLAIN => Just(None), n => other(n).prop_map(Some)];
    (parts, unknown, ws(n), ws(n))
        .prop_flat_map(move |(parts, unknown, a, b)| {
            let mut all: Vec<(&str, String)> = parts.into_iter().flatten().collect();
            all.extend(unknown.map(|v| ("colour", v)));
            Just(all).prop_shuffle().prop_map(move |all| {
                let body: Vec<String> = all
                    .iter()
                    .map(|(k, v)| format!("{a}\"{k}\"{b}:{a}{v}{b}"))
                    .collect();
                format!("{{{a}{}{b}}}", body.join(","))
            })
        })
        .boxed()
}

fn opt(s: impl Strategy<Value = String> + 'static) -> BoxedStrategy<String> {
    prop_oneof![4 => s, 1 => Just("null".to_string())].boxed()
}

fn address(n: u32) -> BoxedStrategy<String> {
    object(
        n,
        vec![
            ("compound", string(n).boxed()),
            ("building", string(n).boxed()),
            ("unit", string(n).boxed()),
            ("room", string(n).boxed()),
        ],
    )
}

fn member(n: u32) -> BoxedStrategy<String> {
    let ids = pick(n, &["resident_id", "passport", "other", "x"]);
    let address = prop_oneof![PLAIN => address(n), n => other(n).boxed()];
    object(
        n,
        vec![
            ("person_id", string(n).boxed()),
            ("id_type", ids.boxed()),
            ("name", opt(string(n))),
            ("phone", opt(string(n))),
            ("address", opt(address)),
        ],
    )
}

fn manifest_text(n: u32) -> BoxedStrategy<String> {
    let members = prop::collection::vec(member(n), 0..4).prop_map(|m| format!("[{}]", m.join(",")));
    let region = object(
        n,
        vec![
            ("district", string(n).boxed()),
            ("street", string(n).boxed()),
            ("community", string(n).boxed()),
        ],
    );
    let kinds = pick(n, &["single", "household", "pool", "bucket"]);
    object(
        n,
        vec![
            ("tube_id", string(n).boxed()),
            ("kind", kinds.boxed()),
            ("collected_at", time(n).boxed()),
            ("site_id", string(n).boxed()),
            (
                "region",
                prop_oneof![PLAIN => region, n => other(n).boxed()].boxed(),
            ),
            (
                "members",
                prop_oneof![PLAIN => members.boxed(), n => other(n).boxed()].boxed(),
            ),
            ("retest_of", opt(string(n))),
            ("batch_id", opt(string(n))),
            ("design", opt(string(n))),
            ("pool_index", opt(number(n))),
        ],
    )
}

fn result_text(n: u32) -> BoxedStrategy<String> {
    let ct = object(
        n,
        vec![
            ("ORF1ab", opt(number(n))),
            ("N", opt(number(n))),
            ("E", opt(number(n))),
            ("IC", opt(number(n))),
        ],
    );
    let calls = pick(
        n,
        &["positive", "negative", "inconclusive", "invalid", "maybe"],
    );
    object(
        n,
        vec![
            ("tube_id", string(n).boxed()),
            ("lab_id", string(n).boxed()),
            ("reported_at", time(n).boxed()),
            ("received_at", opt(time(n))),
            ("kit", opt(string(n))),
            (
                "ct",
                prop_oneof![PLAIN => ct, n => other(n).boxed()].boxed(),
            ),
            ("call", opt(calls)),
            ("status", pick(n, &["final", "corrected", "draft"]).boxed()),
        ],
    )
}

fn receipt_text(n: u32) -> BoxedStrategy<String> {
    object(
        n,
        vec![
            ("tube_id", string(n).boxed()),
            ("lab_id", string(n).boxed()),
            ("received_at", time(n).boxed()),
        ],
    )
}

/// Mostly plain records, and records with many errors.
fn manifests() -> BoxedStrategy<String> {
    prop_oneof![manifest_text(1), manifest_text(20)].boxed()
}

fn results() -> BoxedStrategy<String> {
    prop_oneof![result_text(1), result_text(20)].boxed()
}

fn receipts() -> BoxedStrategy<String> {
    prop_oneof![receipt_text(1), receipt_text(20)].boxed()
}

/// One edit at an ASCII byte (the text stays UTF-8): replace, delete or insert.
fn mutate(text: &str, at: usize, edit: u8, with: u8) -> String {
    let ascii: Vec<usize> = (0..text.len())
        .filter(|&i| text.as_bytes()[i].is_ascii())
        .collect();
    let Some(&i) = ascii.get(at % ascii.len().max(1)) else {
        return text.to_string();
    };
    let mut b = text.as_bytes().to_vec();
    match edit % 3 {
        0 => b[i] = with,
        1 => {
            b.remove(i);
        }
        _ => b.insert(i, with),
    }
    String::from_utf8(b).expect("ASCII edits keep UTF-8")
}

fn punct() -> impl Strategy<Value = u8> {
    prop::sample::select(b"{}[]:,\"\\ 0123456789.eE-+nulltrfa\x01".to_vec())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]

    #[test]
    fn manifests_agree(text in manifests()) {
        agrees::<Manifest>(manifest(&text), &text);
    }

    #[test]
    fn results_agree(text in results()) {
        agrees::<LabResult>(result(&text), &text);
    }

    #[test]
    fn receipts_agree(text in receipts()) {
        agrees::<Receipt>(receipt(&text), &text);
    }

    #[test]
    fn string_end_finds_the_first_stop(
        b in prop::collection::vec(prop_oneof![any::<u8>(), Just(b'"'), Just(b'\\'), 0x18u8..0x22], 0..40),
    ) {
        let naive = b.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20);
        prop_assert_eq!(string_end(&b), naive);
    }

    #[test]
    fn edited_records_agree(
        which in 0..3usize,
        edits in prop::collection::vec((any::<usize>(), any::<u8>(), punct()), 1..4),
    ) {
        let mut text = [POOL, RESULT, RECEIPT][which].to_string();
        for (at, edit, with) in edits {
            text = mutate(&text, at, edit, with);
        }
        all_agree(&text);
    }
}

/// The generators reach the fast path often, and serde's errors too: the
/// properties above test both sides, not only one.
#[test]
fn the_generators_reach_both_sides() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::TestRunner;
    let mut runner = TestRunner::deterministic();
    let (mut fast, mut refused) = ([0; 3], [0; 3]);
    let gens = [manifests(), results(), receipts()];
    for _ in 0..2000 {
        for (k, g) in gens.iter().enumerate() {
            let text = g.new_tree(&mut runner).unwrap().current();
            let took = all_agree(&text)[k];
            fast[k] += usize::from(took);
            let serde_ok = match k {
                0 => serde_json::from_str::<Manifest>(&text).is_ok(),
                1 => serde_json::from_str::<LabResult>(&text).is_ok(),
                _ => serde_json::from_str::<Receipt>(&text).is_ok(),
            };
            refused[k] += usize::from(!serde_ok);
        }
    }
    for k in 0..3 {
        assert!(fast[k] > 20, "kind {k}: fast path taken {} times", fast[k]);
        assert!(
            refused[k] > 100,
            "kind {k}: serde refused {} times",
            refused[k]
        );
    }
}
