/* A running job's page follows its server-sent events (/jobs/{id}/events): each progress
   message asks htmx to refresh the job's part at once, and the once-a-second polling
   htmx does by itself is held back while the stream is live. Without EventSource, or
   once the stream fails, the polling simply goes on. No inline script: the CSP forbids it. */
(function () {
  "use strict";
  var live = false;
  function job() { return document.getElementById("job"); }
  function refresh() { var el = job(); if (el && window.htmx) { window.htmx.trigger(el, "job-progress"); } }
  function start() {
    var el = job();
    if (!el || !el.dataset.events || !window.EventSource) { return; }
    var source = new EventSource(el.dataset.events);
    source.onopen = function () { live = true; };
    source.onmessage = refresh;
    source.addEventListener("end", function () { live = false; source.close(); refresh(); });
    source.onerror = function () { live = false; source.close(); };
  }
  document.addEventListener("htmx:beforeRequest", function (evt) {
    var trigger = evt.detail && evt.detail.requestConfig && evt.detail.requestConfig.triggeringEvent;
    var polled = !trigger || trigger.type !== "job-progress";
    if (live && polled && evt.detail.elt && evt.detail.elt.id === "job") { evt.preventDefault(); }
  });
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
