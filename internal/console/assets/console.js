// Reloads a page that asks for it (data-refresh on <body>, in seconds)
// unless the user paused it with the page's checkbox; the choice lasts
// for the browser tab. The console works without this script: pages are
// complete when served.
(function () {
  var seconds = Number(document.body.getAttribute("data-refresh"));
  var box = document.getElementById("autorefresh");
  if (!seconds || !box) return;
  var key = "sigtrail-autorefresh";
  box.checked = sessionStorage.getItem(key) !== "off";
  var timer = null;
  function arm() {
    if (timer) clearTimeout(timer);
    timer = box.checked ? setTimeout(function () { location.reload(); }, seconds * 1000) : null;
  }
  box.addEventListener("change", function () {
    sessionStorage.setItem(key, box.checked ? "on" : "off");
    arm();
  });
  arm();
})();
