//! End-to-end: the web pages in a real browser (headless Chromium) against real Synapse and
//! the bot. People sign in with their Matrix account; what they file is read back through
//! Matrix clients. Screenshots of each page, light and dark, go to `target/screenshots/`.

use std::path::Path;

use anyhow::{ensure, Context, Result};
use brigade_tests::{
    browser::Browser,
    client::{body, TestUser},
    desk::{incident_state, until, Desk},
    servers::shared as servers,
    wait::wait_for,
};
use matrix_sdk::ruma::{api::client::account::request_openid_token, OwnedRoomId};
use serde_json::{json, Value};

fn bot_binary() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_brigade-bot-e2e"))
}

/// Whether `event` is a report the bot filed with `summary`.
fn is_report(event: &Value, summary: &str) -> bool {
    event["content"]["org.brigade.report"]["summary"] == summary
}

/// The room `user` is invited to first, once the invitation has arrived.
async fn invitation(user: &TestUser) -> Result<OwnedRoomId> {
    wait_for(&format!("an invitation for {}", user.user_id), || async {
        user.client
            .invited_rooms()
            .first()
            .map(|room| room.room_id().to_owned())
    })
    .await
}

/// Fills in the report form and sends it.
async fn report(
    browser: &Browser,
    kind: &str,
    summary: &str,
    urgency: &str,
    details: &str,
) -> Result<()> {
    browser.find("#type").await?.select_by_value(kind).await?;
    browser.fill("#summary", summary).await?;
    browser
        .find(&format!("input[name=urgency][value={urgency}]"))
        .await?
        .click()
        .await?;
    browser.fill("#details", details).await?;
    browser
        .find("form[action='/report'] button[type=submit]")
        .await?
        .click()
        .await?;
    Ok(())
}

#[tokio::test]
async fn a_person_signs_in_on_the_report_form_and_the_report_reaches_triage_and_their_dm(
) -> Result<()> {
    let hs = &servers().first;
    let security = TestUser::register(hs, "sec").await?;
    // The first line continues the harness's [rooms] section.
    let extra = format!(
        "private_triage_group = \"security\"\n\
         [[groups]]\nname = \"security\"\nmembers = [\"{}\"]\n",
        security.user_id
    );
    let desk = Desk::new(bot_binary(), &extra).await?;
    let rita = TestUser::register(hs, "rita").await?;
    rita.client
        .account()
        .set_display_name(Some("Rita Reporter"))
        .await?;
    let picture = include_bytes!("../../web/avatar.png");
    rita.client
        .account()
        .upload_avatar(&mime::IMAGE_PNG, picture.to_vec())
        .await?;

    let browser = Browser::start().await?;
    let page = format!("http://{}/report", desk.bot.http);
    browser.client.goto(&format!("{page}?theme=dark")).await?;
    browser.find("#signin").await?;
    browser.screenshot("report-sign-in-dark").await?;
    browser.client.goto(&page).await?;
    browser.screenshot("report-sign-in-light").await?;
    browser.sign_in(&rita, "#summary").await?;
    let text = browser.text().await?;
    ensure!(text.contains("Signed in as Rita Reporter"), "{text}");
    // Her avatar, a thumbnail the page carries (a widget's image requests carry no session).
    let avatar = browser.find(".who .avatar img").await?;
    let source = avatar.attr("src").await?.unwrap_or_default();
    ensure!(source.starts_with("data:image/png;base64,"), "{source}");
    let width = browser
        .client
        .execute(
            "return document.querySelector('.who .avatar img').naturalWidth",
            vec![],
        )
        .await?;
    ensure!(width.as_u64().is_some_and(|width| width > 0), "{width}");
    browser.screenshot("report-form-light").await?;

    // An empty summary is refused on the page, with the field named; nothing is posted.
    report(&browser, "operations", "", "hour", "").await?;
    browser.find("#summary-error").await?;
    browser.screenshot("report-refused-light").await?;

    let summary = "Checkout answers 502 for EU customers";
    report(
        &browser,
        "operations",
        summary,
        "hour",
        "Since 09:40, about one request in five.",
    )
    .await?;
    browser.find(".notice").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Report filed") && text.contains(summary),
        "{text}"
    );
    browser.screenshot("report-filed-light").await?;

    let filed = desk
        .alice
        .wait_for_event(&desk.triage, "the report in triage", |event| {
            is_report(event, summary)
        })
        .await?;
    let text = body(&filed);
    ensure!(
        text.starts_with(&format!("📝 Report from Rita Reporter: {summary}"))
            && text.contains("Type: operations · Urgency: < 1 hour")
            && text.contains("about one request in five"),
        "{text}"
    );
    let html = filed["content"]["formatted_body"]
        .as_str()
        .unwrap_or_default();
    ensure!(
        html.contains(&format!(
            "href=\"https://matrix.to/#/{}\">Rita Reporter</a>",
            rita.user_id
        )),
        "{html}"
    );
    ensure!(filed["content"]["m.mentions"] == json!({}), "{filed}");
    ensure!(
        filed["content"]["org.brigade.report"]["reporter"] == rita.user_id.as_str(),
        "{filed}"
    );
    let reports = desk
        .alice
        .events(&desk.triage)
        .into_iter()
        .filter(|event| event["content"]["org.brigade.report"].is_object())
        .count();
    ensure!(reports == 1, "{reports} reports in triage, not one");

    // The receipt arrives in a DM with the bot, encrypted as DMs are.
    let dm = invitation(&rita).await?;
    rita.join(dm.as_str()).await?;
    let receipt = rita
        .wait_for_event(&dm, "the report's receipt", |event| {
            body(event).starts_with("Thanks: your report")
        })
        .await?;
    ensure!(body(&receipt).contains(summary), "{receipt}");
    ensure!(
        rita.client
            .get_room(&dm)
            .context("the DM")?
            .latest_encryption_state()
            .await?
            .is_encrypted(),
        "the DM is not encrypted"
    );

    // A triager's 🚑 on the report declares it: its summary is the title, its type the type,
    // the triager in command; the reporter is invited and told in their DM.
    let filed_id = filed["event_id"].as_str().context("the report's ID")?;
    let alice = &desk.alice;
    alice.react(&desk.triage, filed_id, "🚑").await?;
    let declared = alice
        .wait_for_event(&desk.triage, "the declaration from the report", |event| {
            event["sender"] == desk.bot.user_id.as_str()
                && event["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == filed_id
        })
        .await
        .with_context(|| desk.bot.log())?;
    ensure!(
        body(&declared).starts_with("Declared **INC-1** from the report by Rita Reporter: [#inc-")
            && body(&declared).contains(&format!("{} is in command", alice.name)),
        "{declared}"
    );
    let told = rita
        .wait_for_event(&dm, "the reporter told which incident", |event| {
            body(event).starts_with("Your report")
        })
        .await?;
    ensure!(
        body(&told).starts_with(&format!(
            "Your report “{summary}” is now **INC-1**, run by {}",
            alice.name
        )),
        "{told}"
    );
    let incident_room = wait_for("the reporter's invitation to the incident", || async {
        rita.client
            .invited_rooms()
            .into_iter()
            .map(|room| room.room_id().to_owned())
            .find(|room| *room != dm)
    })
    .await?;
    rita.join(incident_room.as_str()).await?;
    let state = incident_state(&rita, &incident_room).await?;
    ensure!(
        state["title"] == summary
            && state["type"] == "operations"
            && state["commander"] == alice.user_id.as_str(),
        "{state}"
    );
    // Asked again, by command in reply to the report: it is that incident already.
    let again = desk
        .reply_command(
            alice,
            &desk.triage,
            filed_id,
            "!inc declare --from-report",
            "❓",
        )
        .await?;
    ensure!(again.contains("this report is INC-1 already"), "{again}");
    // `--from-report` answers a report, and only one the bot filed.
    let plain = alice.send_text(&desk.triage, "not a report").await?;
    let refused = desk
        .reply_command(
            alice,
            &desk.triage,
            plain.as_str(),
            "!inc declare --from-report",
            "❓",
        )
        .await?;
    ensure!(refused.contains("not a report Brigade filed"), "{refused}");

    // A security report goes to the private triage room, never to the open one.
    browser.client.goto(&format!("{page}?theme=dark")).await?;
    browser.screenshot("report-form-dark").await?;
    let secret = "Signing key copied to a public bucket";
    report(&browser, "security", secret, "hour", "").await?;
    browser.find(".notice").await?;
    let text = browser.text().await?;
    ensure!(text.contains("the private triage room"), "{text}");
    browser.screenshot("report-filed-dark").await?;
    let private = invitation(&security).await?;
    security.join(private.as_str()).await?;
    let secret_report = security
        .wait_for_event(&private, "the security report", |event| {
            is_report(event, secret)
        })
        .await?;
    ensure!(
        !desk
            .alice
            .events(&desk.triage)
            .iter()
            .any(|event| body(event).contains("Signing key")),
        "the security report showed in the open triage room"
    );
    ensure!(private != desk.triage);
    // A triager there declares it by command: a private incident, in command of it.
    let answer = desk
        .reply_command(
            &security,
            &private,
            secret_report["event_id"]
                .as_str()
                .context("the report's ID")?,
            "!inc declare --from-report --sev 1",
            "✅",
        )
        .await?;
    ensure!(
        answer.starts_with("Declared **INC-2** from the report by Rita Reporter")
            && answer.contains(&format!("{} is in command", security.name)),
        "{answer}"
    );
    let secret_room = invitation(&security).await?;
    security.join(secret_room.as_str()).await?;
    let state = incident_state(&security, &secret_room).await?;
    ensure!(
        state["private"] == true && state["severity"] == "SEV1" && state["title"] == "",
        "the private incident's state shows no title: {state}"
    );
    browser.stop().await?;
    Ok(())
}

#[tokio::test]
async fn a_partner_signs_in_at_their_own_homeserver_and_their_report_reaches_triage() -> Result<()>
{
    let (ours, theirs) = (&servers().first, &servers().second);
    let extra = format!(
        "[access]\nallowed_servers = [\"{ours}\", \"{theirs}\"]\n\
         [[web.homeservers]]\nserver = \"{theirs}\"\nurl = \"{url}\"\nfederation_url = \"{url}\"\n",
        ours = ours.server_name,
        theirs = theirs.server_name,
        url = theirs.url,
    );
    let desk = Desk::new(bot_binary(), &extra).await?;
    let pat = TestUser::register(theirs, "pat").await?;
    pat.client
        .account()
        .set_display_name(Some("Pat Partner"))
        .await?;

    let browser = Browser::start().await?;
    browser
        .client
        .goto(&format!("http://{}/report", desk.bot.http))
        .await?;
    // Someone of a server Brigade signs nobody in at is told so, before any password is sent.
    browser.find("#signin").await?;
    browser.fill("#user", "@eve:elsewhere.example").await?;
    browser.fill("#password", "anything").await?;
    browser
        .find("#signin button[type=submit]")
        .await?
        .click()
        .await?;
    let status = browser.find("#signin-status").await?.text().await?;
    ensure!(
        status.contains(&format!(
            "signs in people of {}, {}, not of elsewhere.example",
            ours.server_name, theirs.server_name
        )),
        "{status}"
    );
    // Their full ID picks their own homeserver, where they sign in.
    browser.fill("#user", pat.user_id.as_str()).await?;
    let picked = browser.find("#homeserver").await?.prop("value").await?;
    ensure!(picked.as_deref() == Some(theirs.url.as_str()), "{picked:?}");
    browser.fill("#password", &pat.password).await?;
    browser.screenshot("report-sign-in-partner-light").await?;
    browser
        .find("#signin button[type=submit]")
        .await?
        .click()
        .await?;
    browser.find("#summary").await?;
    let text = browser.text().await?;
    ensure!(text.contains("Signed in as Pat Partner"), "{text}");

    let summary = "Our webhook calls to your API time out";
    report(&browser, "customer", summary, "day", "").await?;
    browser.find(".notice").await?;
    let filed = desk
        .alice
        .wait_for_event(&desk.triage, "the partner's report in triage", |event| {
            is_report(event, summary)
        })
        .await?;
    ensure!(
        body(&filed).starts_with(&format!("📝 Report from Pat Partner: {summary}"))
            && filed["content"]["org.brigade.report"]["reporter"] == pat.user_id.as_str(),
        "{filed}"
    );
    // Their receipt arrives over federation, in a DM on the bot's server, sent before they
    // joined: read back from the room's history, as Element does.
    let dm = invitation(&pat).await?;
    pat.join(dm.as_str()).await?;
    let receipt = wait_for("the partner's receipt", || async {
        let history = pat.history(&dm).await.ok()?;
        history
            .into_iter()
            .find(|event| body(event).starts_with("Thanks: your report"))
    })
    .await?;
    ensure!(body(&receipt).contains(summary), "{receipt}");
    browser.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_dashboard_shows_an_incident_declared_by_command_and_its_charts_once_resolved(
) -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let incident = desk.declare("Checkout answers slowly --sev 2").await?;
    let browser = Browser::start().await?;
    let page = format!("http://{}/dashboard", desk.bot.http);
    browser.client.goto(&page).await?;
    browser.sign_in(&desk.alice, "#open-title").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Open incidents") && text.contains("Checkout answers slowly"),
        "{text}"
    );
    ensure!(
        text.contains("SEV2") && text.contains("investigating"),
        "{text}"
    );
    browser.screenshot("dashboard-open-light").await?;

    for status in ["monitoring", "resolved"] {
        desk.command(
            &desk.alice,
            &incident.room,
            &format!("!inc status {status}"),
            "✅",
        )
        .await?;
    }
    browser.client.goto(&format!("{page}?theme=dark")).await?;
    browser.find("#recent-title").await?;
    let text = browser.text().await?;
    ensure!(text.contains("No open incidents."), "{text}");
    let recent = browser
        .find("section[aria-labelledby=recent-title] tbody")
        .await?
        .text()
        .await?;
    ensure!(
        recent.contains("Checkout answers slowly") && recent.contains("resolved"),
        "{recent}"
    );
    // Each chart has a point for this week: time to mitigate and to resolve are known now.
    for chart in ["chart-1", "chart-2"] {
        let points = browser
            .client
            .find_all(fantoccini::Locator::Css(&format!(
                "section[aria-labelledby={chart}] circle"
            )))
            .await?;
        ensure!(points.len() == 1, "{chart}: {} points", points.len());
    }
    browser.screenshot("dashboard-resolved-dark").await?;
    browser.client.goto(&page).await?;
    browser.find("#recent-title").await?;
    browser.screenshot("dashboard-resolved-light").await?;
    browser.stop().await?;
    Ok(())
}

#[tokio::test]
async fn the_panel_acts_as_the_signed_in_person_and_refuses_what_the_command_would() -> Result<()> {
    let hs = &servers().first;
    let desk = Desk::new(bot_binary(), "").await?;
    let incident = desk.declare("Payments time out --sev 3").await?;
    let bob = TestUser::register(hs, "bob").await?;
    let space = format!("#{}-incidents:{}", desk.bot.rooms_prefix, hs.server_name);
    bob.join(&space).await?;
    bob.join(&incident.alias).await?;

    let browser = Browser::start().await?;
    let page = format!("http://{}/incident/{}", desk.bot.http, incident.room);
    browser.client.goto(&page).await?;
    browser.sign_in(&bob, "#actions-title").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Payments time out") && text.contains("SEV3"),
        "{text}"
    );
    browser.screenshot("panel-member-light").await?;

    // Anyone in the room acknowledges; only the commander or a moderator sets the severity.
    browser.find("#acknowledge").await?.click().await?;
    browser.find(".notice").await?;
    let text = browser.text().await?;
    ensure!(text.contains("is looking into it"), "{text}");
    browser
        .find("#severity")
        .await?
        .select_by_value("SEV1")
        .await?;
    browser.find("#set-severity").await?.click().await?;
    browser.find(".alert").await?;
    let text = browser.text().await?;
    ensure!(text.contains("Not done: only the commander"), "{text}");
    browser.screenshot("panel-refused-light").await?;
    let state = incident_state(&desk.alice, &incident.room).await?;
    ensure!(state["severity"] == "SEV3", "{state}");
    let acknowledged = desk
        .alice
        .wait_for_event(&incident.room, "the panel's acknowledgement", |event| {
            body(event).contains("is looking into it")
                && body(event).contains(&format!("from the incident panel, by {}", bob.name))
        })
        .await?;
    ensure!(
        acknowledged["sender"] == desk.bot.user_id.as_str(),
        "{acknowledged}"
    );

    // The commander signs in and sets the status and the severity.
    browser.sign_out().await?;
    browser.client.goto(&format!("{page}?theme=dark")).await?;
    browser.sign_in(&desk.alice, "#actions-title").await?;
    browser
        .find("#status")
        .await?
        .select_by_value("monitoring")
        .await?;
    browser.fill("#note", "Rolled back the gateway").await?;
    browser.find("#set-status").await?.click().await?;
    browser.find(".notice").await?;
    browser
        .find("#severity")
        .await?
        .select_by_value("SEV2")
        .await?;
    browser.find("#set-severity").await?.click().await?;
    browser.find(".notice").await?;
    browser.screenshot("panel-commander-dark").await?;
    until(
        "the incident to be monitoring at SEV2",
        || incident_state(&desk.alice, &incident.room),
        |state| state["status"] == "monitoring" && state["severity"] == "SEV2",
    )
    .await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Rolled back the gateway"),
        "the timeline shows the update: {text}"
    );
    browser.client.goto(&page).await?;
    browser.find("#timeline-title").await?;
    browser.screenshot("panel-commander-light").await?;
    browser.stop().await?;
    Ok(())
}

/// The tests' stand-in for Element: a page that embeds a widget and answers its widget API
/// requests (`tests/web/host.js`, built with matrix-widget-api's `ClientWidgetApi`).
const HOST_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
    <title>Element stand-in</title></head><body style=\"margin:0\">\
    <script src=\"/host-bundle.js\"></script></body></html>";
const HOST_BUNDLE: &str = include_str!("../../web/host-bundle.js");

/// Serves the host page on `localhost` (another site than the bot's 127.0.0.1, as Element is
/// another site than Brigade); its address.
async fn host() -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let app = axum::Router::new()
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Html(HOST_PAGE) }),
        )
        .route(
            "/host-bundle.js",
            axum::routing::get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "text/javascript")],
                    HOST_BUNDLE,
                )
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(format!("http://localhost:{port}/"))
}

#[tokio::test]
async fn the_panel_is_an_element_widget_signed_in_by_the_widget_api() -> Result<()> {
    let hs = &servers().first;
    let desk = Desk::new(bot_binary(), "").await?;
    let incident = desk.declare("Search is down --sev 2").await?;

    // The room was made with the panel in its state, pinned to the top bar; triage has the form.
    let panel = desk
        .alice
        .state(&incident.room, "im.vector.modular.widgets", "brigade-panel")
        .await?
        .context("the panel's widget state")?;
    let template = panel["url"].as_str().context("a widget URL")?.to_owned();
    ensure!(
        template
            == format!(
                "http://{}/incident/$matrix_room_id?theme=$org.matrix.msc2873.client_theme",
                desk.bot.http
            ),
        "{panel}"
    );
    ensure!(
        !panel.to_string().contains("Search"),
        "the widget names the incident: {panel}"
    );
    let layout = desk
        .alice
        .state(&incident.room, "io.element.widgets.layout", "")
        .await?
        .context("the layout")?;
    ensure!(
        layout["widgets"]["brigade-panel"]["container"] == "top",
        "{layout}"
    );
    until(
        "the report form in triage",
        || {
            desk.alice
                .state(&desk.triage, "im.vector.modular.widgets", "brigade-report")
        },
        |form| {
            form.as_ref()
                .is_some_and(|form| form["name"] == "Report a problem")
        },
    )
    .await?;

    // Only the commander or a moderator takes it away; it comes back.
    let bob = TestUser::register(hs, "bob").await?;
    bob.join(&format!(
        "#{}-incidents:{}",
        desk.bot.rooms_prefix, hs.server_name
    ))
    .await?;
    bob.join(&incident.alias).await?;
    let refused = desk
        .command(&bob, &incident.room, "!inc widget off", "❓")
        .await?;
    ensure!(refused.contains("only the commander"), "{refused}");
    desk.command(&desk.alice, &incident.room, "!inc widget off", "✅")
        .await?;
    let removed = desk
        .alice
        .state(&incident.room, "im.vector.modular.widgets", "brigade-panel")
        .await?;
    ensure!(
        removed.as_ref().is_none_or(|content| *content == json!({})),
        "{removed:?}"
    );
    desk.command(&desk.alice, &incident.room, "!inc widget on", "✅")
        .await?;
    let back = desk
        .alice
        .state(&incident.room, "im.vector.modular.widgets", "brigade-panel")
        .await?;
    ensure!(
        back.is_some_and(|content| content["url"] == template.as_str()),
        "the panel came back"
    );

    // In the stand-in for Element, the widget signs in with the token Element gives it.
    let token = desk
        .alice
        .client
        .send(request_openid_token::v3::Request::new(
            desk.alice.user_id.clone(),
        ))
        .await?;
    let credentials = json!({
        "access_token": token.access_token,
        "token_type": "Bearer",
        "matrix_server_name": token.matrix_server_name.as_str(),
        "expires_in": token.expires_in.as_secs(),
        "user_id": desk.alice.user_id.as_str(),
    });
    let browser = Browser::start().await?;
    browser.client.goto(&host().await?).await?;
    let url = template
        .replace("$matrix_room_id", incident.room.as_str())
        .replace("$org.matrix.msc2873.client_theme", "dark");
    browser
        .client
        .execute(
            "window.brigadeOpenId = arguments[0]; window.brigadeEmbed(arguments[1]);",
            vec![credentials, json!(url)],
        )
        .await?;
    browser.find("body[data-widget=ready]").await?;
    browser.client.clone().enter_frame(0).await?;
    browser.find("#actions-title").await?;
    let text = browser.text().await?;
    ensure!(
        text.contains("Search is down") && text.contains("Signed in as"),
        "{text}"
    );
    browser.find("#acknowledge").await?.click().await?;
    if let Err(error) = browser.find(".notice").await {
        let text = browser.text().await.unwrap_or_default();
        return Err(error.context(format!("the widget shows: {text}")));
    }
    let text = browser.text().await?;
    ensure!(text.contains("is looking into it"), "{text}");
    browser.client.clone().enter_parent_frame().await?;
    browser.screenshot("panel-widget-dark").await?;
    until(
        "the acknowledgement in the incident",
        || incident_state(&desk.alice, &incident.room),
        |state| state["timestamps"]["acknowledged"].is_u64(),
    )
    .await?;
    browser.stop().await?;
    Ok(())
}

/// Asks the bot for a session with `token` from `server`; the status and the answer.
async fn exchange(bot: &str, server: &str, token: &str) -> Result<(u16, Value)> {
    let answer = reqwest::Client::new()
        .post(format!("http://{bot}/session"))
        .json(&json!({ "matrix_server_name": server, "access_token": token }))
        .send()
        .await?;
    Ok((answer.status().as_u16(), answer.json().await?))
}

#[tokio::test]
async fn an_openid_token_is_verified_with_the_homeserver_that_issued_it() -> Result<()> {
    let desk = Desk::new(bot_binary(), "").await?;
    let bot = desk.bot.http.to_string();
    let token = desk
        .alice
        .client
        .send(request_openid_token::v3::Request::new(
            desk.alice.user_id.clone(),
        ))
        .await?;
    let server = token.matrix_server_name.to_string();
    let (status, answer) = exchange(&bot, &server, &token.access_token).await?;
    ensure!(status == 200, "{status}: {answer}");
    ensure!(answer["user_id"] == desk.alice.user_id.as_str(), "{answer}");
    let session = answer["session"].as_str().context("a session token")?;
    let who: Value = reqwest::Client::new()
        .get(format!("http://{bot}/session"))
        .bearer_auth(session)
        .send()
        .await?
        .json()
        .await?;
    ensure!(who["user_id"] == desk.alice.user_id.as_str(), "{who}");

    // A token the homeserver never issued, and one claimed for a server not allowed.
    let (status, answer) = exchange(&bot, &server, "forged-token").await?;
    ensure!(status == 401, "{status}: {answer}");
    ensure!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("does not know this token"),
        "{answer}"
    );
    let (status, answer) = exchange(&bot, "elsewhere.example", &token.access_token).await?;
    ensure!(status == 403, "{status}: {answer}");
    Ok(())
}
