//! Charts drawn on the server as inline SVG: no script, no library, nothing fetched. Each
//! chart has a title, and each point its figures as a tooltip; the dashboard's tables carry
//! the same figures by severity and type. Colours come from the page's stylesheet, so charts
//! follow the light or dark theme.

use maud::{html, Markup};

use crate::{report::duration, stats::Week};

const WIDTH: u32 = 480;
const HEIGHT: u32 = 180;
const LEFT: u32 = 64;
const RIGHT: u32 = 12;
const TOP: u32 = 12;
const BOTTOM: u32 = 28;
/// Candidate steps of the y axis, in milliseconds: the first that fits four steps is used.
const STEPS: [u64; 14] = [
    15_000,
    60_000,
    300_000,
    900_000,
    1_800_000,
    3_600_000,
    7_200_000,
    14_400_000,
    28_800_000,
    43_200_000,
    86_400_000,
    172_800_000,
    604_800_000,
    2_592_000_000,
];

/// The y axis step for values up to `max`.
fn step(max: u64) -> u64 {
    STEPS
        .into_iter()
        .find(|step| step * 4 >= max)
        .unwrap_or(STEPS[STEPS.len() - 1])
}

/// A line chart of one measure over `weeks`: the median solid, the 90th percentile dashed.
/// `measure` picks the spread of each week; `label` names the chart.
pub fn weekly(weeks: &[Week], measure: usize, label: &str) -> Markup {
    let values: Vec<Option<(u64, u64)>> = weeks
        .iter()
        .map(|week| week.spreads[measure].map(|spread| (spread.median, spread.p90)))
        .collect();
    let max = values
        .iter()
        .flatten()
        .map(|(_, p90)| *p90)
        .max()
        .unwrap_or(0);
    let step = step(max.max(1));
    let top = step * 4;
    let plot_width = f64::from(WIDTH - LEFT - RIGHT);
    let plot_height = f64::from(HEIGHT - TOP - BOTTOM);
    let slot = plot_width / weeks.len().max(1) as f64;
    let x = |index: usize| f64::from(LEFT) + slot * (index as f64 + 0.5);
    // Above the largest step a value is drawn at the top (its title still says it).
    let y = |value: u64| f64::from(TOP) + plot_height * (1.0 - value.min(top) as f64 / top as f64);
    // A line through consecutive weeks that have a value; a week without one breaks it.
    let lines = |pick: fn(&(u64, u64)) -> u64| -> Vec<String> {
        let mut lines = Vec::new();
        let mut current = String::new();
        for (index, value) in values.iter().enumerate() {
            match value {
                Some(value) => current.push_str(&format!("{:.1},{:.1} ", x(index), y(pick(value)))),
                None if !current.is_empty() => lines.push(std::mem::take(&mut current)),
                None => {}
            }
        }
        if !current.is_empty() {
            lines.push(current);
        }
        lines
    };
    let empty = values.iter().all(Option::is_none);
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label={ (label) " by week: median and 90th percentile" } {
            title { (label) " by week" }
            @for tick in 0..=4u64 {
                line.grid x1=(LEFT) x2=(WIDTH - RIGHT) y1=(format!("{:.1}", y(tick * step))) y2=(format!("{:.1}", y(tick * step))) {}
                text.axis x=(LEFT - 6) y=(format!("{:.1}", y(tick * step) + 4.0)) text-anchor="end" { (duration(tick * step)) }
            }
            @for (index, week) in weeks.iter().enumerate() {
                // Every other week is labelled, the newest always.
                @if (weeks.len() - 1 - index).is_multiple_of(2) {
                    text.axis x=(format!("{:.1}", x(index))) y=(HEIGHT - 8) text-anchor="middle" {
                        (crate::render::format_utc(week.start, "%b %d"))
                    }
                }
            }
            @if empty {
                text.axis x=(WIDTH / 2) y=(HEIGHT / 2) text-anchor="middle" { "Nothing measured in these weeks" }
            }
            @for points in lines(|(_, p90)| *p90) { polyline.p90 points=(points) {} }
            @for points in lines(|(median, _)| *median) { polyline.median points=(points) {} }
            @for (index, value) in values.iter().enumerate() {
                @if let Some((median, p90)) = value {
                    circle.median cx=(format!("{:.1}", x(index))) cy=(format!("{:.1}", y(*median))) r="3.5" {
                        title { "Week of " (crate::render::format_utc(weeks[index].start, "%Y-%m-%d")) ": median " (duration(*median)) ", p90 " (duration(*p90)) }
                    }
                }
            }
        }
    }
}

/// Horizontal bars: one per `(name, count)`.
pub fn bars(rows: &[(String, usize)], label: &str) -> Markup {
    let max = rows
        .iter()
        .map(|(_, count)| *count)
        .max()
        .unwrap_or(0)
        .max(1);
    let row_height = 26u32;
    let height = row_height * u32::try_from(rows.len()).unwrap_or(0).max(1) + 4;
    let bar_width = f64::from(WIDTH - 150 - 40);
    html! {
        svg.chart viewBox={ "0 0 " (WIDTH) " " (height) } role="img" aria-label=(label) {
            title { (label) }
            @for (index, (name, count)) in rows.iter().enumerate() {
                @let top = row_height * u32::try_from(index).unwrap_or(0) + 4;
                text.axis x="142" y=(top + 15) text-anchor="end" { (name) }
                rect.bar x="150" y=(top) height="18" rx="3"
                    width=(format!("{:.1}", bar_width * *count as f64 / max as f64)) {}
                text.axis x=(format!("{:.1}", 156.0 + bar_width * *count as f64 / max as f64)) y=(top + 15) { (count) }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Spread;

    #[test]
    fn the_axis_fits_the_largest_value_in_four_steps() {
        assert_eq!(step(1), 15_000);
        assert_eq!(step(61_000), 60_000);
        assert_eq!(step(5 * 3_600_000), 7_200_000);
    }

    #[test]
    fn weeks_without_incidents_break_the_line() {
        let spread = |median| {
            Some(Spread {
                count: 1,
                median,
                p90: median * 2,
            })
        };
        let week = |start, spread| Week {
            start,
            incidents: 1,
            spreads: [spread, None, None],
        };
        let weeks = [
            week(0, spread(60_000)),
            week(1, None),
            week(2, spread(120_000)),
            week(3, spread(60_000)),
        ];
        let svg = weekly(&weeks, 0, "Time to acknowledge").into_string();
        assert_eq!(
            svg.matches("<polyline class=\"median\"").count(),
            2,
            "{svg}"
        );
        assert_eq!(svg.matches("<circle").count(), 3, "{svg}");
        assert!(svg.contains("median 2m, p90 4m"), "{svg}");
        let none = weekly(&[week(0, None)], 1, "Time to mitigate").into_string();
        assert!(none.contains("Nothing measured in these weeks"), "{none}");
    }
}
