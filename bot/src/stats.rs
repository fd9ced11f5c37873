//! The dashboard's numbers (SPEC §10): time to acknowledge, to mitigate and to resolve, by
//! week, by severity and by type, each as a count, a median and a 90th percentile. Pure: the
//! records and the time come in. Private incidents count like any other; nothing here carries
//! a title.

use brigade_core::{incident::Severity, kinds::Durations, record::IncidentRecord};

const DAY_MS: u64 = 24 * 60 * 60 * 1000;
const WEEK_MS: u64 = 7 * DAY_MS;
/// The Unix epoch was a Thursday: weeks start on the Monday three days before it.
const MONDAY_OFFSET_MS: u64 = 3 * DAY_MS;

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// From the start to the first acknowledgement.
    Acknowledge,
    /// From the start to mitigation (`monitoring`).
    Mitigate,
    /// From the start to resolution.
    Resolve,
}

impl Measure {
    /// Every measure, in the order of an incident's life.
    pub const ALL: [Self; 3] = [Self::Acknowledge, Self::Mitigate, Self::Resolve];

    /// `Time to acknowledge` …
    pub fn label(self) -> &'static str {
        match self {
            Self::Acknowledge => "Time to acknowledge",
            Self::Mitigate => "Time to mitigate",
            Self::Resolve => "Time to resolve",
        }
    }

    /// The measure's value in `durations`, if the moment has come.
    pub fn of(self, durations: &Durations) -> Option<u64> {
        match self {
            Self::Acknowledge => durations.to_acknowledge,
            Self::Mitigate => durations.to_mitigate,
            Self::Resolve => durations.to_resolve,
        }
    }
}

/// How a set of durations spreads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    /// How many there are.
    pub count: usize,
    /// The median, in milliseconds.
    pub median: u64,
    /// The 90th percentile (nearest rank), in milliseconds.
    pub p90: u64,
}

/// The spread of `values`; none when there are none.
pub fn spread(mut values: Vec<u64>) -> Option<Spread> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let count = values.len();
    let rank = |percent: usize| values[(count * percent).div_ceil(100).max(1) - 1];
    Some(Spread {
        count,
        median: rank(50),
        p90: rank(90),
    })
}

/// The spread of each measure over `records`.
pub fn spreads<'a>(
    records: impl Iterator<Item = &'a IncidentRecord> + Clone,
) -> [Option<Spread>; 3] {
    Measure::ALL.map(|measure| {
        spread(
            records
                .clone()
                .filter_map(|record| measure.of(&record.incident.timestamps.durations()))
                .collect(),
        )
    })
}

/// One week of incidents: those that began in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Week {
    /// Its Monday, 00:00 UTC, in milliseconds since the epoch.
    pub start: u64,
    /// How many incidents began in it.
    pub incidents: usize,
    /// Each measure's spread, in [`Measure::ALL`]'s order.
    pub spreads: [Option<Spread>; 3],
}

/// The Monday 00:00 UTC that starts the week holding `millis`.
pub fn week_start(millis: u64) -> u64 {
    ((millis + MONDAY_OFFSET_MS) / WEEK_MS * WEEK_MS).saturating_sub(MONDAY_OFFSET_MS)
}

/// The last `weeks` weeks up to `now`, oldest first, each with the incidents that began in it.
pub fn weekly(records: &[IncidentRecord], now: u64, weeks: u64) -> Vec<Week> {
    let last = week_start(now);
    (0..weeks)
        .rev()
        .map(|back| last.saturating_sub(back * WEEK_MS))
        .map(|start| {
            let within = records.iter().filter(move |record| {
                let origin = record.incident.timestamps.origin();
                origin >= start && origin < start + WEEK_MS
            });
            Week {
                start,
                incidents: within.clone().count(),
                spreads: spreads(within),
            }
        })
        .collect()
}

/// One row of a breakdown: a severity or a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// `SEV2`, `security` …
    pub name: String,
    /// How many incidents.
    pub incidents: usize,
    /// Each measure's spread.
    pub spreads: [Option<Spread>; 3],
}

/// The measures by severity, SEV1 first.
pub fn by_severity(records: &[IncidentRecord]) -> Vec<Row> {
    [
        Severity::Sev1,
        Severity::Sev2,
        Severity::Sev3,
        Severity::Sev4,
    ]
    .into_iter()
    .map(|severity| {
        let of = records
            .iter()
            .filter(move |record| record.incident.severity == severity);
        Row {
            name: severity.to_string(),
            incidents: of.clone().count(),
            spreads: spreads(of),
        }
    })
    .collect()
}

/// The measures by type, in the configured order (and any type no longer configured after).
pub fn by_type(records: &[IncidentRecord], types: &[String]) -> Vec<Row> {
    let mut names: Vec<String> = types.to_vec();
    for record in records {
        if !names.contains(&record.incident.kind) {
            names.push(record.incident.kind.clone());
        }
    }
    names
        .into_iter()
        .map(|name| {
            let of = records
                .iter()
                .filter(|record| record.incident.kind == name)
                .collect::<Vec<_>>();
            Row {
                incidents: of.len(),
                spreads: spreads(of.iter().copied()),
                name,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use brigade_core::testing::record;

    use super::*;

    fn record_at(kind: &str, severity: Severity, declared: u64) -> IncidentRecord {
        let mut record = record(1, "Checkout is slow", severity, declared);
        record.incident.kind = kind.to_owned();
        record
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        assert_eq!(spread(Vec::new()), None);
        assert_eq!(
            spread(vec![5]),
            Some(Spread {
                count: 1,
                median: 5,
                p90: 5
            })
        );
        let values: Vec<u64> = (1..=10).rev().collect();
        assert_eq!(
            spread(values),
            Some(Spread {
                count: 10,
                median: 5,
                p90: 9
            })
        );
        let values: Vec<u64> = (1..=20).collect();
        assert_eq!(spread(values).map(|s| (s.median, s.p90)), Some((10, 18)));
    }

    #[test]
    fn weeks_start_on_monday_at_midnight_utc() {
        // 2026-12-01 (a Tuesday) 12:00 UTC; its Monday is 2026-11-30.
        let tuesday = 1_796_126_400_000;
        let monday = 1_795_996_800_000;
        assert_eq!(week_start(tuesday), monday);
        assert_eq!(week_start(monday), monday);
        assert_eq!(week_start(monday - 1), monday - WEEK_MS);
    }

    #[test]
    fn each_incident_counts_in_the_week_it_began() {
        let now = 1_764_590_400_000;
        let mut early = record_at("operations", Severity::Sev2, now - WEEK_MS);
        early.incident.timestamps.acknowledged = Some(early.incident.timestamps.declared + 60_000);
        let late = record_at("security", Severity::Sev1, now - 1000);
        let weeks = weekly(&[early, late], now, 3);
        assert_eq!(weeks.len(), 3);
        assert_eq!(
            weeks.iter().map(|week| week.incidents).collect::<Vec<_>>(),
            [0, 1, 1]
        );
        assert_eq!(weeks[1].spreads[0].map(|s| s.median), Some(60_000));
        assert_eq!(weeks[2].spreads[0], None);
    }

    #[test]
    fn breakdowns_cover_every_severity_and_type() {
        let now = 1_764_590_400_000;
        let records = [
            record_at("operations", Severity::Sev2, now),
            record_at("operations", Severity::Sev2, now),
            record_at("retired-type", Severity::Sev4, now),
        ];
        let severities = by_severity(&records);
        assert_eq!(severities.len(), 4);
        assert_eq!(
            (severities[1].name.as_str(), severities[1].incidents),
            ("SEV2", 2)
        );
        let types = by_type(&records, &["security".to_owned(), "operations".to_owned()]);
        let counts: Vec<(&str, usize)> = types
            .iter()
            .map(|row| (row.name.as_str(), row.incidents))
            .collect();
        assert_eq!(
            counts,
            [("security", 0), ("operations", 2), ("retired-type", 1)]
        );
    }
}
