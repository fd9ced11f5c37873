//! `feed.atom`: an entry for each public update and each resolution, newest first, so a feed
//! reader tells its subscriber what the page says as it changes.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Text};

use super::{
    page::status_word,
    site::{rfc3339, Site},
};

fn date(millis: u64) -> FixedDateTime {
    rfc3339(millis)
        .parse()
        .unwrap_or_else(|_| FixedDateTime::default())
}

/// The feed as XML.
pub fn render(site: &Site) -> String {
    let link = |href: String, rel: &str| Link {
        href,
        rel: rel.to_owned(),
        ..Link::default()
    };
    let mut entries: Vec<(u64, Entry)> = Vec::new();
    for incident in site.ongoing.iter().chain(&site.history) {
        let page = format!("{}#{}", site.url, incident.id());
        let mut said: Vec<(u64, String, String)> = incident
            .updates
            .iter()
            .map(|update| {
                (
                    update.at,
                    status_word(update.status).to_owned(),
                    update.text.clone(),
                )
            })
            .collect();
        if let Some(resolved) = incident.resolved {
            said.push((
                resolved,
                "Resolved".to_owned(),
                "This incident is resolved.".to_owned(),
            ));
        }
        for (at, status, text) in said {
            let entry = Entry {
                title: Text::plain(format!("{}: {status}", incident.title)),
                id: format!("{page}-{at}"),
                updated: date(at),
                published: Some(date(at)),
                links: vec![link(page.clone(), "alternate")],
                content: Some(Content {
                    value: Some(text),
                    content_type: Some("text".to_owned()),
                    ..Content::default()
                }),
                ..Entry::default()
            };
            entries.push((at, entry));
        }
    }
    entries.sort_by_key(|(at, _)| std::cmp::Reverse(*at));
    let feed = Feed {
        title: Text::plain(site.title.clone()),
        id: format!("{}feed.atom", site.url),
        updated: date(site.updated),
        links: vec![
            link(format!("{}feed.atom", site.url), "self"),
            link(site.url.to_string(), "alternate"),
        ],
        authors: vec![atom_syndication::Person {
            name: site.title.clone(),
            uri: Some(site.url.to_string()),
            ..atom_syndication::Person::default()
        }],
        entries: entries.into_iter().map(|(_, entry)| entry).collect(),
        ..Feed::default()
    };
    feed.to_string()
}
