//! Rolling at `max_rows_per_file`, flushes, file stems, and atomic renames.

mod common;

use std::path::PathBuf;

use common::*;
use pooltrace_parquet::{ParquetConfig, ParquetError, ParquetSink, PseudonymKey};

fn small() -> ParquetConfig {
    ParquetConfig {
        max_rows_per_file: 10,
        row_group_rows: 4,
        row_group_memory_mb: 16,
        zstd_level: 3,
    }
}

fn id(i: usize) -> String {
    format!("P{i:08}")
}

fn row_groups(path: &std::path::Path) -> Vec<i64> {
    let (_, meta) = read(path);
    meta.row_groups().iter().map(|rg| rg.num_rows()).collect()
}

#[test]
fn rolls_at_max_rows_per_file() {
    let dir = scratch("rolling");
    let mut sink = sink(&dir, small());
    for i in 0..25 {
        sink.write_person_outcome(&outcome(&id(i), "Chaoyang", "2022-05-10T09:00:00+08:00"))
            .unwrap();
    }
    for i in 0..3 {
        sink.write_person_outcome(&outcome(&id(i), "Haidian", "2022-05-10T09:00:00+08:00"))
            .unwrap();
    }
    // Two full files of Chaoyang are already in place; the rest is pending.
    // Chaoyang's next full row group is on disk in its third file, still
    // hidden; Haidian's three rows followed it there once four rows were
    // buffered across partitions; Chaoyang's last row is in memory.
    let chaoyang = PathBuf::from("person_outcomes/date=2022-05-10/district=Chaoyang");
    let haidian = PathBuf::from("person_outcomes/date=2022-05-10/district=Haidian");
    assert_eq!(
        files(&dir),
        [
            chaoyang.join(".part-00002.parquet.tmp"),
            chaoyang.join("part-00000.parquet"),
            chaoyang.join("part-00001.parquet"),
            haidian.join(".part-00000.parquet.tmp"),
        ]
    );
    assert_eq!(sink.pending_rows(), 5 + 3);
    let stats = sink.finish().unwrap();
    assert_eq!(
        (stats.person_outcomes.rows, stats.person_outcomes.files),
        (28, 4)
    );
    assert_eq!(
        files(&dir),
        [
            chaoyang.join("part-00000.parquet"),
            chaoyang.join("part-00001.parquet"),
            chaoyang.join("part-00002.parquet"),
            haidian.join("part-00000.parquet"),
        ],
        "no .tmp file may remain"
    );
    assert_eq!(
        row_groups(&dir.join(chaoyang.join("part-00000.parquet"))),
        [4, 4, 2]
    );
    assert_eq!(
        row_groups(&dir.join(chaoyang.join("part-00002.parquet"))),
        [4, 1]
    );
    assert_eq!(
        row_groups(&dir.join(haidian.join("part-00000.parquet"))),
        [3]
    );
    // Rows keep their order across files.
    let (batches, _) = read(&dir.join(chaoyang.join("part-00001.parquet")));
    let key = PseudonymKey::new(SECRET).unwrap();
    assert_eq!(
        strings(&batches, "person_key")[0],
        Some(key.person_key(&id(10)))
    );
}

/// Rows of four districts, interleaved, under a memory bound of `mb` MiB
/// for the unfinished row groups: the row groups of each district's file.
fn row_groups_under(name: &str, mb: usize, rows_each: usize) -> Vec<Vec<i64>> {
    let dir = scratch(name);
    let config = ParquetConfig {
        max_rows_per_file: 1_000_000,
        row_group_rows: 131_072,
        row_group_memory_mb: mb,
        zstd_level: 1,
    };
    let districts = ["Chaoyang", "Haidian", "Dongcheng", "Xicheng"];
    let mut sink = sink(&dir, config);
    for i in 0..rows_each {
        for d in districts {
            sink.write_person_outcome(&outcome(&id(i), d, "2022-05-10T09:00:00+08:00"))
                .unwrap();
        }
    }
    let stats = sink.finish().unwrap();
    assert_eq!(stats.person_outcomes.rows, 4 * rows_each as u64);
    districts
        .iter()
        .map(|d| {
            let part = dir.join(format!(
                "person_outcomes/date=2022-05-10/district={d}/part-00000.parquet"
            ));
            row_groups(&part)
        })
        .collect()
}

#[test]
fn unfinished_row_groups_are_bounded_in_memory() {
    // Each district's 60,000 rows fit one row group: with room enough
    // (16 MiB for 240,000 rows) every file is a single row group.
    let roomy = row_groups_under("memory_roomy", 16, 60_000);
    assert_eq!(roomy, vec![vec![60_000]; 4]);
    // Under 1 MiB, a row group is finished as soon as the rows a file
    // holds encoded pass the bound (a partition whose rows first reach
    // its file at the end is finished there in one): more row groups, and
    // every row is there.
    let tight = row_groups_under("memory_tight", 1, 60_000);
    assert!(tight.iter().map(Vec::len).sum::<usize>() > 4, "{tight:?}");
    assert!(tight.iter().any(|g| g.len() > 1), "{tight:?}");
    for groups in &tight {
        assert_eq!(groups.iter().sum::<i64>(), 60_000, "{groups:?}");
    }
}

#[test]
fn flush_closes_files_and_numbering_continues() {
    let dir = scratch("flush");
    let mut sink = sink(&dir, small());
    for i in 0..3 {
        sink.write_person_outcome(&outcome(&id(i), "Chaoyang", "2022-05-10T09:00:00+08:00"))
            .unwrap();
    }
    assert!(files(&dir).is_empty(), "nothing is visible before a flush");
    sink.flush().unwrap();
    assert_eq!(sink.pending_rows(), 0);
    sink.flush().unwrap(); // nothing buffered: no empty file
    for i in 0..2 {
        sink.write_person_outcome(&outcome(&id(i), "Chaoyang", "2022-05-10T09:00:00+08:00"))
            .unwrap();
    }
    sink.finish().unwrap();
    let part = dir.join("person_outcomes/date=2022-05-10/district=Chaoyang");
    assert_eq!(
        files(&part),
        [
            PathBuf::from("part-00000.parquet"),
            PathBuf::from("part-00001.parquet")
        ]
    );
    assert_eq!(rows(&part.join("part-00000.parquet")), 3);
    assert_eq!(rows(&part.join("part-00001.parquet")), 2);
}

#[test]
fn a_replay_under_the_same_stem_replaces_its_files() {
    let dir = scratch("stem");
    let write = |n: usize| {
        let mut sink = sink(&dir, small());
        sink.set_file_stem("outcomes-p3-100-199").unwrap();
        for i in 0..n {
            sink.write_person_outcome(&outcome(&id(i), "Chaoyang", "2022-05-10T09:00:00+08:00"))
                .unwrap();
        }
        sink.finish().unwrap()
    };
    write(5);
    write(6); // the replay carries one more row: it must replace, not add
    let part = dir.join("person_outcomes/date=2022-05-10/district=Chaoyang");
    assert_eq!(
        files(&part),
        [PathBuf::from("outcomes-p3-100-199-00000.parquet")]
    );
    assert_eq!(rows(&part.join("outcomes-p3-100-199-00000.parquet")), 6);

    // A new stem numbers from 0 again; setting the same stem twice does not.
    let mut sink = sink(&dir, small());
    sink.set_file_stem("next").unwrap();
    sink.write_person_outcome(&outcome(&id(0), "Chaoyang", "2022-05-10T09:00:00+08:00"))
        .unwrap();
    sink.flush().unwrap();
    sink.set_file_stem("next").unwrap();
    sink.write_person_outcome(&outcome(&id(1), "Chaoyang", "2022-05-10T09:00:00+08:00"))
        .unwrap();
    sink.finish().unwrap();
    let names = files(&part);
    assert!(
        names.contains(&PathBuf::from("next-00000.parquet")),
        "{names:?}"
    );
    assert!(
        names.contains(&PathBuf::from("next-00001.parquet")),
        "{names:?}"
    );
}

#[test]
fn unsafe_stems_and_bad_configs_are_refused() {
    let dir = scratch("refused");
    let mut sink = sink(&dir, small());
    for bad in ["", ".hidden", "a/b", "a\\b", "tab\there"] {
        let err = sink.set_file_stem(bad).unwrap_err();
        assert!(
            matches!(err, ParquetError::InvalidStem { .. }),
            "{bad:?}: {err}"
        );
    }
    sink.set_file_stem("ok_stem-1").unwrap();

    let key = || PseudonymKey::new(SECRET).unwrap();
    let bad = ParquetConfig {
        max_rows_per_file: 0,
        ..small()
    };
    let err = ParquetSink::create(&dir, key(), bad)
        .err()
        .expect("max_rows_per_file 0");
    assert!(err.to_string().contains("max_rows_per_file"), "{err}");
    let bad = ParquetConfig {
        zstd_level: 0,
        ..small()
    };
    assert!(ParquetSink::create(&dir, key(), bad).is_err());
}

#[test]
fn io_errors_name_the_table_and_path() {
    let dir = scratch("io_error");
    // A file where the table directory should be.
    std::fs::write(dir.join("tube_results"), b"not a directory").unwrap();
    let mut sink = sink(&dir, small());
    sink.write_tube_result(&tube("EX1-POOL", "Chaoyang", "2022-05-10T09:00:00+08:00"))
        .unwrap();
    let err = sink.flush().unwrap_err().to_string();
    assert!(
        err.starts_with("tube_results: cannot create directory"),
        "{err}"
    );
    assert!(err.contains("date=2022-05-10/district=Chaoyang"), "{err}");
}
