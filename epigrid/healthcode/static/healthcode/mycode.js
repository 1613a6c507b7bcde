// The "my code" page: the card refreshes itself through htmx a minute before the token
// expires (hx-trigger="load delay:…"). A phone that slept past that moment paused the timer,
// so when the page is shown again with an expired or nearly expired code, refresh at once.
(function () {
  function expiresSoon() {
    var card = document.getElementById("code-card");
    if (!card) return false;
    var expires = Number(card.dataset.expires || 0);
    return expires && Date.now() / 1000 > expires - 30;
  }
  function refresh() {
    if (expiresSoon()) document.body.dispatchEvent(new Event("hc-refresh"));
  }
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") refresh();
  });
  window.addEventListener("focus", refresh);
  setInterval(refresh, 15000);
})();
