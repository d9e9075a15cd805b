//! The checkpoint store on an S3-compatible server (`s3s-fs` on 127.0.0.1,
//! see `support/s3.rs`): what `[kafka.checkpoint] store = "s3://..."` does
//! in production, through the same `object_store` client.

mod support;

use pooltrace_kafka::runtime::checkpoint::{CheckpointStore, Meta, META_VERSION};
use support::s3::S3Server;

#[test]
fn checkpoints_live_in_an_s3_bucket_and_a_new_store_reads_them() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("ckpt")).unwrap(); // the bucket
    let s3 = S3Server::start(root.path());
    let open = || CheckpointStore::open_with("s3://ckpt/prod", "g1", s3.options()).unwrap();

    let store = open();
    assert!(store.load(1).unwrap().is_none(), "nothing yet");
    let mut meta = Meta {
        version: META_VERSION,
        partition: 1,
        partitions: 4,
        next_offset: 77,
        seq: 3,
        ..Meta::default()
    };
    meta.msgs_seen.insert(2, 9);
    store.save(&meta, b"engine\nbytes").unwrap();

    // A restarted instance (a new store on the same bucket) reads it back.
    let again = open();
    assert_eq!(
        again.load(1).unwrap(),
        Some((meta.clone(), b"engine\nbytes".to_vec()))
    );
    assert!(again.load(0).unwrap().is_none(), "only partition 1 saved");

    // Saving again replaces the object whole.
    meta.next_offset = 100;
    again.save(&meta, b"v2").unwrap();
    assert_eq!(open().load(1).unwrap(), Some((meta, b"v2".to_vec())));

    // The object sits in the bucket under the URL's prefix and the group.
    let object = root.path().join("ckpt/prod/g1/p0001.ckpt");
    let bytes = std::fs::read(&object).expect("the checkpoint object in the bucket");
    assert!(bytes.ends_with(b"\nv2"));

    // Wrong credentials: an error naming the store, never "no checkpoint"
    // (which would restart the partition from nothing).
    let mut wrong = s3.options();
    for (k, v) in wrong.iter_mut() {
        if k == "aws_secret_access_key" {
            *v = "not-the-secret".into();
        }
    }
    let bad = CheckpointStore::open_with("s3://ckpt/prod", "g1", wrong).unwrap();
    let e = bad.load(1).unwrap_err().to_string();
    assert!(e.contains("s3://ckpt/prod"), "{e}");
}
