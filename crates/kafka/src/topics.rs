//! Topics: create the missing ones, read partition counts, check that the
//! tube-keyed topics are co-partitioned.
//!
//! Brokers pooltrace runs against do not auto-create topics (and an
//! auto-created topic would get the broker's default partition count, not
//! the one the deployment chose), so topics are created explicitly, with
//! the Admin API's CreateTopics, before anything is produced.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::metadata::Metadata;
use rdkafka::ClientConfig;

use crate::config::TopicNames;
use crate::error::{CopartitionError, TopicsError};

/// What [`ensure_topics`] found or did, per topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicStatus {
    pub name: String,
    /// Partitions the topic has now.
    pub partitions: u32,
    /// Whether this call created it (false: it existed already).
    pub created: bool,
}

fn admin(config: &ClientConfig) -> Result<AdminClient<DefaultClientContext>, TopicsError> {
    config.create().map_err(TopicsError::Client)
}

fn brokers(config: &ClientConfig) -> String {
    config.get("bootstrap.servers").unwrap_or("?").to_string()
}

/// The partition count of every topic in `metadata` that exists.
fn counts_in(metadata: &Metadata) -> BTreeMap<String, u32> {
    metadata
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| (t.name().to_string(), t.partitions().len() as u32))
        .collect()
}

fn fetch_counts(
    client: &AdminClient<DefaultClientContext>,
    config: &ClientConfig,
    timeout: Duration,
) -> Result<BTreeMap<String, u32>, TopicsError> {
    client
        .inner()
        .fetch_metadata(None, timeout)
        .map(|m| counts_in(&m))
        .map_err(|source| TopicsError::Metadata {
            brokers: brokers(config),
            source,
        })
}

/// Creates each topic of `names` that does not exist, with `partitions`
/// partitions (replication: the broker's default), and waits until the
/// broker's metadata shows it. Existing topics are left as they are (their
/// partition count is reported, not changed).
pub fn ensure_topics(
    config: &ClientConfig,
    names: &[&str],
    partitions: u32,
    timeout: Duration,
) -> Result<Vec<TopicStatus>, TopicsError> {
    let client = admin(config)?;
    let existing = fetch_counts(&client, config, timeout)?;
    let missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|n| !existing.contains_key(*n))
        .collect();
    if !missing.is_empty() {
        let count = i32::try_from(partitions).unwrap_or(i32::MAX);
        let new: Vec<NewTopic<'_>> = missing
            .iter()
            .map(|n| NewTopic::new(n, count, TopicReplication::Fixed(-1)))
            .collect();
        let opts = AdminOptions::new()
            .request_timeout(Some(timeout))
            .operation_timeout(Some(timeout));
        let results =
            futures_executor::block_on(client.create_topics(&new, &opts)).map_err(|source| {
                TopicsError::CreateUnsupported {
                    topics: missing.join(", "),
                    source,
                }
            })?;
        for r in results {
            match r {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((topic, code)) => {
                    return Err(TopicsError::Create {
                        topic,
                        code: code.to_string(),
                    })
                }
            }
        }
    }
    // Metadata catches up with a creation after a moment.
    let start = Instant::now();
    loop {
        let now = fetch_counts(&client, config, timeout)?;
        let absent = names.iter().find(|n| !now.contains_key(**n));
        match absent {
            None => {
                return Ok(names
                    .iter()
                    .map(|n| TopicStatus {
                        name: n.to_string(),
                        partitions: now[*n],
                        created: missing.contains(n),
                    })
                    .collect())
            }
            Some(n) if start.elapsed() > timeout => {
                return Err(TopicsError::NotReady {
                    topic: n.to_string(),
                    secs: timeout.as_secs(),
                })
            }
            Some(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// The partition count of each of `names`, from the broker's metadata; a
/// missing topic is an error naming it.
pub fn partition_counts(
    config: &ClientConfig,
    names: &[&str],
    timeout: Duration,
) -> Result<BTreeMap<String, u32>, TopicsError> {
    let client = admin(config)?;
    let all = fetch_counts(&client, config, timeout)?;
    names
        .iter()
        .map(|n| match all.get(*n) {
            Some(c) => Ok((n.to_string(), *c)),
            None => Err(TopicsError::Missing {
                topic: n.to_string(),
                brokers: brokers(config),
            }),
        })
        .collect()
}

/// The one partition count that all of `counts` share (the co-partitioned
/// topics: manifests, results, receipts, internal), or an error naming each
/// topic and its count.
pub fn check_copartitioned(counts: &BTreeMap<String, u32>) -> Result<u32, CopartitionError> {
    let mut values = counts.values();
    let first = values.next().copied().unwrap_or(0);
    if values.all(|c| *c == first) {
        Ok(first)
    } else {
        Err(CopartitionError {
            counts: counts.clone(),
        })
    }
}

/// Reads the partition counts of the tube-keyed topics of `topics` and
/// checks they are co-partitioned: the common count.
pub fn copartitioned_count(
    config: &ClientConfig,
    topics: &TopicNames,
    timeout: Duration,
) -> Result<u32, TopicsError> {
    let counts = partition_counts(config, &topics.copartitioned(), timeout)?;
    Ok(check_copartitioned(&counts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copartitioning_error_names_every_topic() {
        let mut counts: BTreeMap<String, u32> = TopicNames::default()
            .copartitioned()
            .iter()
            .map(|t| (t.to_string(), 4))
            .collect();
        assert_eq!(check_copartitioned(&counts), Ok(4));
        counts.insert("pooltrace.results.v1".into(), 8);
        let e = check_copartitioned(&counts).unwrap_err().to_string();
        for needle in [
            "pooltrace.manifests.v1 has 4",
            "pooltrace.results.v1 has 8",
            "pooltrace.receipts.v1 has 4",
            "pooltrace.internal.v1 has 4",
        ] {
            assert!(e.contains(needle), "{e}");
        }
    }
}
