//! Reading the alert topic for people (`pooltrace alerts`).
//!
//! Every partition of the alert topic is assigned from its beginning (no
//! consumer group membership, no offsets committed: viewing changes nothing
//! for anyone else). Each record is one state of one alert
//! ([`pooltrace_model::Alert`]); a record may be written more than once (a
//! runtime replaying from a checkpoint), so records are deduplicated on
//! `(alert_id, version)`: each state is printed once, as one line.
//!
//! Without `follow`, the view stops when every partition has been read to
//! its end (librdkafka's end-of-partition event); with `follow`, it keeps
//! waiting for new records.

use std::collections::HashSet;
use std::io::Write;
use std::time::Duration;

use pooltrace_model::Alert;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use crate::config::KafkaConfig;
use crate::error::AlertsError;
use crate::topics::partition_counts;

/// Which alerts to show.
#[derive(Clone, Debug, Default)]
pub struct AlertFilter {
    /// Only alerts whose `region.street` is this (exact).
    pub street: Option<String>,
    /// Only alerts of this kind (wire name, e.g. `hospital_transfer`).
    pub kind: Option<String>,
}

impl AlertFilter {
    /// Whether `alert` passes the filter.
    pub fn matches(&self, alert: &Alert) -> bool {
        let street_ok = self.street.as_deref().is_none_or(|s| {
            alert
                .region
                .as_ref()
                .is_some_and(|r| r.street.as_str() == s)
        });
        let kind_ok = self
            .kind
            .as_deref()
            .is_none_or(|k| alert.kind.as_str() == k);
        street_ok && kind_ok
    }
}

/// How to view.
#[derive(Clone, Debug)]
pub struct ViewOptions {
    pub filter: AlertFilter,
    /// Keep waiting for new alerts instead of stopping at the end.
    pub follow: bool,
    /// How long metadata requests may take.
    pub metadata_timeout: Duration,
}

impl Default for ViewOptions {
    fn default() -> Self {
        ViewOptions {
            filter: AlertFilter::default(),
            follow: false,
            metadata_timeout: Duration::from_secs(10),
        }
    }
}

/// What a view read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ViewReport {
    /// Records read from the topic.
    pub records: u64,
    /// Lines printed (distinct alert states that passed the filter).
    pub printed: u64,
    /// Records whose `(alert_id, version)` had been seen already.
    pub duplicates: u64,
    /// Distinct alert states the filter left out.
    pub filtered_out: u64,
    /// Records that are not an alert, and the first reason.
    pub undecodable: u64,
    pub first_undecodable: Option<String>,
}

fn or_dash(s: Option<&str>) -> &str {
    s.filter(|s| !s.is_empty()).unwrap_or("-")
}

/// One alert state as one readable line (no line break), fields separated
/// by ` | `: time of the state change, kind, state and version, person and
/// tube, name, phone, address (region then home), due time, reason. A
/// missing field is `-`.
pub fn format_alert(a: &Alert) -> String {
    let subject = match &a.person_id {
        Some(p) => format!("person {p} tube {}", a.tube_id),
        None => format!("tube {}", a.tube_id),
    };
    let mut parts: Vec<&str> = Vec::new();
    if let Some(r) = &a.region {
        parts.extend([r.district.as_str(), &r.street, &r.community]);
    }
    if let Some(ad) = &a.address {
        parts.extend([
            ad.compound.as_str(),
            ad.building.as_str(),
            ad.unit.as_str(),
            ad.room.as_str(),
        ]);
    }
    parts.retain(|p| !p.is_empty());
    let address = parts.join(", ");
    let due = a.due_at.map(|d| d.to_string());
    format!(
        "{} | {} {} v{} | {} | name {} | phone {} | address {} | due {} | {}",
        a.updated_at,
        a.kind.as_str(),
        a.state.as_str(),
        a.version,
        subject,
        or_dash(a.name.as_deref()),
        or_dash(a.phone.as_deref()),
        or_dash(Some(&address)),
        or_dash(due.as_deref()),
        a.reason,
    )
}

/// Reads the alert topic of `cfg` and writes one line per new alert state
/// that passes the filter to `out`.
pub fn view_alerts(
    cfg: &KafkaConfig,
    opts: &ViewOptions,
    out: &mut impl Write,
) -> Result<ViewReport, AlertsError> {
    let topic = cfg.topics.alerts.as_str();
    let partitions = partition_counts(&cfg.admin_config(), &[topic], opts.metadata_timeout)?[topic];
    let mut config = cfg.consumer_config();
    // Assigned, never subscribed nor committed: the group id only satisfies
    // librdkafka and is this process's own.
    config.set(
        "group.id",
        format!("{}-alerts-view-{}", cfg.group_id, std::process::id()),
    );
    config.set("enable.auto.commit", "false");
    config.set("enable.auto.offset.store", "false");
    config.set("enable.partition.eof", "true");
    let consumer: BaseConsumer = config.create().map_err(AlertsError::Client)?;

    let mut assignment = TopicPartitionList::new();
    for p in 0..partitions as i32 {
        assignment
            .add_partition_offset(topic, p, Offset::Beginning)
            .map_err(AlertsError::Client)?;
    }
    consumer.assign(&assignment).map_err(AlertsError::Client)?;
    // A partition is done at its end-of-partition event (empty ones get one
    // too). Not the high watermark of ListOffsets: tansu 0.6 answers it with
    // the last batch's base offset + 1, short of the end.
    let mut done = vec![false; partitions as usize];

    let mut seen: HashSet<(String, u32)> = HashSet::new();
    let mut report = ViewReport::default();
    while opts.follow || !done.iter().all(|d| *d) {
        let msg = match consumer.poll(Duration::from_millis(200)) {
            None => continue,
            Some(Err(KafkaError::PartitionEOF(p))) => {
                if let Some(d) = usize::try_from(p).ok().and_then(|p| done.get_mut(p)) {
                    *d = true;
                }
                continue;
            }
            Some(Err(e)) => return Err(AlertsError::Client(e)),
            Some(Ok(m)) => m,
        };
        report.records += 1;
        let alert: Alert = match serde_json::from_slice(msg.payload().unwrap_or_default()) {
            Ok(a) => a,
            Err(e) => {
                report.undecodable += 1;
                report.first_undecodable.get_or_insert_with(|| {
                    format!(
                        "{topic} partition {} offset {}: {e}",
                        msg.partition(),
                        msg.offset()
                    )
                });
                continue;
            }
        };
        if !seen.insert((alert.alert_id.clone(), alert.version)) {
            report.duplicates += 1;
            continue;
        }
        if !opts.filter.matches(&alert) {
            report.filtered_out += 1;
            continue;
        }
        writeln!(out, "{}", format_alert(&alert))?;
        if opts.follow {
            out.flush()?;
        }
        report.printed += 1;
    }
    out.flush()?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(kind: &str, street: &str) -> Alert {
        serde_json::from_value(serde_json::json!({
            "alert_id": "a1", "version": 2, "kind": kind, "state": "open",
            "person_id": "220102196107090023", "tube_id": "T1",
            "raised_at": "2022-05-10T09:00:00+08:00", "due_at": "2022-05-10T11:00:00+08:00",
            "updated_at": "2022-05-10T09:30:00+08:00",
            "region": {"district": "Chaoyang", "street": street, "community": "Yuanyi"},
            "name": "Li Lei", "phone": "13800000000",
            "address": {"compound": "C1", "building": "2", "unit": "1", "room": "101"},
            "reason": "single tube positive", "evidence": {}
        }))
        .unwrap()
    }

    #[test]
    fn line_has_every_field() {
        let line = format_alert(&alert("hospital_transfer", "Nanhu"));
        assert_eq!(
            line,
            "2022-05-10T09:30:00+08:00 | hospital_transfer open v2 | person 220102196107090023 tube T1 | name Li Lei | phone 13800000000 | address Chaoyang, Nanhu, Yuanyi, C1, 2, 1, 101 | due 2022-05-10T11:00:00+08:00 | single tube positive"
        );
    }

    #[test]
    fn filter() {
        let a = alert("hospital_transfer", "Nanhu");
        let f = |street: Option<&str>, kind: Option<&str>| AlertFilter {
            street: street.map(str::to_string),
            kind: kind.map(str::to_string),
        };
        assert!(f(None, None).matches(&a));
        assert!(f(Some("Nanhu"), Some("hospital_transfer")).matches(&a));
        assert!(!f(Some("Beihu"), None).matches(&a));
        assert!(!f(None, Some("pool_retest")).matches(&a));
    }
}
