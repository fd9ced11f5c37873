// Times are written in UTC on the server; shown in the viewer's own zone where scripts run
// (again after a widget replaces the page).
"use strict";
function brigadeLocalTimes() {
  for (const element of document.querySelectorAll("time[datetime]")) {
    const when = new Date(element.getAttribute("datetime"));
    if (!isNaN(when)) {
      element.textContent = when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
      element.title = element.getAttribute("datetime");
    }
  }
}
brigadeLocalTimes();
document.addEventListener("brigade:page", brigadeLocalTimes);
