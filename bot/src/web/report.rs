//! `/report`: the report form (SPEC §10). It works without JavaScript once signed in: the form
//! posts, and the answer is a page. A refused field is named beside it, with what was typed
//! kept; nothing is posted to Matrix until every field passes.

use axum::{
    extract::{Query, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    Form,
};
use maud::{html, Markup};
use serde::Deserialize;
use tracing::{info, warn};

use super::{
    page::{document, secure, signin, PageQuery, Theme},
    session::{from_our_page, is_form_key, random_hex, Session},
    state::WebState,
};
use crate::filing::{Draft, FieldError, Filed, Urgency, MAX_DETAILS, MAX_SUMMARY};

/// What the form posts.
#[derive(Debug, Deserialize)]
pub struct ReportPost {
    #[serde(default)]
    csrf: String,
    /// Names this filling-in of the form, so posting it twice files it once.
    #[serde(default)]
    key: String,
    #[serde(flatten)]
    draft: Draft,
}

/// `GET /report`
pub async fn show(
    State(state): State<WebState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
) -> Response {
    let session = state
        .sessions
        .of_request(&headers)
        .map(|(_, session, _)| session);
    let page = match &session {
        Some(session) => form_page(
            &state,
            query.theme,
            session,
            &Draft::default(),
            None,
            StatusCode::OK,
        ),
        None => signed_out(&state, query.theme, StatusCode::OK),
    };
    secure(page, &state.config.web)
}

/// `POST /report`
pub async fn file(
    State(state): State<WebState>,
    Query(query): Query<PageQuery>,
    headers: HeaderMap,
    Form(post): Form<ReportPost>,
) -> Response {
    let theme = query.theme;
    let page = match state.sessions.of_request(&headers) {
        None => signed_out(&state, theme, StatusCode::UNAUTHORIZED),
        Some((_, session, carrier)) => {
            if !from_our_page(&headers, &session, carrier, &post.csrf) {
                warn!(user_id = %session.user_id, "a report post without the page's CSRF value was refused");
                message_page(
                    theme,
                    &session,
                    StatusCode::FORBIDDEN,
                    "Not filed",
                    "This form did not come from Brigade's page (or the page is too old). Open the report form again.",
                )
            } else {
                submit(&state, theme, &session, &post).await
            }
        }
    };
    secure(page, &state.config.web)
}

async fn submit(state: &WebState, theme: Theme, session: &Session, post: &ReportPost) -> Response {
    let refused = |error: FieldError| {
        form_page(
            state,
            theme,
            session,
            &post.draft,
            Some(&error),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    if !is_form_key(&post.key) {
        return refused(FieldError {
            field: "key",
            reason: "the form is incomplete: open the report form again".to_owned(),
        });
    }
    let report = match post.draft.check(&session.user_id, &state.config.incidents) {
        Ok(report) => report,
        Err(error) => return refused(error),
    };
    let not_filed = |status, reason: String| {
        let error = FieldError {
            field: "report",
            reason,
        };
        form_page(state, theme, session, &post.draft, Some(&error), status)
    };
    let Some(desk) = state.desk.get() else {
        return not_filed(
            StatusCode::SERVICE_UNAVAILABLE,
            "Brigade is still starting; send it again in a moment".to_owned(),
        );
    };
    match desk.file(&report, &post.key).await {
        Ok(filed) => {
            info!(user_id = %session.user_id, room_id = %filed.room_id, "a report was filed from the form");
            filed_page(theme, session, &report.summary, &filed)
        }
        Err(error) => {
            warn!(user_id = %session.user_id, %error, "a report could not be filed");
            not_filed(StatusCode::BAD_GATEWAY, format!("{error}; send it again"))
        }
    }
}

fn signed_out(state: &WebState, theme: Theme, status: StatusCode) -> Response {
    let why = if status == StatusCode::UNAUTHORIZED {
        "Your session has ended, so nothing was filed: sign in, then send the report again."
    } else {
        "Reports are filed in your name."
    };
    let body = html! {
        h1 { "Report a problem" }
        p.lead { "Tell the people who handle incidents what is wrong." }
        (signin(&state.config.web, why))
    };
    (
        status,
        document("Report a problem", "/report", theme, None, body),
    )
        .into_response()
}

fn form_page(
    state: &WebState,
    theme: Theme,
    session: &Session,
    draft: &Draft,
    error: Option<&FieldError>,
    status: StatusCode,
) -> Response {
    let incidents = &state.config.incidents;
    let chosen_type = incidents
        .find_type(draft.kind.trim())
        .unwrap_or(incidents.types[0].as_str());
    let chosen_urgency = Urgency::ALL
        .into_iter()
        .find(|urgency| urgency.value() == draft.urgency)
        .unwrap_or(Urgency::Day);
    let wrong = |field: &str| error.filter(|error| error.field == field);
    let field_error = |field: &str| -> Markup {
        html! {
            @if let Some(error) = wrong(field) {
                p.error id={ (field) "-error" } { (error.reason) }
            }
        }
    };
    let body = html! {
        h1 { "Report a problem" }
        p.lead { "It goes to the triage room, where someone decides whether it is an incident. \
                  Security reports go to a private room only the people handling them see." }
        @if let Some(error) = error {
            div.card.alert role="alert" {
                p.error {
                    "Nothing was filed. "
                    @if error.field == "report" { (error.reason) } @else {
                        a href={ "#" (error.field) } { (error.field) } ": " (error.reason)
                    }
                }
            }
        }
        form.card method="post" action="/report" novalidate {
            input type="hidden" name="csrf" value=(session.csrf);
            input type="hidden" name="key" value=(random_hex());
            label for="type" { "Type" }
            select #type name="type" class=[wrong("type").map(|_| "field-error")]
                aria-describedby=[wrong("type").map(|_| "type-error")] {
                @for kind in &incidents.types {
                    option value=(kind) selected[kind == chosen_type] {
                        (kind)
                        @if incidents.private_types.contains(kind) { " (private)" }
                    }
                }
            }
            (field_error("type"))
            label for="summary" { "Summary" span.hint { "One line: what is wrong, as you see it." } }
            input #summary type="text" name="summary" required maxlength=(MAX_SUMMARY)
                value=(draft.summary) class=[wrong("summary").map(|_| "field-error")]
                aria-describedby=[wrong("summary").map(|_| "summary-error")];
            (field_error("summary"))
            fieldset aria-describedby=[wrong("urgency").map(|_| "urgency-error")] {
                legend { "How soon must someone look?" }
                div.choices {
                    @for urgency in Urgency::ALL {
                        label {
                            input type="radio" name="urgency" value=(urgency.value())
                                checked[urgency == chosen_urgency];
                            span { (urgency.label()) }
                        }
                    }
                }
            }
            (field_error("urgency"))
            label for="details" { "Details" span.hint { "Optional: what you saw, since when, who is affected." } }
            textarea #details name="details" maxlength=(MAX_DETAILS)
                class=[wrong("details").map(|_| "field-error")]
                aria-describedby=[wrong("details").map(|_| "details-error")] { (draft.details) }
            (field_error("details"))
            button type="submit" { "File the report" }
        }
    };
    (
        status,
        document("Report a problem", "/report", theme, Some(session), body),
    )
        .into_response()
}

fn filed_page(theme: Theme, session: &Session, summary: &str, filed: &Filed) -> Response {
    let place = if filed.private {
        "the private triage room"
    } else {
        "the triage room"
    };
    let body = html! {
        h1 { "Report filed" }
        div.card.notice role="status" {
            p { "Your report " strong { (summary) } " is in " a href=(filed.link) { (place) } "." }
            p { "Someone there looks at it and either declares an incident, which invites you to \
                 its room, or answers you. Brigade has sent you a direct message saying the same." }
        }
        a.button href="/report" { "Report something else" }
    };
    (
        StatusCode::OK,
        document("Report filed", "/report", theme, Some(session), body),
    )
        .into_response()
}

fn message_page(
    theme: Theme,
    session: &Session,
    status: StatusCode,
    title: &str,
    text: &str,
) -> Response {
    let body = html! {
        h1 { (title) }
        div.card.alert role="alert" { p { (text) } }
        a.button href="/report" { "Back to the form" }
    };
    (
        status,
        document(title, "/report", theme, Some(session), body),
    )
        .into_response()
}
