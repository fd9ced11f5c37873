// Signing in on a standalone page: the browser asks the person's own homeserver for an OpenID
// token (their password goes only there), drops the login again, and hands the token to
// Brigade, which asks the homeserver whose it is. Nothing else leaves the page.
"use strict";
(function () {
  const form = document.getElementById("signin");
  if (!form) return;
  const query = new URLSearchParams(location.search);
  // In a widget, Element says who the person is (widget.js); no password is asked for.
  if (query.get("widgetId") && window.parent !== window) return;
  form.hidden = false;
  const status = document.getElementById("signin-status");
  const say = (text) => { status.textContent = text; };

  // A strict cookie is not sent when the page was opened from another site (a link in
  // Element); a request from the page itself carries it, so look once before asking.
  fetch("/session", { credentials: "same-origin" }).then((answer) => {
    if (answer.ok) location.assign(location.href);
  });

  async function json(url, options) {
    const answer = await fetch(url, options);
    const body = await answer.json().catch(() => ({}));
    if (!answer.ok) throw new Error(body.error || body.errcode || answer.status + " " + answer.statusText);
    return body;
  }

  // A full Matrix ID names its server: pick that server's homeserver, if Brigade knows it.
  const servers = Array.from(form.homeserver.options, (option) => option.dataset.server);
  const serverOf = (user) => {
    const match = /^@[^:]+:(.+)$/.exec(user);
    return match ? match[1] : null;
  };
  form.user.addEventListener("input", () => {
    say("");
    const index = servers.indexOf(serverOf(form.user.value.trim()));
    if (index >= 0) form.homeserver.selectedIndex = index;
  });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const user = form.user.value.trim();
    const server = serverOf(user);
    if (server !== null && !servers.includes(server)) {
      say("Brigade here signs in people of " + servers.join(", ") + ", not of " + server +
        ". Open it as a widget in your Element instead.");
      return;
    }
    if (server !== null) form.homeserver.selectedIndex = servers.indexOf(server);
    const homeserver = form.homeserver.value.replace(/\/+$/, "");
    say("Signing in…");
    let login;
    try {
      login = await json(homeserver + "/_matrix/client/v3/login", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          type: "m.login.password",
          identifier: { type: "m.id.user", user: user },
          password: form.password.value,
          initial_device_display_name: "Brigade web sign-in",
        }),
      });
    } catch (error) {
      say("Your homeserver did not sign you in: " + error.message);
      return;
    }
    const auth = { Authorization: "Bearer " + login.access_token, "Content-Type": "application/json" };
    let openid;
    try {
      openid = await json(
        homeserver + "/_matrix/client/v3/user/" + encodeURIComponent(login.user_id) + "/openid/request_token",
        { method: "POST", headers: auth, body: "{}" },
      );
    } catch (error) {
      say("Your homeserver gave no sign-in token: " + error.message);
    }
    // The login was only for the token (which outlives it): end it, so no device is left.
    await fetch(homeserver + "/_matrix/client/v3/logout", { method: "POST", headers: auth, body: "{}" })
      .catch(() => {});
    if (!openid) return;
    try {
      await json("/session", {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ matrix_server_name: openid.matrix_server_name, access_token: openid.access_token }),
      });
      location.assign(location.href);
    } catch (error) {
      say("Brigade could not sign you in: " + error.message);
    }
  });
})();
