// The shown code's clock: Beijing time (UTC+8, no daylight saving), ticking every second so
// staff can tell a live page from a screenshot. It runs on the server's time: the page carries
// the server's clock at render, and the phone's own (possibly wrong) clock only measures the
// seconds since.
(function () {
  var clock = document.getElementById("door-clock");
  if (!clock) return;
  var offset = Number(clock.dataset.serverNow || 0) - Date.now();
  var dateEl = document.getElementById("door-date");
  var timeEl = document.getElementById("door-time");
  function two(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var t = new Date(Date.now() + offset + 8 * 3600 * 1000);
    dateEl.textContent = t.getUTCFullYear() + "-" + two(t.getUTCMonth() + 1) + "-" + two(t.getUTCDate());
    timeEl.textContent = two(t.getUTCHours()) + ":" + two(t.getUTCMinutes()) + ":" + two(t.getUTCSeconds());
  }
  tick();
  setInterval(tick, 1000);
})();
