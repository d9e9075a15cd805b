//! Which partition of an input topic a record goes to.
//!
//! Kafka mode co-partitions every input topic by tube: a tube's manifest,
//! results and receipts all go to partition [`tube_partition`]`(tube_id, n)`
//! of their topics, so one engine partition sees all of a tube. Producers set
//! the partition explicitly with this function (never librdkafka's key hash,
//! which pooltrace does not control); the key is still the tube id, for
//! compaction and for people reading the topic.

pub use pooltrace_engine::partition::tube_partition;

/// The partition of `tube_id` in a topic of `count` partitions, as rdkafka
/// wants it.
pub fn tube_partition_i32(tube_id: &str, count: u32) -> i32 {
    // `count` comes from topic metadata (an i32), so the result fits.
    i32::try_from(tube_partition(tube_id, count)).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_partition_as_the_engine() {
        for i in 0..100 {
            let t = format!("T-{i}");
            assert_eq!(tube_partition_i32(&t, 4), tube_partition(&t, 4) as i32);
            assert!(tube_partition_i32(&t, 4) < 4);
        }
    }
}
