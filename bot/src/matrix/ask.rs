//! Questions in plain words, and words that call for specialists.
//!
//! "Who is on call?" (in English or French) in a direct message with the bot gets the answer
//! of `!inc oncall`. In an incident room, a declared title or a message that mentions a
//! configured route's keyword brings a suggestion to page the route's people (or pages them,
//! when the route says so), once per incident and route.

use std::time::Duration;

use brigade_core::record::IncidentRecord;
use matrix_sdk::{
    ruma::events::room::{
        history_visibility::HistoryVisibility,
        join_rules::JoinRule,
        message::{MessageType, OriginalSyncRoomMessageEvent},
    },
    Room, RoomMemberships,
};
use tracing::{info, warn};

use super::{
    bot::Bot,
    change::Change,
    error::ActionError,
    exec::page::page,
    names,
    once::{self, Claim},
    reply::{notice, transaction_id},
};
use crate::{
    commands::{decide, PageTarget},
    config::{Route, RouteTarget},
    oncall, render,
};

/// Answers "who is on call?" in a direct message. True when the message was that question.
pub async fn question(
    bot: &Bot,
    room: &Room,
    message: &OriginalSyncRoomMessageEvent,
) -> Result<bool, ActionError> {
    let MessageType::Text(text) = &message.content.msgtype else {
        return Ok(false);
    };
    let teams = bot.config.oncall.iter().map(|rotation| {
        let team = rotation.team();
        (team, team)
    });
    let keywords = bot
        .config
        .routes
        .iter()
        .flat_map(|route| match &route.target {
            RouteTarget::OnCall(team) => route
                .keywords
                .iter()
                .map(|keyword| (keyword.as_str(), team.as_str()))
                .collect(),
            RouteTarget::Group(_) | RouteTarget::Escalation(_) => Vec::new(),
        });
    let Some(team) = oncall::question(&text.body, teams.chain(keywords)) else {
        return Ok(false);
    };
    if !is_direct(bot, room).await? || !bot.config.access.allows(&message.sender) {
        return Ok(false);
    }
    match once::claim(bot, &message.event_id, message.origin_server_ts).await? {
        Claim::Run { .. } => {}
        Claim::Handled | Claim::Stale { .. } => return Ok(true),
    }
    let now = oncall::timestamp(bot.clock.now_millis());
    let people = oncall::people(&bot.config.oncall, now);
    let names = names::of_anyone(room, people.iter().map(|user| &**user)).await;
    let text = oncall::answer(&bot.config.oncall, team.as_deref(), now, &names)
        .unwrap_or_else(|refusal| format!("I cannot tell: {refusal}"));
    room.send(notice(&text))
        .with_transaction_id(transaction_id(&message.event_id, "oncall"))
        .await?;
    once::record(
        bot,
        &message.event_id,
        message.origin_server_ts,
        brigade_core::store::Outcome::Done,
    )
    .await?;
    Ok(true)
}

/// A room with the bot and one person, that is none of Brigade's own rooms, that nobody else
/// can join or read without an invitation, and to which nobody else is invited or knocking:
/// what is said there stays between the two.
pub async fn is_direct(bot: &Bot, room: &Room) -> Result<bool, ActionError> {
    let rooms = &bot.rooms;
    let own = [
        &rooms.space,
        &rooms.triage,
        &rooms.announcements,
        &rooms.postmortems,
        &rooms.archive,
    ];
    if own.contains(&&room.room_id().to_owned())
        || bot.store.incident(room.room_id()).await?.is_some()
    {
        return Ok(false);
    }
    let closed = matches!(
        room.join_rule(),
        None | Some(JoinRule::Invite | JoinRule::Private)
    );
    if !closed || room.history_visibility() == Some(HistoryVisibility::WorldReadable) {
        return Ok(false);
    }
    // Asked of the members list (fetched when the sync did not carry it), not of the room
    // summary, which Synapse sends only with lazy-loaded members.
    let present = RoomMemberships::JOIN | RoomMemberships::INVITE | RoomMemberships::KNOCK;
    Ok(room.members(present).await?.len() == 2)
}

/// Suggests (or pages) the people of every route `text` matches in the incident of the
/// change's room, once per incident and route. The change's cause is the message or
/// declaration whose words matched.
pub async fn route(change: &Change<'_>, text: &str) -> Result<(), ActionError> {
    let (bot, room, sender, sent) = (change.bot, change.room, change.sender, change.sent);
    // What the bot missed while it was down long ago, or what people of other servers say,
    // calls for nobody.
    let age = Duration::from_millis(bot.clock.now_millis().saturating_sub(sent));
    if age > bot.config.commands.max_age || !bot.config.access.allows(sender) {
        return Ok(());
    }
    // Only a matching word costs a read of the store: this runs for every message.
    for route in &bot.config.routes {
        let Some(keyword) = route.matches(text) else {
            continue;
        };
        // Read again for each route: the one before may have stored its turn.
        let Some(record) = bot.store.incident(room.room_id()).await? else {
            return Ok(());
        };
        let argument = route.page_argument();
        if !record.incident.status.is_open() || record.routed.contains(&argument) {
            continue;
        }
        suggest(&change.by_brigade(), record, route, keyword).await?;
    }
    Ok(())
}

async fn suggest(
    change: &Change<'_>,
    mut record: IncidentRecord,
    route: &Route,
    keyword: &str,
) -> Result<(), ActionError> {
    let (bot, room) = (change.bot, change.room);
    let argument = route.page_argument();
    let source = format!("{}\u{0}{argument}", room.room_id());
    if route.page {
        let target = match &route.target {
            RouteTarget::Group(name) | RouteTarget::Escalation(name) => {
                PageTarget::Named(name.clone())
            }
            RouteTarget::OnCall(team) => PageTarget::OnCall(team.clone()),
        };
        let now = oncall::timestamp(bot.clock.now_millis());
        let paging = match decide::page(&[target], &bot.config, now) {
            Ok(paging) => paging,
            Err(refusal) => {
                warn!(route = %argument, %refusal, "nobody to page for a route");
                return Ok(());
            }
        };
        // Said before the page, whose stored change ends the route's turn for this incident.
        let text = format!(
            "💡 “{}” was mentioned: paging **{argument}**.",
            render::escape(keyword)
        );
        room.send(notice(&text))
            .with_transaction_id(transaction_id(&source, "route"))
            .await?;
        record.routed.push(argument.clone());
        page(change, record, &paging, &format!("page-{argument}")).await?;
        info!(route = %argument, keyword, "paged on a keyword");
        return Ok(());
    }
    let text = format!(
        "💡 “{}” was mentioned: this may be one for **{argument}**. Page them with `!inc page {argument}`.",
        render::escape(keyword)
    );
    room.send(notice(&text))
        .with_transaction_id(transaction_id(&source, "route"))
        .await?;
    record.routed.push(argument.clone());
    bot.store.save_incident(&record).await?;
    info!(route = %argument, keyword, "suggested paging on a keyword");
    Ok(())
}
