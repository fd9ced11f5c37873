//! End-to-end: `!inc transcript`, the room's whole history as Markdown and HTML files, read
//! back from a real room. Real Synapse, people as matrix-sdk clients.

use std::path::Path;

use anyhow::{Context, Result};
use brigade_tests::{
    client::{body, TestUser},
    desk::{Desk, Incident},
    servers::shared as servers,
};
use matrix_sdk::ruma::{OwnedEventId, RoomId};
use serde_json::Value;

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// The latest post by the bot in `room` whose body contains `marker`, as posted.
async fn bot_post(desk: &Desk, room: &RoomId, marker: &str) -> Result<Value> {
    let bot = desk.bot_id().to_owned();
    desk.alice
        .wait_for_event(room, marker, |event| {
            event["type"] == "m.room.message"
                && event["sender"] == bot.as_str()
                && event["content"]["m.relates_to"].is_null()
                && body(event).contains(marker)
        })
        .await
        .with_context(|| desk.bot.log())
}

/// The downloaded text of the bot's file `name` in `room`.
async fn bot_file(desk: &Desk, room: &RoomId, name: &str) -> Result<(Value, String)> {
    let file = bot_post(desk, room, name).await?;
    let url = file["content"]["url"]
        .as_str()
        .context("the file's mxc URL")?;
    let data = desk
        .alice
        .download(matrix_sdk::ruma::events::room::MediaSource::Plain(
            url.into(),
        ))
        .await?;
    Ok((file, String::from_utf8(data)?))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transcript_is_the_rooms_whole_history_in_markdown_and_html() -> Result<()> {
    let bob = TestUser::register(&servers().first, "bob").await?;
    let desk = Desk::new(bot_binary(), "").await?;
    let alice = &desk.alice;
    let Incident { room, .. } = desk.declare("Disk full on db-1 --sev 2").await?;
    desk.page_in(&room, &bob).await?;

    // The script: talk, an edit, a redaction, a thread reply, a file, reactions.
    let full = bob.send_text(&room, "disk at 100%").await?;
    bob.edit(&room, full.as_str(), "disk at 100% on db-1")
        .await?;
    let wrong = bob.send_text(&room, "wrong room, sorry").await?;
    bob.redact(&room, wrong.as_str()).await?;
    let question = alice
        .client
        .get_room(&room)
        .context("the room")?
        .send_raw(
            "m.room.message",
            serde_json::json!({
                "msgtype": "m.text",
                "body": "which mount?",
                "m.relates_to": {
                    "rel_type": "m.thread",
                    "event_id": full,
                    "is_falling_back": true,
                },
            }),
        )
        .await?
        .response
        .event_id;
    let df = bob.send_file(&room, "df.txt", b"/dev/sda1 100%").await?;
    alice.react(&room, full.as_str(), "👍").await?;
    bob.react(&room, full.as_str(), "👍").await?;
    alice.react(&room, df.as_str(), "🙏").await?;
    // Bad input: it takes no arguments.
    let refused = desk
        .command(alice, &room, "!inc transcript all", "❓")
        .await?;
    assert!(refused.contains("usage"), "{refused}");
    let answer = desk.command(alice, &room, "!inc transcript", "✅").await?;
    assert!(
        answer.contains("as INC-1-transcript.md and INC-1-transcript.html"),
        "{answer}"
    );

    let (_, markdown) = bot_file(&desk, &room, "INC-1-transcript.md").await?;
    // The people's messages, as the file has them (the bot's are there too).
    let at = |id: &OwnedEventId| -> Result<String> {
        let event = alice
            .events(&room)
            .into_iter()
            .find(|event| event["event_id"] == id.as_str())
            .context("the event")?;
        let millis = event["origin_server_ts"].as_i64().context("its time")?;
        Ok(jiff::Timestamp::from_millisecond(millis)?
            .strftime("%Y-%m-%d %H:%M:%S UTC")
            .to_string())
    };
    // Names as the file writes what people typed: every ASCII punctuation mark escaped.
    let typed = |text: &str| {
        text.chars()
            .map(|c| {
                if c.is_ascii_punctuation() {
                    format!("\\{c}")
                } else {
                    c.to_string()
                }
            })
            .collect::<String>()
    };
    let header = |id: &OwnedEventId, who: &TestUser| -> Result<String> {
        Ok(format!(
            "[{}](https://matrix.to/#/{room}/{id}?via={}) · {}**",
            at(id)?,
            desk.bot_id().server_name(),
            typed(&who.name)
        ))
    };
    let blocks: Vec<&str> = markdown.split("\n\n").collect();
    let block = |id: &OwnedEventId| {
        blocks
            .iter()
            .find(|block| block.contains(&format!("/{id}?")))
            .map(|block| block.to_string())
            .with_context(|| format!("{id} in {markdown}"))
    };
    assert_eq!(
        block(&full)?,
        format!(
            "**{} (edited)  \ndisk at 100\\% on db\\-1  \n_Reactions: 👍 2_",
            header(&full, &bob)?
        )
    );
    assert_eq!(
        block(&question)?,
        format!("> **{}  \n> which mount\\?", header(&question, alice)?),
        "the reply under its root"
    );
    assert_eq!(
        block(&wrong)?,
        format!("**{}  \n_(removed)_", header(&wrong, &bob)?)
    );
    let file = block(&df)?;
    assert!(
        file.starts_with(&format!(
            "**{}  \n📎 [df\\.txt](<mxc://",
            header(&df, &bob)?
        )) && file.ends_with("_Reactions: 🙏 1_"),
        "{file}"
    );
    let order: Vec<usize> = [&full, &question, &wrong, &df]
        .iter()
        .map(|id| markdown.find(&format!("/{id}?")).unwrap_or_default())
        .collect();
    assert!(
        order.windows(2).all(|pair| pair[0] < pair[1]),
        "in order: {markdown}"
    );
    assert!(
        !markdown.contains("wrong room"),
        "a redacted message's words are gone: {markdown}"
    );

    let (file, html) = bot_file(&desk, &room, "INC-1-transcript.html").await?;
    assert_eq!(
        file["content"]["info"]["mimetype"],
        "text/html; charset=utf-8"
    );
    assert!(html.starts_with("<!DOCTYPE html>"), "{html}");
    assert!(html.contains("disk at 100% on db-1"), "{html}");
    assert!(!html.contains("<script"), "{html}");
    Ok(())
}
