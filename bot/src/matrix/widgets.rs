//! Brigade's pages as Element widgets (SPEC §10): the report form in triage, the incident panel
//! in each incident room (`im.vector.modular.widgets`), each pinned to the room's top bar
//! (`io.element.widgets.layout`); and an incident's Jitsi call (SPEC §16), pinned beside the
//! panel. The panel's URL names no room: Element fills in
//! `$matrix_room_id`, so one definition fits every room and, in a private incident, the
//! widget's state carries no title.

use matrix_sdk::{ruma::UserId, Room};
use serde_json::{json, Value};
use tracing::{info, warn};
use url::Url;

use super::bot::Bot;

/// The state key (and widget ID) of the incident panel.
pub const PANEL: &str = "brigade-panel";
/// The state key (and widget ID) of the report form.
pub const REPORT: &str = "brigade-report";
/// The state key (and widget ID) of an incident's Jitsi call.
pub const CALL: &str = "brigade-call";
const WIDGETS: &str = "im.vector.modular.widgets";
const LAYOUT: &str = "io.element.widgets.layout";
/// Element passes its theme to widgets through this variable.
const THEME: &str = "theme=$org.matrix.msc2873.client_theme";
/// How much of the room's height each pinned page takes, in percent.
const PANEL_HEIGHT: u32 = 45;
const REPORT_HEIGHT: u32 = 50;

/// The page at `path` under `public`, for a widget URL (Element's variables left in).
fn url(public: &Url, path: &str) -> String {
    format!("{}/{path}?{THEME}", public.as_str().trim_end_matches('/'))
}

/// The widget `id`'s content: `name` showing `url`, added by `creator`.
fn widget(id: &str, name: &str, url: String, creator: &UserId) -> Value {
    json!({
        "id": id,
        "type": "m.custom",
        "name": name,
        "url": url,
        "data": {},
        "creatorUserId": creator,
        "waitForIframeLoad": true,
    })
}

/// The layout that pins widget `id` to the top bar.
fn layout(id: &str, height: u32) -> Value {
    json!({ "widgets": { id: { "container": "top", "index": 0, "width": 100, "height": height } } })
}

/// The incident panel's state events, for a new incident room's initial state.
pub fn panel_state(public: &Url, creator: &UserId) -> [Value; 2] {
    let panel = widget(
        PANEL,
        "Incident panel",
        url(public, "incident/$matrix_room_id"),
        creator,
    );
    [
        json!({ "type": WIDGETS, "state_key": PANEL, "content": panel }),
        json!({ "type": LAYOUT, "state_key": "", "content": layout(PANEL, PANEL_HEIGHT) }),
    ]
}

/// The room's layout with widget `id` pinned (`Some(height)`) or unpinned (`None`), every
/// other widget's place kept.
async fn relayout(room: &Room, id: &str, height: Option<u32>) -> Result<Value, matrix_sdk::Error> {
    use matrix_sdk::deserialized_responses::RawAnySyncOrStrippedState;
    let current = match room.get_state_event(LAYOUT.into(), "").await? {
        Some(RawAnySyncOrStrippedState::Sync(raw)) => raw.deserialize_as::<Value>().ok(),
        _ => None,
    };
    let mut content = current
        .map(|event| event["content"].clone())
        .filter(|content| content["widgets"].is_object())
        .unwrap_or_else(|| json!({ "widgets": {} }));
    match height {
        Some(height) => content["widgets"][id] = layout(id, height)["widgets"][id].clone(),
        None => {
            if let Some(widgets) = content["widgets"].as_object_mut() {
                widgets.remove(id);
            }
        }
    }
    Ok(content)
}

/// The Jitsi widget of `conference` on `domain`, named `name`. Element shows it through its own
/// Jitsi wrapper, from `data`; other clients open `url`.
fn jitsi(domain: &str, conference: &str, name: &str, creator: &UserId) -> Value {
    json!({
        "id": CALL,
        "type": "m.jitsi",
        "name": name,
        "url": format!("https://{domain}/{conference}"),
        // `roomName` is the conference's subject in Element's wrapper.
        "data": {
            "domain": domain,
            "conferenceId": conference,
            "isAudioOnly": false,
            "roomName": name,
        },
        "creatorUserId": creator,
        "waitForIframeLoad": false,
    })
}

/// Puts the Jitsi call on `domain` in `room` as a widget named `name`, pinned to the top bar
/// beside what is there (the panel), each taking an equal share of its width.
pub async fn put_jitsi(
    bot: &Bot,
    room: &Room,
    domain: &str,
    conference: &str,
    name: &str,
) -> Result<(), matrix_sdk::Error> {
    let widget = jitsi(domain, conference, name, &bot.config.matrix.user_id);
    room.send_state_event_raw(WIDGETS, CALL, widget).await?;
    let mut pinned = relayout(room, CALL, Some(PANEL_HEIGHT)).await?;
    if let Some(widgets) = pinned["widgets"].as_object_mut() {
        // The others in their order, then the call.
        let mut others: Vec<(String, i64)> = widgets
            .iter()
            .filter(|(id, place)| *id != CALL && place["container"] == "top")
            .map(|(id, place)| (id.clone(), place["index"].as_i64().unwrap_or(0)))
            .collect();
        others.sort_by_key(|(_, index)| *index);
        others.push((CALL.to_owned(), 0));
        let width = 100 / others.len();
        for (index, (id, _)) in others.iter().enumerate() {
            widgets[id]["index"] = json!(index);
            widgets[id]["width"] = json!(width);
        }
    }
    room.send_state_event_raw(LAYOUT, "", pinned).await?;
    Ok(())
}

/// Turns the panel on or off in `room`.
pub async fn set_panel(bot: &Bot, room: &Room, on: bool) -> Result<(), matrix_sdk::Error> {
    let panel = if on {
        let [panel, _] = panel_state(&bot.config.web.public_url, &bot.config.matrix.user_id);
        panel["content"].clone()
    } else {
        // An empty content removes a widget, as Element does.
        json!({})
    };
    room.send_state_event_raw(WIDGETS, PANEL, panel).await?;
    let pinned = relayout(room, PANEL, on.then_some(PANEL_HEIGHT)).await?;
    room.send_state_event_raw(LAYOUT, "", pinned).await?;
    Ok(())
}

/// Adds the report form to triage, pinned, unless it is there (or someone removed it: a
/// widget whose state is empty stays removed).
pub async fn ensure_report_form(bot: &Bot) {
    if !bot.config.web.widgets {
        return;
    }
    let Some(room) = bot.client.get_room(&bot.rooms.triage) else {
        return;
    };
    match room.get_state_event(WIDGETS.into(), REPORT).await {
        Ok(Some(_)) => return,
        Ok(None) => {}
        Err(error) => {
            warn!(%error, "cannot read triage's widgets");
            return;
        }
    }
    let form = widget(
        REPORT,
        "Report a problem",
        url(&bot.config.web.public_url, "report"),
        &bot.config.matrix.user_id,
    );
    let added = async {
        room.send_state_event_raw(WIDGETS, REPORT, form).await?;
        let pinned = relayout(&room, REPORT, Some(REPORT_HEIGHT)).await?;
        room.send_state_event_raw(LAYOUT, "", pinned).await
    };
    match added.await {
        Ok(_) => info!("added the report form to triage as a widget"),
        Err(error) => warn!(%error, "cannot add the report form to triage"),
    }
}

#[cfg(test)]
mod tests {
    use matrix_sdk::ruma::user_id;

    use super::*;

    #[test]
    fn the_panel_names_no_room_and_no_title() {
        let public = Url::parse("https://brigade.example.org/").expect("url");
        let [panel, layout] = panel_state(&public, user_id!("@brigade:example.org"));
        assert_eq!(
            panel["content"]["url"],
            "https://brigade.example.org/incident/$matrix_room_id?theme=$org.matrix.msc2873.client_theme"
        );
        assert_eq!(panel["content"]["name"], "Incident panel");
        assert_eq!(panel["state_key"], PANEL);
        assert_eq!(layout["content"]["widgets"][PANEL]["container"], "top");
    }
}
