/* epigrid declarations: cascading place pickers (province → city → county, or town → community
   → grid cell) from the public divisions API, repeatable travel stops, and showing the part of
   the form that applies. No libraries. Without JavaScript every picker is a text field that
   takes a place name or code, and the server reads it. */
(function () {
  "use strict";
  var API = "/api/v1/divisions";
  var zh = (document.documentElement.lang || "zh").indexOf("zh") === 0;

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  function scopePrefix(code) {
    if (code.length === 6 && code.slice(2) === "0000") return code.slice(0, 2);
    if (code.length === 6 && code.slice(4) === "00") return code.slice(0, 4);
    return code;
  }

  // Taiwan, Hong Kong and Macao are stored by their ISO codes (their arrivals are managed as
  // arrivals from outside the mainland) and listed among the provinces by their GB/T 2260 codes
  var OUTSIDE_MAINLAND = { TW: "710000", HK: "810000", MO: "820000" };

  function outsideMainland(code) {
    return !!OUTSIDE_MAINLAND[code] || /^(71|81|82)/.test(code || "");
  }

  function countries() {
    var node = document.getElementById("countries-data");
    return node ? JSON.parse(node.textContent) : [];
  }

  function initPicker(box) {
    if (box.dataset.ready) return;
    box.dataset.ready = "1";
    var input = box.querySelector("input");
    var root = box.dataset.root || "";
    var depth = parseInt(box.dataset.depth || "3", 10);
    var withCountries = box.dataset.countries === "1";
    var wanted = (input.value || "").trim();
    if (OUTSIDE_MAINLAND[wanted.toUpperCase()]) wanted = OUTSIDE_MAINLAND[wanted.toUpperCase()];
    var selects = [];
    box.classList.add("js");

    function clearFrom(level) {
      while (selects.length > level) selects.pop().remove();
    }

    function addLevel(level, parent) {
      var url = API + (parent ? "?parent=" + encodeURIComponent(parent) : "");
      fetch(url, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : []; })
        .then(function (rows) {
          if (!rows.length) return;
          var select = document.createElement("select");
          select.setAttribute("aria-label", (box.dataset.label || "") + " " + (level + 1));
          select.appendChild(option("", box.dataset.placeholder || "—"));
          rows.forEach(function (d) {
            select.appendChild(option(d.code, zh ? d.name_zh : d.name_en || d.name_zh));
          });
          if (level === 0 && withCountries) {
            var group = document.createElement("optgroup");
            group.label = box.dataset.abroadLabel || "Abroad";
            countries().forEach(function (c) { group.appendChild(option(c[0], c[1])); });
            select.appendChild(group);
          }
          select.addEventListener("change", function () {
            clearFrom(level + 1);
            input.value = select.value || (level > 0 ? selects[level - 1].value : "");
            if (/^\d+$/.test(select.value) && level + 1 < depth) addLevel(level + 1, select.value);
          });
          box.insertBefore(select, input);
          selects.push(select);
          // after a round trip with errors, walk down to the code the field already holds
          if (wanted) {
            for (var i = 0; i < select.options.length; i++) {
              var v = select.options[i].value;
              if (v && (v === wanted || (/^\d+$/.test(wanted) && wanted.indexOf(scopePrefix(v)) === 0))) {
                select.value = v;
                if (v !== wanted && /^\d+$/.test(v) && level + 1 < depth) addLevel(level + 1, v);
                break;
              }
            }
          }
        });
    }
    addLevel(0, root);
  }

  function initAll(scope) {
    Array.prototype.forEach.call(scope.querySelectorAll(".place-picker"), initPicker);
  }

  function showParts(form) {
    var kind = form.querySelector("input[name=kind]:checked");
    var value = kind ? kind.value : "arrival";
    Array.prototype.forEach.call(form.querySelectorAll("[data-kind]"), function (part) {
      part.hidden = part.dataset.kind !== value;
    });
    var abroad = form.querySelector("input[name=origin_abroad]");
    var entered = form.querySelector("input[name=from_abroad]");
    Array.prototype.forEach.call(form.querySelectorAll("[data-when-abroad]"), function (part) {
      var on = abroad && abroad.checked;
      part.hidden = part.dataset.whenAbroad === "1" ? !on : on;
    });
    var origin = form.querySelector("input[name=origin]");
    var fromOutside = origin && !(abroad && abroad.checked) && outsideMainland(origin.value.trim().toUpperCase());
    Array.prototype.forEach.call(form.querySelectorAll("[data-overseas]"), function (part) {
      part.hidden = !((abroad && abroad.checked) || (entered && entered.checked) || fromOutside);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    initAll(document);
    Array.prototype.forEach.call(document.querySelectorAll("form.declaration"), function (form) {
      form.addEventListener("change", function () { showParts(form); });
      showParts(form);
    });
    var add = document.getElementById("add-stop");
    var template = document.getElementById("stop-template");
    var list = document.getElementById("stops");
    if (add && template && list) {
      add.hidden = false;
      add.addEventListener("click", function () {
        var row = template.content.firstElementChild.cloneNode(true);
        list.appendChild(row);
        initAll(row);
      });
      list.addEventListener("click", function (event) {
        if (event.target.classList.contains("remove-stop")) {
          var row = event.target.closest(".stop-row");
          if (row && list.querySelectorAll(".stop-row").length > 1) row.remove();
        }
      });
    }
  });
})();
