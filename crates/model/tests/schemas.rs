//! Keeps the JSON Schemas in `schemas/` in step with the Rust types of wire
//! contract v1.
//!
//! * Valid records (some copied from the conformance examples, the others
//!   covering every optional field) are accepted by both
//!   `pooltrace_model::decode_record` and the schema.
//! * Invalid records, each breaking one rule, are rejected by both.
//! * Rules one side cannot express are listed in [`known_differences`], each
//!   with the exact verdict of each side, so the list is the whole story.
//! * Every field of a fully-populated record is removed and set to `null` in
//!   turn: both sides must agree on every variant.
//! * Alerts built in Rust (every kind, state and optional field) serialize to
//!   JSON the alert schema accepts, and deserialize back equal.
//! * The property names of every object in every schema are exactly the serde
//!   field names of the Rust type, and the enum values exactly the variants.
//!
//! A schema is checked twice: with `format` asserted (`date-time` checked) and
//! with `format` as a mere annotation (the 2020-12 default, where only the
//! `pattern` guards timestamps).

use std::collections::BTreeSet;
use std::fmt;
use std::sync::LazyLock;

use jsonschema::Validator;
use pooltrace_model::{
    alert_id, decode_record, resident_id_check_char, Address, Alert, AlertKind, AlertState, Call,
    Ct, Evidence, IdType, Interpretation, LabResult, Manifest, Member, Receipt, RecordKind, Region,
    ResultStatus, Timestamp, TubeKind,
};
use serde::de::{DeserializeOwned, Visitor};
use serde::Serialize;
use serde_json::{json, Value};

const MAX_LEN: usize = 1 << 20;

// ---------------------------------------------------------------------------
// Schemas

struct Schema {
    file: &'static str,
    json: Value,
    /// `format` asserted.
    strict: Validator,
    /// `format` as an annotation only.
    lax: Validator,
}

impl Schema {
    fn load(file: &'static str) -> Schema {
        let path = format!("{}/../../schemas/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let json: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
        let build = |formats: bool| {
            jsonschema::options()
                .should_validate_formats(formats)
                .build(&json)
                .unwrap_or_else(|e| panic!("{path}: {e}"))
        };
        Schema {
            file,
            strict: build(true),
            lax: build(false),
            json,
        }
    }

    /// (accepted with `format` asserted, accepted with `format` as annotation).
    fn verdict(&self, v: &Value) -> (bool, bool) {
        (self.strict.is_valid(v), self.lax.is_valid(v))
    }

    fn errors(&self, v: &Value) -> String {
        self.strict
            .iter_errors(v)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect::<Vec<_>>()
            .join("; ")
    }

    /// The sub-schema at a JSON pointer (`""` = the root).
    fn at(&self, pointer: &str) -> &Value {
        self.json
            .pointer(pointer)
            .unwrap_or_else(|| panic!("{}: no {pointer}", self.file))
    }
}

static MANIFEST: LazyLock<Schema> = LazyLock::new(|| Schema::load("manifest.v1.schema.json"));
static RESULT: LazyLock<Schema> = LazyLock::new(|| Schema::load("result.v1.schema.json"));
static RECEIPT: LazyLock<Schema> = LazyLock::new(|| Schema::load("receipt.v1.schema.json"));
static ALERT: LazyLock<Schema> = LazyLock::new(|| Schema::load("alert.v1.schema.json"));

fn schema_of(kind: RecordKind) -> &'static Schema {
    match kind {
        RecordKind::Manifest => &MANIFEST,
        RecordKind::Result => &RESULT,
        RecordKind::Receipt => &RECEIPT,
    }
}

fn all_schemas() -> [&'static Schema; 4] {
    [&MANIFEST, &RESULT, &RECEIPT, &ALERT]
}

/// Mismatches, collected so one run shows all of them.
#[derive(Default)]
struct Report(Vec<String>);

impl Report {
    fn check(&mut self, ok: bool, msg: impl FnOnce() -> String) {
        if !ok {
            self.0.push(msg());
        }
    }

    #[track_caller]
    fn finish(self) {
        assert!(
            self.0.is_empty(),
            "{} mismatches:\n{}",
            self.0.len(),
            self.0.join("\n")
        );
    }
}

/// Both verdicts on one record text: (Rust, schema with format, schema without).
fn verdicts(kind: RecordKind, text: &str) -> (Result<(), String>, bool, bool) {
    let rust = decode_record(kind, text.as_bytes(), MAX_LEN)
        .map(|_| ())
        .map_err(|e| e.to_string());
    // A text serde_json cannot parse as a Value is no JSON at all: every
    // record in this file is JSON, so that would be a bug in the test.
    let value: Value = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
    let (strict, lax) = schema_of(kind).verdict(&value);
    (rust, strict, lax)
}

// ---------------------------------------------------------------------------
// Records

/// A resident id with a valid GB 11643-1999 check character.
fn rid(first17: &str) -> String {
    let check = resident_id_check_char(first17.as_bytes()).expect("17 digits");
    format!("{first17}{}", check as char)
}

fn mutated(base: &str, f: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
    let mut v: Value = serde_json::from_str(base).expect("base record is JSON");
    f(v.as_object_mut().expect("base record is an object"));
    v.to_string()
}

fn members(n: usize) -> Value {
    Value::Array(
        (0..n)
            .map(|i| json!({ "person_id": rid(&format!("1101051949123{i:04}")) }))
            .collect(),
    )
}

// Copied from the conformance examples (positive-pool and invalid-inconclusive,
// tests/conformance/ in the repo).
const CONF_POOL: &str = r#"{"tube_id": "EX1-POOL", "kind": "pool", "collected_at": "2022-05-10T08:00:00+08:00", "site_id": "SITE-7", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": [{"person_id": "22010219610708001X", "name": "Example 1", "phone": "15900000001", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "301"}}, {"person_id": "220102196107090023", "name": "Example 2", "phone": "15900000002", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "302"}}, {"person_id": "220102196107100033", "name": "Example 3", "phone": "15900000003", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "303"}}, {"person_id": "220102196107110047", "name": "Example 4", "phone": "15900000004", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "304"}}, {"person_id": "220102196107120050", "name": "Example 5", "phone": "15900000005", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "305"}}]}"#;
const CONF_RETEST: &str = r#"{"tube_id": "EX1-R0", "kind": "single", "collected_at": "2022-05-10T11:00:00+08:00", "site_id": "SITE-7", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": [{"person_id": "22010219610708001X", "name": "Example 1", "phone": "15900000001", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "301"}}], "retest_of": "EX1-POOL"}"#;
const CONF_SINGLE: &str = r#"{"tube_id": "EX2-ONE", "kind": "single", "collected_at": "2022-05-10T08:00:00+08:00", "site_id": "SITE-7", "region": {"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"}, "members": [{"person_id": "220102196108060301", "name": "Example 30", "phone": "15900000030", "address": {"compound": "Garden", "building": "7", "unit": "2", "room": "330"}}]}"#;
const CONF_RESULT_POS: &str = r#"{"tube_id": "EX1-POOL", "lab_id": "LAB-A", "reported_at": "2022-05-10T09:00:00+08:00", "kit": "KIT-1", "ct": {"ORF1ab": 31.2, "N": 30.4, "IC": 27.0}}"#;
const CONF_RESULT_NEG: &str = r#"{"tube_id": "EX1-HOME", "lab_id": "LAB-A", "reported_at": "2022-05-10T09:00:00+08:00", "kit": "KIT-1", "ct": {"IC": 27.0}}"#;
const CONF_RESULT_EMPTY_CT: &str = r#"{"tube_id": "EX2-INV", "lab_id": "LAB-A", "reported_at": "2022-05-10T09:30:00+08:00", "kit": "KIT-1", "ct": {}}"#;
const CONF_RESULT_ONE_TARGET: &str = r#"{"tube_id": "EX2-ONE", "lab_id": "LAB-A", "reported_at": "2022-05-10T09:30:00+08:00", "kit": "KIT-1", "ct": {"N": 35.5, "IC": 27.0}}"#;

const RECEIPT_BASE: &str =
    r#"{"tube_id": "EX1-POOL", "lab_id": "LAB-A", "received_at": "2022-05-10T08:40:00+08:00"}"#;

fn valid_manifests() -> Vec<(&'static str, String)> {
    let region = json!({"district": "Chaoyang", "street": "Nanhu", "community": "Yuanyi"});
    let mut household = members(20);
    household[0]["id_type"] = json!("resident_id");
    household[1] = json!({"person_id": "E12345678", "id_type": "passport", "name": "Pat Doe"});
    household[2] =
        json!({"person_id": "HK 12-345 (6)", "id_type": "other", "phone": "+852 5555 0000"});
    household[3]["name"] = Value::Null;
    household[3]["phone"] = Value::Null;
    household[3]["address"] = Value::Null;
    household[4]["address"] = json!({"compound": "", "building": "", "unit": "", "room": ""});
    vec![
        ("conformance: pool of 5", CONF_POOL.to_string()),
        ("conformance: single retest", CONF_RETEST.to_string()),
        ("conformance: single", CONF_SINGLE.to_string()),
        (
            "household of 20, every id_type, null optionals, fractional seconds",
            json!({
                "tube_id": "H-20", "kind": "household",
                "collected_at": "2022-05-10T08:00:00.250+08:00", "site_id": "SITE 7",
                "region": region, "members": household,
            })
            .to_string(),
        ),
        (
            "household of 1, lower-case t and z",
            json!({
                "tube_id": "H-1", "kind": "household", "collected_at": "2022-05-10t00:00:00z",
                "site_id": "S", "region": region, "members": members(1),
            })
            .to_string(),
        ),
        (
            "pool of 2 in a batch, 64-char tube id, negative offset",
            json!({
                "tube_id": "P".repeat(64), "kind": "pool",
                "collected_at": "2022-05-09T20:00:00-05:00", "site_id": "S", "region": region,
                "members": members(2), "batch_id": "B-7", "design": "STD-3x4", "pool_index": 0,
            })
            .to_string(),
        ),
        (
            "pool of 20, largest pool_index",
            json!({
                "tube_id": "P_20", "kind": "pool", "collected_at": "2022-05-10T08:00:00Z",
                "site_id": "S", "region": region, "members": members(20),
                "batch_id": "B-7", "pool_index": 4_294_967_295_u64,
            })
            .to_string(),
        ),
        (
            "single, 64-char passport, every optional tube field null",
            json!({
                "tube_id": "S-1", "kind": "single", "collected_at": "2022-05-10T08:00:00+08:00",
                "site_id": "S", "region": region,
                "members": [{"person_id": "9".repeat(64), "id_type": "passport"}],
                "retest_of": null, "batch_id": null, "design": null, "pool_index": null,
            })
            .to_string(),
        ),
        (
            "a real leap second, -00:00 offset",
            json!({
                "tube_id": "S-2", "kind": "single", "collected_at": "2016-12-31T23:59:60-00:00",
                "site_id": "S", "region": region, "members": members(1),
            })
            .to_string(),
        ),
        (
            // U+FEFF is not White_Space: not blank for Rust, nor for the schema.
            "site_id of a lone U+FEFF, non-blank region with inner U+3000",
            json!({
                "tube_id": "S-3", "kind": "single", "collected_at": "2022-05-10T08:00:00+08:00",
                "site_id": "\u{feff}",
                "region": {"district": "\u{3000}朝阳\u{3000}", "street": " N ", "community": "\tC"},
                "members": members(1),
            })
            .to_string(),
        ),
    ]
}

fn valid_results() -> Vec<(&'static str, String)> {
    vec![
        ("conformance: positive", CONF_RESULT_POS.to_string()),
        ("conformance: negative", CONF_RESULT_NEG.to_string()),
        ("conformance: empty ct", CONF_RESULT_EMPTY_CT.to_string()),
        ("conformance: one target", CONF_RESULT_ONE_TARGET.to_string()),
        (
            "every field, Ct at both ends of (0, 50]",
            r#"{"tube_id": "T1", "lab_id": "LAB-A", "reported_at": "2022-05-10T12:00:00+08:00", "received_at": "2022-05-10T09:15:00.5+08:00", "kit": "KIT-2", "ct": {"ORF1ab": 50, "N": 0.001, "E": 33.3, "IC": 27}, "call": "positive", "status": "corrected"}"#.to_string(),
        ),
        (
            "nulls for every nullable field",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T12:00:00Z", "received_at": null, "kit": null, "ct": {"ORF1ab": null, "N": null, "E": null, "IC": null}, "call": null}"#.to_string(),
        ),
        (
            "no ct at all, call negative, status final",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T12:00:00Z", "call": "negative", "status": "final"}"#.to_string(),
        ),
        (
            "call inconclusive",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T12:00:00Z", "call": "inconclusive"}"#.to_string(),
        ),
        (
            "call invalid",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T12:00:00Z", "call": "invalid"}"#.to_string(),
        ),
        (
            // Later as text, earlier as an instant: instants are compared.
            "received_at earlier instant in another offset",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T01:00:00Z", "received_at": "2022-05-10T09:30:00+09:00"}"#.to_string(),
        ),
        (
            "year 0000, offset +23:59, 13 fraction digits",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "0000-01-01T00:00:00.1234567891234+23:59"}"#.to_string(),
        ),
        (
            "received_at == reported_at",
            r#"{"tube_id": "T1", "lab_id": "L", "reported_at": "2022-05-10T09:00:00+08:00", "received_at": "2022-05-10T01:00:00Z"}"#.to_string(),
        ),
    ]
}

fn valid_receipts() -> Vec<(&'static str, String)> {
    vec![
        ("plain", RECEIPT_BASE.to_string()),
        (
            "fractional seconds, 64-char tube id",
            json!({"tube_id": "r".repeat(64), "lab_id": "L", "received_at": "2022-05-10T08:40:00.123456789Z"})
                .to_string(),
        ),
    ]
}

/// Records each breaking one rule, both sides must reject them.
fn invalid_records() -> Vec<(String, RecordKind, String)> {
    use RecordKind::{Manifest as M, Receipt as Rc, Result as R};
    let mut out: Vec<(String, RecordKind, String)> = Vec::new();
    let mut add =
        |what: &str, kind: RecordKind, text: String| out.push((what.to_string(), kind, text));
    let m = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| mutated(CONF_POOL, f);
    let r = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| mutated(CONF_RESULT_POS, f);
    let rc = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| mutated(RECEIPT_BASE, f);

    // Manifest: missing required fields.
    for field in [
        "tube_id",
        "kind",
        "collected_at",
        "site_id",
        "region",
        "members",
    ] {
        add(
            &format!("manifest without {field}"),
            M,
            m(&|o| drop(o.remove(field))),
        );
    }
    add(
        "region without street",
        M,
        m(&|o| drop(o["region"].as_object_mut().unwrap().remove("street"))),
    );
    add(
        "member without person_id",
        M,
        m(&|o| o["members"][0] = json!({"name": "X"})),
    );
    add(
        "address without room",
        M,
        m(&|o| {
            drop(
                o["members"][0]["address"]
                    .as_object_mut()
                    .unwrap()
                    .remove("room"),
            )
        }),
    );
    // Unknown fields, at every level.
    add(
        "unknown manifest field",
        M,
        m(&|o| drop(o.insert("colour".into(), json!("red")))),
    );
    add(
        "unknown region field",
        M,
        m(&|o| o["region"]["city"] = json!("Beijing")),
    );
    add(
        "unknown member field",
        M,
        m(&|o| o["members"][0]["age"] = json!(61)),
    );
    add(
        "unknown address field",
        M,
        m(&|o| o["members"][0]["address"]["floor"] = json!("3")),
    );
    // Wrong enum values.
    add("kind bucket", M, m(&|o| o["kind"] = json!("bucket")));
    add("kind upper-case", M, m(&|o| o["kind"] = json!("POOL")));
    add(
        "id_type ssn",
        M,
        m(&|o| o["members"][0]["id_type"] = json!("ssn")),
    );
    add(
        "id_type null",
        M,
        m(&|o| o["members"][0]["id_type"] = Value::Null),
    );
    // Wrong types.
    add("tube_id a number", M, m(&|o| o["tube_id"] = json!(17)));
    add("kind null", M, m(&|o| o["kind"] = Value::Null));
    add(
        "collected_at a number",
        M,
        m(&|o| o["collected_at"] = json!(1_652_140_800)),
    );
    add(
        "region a string",
        M,
        m(&|o| o["region"] = json!("Chaoyang")),
    );
    add("region null", M, m(&|o| o["region"] = Value::Null));
    add(
        "members an object",
        M,
        m(&|o| o["members"] = json!({"person_id": "22010219610708001X"})),
    );
    add("members null", M, m(&|o| o["members"] = Value::Null));
    add(
        "person_id a number",
        M,
        m(&|o| o["members"][0]["person_id"] = json!(220_102_196_107_090_023_u64)),
    );
    add(
        "name a number",
        M,
        m(&|o| o["members"][0]["name"] = json!(1)),
    );
    add(
        "address a string",
        M,
        m(&|o| o["members"][0]["address"] = json!("Garden 7-2-301")),
    );
    add(
        "room a number",
        M,
        m(&|o| o["members"][0]["address"]["room"] = json!(301)),
    );
    add("site_id null", M, m(&|o| o["site_id"] = Value::Null));
    add(
        "batch_id a number",
        M,
        m(&|o| drop(o.insert("batch_id".into(), json!(7)))),
    );
    add(
        "pool_index a string",
        M,
        m(&|o| {
            o.insert("batch_id".into(), json!("B"));
            o.insert("pool_index".into(), json!("3"));
        }),
    );
    add(
        "pool_index negative",
        M,
        m(&|o| {
            o.insert("batch_id".into(), json!("B"));
            o.insert("pool_index".into(), json!(-1));
        }),
    );
    add(
        "pool_index over u32",
        M,
        m(&|o| {
            o.insert("batch_id".into(), json!("B"));
            o.insert("pool_index".into(), json!(4_294_967_296_u64));
        }),
    );
    add(
        "pool_index 2.5",
        M,
        m(&|o| {
            o.insert("batch_id".into(), json!("B"));
            o.insert("pool_index".into(), json!(2.5));
        }),
    );
    // Member counts per kind.
    add("pool of 21", M, m(&|o| o["members"] = members(21)));
    add(
        "household of 21",
        M,
        m(&|o| {
            o["kind"] = json!("household");
            o["members"] = members(21);
        }),
    );
    add("pool of 1", M, m(&|o| o["members"] = members(1)));
    add(
        "single with 2 members",
        M,
        m(&|o| {
            o["kind"] = json!("single");
            o["members"] = members(2);
        }),
    );
    for kind in ["single", "household", "pool"] {
        add(
            &format!("{kind} with empty members"),
            M,
            m(&|o| {
                o["kind"] = json!(kind);
                o["members"] = json!([]);
            }),
        );
    }
    add(
        "the same member object twice",
        M,
        m(&|o| {
            let first = o["members"][0].clone();
            o["members"].as_array_mut().unwrap().push(first);
        }),
    );
    // Tube ids.
    add(
        "tube_id with a space",
        M,
        m(&|o| o["tube_id"] = json!("EX1 POOL")),
    );
    add(
        "tube_id of 65 chars",
        M,
        m(&|o| o["tube_id"] = json!("A".repeat(65))),
    );
    add("tube_id empty", M, m(&|o| o["tube_id"] = json!("")));
    add("tube_id non-ASCII", M, m(&|o| o["tube_id"] = json!("管1")));
    add(
        "tube_id with a trailing newline",
        M,
        m(&|o| o["tube_id"] = json!("EX1-POOL\n")),
    );
    add(
        "tube_id with a dot",
        M,
        m(&|o| o["tube_id"] = json!("EX1.POOL")),
    );
    // Timestamps.
    for (what, ts) in [
        ("no offset", "2022-05-10T08:00:00"),
        ("date only", "2022-05-10"),
        ("offset without colon", "2022-05-10T08:00:00+0800"),
        ("hour-only offset", "2022-05-10T08:00:00+08"),
        ("month 13", "2022-13-10T08:00:00+08:00"),
        ("hour 24", "2022-05-10T24:00:00+08:00"),
        ("offset +24:00", "2022-05-10T08:00:00+24:00"),
        ("no seconds", "2022-05-10T08:00+08:00"),
        ("empty fraction", "2022-05-10T08:00:00.+08:00"),
        ("trailing space", "2022-05-10T08:00:00+08:00 "),
        ("Unix seconds as a string", "1652140800"),
    ] {
        add(
            &format!("collected_at {what}"),
            M,
            m(&|o| o["collected_at"] = json!(ts)),
        );
    }
    // Resident ids (pattern) and other ids.
    for (what, id) in [
        ("17 chars", "22010219610709002"),
        ("19 chars", "2201021961070900231"),
        ("lower-case x", "22010219610708001x"),
        ("a letter inside", "2201021961070A0023"),
        ("full-width digits", "２２０１０２１９６１０７０９００２３"),
        ("empty", ""),
    ] {
        add(
            &format!("resident_id {what}"),
            M,
            m(&|o| o["members"][0]["person_id"] = json!(id)),
        );
    }
    add(
        "explicit resident_id, bad pattern",
        M,
        m(&|o| {
            o["members"][0]["id_type"] = json!("resident_id");
            o["members"][0]["person_id"] = json!("E12345678");
        }),
    );
    for (what, id) in [
        ("empty", String::new()),
        ("blank", " \t ".to_string()),
        ("65 chars", "P".repeat(65)),
    ] {
        add(
            &format!("passport id {what}"),
            M,
            m(&|o| {
                o["members"][0]["id_type"] = json!("passport");
                o["members"][0]["person_id"] = json!(id);
            }),
        );
    }
    add(
        "other id U+3000 only",
        M,
        m(&|o| {
            o["members"][0]["id_type"] = json!("other");
            o["members"][0]["person_id"] = json!("\u{3000}");
        }),
    );
    // Blank strings.
    for (what, s) in [
        ("empty", ""),
        ("spaces", "   "),
        ("U+3000", "\u{3000}"),
        ("NEL", "\u{85}"),
    ] {
        add(
            &format!("site_id {what}"),
            M,
            m(&|o| o["site_id"] = json!(s)),
        );
    }
    add(
        "district a tab",
        M,
        m(&|o| o["region"]["district"] = json!("\t")),
    );
    add(
        "community empty",
        M,
        m(&|o| o["region"]["community"] = json!("")),
    );
    // retest_of and batches.
    add(
        "retest_of on a pool",
        M,
        m(&|o| drop(o.insert("retest_of".into(), json!("EX0-POOL")))),
    );
    add(
        "retest_of on a household",
        M,
        m(&|o| {
            o["kind"] = json!("household");
            o.insert("retest_of".into(), json!("EX0-POOL"));
        }),
    );
    add(
        "retest_of with a space",
        M,
        mutated(CONF_RETEST, |o| o["retest_of"] = json!("EX1 POOL")),
    );
    add(
        "retest_of a number",
        M,
        mutated(CONF_RETEST, |o| o["retest_of"] = json!(1)),
    );
    add(
        "pool_index without batch_id",
        M,
        m(&|o| drop(o.insert("pool_index".into(), json!(3)))),
    );
    add(
        "pool_index with null batch_id",
        M,
        m(&|o| {
            o.insert("pool_index".into(), json!(3));
            o.insert("batch_id".into(), Value::Null);
        }),
    );
    add("not an object", M, "[1, 2]".to_string());

    // Result.
    for field in ["tube_id", "lab_id", "reported_at"] {
        add(
            &format!("result without {field}"),
            R,
            r(&|o| drop(o.remove(field))),
        );
    }
    add(
        "unknown result field",
        R,
        r(&|o| drop(o.insert("colour".into(), json!(1)))),
    );
    add("unknown Ct target", R, r(&|o| o["ct"]["S"] = json!(30)));
    add(
        "lower-case Ct target",
        R,
        r(&|o| o["ct"] = json!({"n": 30})),
    );
    add(
        "call maybe",
        R,
        r(&|o| drop(o.insert("call".into(), json!("maybe")))),
    );
    add(
        "call upper-case",
        R,
        r(&|o| drop(o.insert("call".into(), json!("Positive")))),
    );
    add(
        "status draft",
        R,
        r(&|o| drop(o.insert("status".into(), json!("draft")))),
    );
    add(
        "status null",
        R,
        r(&|o| drop(o.insert("status".into(), Value::Null))),
    );
    add("ct null", R, r(&|o| o["ct"] = Value::Null));
    add("ct N a string", R, r(&|o| o["ct"]["N"] = json!("high")));
    add("ct N true", R, r(&|o| o["ct"]["N"] = json!(true)));
    for v in [
        json!(0),
        json!(0.0),
        json!(-1),
        json!(50.5),
        json!(50.000_001),
        json!(1e3),
    ] {
        add(&format!("ct N {v}"), R, r(&|o| o["ct"]["N"] = v.clone()));
    }
    // Parsed as 0.0 by serde_json on both sides (a validator with arbitrary
    // precision numbers would see a positive number).
    add("ct N 1e-400", R, CONF_RESULT_POS.replace("30.4", "1e-400"));
    add("ct IC 0", R, r(&|o| o["ct"]["IC"] = json!(0)));
    add(
        "reported_at without offset",
        R,
        r(&|o| o["reported_at"] = json!("2022-05-10T09:00:00")),
    );
    add(
        "received_at without offset",
        R,
        r(&|o| drop(o.insert("received_at".into(), json!("2022-05-10T08:00:00")))),
    );
    add("lab_id empty", R, r(&|o| o["lab_id"] = json!("")));
    add("lab_id blank", R, r(&|o| o["lab_id"] = json!(" ")));
    add("kit empty", R, r(&|o| o["kit"] = json!("")));
    add("kit blank", R, r(&|o| o["kit"] = json!("\u{2003}")));
    add("kit a number", R, r(&|o| o["kit"] = json!(1)));
    add(
        "result tube_id of 65 chars",
        R,
        r(&|o| o["tube_id"] = json!("A".repeat(65))),
    );
    add(
        "result tube_id with a space",
        R,
        r(&|o| o["tube_id"] = json!("EX1 POOL")),
    );

    // Receipt.
    for field in ["tube_id", "lab_id", "received_at"] {
        add(
            &format!("receipt without {field}"),
            Rc,
            rc(&|o| drop(o.remove(field))),
        );
    }
    add(
        "unknown receipt field",
        Rc,
        rc(&|o| drop(o.insert("kit".into(), json!("K")))),
    );
    add(
        "receipt received_at without offset",
        Rc,
        rc(&|o| o["received_at"] = json!("2022-05-10T08:40:00")),
    );
    add(
        "receipt received_at null",
        Rc,
        rc(&|o| o["received_at"] = Value::Null),
    );
    add(
        "receipt lab_id blank",
        Rc,
        rc(&|o| o["lab_id"] = json!("\n")),
    );
    add(
        "receipt tube_id with a space",
        Rc,
        rc(&|o| o["tube_id"] = json!("EX1 POOL")),
    );
    out
}

/// One record that the two sides judge differently (or that only a
/// format-asserting validator judges right), with each side's verdict.
struct Difference {
    what: &'static str,
    kind: RecordKind,
    text: String,
    /// `Some(part of the error)` when `decode_record` must reject it.
    rust_rejects: Option<&'static str>,
    /// Accepted by the schema with `format` asserted.
    schema_strict: bool,
    /// Accepted by the schema with `format` as annotation only.
    schema_lax: bool,
}

/// Every known difference between `decode_record` and the schemas. A rule
/// added to either side without a schema or Rust counterpart shows up as a
/// failure in the other tests; one listed here that stops differing fails
/// [`known_differences_are_exact`].
fn known_differences() -> Vec<Difference> {
    use RecordKind::{Manifest as M, Receipt as Rc, Result as R};
    let m = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| mutated(CONF_POOL, f);
    let ts = |s: &str| mutated(CONF_SINGLE, |o| o["collected_at"] = json!(s));
    vec![
        // Rules a JSON Schema cannot express: Rust rejects, the schema accepts.
        Difference {
            what: "resident_id with a wrong GB 11643-1999 check digit",
            kind: M,
            text: m(&|o| o["members"][1]["person_id"] = json!("220102196107090024")),
            rust_rejects: Some("check digit"),
            schema_strict: true,
            schema_lax: true,
        },
        Difference {
            what: "the same person twice in different member objects",
            kind: M,
            text: m(&|o| o["members"][1]["person_id"] = o["members"][0]["person_id"].clone()),
            rust_rejects: Some("the same person is already members[0]"),
            schema_strict: true,
            schema_lax: true,
        },
        Difference {
            what: "a single tube re-testing itself",
            kind: M,
            text: mutated(CONF_RETEST, |o| o["retest_of"] = json!("EX1-R0")),
            rust_rejects: Some("cannot re-test itself"),
            schema_strict: true,
            schema_lax: true,
        },
        Difference {
            what: "received_at after reported_at",
            kind: R,
            text: mutated(CONF_RESULT_POS, |o| {
                o.insert("received_at".into(), json!("2022-05-10T09:00:01+08:00"));
            }),
            rust_rejects: Some("is after reported_at"),
            schema_strict: true,
            schema_lax: true,
        },
        Difference {
            // serde_json refuses a float for a u32; JSON Schema's integer is
            // any number without a fractional part.
            what: "pool_index 3.0",
            kind: M,
            text: m(&|o| {
                o.insert("batch_id".into(), json!("B"));
                o.insert("pool_index".into(), json!(3.0));
            }),
            rust_rejects: Some("pool_index: invalid type: floating point"),
            schema_strict: true,
            schema_lax: true,
        },
        Difference {
            // A schema validates the parsed value, in which the last key won.
            what: "a duplicate key",
            kind: Rc,
            text: r#"{"tube_id": "A", "tube_id": "B", "lab_id": "L", "received_at": "2022-05-10T08:40:00Z"}"#
                .to_string(),
            rust_rejects: Some("duplicate field `tube_id`"),
            schema_strict: true,
            schema_lax: true,
        },
        // serde's derived Deserialize reads a nested struct from a JSON array
        // too, by field position (even with deny_unknown_fields): Rust
        // accepts, the schema (objects only) rejects. A whole record must be
        // an object (decode_record checks that).
        Difference {
            what: "region as a positional array",
            kind: M,
            text: m(&|o| o["region"] = json!(["Chaoyang", "Nanhu", "Yuanyi"])),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        Difference {
            what: "ct as a positional array",
            kind: R,
            text: mutated(CONF_RESULT_POS, |o| o["ct"] = json!([31.2, 30.4])),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        // serde_json also reads a unit enum variant from a one-key object
        // (externally tagged form): Rust accepts, the schema (strings) rejects.
        Difference {
            what: "kind as {\"single\": null}",
            kind: M,
            text: mutated(CONF_SINGLE, |o| o["kind"] = json!({"single": null})),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        Difference {
            what: "status as {\"corrected\": null}",
            kind: R,
            text: mutated(CONF_RESULT_POS, |o| drop(o.insert("status".into(), json!({"corrected": null})))),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        // Timestamps chrono's RFC 3339 parser takes that RFC 3339 itself (and
        // so the schema's pattern) does not: Rust accepts, the schema rejects.
        Difference {
            what: "space instead of T",
            kind: M,
            text: ts("2022-05-10 08:00:00+08:00"),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        Difference {
            what: "U+2212 MINUS SIGN in the offset",
            kind: M,
            text: ts("2022-05-10T08:00:00\u{2212}05:00"),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: false,
        },
        Difference {
            // chrono takes :60 at any minute; RFC 3339 only at 23:59:60 UTC,
            // which `format` checks and the pattern cannot.
            what: "leap second not at 23:59 UTC",
            kind: M,
            text: ts("2022-05-10T08:30:60+08:00"),
            rust_rejects: None,
            schema_strict: false,
            schema_lax: true,
        },
        // Days that do not exist: caught by `format`, not by the pattern.
        Difference {
            what: "30 February",
            kind: M,
            text: ts("2022-02-30T08:00:00+08:00"),
            rust_rejects: Some("RFC 3339"),
            schema_strict: false,
            schema_lax: true,
        },
        Difference {
            what: "29 February of a common year",
            kind: R,
            text: mutated(CONF_RESULT_POS, |o| o["reported_at"] = json!("2022-02-29T09:00:00+08:00")),
            rust_rejects: Some("RFC 3339"),
            schema_strict: false,
            schema_lax: true,
        },
        Difference {
            what: "31 April",
            kind: Rc,
            text: mutated(RECEIPT_BASE, |o| o["received_at"] = json!("2022-04-31T08:40:00Z")),
            rust_rejects: Some("RFC 3339"),
            schema_strict: false,
            schema_lax: true,
        },
    ]
}

// ---------------------------------------------------------------------------
// Tests: the schemas themselves

#[test]
fn schemas_are_valid_draft_2020_12_and_documented() {
    let mut report = Report::default();
    for s in all_schemas() {
        if let Err(e) = jsonschema::meta::validate(&s.json) {
            report
                .0
                .push(format!("{}: not a valid schema: {e}", s.file));
        }
        report.check(
            s.json["$schema"] == "https://json-schema.org/draft/2020-12/schema",
            || format!("{}: $schema is not draft 2020-12", s.file),
        );
        let id = s.json["$id"].as_str().unwrap_or_default();
        report.check(id.ends_with(&format!("/{}", s.file)), || {
            format!("{}: $id {id:?}", s.file)
        });
        for key in ["title", "description"] {
            report.check(s.json[key].as_str().is_some_and(|t| !t.is_empty()), || {
                format!("{}: no {key}", s.file)
            });
        }
        // Every object closes its properties, and every property is described.
        walk_objects(&s.json, "", &mut |ptr, node| {
            if let Some(props) = node.get("properties").and_then(Value::as_object) {
                let is_conditional =
                    ptr.contains("/if") || ptr.contains("/then") || ptr.contains("/else");
                if !is_conditional {
                    report.check(
                        node.get("additionalProperties") == Some(&Value::Bool(false)),
                        || format!("{}: {ptr} lacks additionalProperties: false", s.file),
                    );
                    for (name, prop) in props {
                        report.check(
                            prop.get("description").and_then(Value::as_str).is_some(),
                            || format!("{}: {ptr}/properties/{name} has no description", s.file),
                        );
                    }
                }
            }
        });
        // Every $defs entry is described.
        for (name, def) in s.at("/$defs").as_object().unwrap() {
            report.check(def.get("description").is_some(), || {
                format!("{}: $defs/{name} has no description", s.file)
            });
        }
    }
    report.finish();
}

/// Calls `f` on every object in `v` with its JSON pointer.
fn walk_objects(v: &Value, ptr: &str, f: &mut dyn FnMut(&str, &Value)) {
    match v {
        Value::Object(map) => {
            f(ptr, v);
            for (k, x) in map {
                walk_objects(x, &format!("{ptr}/{k}"), f);
            }
        }
        Value::Array(items) => {
            for (i, x) in items.iter().enumerate() {
                walk_objects(x, &format!("{ptr}/{i}"), f);
            }
        }
        _ => {}
    }
}

#[test]
fn shared_definitions_are_identical_in_every_file() {
    let mut report = Report::default();
    for def in [
        "tube_id",
        "timestamp",
        "non_blank",
        "region",
        "address",
        "ct",
        "ct_value",
        "member",
        "evidence",
        "alert_id",
    ] {
        let copies: Vec<(&str, &Value)> = all_schemas()
            .into_iter()
            .filter_map(|s| s.json["$defs"].get(def).map(|d| (s.file, d)))
            .collect();
        for (file, d) in &copies[1..] {
            report.check(*d == copies[0].1, || {
                format!("$defs/{def} differs between {} and {file}", copies[0].0)
            });
        }
    }
    report.finish();
}

/// The non-blank pattern must match exactly the strings `str::trim` leaves
/// non-empty: check it on every character up to U+3100 and a few beyond.
#[test]
fn non_blank_pattern_is_str_trim() {
    let def = MANIFEST.at("/$defs/non_blank").clone();
    let v = jsonschema::validator_for(&def).unwrap();
    let mut report = Report::default();
    let chars = (0..=0x3100_u32)
        .chain([0x180e, 0x200b, 0x2060, 0xfeff, 0xffff, 0x1_0000, 0x10_ffff])
        .filter_map(char::from_u32);
    for c in chars {
        let s = c.to_string();
        let rust_non_blank = !s.trim().is_empty();
        report.check(v.is_valid(&json!(s)) == rust_non_blank, || {
            format!(
                "U+{:04X}: str::trim says non-blank = {rust_non_blank}",
                c as u32
            )
        });
    }
    report.check(!v.is_valid(&json!("")), || "empty string".into());
    report.check(v.is_valid(&json!(" \u{3000}x\t")), || {
        "inner non-blank".into()
    });
    report.finish();
}

// ---------------------------------------------------------------------------
// Tests: records against both sides

#[test]
fn valid_records_pass_both() {
    let mut report = Report::default();
    let corpus = valid_manifests()
        .into_iter()
        .map(|(w, t)| (w, RecordKind::Manifest, t))
        .chain(
            valid_results()
                .into_iter()
                .map(|(w, t)| (w, RecordKind::Result, t)),
        )
        .chain(
            valid_receipts()
                .into_iter()
                .map(|(w, t)| (w, RecordKind::Receipt, t)),
        );
    for (what, kind, text) in corpus {
        let (rust, strict, lax) = verdicts(kind, &text);
        report.check(rust.is_ok(), || {
            format!(
                "{} {what}: Rust rejects: {}",
                kind.as_str(),
                rust.clone().unwrap_err()
            )
        });
        report.check(strict && lax, || {
            let v: Value = serde_json::from_str(&text).unwrap();
            format!(
                "{} {what}: schema (format {strict}, lax {lax}): {}",
                kind.as_str(),
                schema_of(kind).errors(&v)
            )
        });
    }
    report.finish();
}

#[test]
fn invalid_records_fail_both() {
    let mut report = Report::default();
    let corpus = invalid_records();
    assert!(corpus.len() > 100, "the corpus shrank to {}", corpus.len());
    for (what, kind, text) in corpus {
        let (rust, strict, lax) = verdicts(kind, &text);
        report.check(rust.is_err(), || {
            format!("{} {what}: Rust accepts {text}", kind.as_str())
        });
        report.check(!strict, || {
            format!(
                "{} {what}: schema (format asserted) accepts {text}",
                kind.as_str()
            )
        });
        report.check(!lax, || {
            format!(
                "{} {what}: schema (format annotation) accepts {text}",
                kind.as_str()
            )
        });
    }
    report.finish();
}

#[test]
fn known_differences_are_exact() {
    let mut report = Report::default();
    for d in known_differences() {
        let (rust, strict, lax) = verdicts(d.kind, &d.text);
        match (d.rust_rejects, &rust) {
            (None, Ok(())) => {}
            (Some(part), Err(e)) if e.contains(part) => {}
            (want, got) => report.0.push(format!(
                "{}: Rust gives {got:?}, the list says {want:?}",
                d.what
            )),
        }
        report.check(strict == d.schema_strict, || {
            format!(
                "{}: schema with format accepts = {strict}, the list says {}",
                d.what, d.schema_strict
            )
        });
        report.check(lax == d.schema_lax, || {
            format!(
                "{}: schema without format accepts = {lax}, the list says {}",
                d.what, d.schema_lax
            )
        });
    }
    report.finish();
}

/// Removes each field of a fully-populated record in turn, then sets it to
/// null: Rust and the schema must agree on every variant.
#[test]
fn removing_or_nulling_any_field_is_judged_alike() {
    let mut report = Report::default();
    let records = [
        (
            RecordKind::Manifest,
            serde_json::to_value(full_manifest()).unwrap(),
        ),
        (
            RecordKind::Result,
            serde_json::to_value(full_result()).unwrap(),
        ),
        (
            RecordKind::Receipt,
            serde_json::to_value(full_receipt()).unwrap(),
        ),
    ];
    for (kind, full) in records {
        let (rust, strict, lax) = verdicts(kind, &full.to_string());
        report.check(rust.is_ok() && strict && lax, || {
            format!("{}: the full record is not valid: {rust:?}", kind.as_str())
        });
        for ptr in field_pointers(&full) {
            for (how, variant) in [
                ("without", without(&full, &ptr)),
                ("null", nulled(&full, &ptr)),
            ] {
                let (rust, strict, lax) = verdicts(kind, &variant.to_string());
                report.check(rust.is_ok() == strict && strict == lax, || {
                    format!(
                        "{} {how} {ptr}: Rust {rust:?}, schema with format {strict}, without {lax}",
                        kind.as_str()
                    )
                });
            }
        }
    }
    report.finish();
}

fn field_pointers(v: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk_objects(v, "", &mut |ptr, node| {
        for k in node.as_object().unwrap().keys() {
            out.push(format!("{ptr}/{k}"));
        }
    });
    out
}

fn split_pointer(ptr: &str) -> (&str, &str) {
    ptr.rsplit_once('/').expect("a field pointer")
}

fn without(v: &Value, ptr: &str) -> Value {
    let mut v = v.clone();
    let (parent, key) = split_pointer(ptr);
    v.pointer_mut(parent)
        .unwrap()
        .as_object_mut()
        .unwrap()
        .remove(key);
    v
}

fn nulled(v: &Value, ptr: &str) -> Value {
    let mut v = v.clone();
    *v.pointer_mut(ptr).unwrap() = Value::Null;
    v
}

// ---------------------------------------------------------------------------
// Fully-populated values: every field set (and no default), so every key
// shows when serialized. A new field fails to compile here: set it.

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn full_region() -> Region {
    Region {
        district: "Chaoyang".into(),
        street: "Nanhu".into(),
        community: "Yuanyi".into(),
    }
}

fn full_address() -> Address {
    Address {
        compound: "Garden".into(),
        building: "7".into(),
        unit: "2".into(),
        room: "301".into(),
    }
}

fn full_ct() -> Ct {
    Ct {
        orf1ab: Some(31.2),
        n: Some(30.4),
        e: Some(33.5),
        ic: Some(27.0),
    }
}

fn full_manifest() -> Manifest {
    Manifest {
        tube_id: "EX9-R1".into(),
        kind: TubeKind::Single,
        collected_at: ts("2022-05-10T11:00:00+08:00"),
        site_id: "SITE-7".into(),
        region: full_region(),
        members: vec![Member {
            person_id: "E12345678".into(),
            id_type: IdType::Passport,
            name: Some("Pat Doe".into()),
            phone: Some("15900000001".into()),
            address: Some(full_address()),
        }],
        retest_of: Some("EX9-POOL".into()),
        batch_id: Some("B-7".into()),
        design: Some("STD-3x4".into()),
        pool_index: Some(3),
    }
}

fn full_result() -> LabResult {
    LabResult {
        tube_id: "EX9-R1".into(),
        lab_id: "LAB-A".into(),
        reported_at: ts("2022-05-10T12:00:00+08:00"),
        received_at: Some(ts("2022-05-10T11:30:00+08:00")),
        kit: Some("KIT-1".into()),
        ct: full_ct(),
        call: Some(Call::Positive),
        status: ResultStatus::Corrected,
    }
}

fn full_receipt() -> Receipt {
    Receipt {
        tube_id: "EX9-R1".into(),
        lab_id: "LAB-A".into(),
        received_at: ts("2022-05-10T11:30:00+08:00"),
    }
}

fn full_evidence() -> Evidence {
    Evidence {
        tube_kind: Some(TubeKind::Pool),
        interpretation: Some(Interpretation::Positive),
        ct: Some(full_ct()),
        lab_id: Some("LAB-A".into()),
        kit: Some("KIT-1".into()),
        pool_tube_id: Some("EX9-POOL".into()),
        positive_person_id: Some("22010219610708001X".into()),
        collected_at: Some(ts("2022-05-10T08:00:00+08:00")),
        received_at: Some(ts("2022-05-10T08:40:00+08:00")),
        reported_at: Some(ts("2022-05-10T09:00:00+08:00")),
        retest_tube_ids: vec!["EX9-R0".into(), "EX9-R1".into()],
        batch_id: Some("B-7".into()),
        decoder: Some("comp".into()),
    }
}

fn full_alert() -> Alert {
    Alert {
        alert_id: alert_id(AlertKind::IsolationTransfer, "220102196107090023", "EX9-R1"),
        version: 2,
        kind: AlertKind::IsolationTransfer,
        state: AlertState::Superseded,
        person_id: Some("220102196107090023".into()),
        tube_id: "EX9-R1".into(),
        raised_at: ts("2022-05-10T12:00:00+08:00"),
        due_at: Some(ts("2022-05-10T20:00:00+08:00")),
        updated_at: ts("2022-05-10T13:00:00+08:00"),
        region: Some(full_region()),
        name: Some("Example 2".into()),
        phone: Some("15900000002".into()),
        address: Some(full_address()),
        reason: "co-resident of a confirmed positive".into(),
        evidence: full_evidence(),
        superseded_by: Some(alert_id(
            AlertKind::HospitalTransfer,
            "220102196107090023",
            "EX9-R2",
        )),
        resolved_reason: Some("retracted".into()),
    }
}

// ---------------------------------------------------------------------------
// Tests: property names and enum values against the Rust types

/// A serde `Deserializer` that answers `deserialize_struct` with the field
/// names serde knows for the type (after `rename`), via its error.
struct FieldsProbe;

#[derive(Debug)]
struct Fields(Vec<&'static str>);

impl fmt::Display for Fields {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:?}", self.0)
    }
}

impl std::error::Error for Fields {}

impl serde::de::Error for Fields {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        panic!("FieldsProbe used on a non-struct: {msg}")
    }
}

impl<'de> serde::Deserializer<'de> for FieldsProbe {
    type Error = Fields;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Fields> {
        panic!("FieldsProbe used on a non-struct")
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Fields> {
        Err(Fields(fields.to_vec()))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

/// The serde field names of struct `T`.
fn serde_fields<T: DeserializeOwned>() -> BTreeSet<String> {
    match T::deserialize(FieldsProbe) {
        Err(Fields(f)) => f.into_iter().map(String::from).collect(),
        Ok(_) => unreachable!("FieldsProbe never yields a value"),
    }
}

fn property_names(schema: &Schema, pointer: &str) -> BTreeSet<String> {
    schema
        .at(&format!("{pointer}/properties"))
        .as_object()
        .unwrap_or_else(|| panic!("{}: {pointer} has no properties", schema.file))
        .keys()
        .cloned()
        .collect()
}

#[test]
fn schema_properties_are_the_serde_fields() {
    let table: Vec<(&Schema, &str, BTreeSet<String>)> = vec![
        (&MANIFEST, "", serde_fields::<Manifest>()),
        (&MANIFEST, "/$defs/member", serde_fields::<Member>()),
        (&MANIFEST, "/$defs/region", serde_fields::<Region>()),
        (&MANIFEST, "/$defs/address", serde_fields::<Address>()),
        (&RESULT, "", serde_fields::<LabResult>()),
        (&RESULT, "/$defs/ct", serde_fields::<Ct>()),
        (&RECEIPT, "", serde_fields::<Receipt>()),
        (&ALERT, "", serde_fields::<Alert>()),
        (&ALERT, "/$defs/evidence", serde_fields::<Evidence>()),
        (&ALERT, "/$defs/region", serde_fields::<Region>()),
        (&ALERT, "/$defs/address", serde_fields::<Address>()),
        (&ALERT, "/$defs/ct", serde_fields::<Ct>()),
    ];
    let mut report = Report::default();
    for (schema, pointer, rust) in &table {
        let in_schema = property_names(schema, pointer);
        report.check(in_schema == *rust, || {
            format!(
                "{} {pointer:?}: only in the schema {:?}, only in Rust {:?}",
                schema.file,
                in_schema.difference(rust).collect::<Vec<_>>(),
                rust.difference(&in_schema).collect::<Vec<_>>()
            )
        });
    }
    // Every object definition of every schema is in the table above.
    for s in all_schemas() {
        for (name, def) in s.at("/$defs").as_object().unwrap() {
            let pointer = format!("/$defs/{name}");
            if def.get("properties").is_some() {
                report.check(
                    table
                        .iter()
                        .any(|(t, p, _)| t.file == s.file && *p == pointer),
                    || format!("{}: {pointer} is not compared with a Rust type", s.file),
                );
            }
        }
    }
    report.finish();
}

/// Follows `$ref`s and picks the non-null branch of an `anyOf`.
fn resolve<'a>(root: &'a Value, mut node: &'a Value) -> &'a Value {
    loop {
        if let Some(r) = node.get("$ref").and_then(Value::as_str) {
            let pointer = r.strip_prefix('#').expect("a local $ref");
            node = root
                .pointer(pointer)
                .unwrap_or_else(|| panic!("dangling $ref {r}"));
        } else if let Some(branches) = node.get("anyOf").and_then(Value::as_array) {
            let non_null: Vec<&Value> = branches
                .iter()
                .filter(|b| b.get("type") != Some(&json!("null")))
                .collect();
            assert_eq!(
                non_null.len(),
                1,
                "anyOf with more than one non-null branch"
            );
            node = non_null[0];
        } else {
            return node;
        }
    }
}

/// The keys of every object in `value` are exactly the properties the schema
/// declares at that place, recursively.
fn keys_match(
    report: &mut Report,
    file: &str,
    root: &Value,
    node: &Value,
    value: &Value,
    path: &str,
) {
    let node = resolve(root, node);
    match value {
        Value::Object(map) => {
            let Some(props) = node.get("properties").and_then(Value::as_object) else {
                report.0.push(format!(
                    "{file} {path}: an object in Rust, no properties in the schema"
                ));
                return;
            };
            let in_schema: BTreeSet<&String> = props.keys().collect();
            let in_json: BTreeSet<&String> = map.keys().collect();
            report.check(in_schema == in_json, || {
                format!("{file} {path}: schema {in_schema:?} != serialized {in_json:?}")
            });
            for (k, v) in map {
                if let Some(sub) = props.get(k) {
                    keys_match(report, file, root, sub, v, &format!("{path}.{k}"));
                }
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                keys_match(
                    report,
                    file,
                    root,
                    &node["items"],
                    v,
                    &format!("{path}[{i}]"),
                );
            }
        }
        _ => {}
    }
}

#[test]
fn fully_populated_values_serialize_to_exactly_the_schema_properties() {
    let mut report = Report::default();
    let values: [(&Schema, Value); 4] = [
        (&MANIFEST, serde_json::to_value(full_manifest()).unwrap()),
        (&RESULT, serde_json::to_value(full_result()).unwrap()),
        (&RECEIPT, serde_json::to_value(full_receipt()).unwrap()),
        (&ALERT, serde_json::to_value(full_alert()).unwrap()),
    ];
    for (schema, value) in &values {
        keys_match(
            &mut report,
            schema.file,
            &schema.json,
            &schema.json,
            value,
            "$",
        );
        report.check(schema.strict.is_valid(value), || {
            format!("{}: {}", schema.file, schema.errors(value))
        });
    }
    report.finish();
}

fn wire_names<T: Serialize>(values: &[T]) -> BTreeSet<String> {
    values
        .iter()
        .map(|v| {
            serde_json::to_value(v)
                .unwrap()
                .as_str()
                .expect("a unit variant")
                .to_string()
        })
        .collect()
}

fn schema_enum(schema: &Schema, pointer: &str) -> BTreeSet<String> {
    schema
        .at(&format!("{pointer}/enum"))
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str().map(String::from))
        .collect()
}

// Exhaustive matches: a new variant fails to compile until it is listed.
fn all_tube_kinds() -> Vec<TubeKind> {
    let all = vec![TubeKind::Single, TubeKind::Household, TubeKind::Pool];
    for k in &all {
        match k {
            TubeKind::Single | TubeKind::Household | TubeKind::Pool => {}
        }
    }
    all
}

fn all_id_types() -> Vec<IdType> {
    let all = vec![IdType::ResidentId, IdType::Passport, IdType::Other];
    for k in &all {
        match k {
            IdType::ResidentId | IdType::Passport | IdType::Other => {}
        }
    }
    all
}

fn all_calls() -> Vec<Call> {
    let all = vec![
        Call::Positive,
        Call::Negative,
        Call::Inconclusive,
        Call::Invalid,
    ];
    for k in &all {
        match k {
            Call::Positive | Call::Negative | Call::Inconclusive | Call::Invalid => {}
        }
    }
    all
}

fn all_statuses() -> Vec<ResultStatus> {
    let all = vec![ResultStatus::Final, ResultStatus::Corrected];
    for k in &all {
        match k {
            ResultStatus::Final | ResultStatus::Corrected => {}
        }
    }
    all
}

fn all_interpretations() -> Vec<Interpretation> {
    let all = vec![
        Interpretation::Negative,
        Interpretation::Positive,
        Interpretation::Inconclusive,
        Interpretation::Invalid,
    ];
    for k in &all {
        match k {
            Interpretation::Negative
            | Interpretation::Positive
            | Interpretation::Inconclusive
            | Interpretation::Invalid => {}
        }
    }
    all
}

fn all_alert_states() -> Vec<AlertState> {
    let all = vec![
        AlertState::Open,
        AlertState::Resolved,
        AlertState::Superseded,
    ];
    for k in &all {
        match k {
            AlertState::Open | AlertState::Resolved | AlertState::Superseded => {}
        }
    }
    all
}

fn all_alert_kinds() -> Vec<AlertKind> {
    let all = AlertKind::ALL.to_vec();
    for k in &all {
        match k {
            AlertKind::PoolRetest
            | AlertKind::HospitalTransfer
            | AlertKind::IsolationTransfer
            | AlertKind::ParallelRetest
            | AlertKind::Resample
            | AlertKind::DiscordantPool
            | AlertKind::LabOverdue
            | AlertKind::ResultMissing
            | AlertKind::OrphanResult
            | AlertKind::PresumptivePositive
            | AlertKind::BatchIncomplete => {}
        }
    }
    assert_eq!(
        all.iter().collect::<BTreeSet<_>>().len(),
        11,
        "AlertKind::ALL misses a kind"
    );
    all
}

#[test]
fn schema_enums_are_the_rust_variants() {
    let table: Vec<(&Schema, &str, BTreeSet<String>)> = vec![
        (&MANIFEST, "/properties/kind", wire_names(&all_tube_kinds())),
        (
            &MANIFEST,
            "/$defs/member/properties/id_type",
            wire_names(&all_id_types()),
        ),
        (&RESULT, "/properties/call", wire_names(&all_calls())),
        (&RESULT, "/properties/status", wire_names(&all_statuses())),
        (&ALERT, "/properties/kind", wire_names(&all_alert_kinds())),
        (&ALERT, "/properties/state", wire_names(&all_alert_states())),
        (
            &ALERT,
            "/$defs/evidence/properties/tube_kind",
            wire_names(&all_tube_kinds()),
        ),
        (
            &ALERT,
            "/$defs/evidence/properties/interpretation",
            wire_names(&all_interpretations()),
        ),
    ];
    let mut report = Report::default();
    for (schema, pointer, rust) in table {
        let in_schema = schema_enum(schema, pointer);
        report.check(in_schema == rust, || {
            format!(
                "{} {pointer}: schema {in_schema:?} != Rust {rust:?}",
                schema.file
            )
        });
    }
    // The defaults the schema documents are the Rust defaults.
    report.check(
        MANIFEST.at("/$defs/member/properties/id_type/default")
            == &serde_json::to_value(IdType::default()).unwrap(),
        || "id_type default".into(),
    );
    report.check(
        RESULT.at("/properties/status/default")
            == &serde_json::to_value(ResultStatus::default()).unwrap(),
        || "status default".into(),
    );
    // `as_str` is the wire name.
    for k in all_alert_kinds() {
        report.check(wire_names(&[k]).contains(k.as_str()), || {
            format!("{k:?}.as_str()")
        });
    }
    report.finish();
}

// ---------------------------------------------------------------------------
// Tests: alerts

/// Every kind in every state, with the optional fields varied.
fn sample_alerts() -> Vec<Alert> {
    let mut out = vec![full_alert()];
    let states = all_alert_states();
    for (i, kind) in all_alert_kinds().into_iter().enumerate() {
        for (j, &state) in states.iter().enumerate() {
            let n = i * states.len() + j;
            // Varies the optional fields: each bit of n switches some on or off.
            let bit = |b: u32| (n >> b) & 1 == 1;
            let person = bit(0).then(|| rid(&format!("2201021961071{n:04}")));
            let tube_id = format!("T-{n}");
            let subject = person.clone().unwrap_or_else(|| tube_id.clone());
            let mut evidence = Evidence::default();
            match kind {
                AlertKind::PoolRetest | AlertKind::DiscordantPool => {
                    evidence.tube_kind = Some(TubeKind::Pool);
                    evidence.interpretation = Some(Interpretation::Positive);
                    evidence.ct = Some(Ct {
                        n: Some(35.5),
                        ..Ct::default()
                    });
                    if kind == AlertKind::DiscordantPool {
                        evidence.retest_tube_ids = vec!["T-R0".into(), "T-R1".into()];
                    }
                }
                AlertKind::IsolationTransfer => {
                    evidence.positive_person_id = Some("22010219610708001X".into());
                }
                AlertKind::ParallelRetest | AlertKind::HospitalTransfer | AlertKind::Resample => {
                    evidence.tube_kind = Some(TubeKind::Single);
                    evidence.interpretation = Some(Interpretation::Inconclusive);
                    evidence.kit = Some("KIT-1".into());
                    evidence.pool_tube_id = bit(1).then(|| "T-POOL".into());
                }
                AlertKind::LabOverdue => {
                    evidence.lab_id = Some("LAB-A".into());
                    evidence.received_at = Some(ts("2022-05-10T08:40:00+08:00"));
                }
                AlertKind::ResultMissing => {
                    evidence.collected_at = Some(ts("2022-05-10T08:00:00+08:00"));
                }
                AlertKind::OrphanResult => {
                    evidence.reported_at =
                        Some(Timestamp::from_millis(1_652_144_400_250, -5 * 3600));
                    evidence.interpretation = Some(Interpretation::Invalid);
                }
                AlertKind::PresumptivePositive | AlertKind::BatchIncomplete => {
                    evidence.batch_id = Some("B-7".into());
                    evidence.decoder = Some("comp".into());
                    evidence.interpretation = Some(Interpretation::Negative);
                }
            }
            out.push(Alert {
                alert_id: alert_id(kind, &subject, &tube_id),
                version: if n == 0 { u32::MAX } else { 1 + j as u32 },
                kind,
                state,
                person_id: person,
                tube_id,
                raised_at: ts("2022-05-10T09:00:00+08:00"),
                due_at: (!bit(1)).then(|| ts("2022-05-10T11:00:00+08:00")),
                updated_at: ts("2022-05-10T09:00:00.125Z"),
                region: (!bit(2)).then(full_region),
                name: bit(0).then(|| "张三".into()),
                phone: (bit(0) && bit(2)).then(|| "15900000001".into()),
                address: bit(3).then(full_address),
                reason: format!("{} for {subject}", kind.as_str()),
                evidence,
                superseded_by: (state == AlertState::Superseded)
                    .then(|| alert_id(AlertKind::HospitalTransfer, &subject, "T-X")),
                resolved_reason: (state == AlertState::Resolved).then(|| "negative retest".into()),
            });
        }
    }
    out
}

#[test]
fn alerts_round_trip_through_the_schema() {
    let alerts = sample_alerts();
    let mut report = Report::default();
    let mut kinds = BTreeSet::new();
    let mut states = BTreeSet::new();
    let mut present = BTreeSet::new();
    for alert in &alerts {
        kinds.insert(alert.kind);
        states.insert(alert.state.as_str());
        let text = serde_json::to_string(alert).unwrap();
        let value: Value = serde_json::from_str(&text).unwrap();
        walk_objects(&value, "", &mut |ptr, node| {
            for k in node.as_object().unwrap().keys() {
                present.insert(format!("{ptr}/{k}"));
            }
        });
        report.check(
            ALERT.strict.is_valid(&value) && ALERT.lax.is_valid(&value),
            || format!("{}: {}", alert.alert_id, ALERT.errors(&value)),
        );
        let back: Result<Alert, _> = serde_json::from_str(&text);
        report.check(back.as_ref().ok() == Some(alert), || {
            format!("{text} came back as {back:?}")
        });
    }
    report.check(kinds.len() == AlertKind::ALL.len(), || {
        format!("kinds covered: {kinds:?}")
    });
    report.check(states.len() == all_alert_states().len(), || {
        format!("states covered: {states:?}")
    });
    // Every property of the alert and its evidence shows in some sample.
    let full = serde_json::to_value(full_alert()).unwrap();
    for ptr in field_pointers(&full) {
        report.check(present.contains(&ptr), || {
            format!("no sample alert has {ptr}")
        });
    }
    report.finish();
}

#[test]
fn malformed_alerts_fail_both() {
    let full = serde_json::to_value(full_alert()).unwrap();
    let mut report = Report::default();
    // (what, alert JSON, Rust must reject it too)
    let mut cases: Vec<(String, Value, bool)> = Vec::new();
    for ptr in field_pointers(&full) {
        let (parent, key) = split_pointer(&ptr);
        let required = ALERT
            .json
            .pointer(&format!("{}/required", schema_pointer_of(parent)))
            .and_then(Value::as_array)
            .is_some_and(|r| r.contains(&json!(key)));
        if required {
            cases.push((format!("without {ptr}"), without(&full, &ptr), true));
        }
    }
    let mut set = |what: &str, ptr: &str, v: Value, rust_rejects: bool| {
        let mut a = full.clone();
        *a.pointer_mut(ptr).unwrap() = v;
        cases.push((what.to_string(), a, rust_rejects));
    };
    set(
        "unknown evidence field",
        "/evidence",
        json!({"colour": "red"}),
        true,
    );
    set("kind bogus", "/kind", json!("bogus"), true);
    set("state closed", "/state", json!("closed"), true);
    set("version negative", "/version", json!(-1), true);
    set("version a string", "/version", json!("2"), true);
    set(
        "raised_at without offset",
        "/raised_at",
        json!("2022-05-10T12:00:00"),
        true,
    );
    set(
        "evidence interpretation bogus",
        "/evidence/interpretation",
        json!("maybe"),
        true,
    );
    set(
        "evidence tube_kind bogus",
        "/evidence/tube_kind",
        json!("bucket"),
        true,
    );
    set(
        "retest_tube_ids a string",
        "/evidence/retest_tube_ids",
        json!("T-R0"),
        true,
    );
    set(
        "region without community",
        "/region",
        json!({"district": "D", "street": "S"}),
        true,
    );
    // Invariants of what the pipeline writes that the Rust type does not
    // check when reading an alert back: the schema alone rejects these.
    set("version 0", "/version", json!(0), false);
    set("alert_id not 32 hex", "/alert_id", json!("ALERT-1"), false);
    set(
        "superseded_by not 32 hex",
        "/superseded_by",
        json!("ALERT-2"),
        false,
    );
    set("tube_id with a space", "/tube_id", json!("EX9 R1"), false);
    set(
        "evidence pool_tube_id with a space",
        "/evidence/pool_tube_id",
        json!("EX9 POOL"),
        false,
    );
    set(
        "retest_tube_ids with a space",
        "/evidence/retest_tube_ids/0",
        json!("EX9 R0"),
        false,
    );
    set("evidence ct N 51", "/evidence/ct/N", json!(51), false);
    set("evidence ct IC 0", "/evidence/ct/IC", json!(0), false);
    set(
        "blank region district",
        "/region/district",
        json!(" "),
        false,
    );
    let mut extra = full.clone();
    extra
        .as_object_mut()
        .unwrap()
        .insert("colour".into(), json!(1));
    cases.push(("unknown top-level field".into(), extra, true));
    for (what, value, rust_rejects) in cases {
        let rust = serde_json::from_value::<Alert>(value.clone());
        report.check(rust.is_err() == rust_rejects, || {
            format!(
                "alert {what}: Rust rejects = {}, expected {rust_rejects}",
                rust.is_err()
            )
        });
        report.check(!ALERT.strict.is_valid(&value), || {
            format!("alert {what}: schema accepts")
        });
    }
    report.finish();
}

/// The schema pointer of the object at a value pointer of an alert (`""` or
/// `/evidence`, `/region`, ...).
fn schema_pointer_of(value_parent: &str) -> String {
    match value_parent {
        "" => String::new(),
        "/evidence" => "/$defs/evidence".into(),
        "/region" => "/$defs/region".into(),
        "/address" => "/$defs/address".into(),
        "/evidence/ct" => "/$defs/ct".into(),
        other => format!("/unknown{other}"),
    }
}

/// Alerts are written without nulls: the schema refuses a null field (Rust
/// reads a null optional field back as absent; that leniency is not part of
/// the output contract). The exception is a Ct value, where null means "not
/// detected" in every record that carries Ct values.
#[test]
fn alert_schema_refuses_nulls_except_ct_values() {
    let full = serde_json::to_value(full_alert()).unwrap();
    let mut report = Report::default();
    for ptr in field_pointers(&full) {
        let v = nulled(&full, &ptr);
        let ct_value = ptr.starts_with("/evidence/ct/");
        report.check(ALERT.strict.is_valid(&v) == ct_value, || {
            format!("alert schema accepts null {ptr} = {}", !ct_value)
        });
        if ct_value {
            let back: Alert = serde_json::from_value(v).unwrap();
            let mut ct = full_ct();
            match split_pointer(&ptr).1 {
                "ORF1ab" => ct.orf1ab = None,
                "N" => ct.n = None,
                "E" => ct.e = None,
                "IC" => ct.ic = None,
                other => panic!("Ct has no {other}"),
            }
            report.check(back.evidence.ct == Some(ct), || {
                format!("null {ptr} did not read as absent")
            });
        }
    }
    report.finish();
}
