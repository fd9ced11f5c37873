// Brigade's pages inside Element, as widgets. Element vouches for the person (the widget API's
// OpenID request, which Element asks them to allow), so there is no password to type. Element
// frames the page from another site, where the session cookie is never sent, so the session
// lives here, in memory, and goes as a bearer header: links and forms are followed by fetch
// and the answer replaces the page.
"use strict";
import { WidgetApi } from "matrix-widget-api";

const query = new URLSearchParams(location.search);
const widgetId = query.get("widgetId");
const parentUrl = query.get("parentUrl");

/// The same URL with the widget's query kept (theme, widget ID), so every page keeps them.
function within(url) {
  const next = new URL(url, location.href);
  for (const [name, value] of query) {
    if (!next.searchParams.has(name)) next.searchParams.set(name, value);
  }
  return next;
}

function say(text) {
  const status = document.getElementById("signin-status");
  if (status) status.textContent = text;
}

async function start() {
  document.documentElement.classList.add("in-widget");
  say("Asking Element who you are…");
  const api = new WidgetApi(widgetId, new URL(parentUrl).origin);
  const ready = new Promise((resolve) => api.once("ready", resolve));
  api.start();
  await ready;

  // A session from a fresh OpenID token; null (and the reason shown) when there is none.
  async function signIn() {
    let credentials;
    try {
      credentials = await api.requestOpenIDConnectToken();
    } catch (error) {
      say("Element did not say who you are: " + error.message);
      return null;
    }
    const answer = await fetch("/session", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({
        matrix_server_name: credentials.matrix_server_name,
        access_token: credentials.access_token,
      }),
    });
    const signed = await answer.json().catch(() => ({}));
    if (!answer.ok) {
      say("Brigade could not sign you in: " + (signed.error || answer.status));
      return null;
    }
    return signed.session;
  }
  let session = await signIn();
  if (!session) return;

  async function load(url, init = {}, again = true) {
    const target = within(url);
    const response = await fetch(target, {
      ...init,
      headers: { ...(init.headers || {}), Authorization: "Bearer " + session },
    });
    // The session ended (it is short-lived, and a restart of Brigade ends it): sign in
    // again through Element and send the same request once more.
    if (response.status === 401 && again) {
      session = await signIn();
      if (session) return load(url, init, false);
      return;
    }
    const page = new DOMParser().parseFromString(await response.text(), "text/html");
    document.title = page.title;
    document.body.replaceWith(document.adoptNode(page.body));
    history.replaceState(null, "", within(response.url));
    document.dispatchEvent(new Event("brigade:page"));
  }

  document.addEventListener("submit", (event) => {
    const target = event.target;
    if (!(target instanceof HTMLFormElement) || target.id === "signin") return;
    event.preventDefault();
    const body = new URLSearchParams(new FormData(target));
    // Not `target.action`: a field named "action" (the panel's forms have one) shadows it.
    load(new URL(target.getAttribute("action") || "", location.href), {
      method: (target.getAttribute("method") || "get").toUpperCase(),
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body,
    });
  });
  document.addEventListener("click", (event) => {
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!link || new URL(link.href).origin !== location.origin) return;
    event.preventDefault();
    load(link.href);
  });
  await load(location.href);
}

if (widgetId && parentUrl && window.parent !== window) start();
