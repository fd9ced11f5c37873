//! What an alert's labels do to the status page: the `component` they name and its `impact`,
//! read against the page's components, and what to say of it under the alert.

use brigade_core::{events::AlertContent, incident::Impact};

use crate::{config::StatusConfig, render};

/// What `alert` does to the status page (its `component` and `impact`), and what to say of
/// it: where the page shows it, or why it does not.
pub fn affects(
    status: &StatusConfig,
    alert: &AlertContent,
) -> (Option<(String, Impact)>, Option<String>) {
    let Some(typed) = &alert.component else {
        return (None, None);
    };
    let Some(component) = status.component(typed) else {
        let why = status.unknown(typed);
        return (
            None,
            Some(format!("The status page does not show it: {why}.")),
        );
    };
    let name = &component.name;
    let (impact, note) = match &alert.impact {
        None => (Impact::Degraded, String::new()),
        Some(word) => match word.parse() {
            Ok(impact) => (impact, String::new()),
            Err(_) => (
                Impact::Degraded,
                format!(
                    " (its impact `{}` is none of degraded, partial, major)",
                    render::escape(word)
                ),
            ),
        },
    };
    let said = format!(
        "The status page shows {}: {}{note}.",
        render::escape(name),
        impact.label().to_lowercase()
    );
    (Some((name.clone(), impact)), Some(said))
}

#[cfg(test)]
mod tests {
    use brigade_core::testing::alert;

    use super::*;
    use crate::config::Config;

    #[test]
    fn an_alert_ties_its_incident_to_the_component_it_names() {
        let config = Config::for_tests(
            "[status]\n[[status.components]]\nname = \"Checkout\"\n\
             [[status.components]]\nname = \"Search API\"\n",
        );
        let named = |component: Option<&str>, impact: Option<&str>| {
            let alert = AlertContent {
                component: component.map(str::to_owned),
                impact: impact.map(str::to_owned),
                ..alert(1)
            };
            affects(&config.status, &alert)
        };
        assert_eq!(named(None, Some("major")), (None, None));
        assert_eq!(
            named(Some("search-api"), Some("Major")),
            (
                Some(("Search API".to_owned(), Impact::Major)),
                Some("The status page shows Search API: major outage.".to_owned())
            )
        );
        assert_eq!(
            named(Some("checkout"), None).0,
            Some(("Checkout".to_owned(), Impact::Degraded)),
            "degraded unless said"
        );
        let (shown, said) = named(Some("Checkout"), Some("*worse*"));
        assert_eq!(shown, Some(("Checkout".to_owned(), Impact::Degraded)));
        assert_eq!(
            said.as_deref(),
            Some("The status page shows Checkout: degraded performance (its impact `\\*worse\\*` is none of degraded, partial, major).")
        );
        let (shown, said) = named(Some("Billing [x](https://evil)"), Some("major"));
        assert_eq!(shown, None);
        assert_eq!(
            said.as_deref(),
            Some("The status page does not show it: unknown component “Billing \\[x\\](https://evil)”: the status page has Checkout, Search API.")
        );
    }
}
