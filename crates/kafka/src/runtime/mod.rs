//! The Kafka runtime (lead's work).
