//! The checkpoint store: one object per partition holding the partition's
//! engine snapshot together with everything needed to resume exactly where
//! it stood (the next offset of its internal partition, the de-duplication
//! marks, the message sequence, the sources' progress).
//!
//! The store is a local directory by default, or any URL the `object_store`
//! crate understands (`s3://bucket/prefix` for S3-compatible storage, with
//! the usual `AWS_*` environment variables; `file:///abs/dir`). Objects are
//! named `{group}/p{partition:04}.ckpt` and replaced whole (a local put
//! writes aside and renames, S3 puts are atomic), so a crash while writing
//! leaves the previous checkpoint.
//!
//! Layout of an object: one line of JSON ([`Meta`]), a newline, then the
//! engine's snapshot bytes.
//!
//! The ingest of each input partition keeps a small object of its own,
//! `{group}/src-{kind}-{partition:04}.json` ([`SourceMark`]): where it
//! resumes and the source's greatest event time so far.

use std::collections::BTreeMap;
use std::sync::Arc;

use object_store::path::Path as StorePath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use serde::{Deserialize, Serialize};

use super::envelope::{kind_name, Source};
use super::sources::Sources;

/// What a partition's checkpoint says besides the engine state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Layout version of this object.
    pub version: u32,
    /// The partition and how many there were.
    pub partition: u32,
    pub partitions: u32,
    /// The next offset of the partition's internal topic partition to process.
    pub next_offset: i64,
    /// Sequence number of the last message this partition sent.
    pub seq: u64,
    /// Last input offset processed per source (`manifest:3` -> offset).
    pub inputs_seen: BTreeMap<String, i64>,
    /// Last message sequence processed per sending partition.
    pub msgs_seen: BTreeMap<u32, u64>,
    /// The sources' event-time progress.
    pub sources: Sources,
    /// Input records received but not yet processed: they wait until every
    /// source has passed their order time, so that they are processed in
    /// that order across topics, as a file run merges them.
    pub pending: Vec<PendingInput>,
}

/// An input record waiting for the watermark ([`Meta::pending`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PendingInput {
    pub event_time: i64,
    /// Its order time (see the internal topic's input records); absent in
    /// checkpoints of earlier versions, where it was the event time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_time: Option<i64>,
    /// `manifest`, `receipt` or `result`.
    pub kind: String,
    pub partition: i32,
    pub offset: i64,
    pub kafka_ts: Option<i64>,
    /// The key it was published with (absent: none, or empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Vec<u8>>,
    /// The record as published (valid UTF-8: the ingest parsed it as JSON).
    pub value: String,
}

/// Where the ingest of one input partition stands, saved with each
/// checkpoint once what it forwarded is in Kafka.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct SourceMark {
    /// The next offset to read: records before it were forwarded.
    pub next_offset: i64,
    /// The greatest event time read before it (millis, UTC offset).
    pub max: Option<(i64, i32)>,
}

/// Current layout version.
pub const META_VERSION: u32 = 1;

/// A checkpoint store failure.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("checkpoint store {store}: {message}")]
    Store { store: String, message: String },
    #[error("checkpoint {object}: {message}")]
    Corrupt { object: String, message: String },
}

/// Where checkpoints are kept.
pub struct CheckpointStore {
    store: Arc<dyn ObjectStore>,
    prefix: StorePath,
    label: String,
    rt: tokio::runtime::Runtime,
}

impl CheckpointStore {
    /// Opens `location` (a directory, created if missing, or a URL) for
    /// consumer group `group`. A URL's store takes its options from the
    /// `AWS_*` environment variables (`AWS_ENDPOINT`, `AWS_REGION`,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_ALLOW_HTTP`, ...).
    pub fn open(location: &str, group: &str) -> Result<Self, CheckpointError> {
        let options = std::env::vars()
            .filter(|(k, _)| k.starts_with("AWS_"))
            .map(|(k, v)| (k.to_ascii_lowercase(), v));
        Self::open_with(location, group, options)
    }

    /// [`CheckpointStore::open`] with a URL store's options given
    /// (`object_store` keys such as `aws_endpoint`, `aws_allow_http`)
    /// instead of read from the environment.
    pub fn open_with(
        location: &str,
        group: &str,
        options: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, CheckpointError> {
        let err = |message: String| CheckpointError::Store {
            store: location.to_string(),
            message,
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| err(e.to_string()))?;
        let (store, base): (Arc<dyn ObjectStore>, StorePath) = if location.contains("://") {
            let url = url::Url::parse(location).map_err(|e| err(e.to_string()))?;
            let (store, path) =
                object_store::parse_url_opts(&url, options).map_err(|e| err(e.to_string()))?;
            (Arc::from(store), path)
        } else {
            std::fs::create_dir_all(location)
                .map_err(|e| err(format!("cannot create the directory: {e}")))?;
            let fs = object_store::local::LocalFileSystem::new_with_prefix(location)
                .map_err(|e| err(e.to_string()))?;
            (Arc::new(fs), StorePath::default())
        };
        let prefix = base.clone().join(group);
        Ok(CheckpointStore {
            store,
            prefix,
            label: location.to_string(),
            rt,
        })
    }

    fn object(&self, partition: u32) -> StorePath {
        self.prefix.clone().join(format!("p{partition:04}.ckpt"))
    }

    fn source_object(&self, source: Source) -> StorePath {
        self.prefix.clone().join(format!(
            "src-{}-{:04}.json",
            kind_name(source.kind),
            source.partition
        ))
    }

    fn store_error(&self, message: String) -> CheckpointError {
        CheckpointError::Store {
            store: self.label.clone(),
            message,
        }
    }

    fn put(&self, path: &StorePath, bytes: Vec<u8>) -> Result<(), CheckpointError> {
        self.rt
            .block_on(self.store.put(path, PutPayload::from(bytes)))
            .map_err(|e| self.store_error(e.to_string()))?;
        Ok(())
    }

    /// The object's bytes, or `None` when there is none.
    fn get(&self, path: &StorePath) -> Result<Option<Vec<u8>>, CheckpointError> {
        self.rt
            .block_on(async {
                match self.store.get(path).await {
                    Ok(r) => r.bytes().await.map(|b| Some(b.to_vec())),
                    Err(object_store::Error::NotFound { .. }) => Ok(None),
                    Err(e) => Err(e),
                }
            })
            .map_err(|e| self.store_error(e.to_string()))
    }

    /// Writes where the ingest of `source` stands, replacing the previous mark.
    pub fn save_source(&self, source: Source, mark: &SourceMark) -> Result<(), CheckpointError> {
        let bytes = serde_json::to_vec(mark).map_err(|e| self.store_error(e.to_string()))?;
        self.put(&self.source_object(source), bytes)
    }

    /// Where the ingest of `source` last stood, or `None` when no mark was saved.
    pub fn load_source(&self, source: Source) -> Result<Option<SourceMark>, CheckpointError> {
        let path = self.source_object(source);
        let Some(bytes) = self.get(&path)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CheckpointError::Corrupt {
                object: format!("{}/{}", self.label, path),
                message: e.to_string(),
            })
    }

    /// Writes a partition's checkpoint, replacing the previous one.
    pub fn save(&self, meta: &Meta, engine: &[u8]) -> Result<(), CheckpointError> {
        let mut bytes = serde_json::to_vec(meta).map_err(|e| CheckpointError::Store {
            store: self.label.clone(),
            message: e.to_string(),
        })?;
        bytes.push(b'\n');
        bytes.extend_from_slice(engine);
        self.put(&self.object(meta.partition), bytes)
    }

    /// The latest checkpoint of a partition: its meta and engine snapshot,
    /// or `None` when there is none yet.
    pub fn load(&self, partition: u32) -> Result<Option<(Meta, Vec<u8>)>, CheckpointError> {
        let path = self.object(partition);
        let Some(bytes) = self.get(&path)? else {
            return Ok(None);
        };
        let corrupt = |message: String| CheckpointError::Corrupt {
            object: format!("{}/{}", self.label, path),
            message,
        };
        let nl = bytes
            .iter()
            .position(|b| *b == b'\n')
            .ok_or_else(|| corrupt("no header line".into()))?;
        let meta: Meta =
            serde_json::from_slice(&bytes[..nl]).map_err(|e| corrupt(e.to_string()))?;
        if meta.version != META_VERSION {
            return Err(corrupt(format!(
                "layout version {} (this release reads {META_VERSION})",
                meta.version
            )));
        }
        if meta.partition != partition {
            return Err(corrupt(format!(
                "holds partition {}, not {partition}",
                meta.partition
            )));
        }
        Ok(Some((meta, bytes[nl + 1..].to_vec())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saves_and_loads_a_partition_and_refuses_a_foreign_one() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path().to_str().unwrap(), "g1").unwrap();
        assert!(store.load(2).unwrap().is_none());
        let mut meta = Meta {
            version: META_VERSION,
            partition: 2,
            partitions: 4,
            next_offset: 1234,
            seq: 7,
            ..Meta::default()
        };
        meta.inputs_seen.insert("result:2".into(), 99);
        meta.msgs_seen.insert(1, 5);
        store.save(&meta, b"\x00snapshot\nbytes").unwrap();
        let (m, e) = store.load(2).unwrap().unwrap();
        assert_eq!(m, meta);
        assert_eq!(e, b"\x00snapshot\nbytes");
        meta.next_offset = 2000;
        store.save(&meta, b"newer").unwrap();
        assert_eq!(
            store.load(2).unwrap().unwrap().0.next_offset,
            2000,
            "replaced"
        );
        // A file for partition 3 that claims to be partition 2 is refused.
        let p3 = dir.path().join("g1").join("p0003.ckpt");
        std::fs::copy(dir.path().join("g1").join("p0002.ckpt"), &p3).unwrap();
        let e = store.load(3).unwrap_err().to_string();
        assert!(e.contains("holds partition 2, not 3"), "{e}");
    }

    #[test]
    fn source_marks_are_kept_per_input_partition() {
        let dir = tempfile::tempdir().unwrap();
        let store = CheckpointStore::open(dir.path().to_str().unwrap(), "g3").unwrap();
        let src = |kind, partition| Source { kind, partition };
        let results1 = src(pooltrace_model::RecordKind::Result, 1);
        let manifests1 = src(pooltrace_model::RecordKind::Manifest, 1);
        assert_eq!(store.load_source(results1).unwrap(), None);
        let mark = SourceMark {
            next_offset: 77,
            max: Some((1_652_140_800_000, 28_800)),
        };
        store.save_source(results1, &mark).unwrap();
        assert_eq!(store.load_source(results1).unwrap(), Some(mark));
        assert_eq!(
            store.load_source(manifests1).unwrap(),
            None,
            "another topic's partition 1"
        );
        let newer = SourceMark {
            next_offset: 90,
            max: None,
        };
        store.save_source(results1, &newer).unwrap();
        assert_eq!(
            store.load_source(results1).unwrap(),
            Some(newer),
            "replaced"
        );
        let object = dir.path().join("g3").join("src-result-0001.json");
        std::fs::write(&object, b"{").unwrap();
        let e = store.load_source(results1).unwrap_err().to_string();
        assert!(e.contains("src-result-0001.json"), "{e}");
    }

    /// The URL branch (what `s3://` takes) through `object_store`'s own
    /// URL parsing, on a `file://` URL: same objects, same layout.
    #[test]
    fn an_object_store_url_keeps_the_same_objects() {
        let dir = tempfile::tempdir().unwrap();
        let url = url::Url::from_directory_path(dir.path()).unwrap();
        let store = CheckpointStore::open(url.as_str(), "g2").unwrap();
        assert!(store.load(0).unwrap().is_none(), "nothing yet");
        let meta = Meta {
            version: META_VERSION,
            partition: 0,
            partitions: 1,
            next_offset: 42,
            ..Meta::default()
        };
        store.save(&meta, b"engine").unwrap();
        assert_eq!(
            store.load(0).unwrap(),
            Some((meta.clone(), b"engine".to_vec()))
        );
        let object = dir.path().join("g2").join("p0000.ckpt");
        let bytes = std::fs::read(&object).expect("the object is a file under the URL's path");
        assert!(bytes.ends_with(b"\nengine"));
        // The same directory opened as a directory reads the same checkpoint.
        let plain = CheckpointStore::open(dir.path().to_str().unwrap(), "g2").unwrap();
        assert_eq!(plain.load(0).unwrap().unwrap().0, meta);
        // A URL no store understands is a clear error naming it.
        let bad = CheckpointStore::open("nosuch://bucket/x", "g2")
            .err()
            .expect("refused")
            .to_string();
        assert!(bad.contains("nosuch://bucket/x"), "{bad}");
    }
}
