//! What every producer of this crate does at start: get its idempotent
//! producer id at once.
//!
//! librdkafka asks for a producer id only when a broker it has learned
//! (not the bootstrap address) is up, and retries on a fixed 500 ms timer
//! otherwise; nothing is sent before the id comes. Measured against tansu:
//! the runtime's producer got it 1.0 s after start (the instance sat idle
//! meanwhile) and `pooltrace produce` took 0.70 s to send one record. Two
//! things make it come in milliseconds: the producer connects to every
//! broker as soon as it learns it (`enable.sparse.connections = false`, set
//! by [`KafkaConfig::producer_config`](crate::KafkaConfig::producer_config),
//! overridable in `[kafka.extra]`), and every metadata response retries the
//! id, so [`get_producer_id`] asks for metadata a few times, 10 ms apart.

use std::time::Duration;

use rdkafka::client::{Client, ClientContext};

/// Metadata requests made at start.
const ROUNDS: u32 = 3;
/// Pause between them (the broker connections come up meanwhile).
const PAUSE: Duration = Duration::from_millis(10);
/// Longest wait for one metadata response.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Lets a fresh producer get its producer id now (see the module docs).
/// Failures are not errors here: sending retries on its own and reports
/// what really fails.
pub(crate) fn get_producer_id<C: ClientContext>(client: &Client<C>, topic: &str) {
    for _ in 0..ROUNDS {
        let _ = client.fetch_metadata(Some(topic), TIMEOUT);
        std::thread::sleep(PAUSE);
    }
}
