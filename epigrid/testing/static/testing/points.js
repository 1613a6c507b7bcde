// The public sampling-point page: "find the nearest to my location" fills the coordinates from
// the device and sends the search. The texts come translated in the button's data attributes.
"use strict";

(function () {
  const button = document.getElementById("use-location");
  const status = document.getElementById("location-status");
  const form = document.getElementById("nearest-form");
  if (!button || !form) return;
  if (!("geolocation" in navigator)) {
    button.hidden = true;
    return;
  }
  button.addEventListener("click", () => {
    status.textContent = button.dataset.finding;
    navigator.geolocation.getCurrentPosition(
      (pos) => {
        form.querySelector("[name=lat]").value = pos.coords.latitude.toFixed(5);
        form.querySelector("[name=lon]").value = pos.coords.longitude.toFixed(5);
        form.submit();
      },
      () => {
        status.textContent = button.dataset.unavailable;
      },
      { timeout: 10000, maximumAge: 60000 },
    );
  });
})();
