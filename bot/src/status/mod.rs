//! The public status page (SPEC §15): a static site built from the stored incidents, written
//! to a directory the bot serves at `/status/` and an operator may copy anywhere. It shows each
//! component's state, the ongoing incidents with their public updates and those of the last 90
//! days; an Atom feed of the public updates; and JSON in the shape of Atlassian Statuspage's
//! API (`summary.json`, `incidents.json`), which status-page tooling reads.
//!
//! Only what was said for the public is published: an incident appears once it affects a
//! component or has a public update, never when private or hidden, and its updates are the
//! public ones, without who wrote them. The site depends on the incidents and the day alone
//! (its time is the last change's), so building it again changes nothing until they do.

mod api;
mod feed;
pub mod labels;
mod page;
pub mod push;
mod site;
#[cfg(test)]
mod tests;
pub mod writer;

pub use page::status_word;
pub use site::{ComponentState, PublicIncident, PublicUpdate, Site};

/// The files of the site, by name, as they are written and served.
pub const FILES: [(&str, &str); 5] = [
    ("index.html", "text/html; charset=utf-8"),
    ("status.css", "text/css; charset=utf-8"),
    ("feed.atom", "application/atom+xml; charset=utf-8"),
    ("summary.json", "application/json"),
    ("incidents.json", "application/json"),
];

/// The files of `site`, named as [`FILES`] names them.
pub fn files(site: &Site) -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("index.html", page::render(site).into_string().into_bytes()),
        ("status.css", page::STYLESHEET.as_bytes().to_vec()),
        ("feed.atom", feed::render(site).into_bytes()),
        ("summary.json", api::summary(site)),
        ("incidents.json", api::incidents(site)),
    ]
}
