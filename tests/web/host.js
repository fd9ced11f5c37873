// The tests' stand-in for Element: embeds one Brigade page in an iframe and plays Element's side
// of the widget API with matrix-widget-api's ClientWidgetApi, answering the page's OpenID
// request with the real token the test put in `window.brigadeOpenId`.
"use strict";
import { ClientWidgetApi, OpenIDRequestState, Widget, WidgetDriver } from "matrix-widget-api";

class Driver extends WidgetDriver {
  async validateCapabilities(requested) {
    return requested;
  }

  askOpenID(observer) {
    observer.update({ state: OpenIDRequestState.Allowed, token: window.brigadeOpenId });
  }
}

window.brigadeEmbed = function (url) {
  const widget = new Widget({
    id: "brigade-test",
    creatorUserId: window.brigadeOpenId.user_id || "@test:example.org",
    type: "m.custom",
    url,
    waitForIframeLoad: true,
  });
  const iframe = document.createElement("iframe");
  iframe.id = "widget";
  iframe.width = "1000";
  iframe.height = "900";
  // In the document first: the API talks to the frame's window, which exists from then on.
  document.body.appendChild(iframe);
  const api = new ClientWidgetApi(widget, iframe, new Driver());
  api.on("ready", () => document.body.setAttribute("data-widget", "ready"));
  const src = new URL(url);
  src.searchParams.set("widgetId", "brigade-test");
  src.searchParams.set("parentUrl", location.href);
  iframe.src = src.toString();
};
