/* Diagnosis coding on the device: the ICD-10 2010 list the server validates against (/icd10.json, generated
   from clinic/rules/icd10.py and precached by the worker), suggestions by the same rules as icd10.search
   (exact code, code prefix, curated Indonesian terms, description words), the description beside the
   field, and the server's checks before a form is sent or queued. Loaded by the visit form only; Node
   loads the pure part for its tests (tests/js/test_icd10.mjs). */
(function (root) {
  "use strict";

  var UNDOTTED = /^([A-Z][0-9][0-9A-Z])([0-9A-Z]{1,2})$/;
  var CODE_LIKE = /^[A-Z][0-9]/;
  var MIN_QUERY = 2; // as the /icd10 handler
  var LIMIT = 15;

  // --- the rules (pure, as clinic/rules/icd10.py) ------------------------------------------------
  function normalize(code) {
    var text = String(code || "").trim().toUpperCase().replace(/\.+$/, "").trim();
    var undotted = UNDOTTED.exec(text);
    return undotted ? undotted[1] + "." + undotted[2] : text;
  }

  function words(text) {
    var plain = String(text || "").normalize("NFKD").toLowerCase().replace(/\p{M}/gu, "");
    return plain.match(/[\p{L}\p{N}_]+/gu) || [];
  }

  // The list's [code, description] pairs from its packed table (clinic/rules/icd10.py `packed_table`).
  function unpack(table) {
    var pairs = [], category = "", previous = "";
    table.split("\n").forEach(function (line) {
      var parts = line.split("\t");
      var code = parts[0].charAt(0) === "." ? category + parts[0] : parts[0];
      var description = previous.slice(0, Number(parts[1] || 0)) + parts[2];
      pairs.push([code, description]);
      category = code.split(".")[0];
      previous = description;
    });
    return pairs;
  }

  function build(data) {
    var codes = [], byCode = {}, entries = [];
    (data.table !== undefined ? unpack(data.table) : data.codes).forEach(function (pair) {
      var entry = { code: pair[0], description: pair[1], words: " " + words(pair[1]).join(" ") };
      codes.push(entry.code);
      byCode[entry.code] = entry;
      entries.push(entry);
    });
    codes.sort(compare);
    var byRank = entries.slice().sort(function (a, b) {
      return (a.description.length - b.description.length) || compare(a.code, b.code);
    });
    return { codes: codes, byCode: byCode, byRank: byRank, terms: data.terms, names: data.names || {},
             replacements: data.replacements || {} };
  }

  function compare(a, b) { return a < b ? -1 : (a > b ? 1 : 0); }

  function isValid(index, code) { return Object.prototype.hasOwnProperty.call(index.byCode, normalize(code)); }

  function label(index, code, lang) {
    code = normalize(code);
    if (lang === "id" && index.names[code]) return index.names[code];
    var entry = index.byCode[code];
    return entry ? entry.description : "";
  }

  function codeMatches(index, prefix, take) {
    if (!CODE_LIKE.test(prefix)) return;
    var low = 0, high = index.codes.length;
    while (low < high) { var mid = (low + high) >> 1; if (index.codes[mid] < prefix) low = mid + 1; else high = mid; }
    for (var i = low; i < index.codes.length && index.codes[i].indexOf(prefix) === 0; i++) {
      if (!take(index.byCode[index.codes[i]])) return;
    }
  }

  function localMatches(index, query, take) {
    var wanted = words(query);
    if (!wanted.length) return;
    var joined = wanted.join(" ");
    var terms = index.terms.map(function (pair, order) { return { term: pair[0], codes: pair[1], order: order }; });
    terms.sort(function (a, b) {
      return ((a.term !== joined) - (b.term !== joined)) || (a.term.length - b.term.length) || (a.order - b.order);
    });
    for (var t = 0; t < terms.length; t++) {
      var termWords = terms[t].term.split(/\s+/);
      var all = wanted.every(function (w) { return termWords.some(function (tw) { return tw.indexOf(w) === 0; }); });
      if (!all) continue;
      for (var c = 0; c < terms[t].codes.length; c++) {
        var entry = index.byCode[terms[t].codes[c]];
        if (entry && !take(entry)) return;
      }
    }
  }

  function wordMatches(index, query, take) {
    var needles = words(query).map(function (w) { return " " + w; });
    if (!needles.length) return;
    for (var i = 0; i < index.byRank.length; i++) {
      var entry = index.byRank[i];
      if (needles.every(function (needle) { return entry.words.indexOf(needle) !== -1; }) && !take(entry)) return;
    }
  }

  // [code, description] pairs, best first, as icd10.search(text, limit).
  function search(index, text, limit) {
    var query = String(text || "").trim();
    limit = limit === undefined ? 20 : limit;
    if (query === "" || limit <= 0) return [];
    var found = [], seen = {};
    function take(entry) {
      if (!seen[entry.code]) { seen[entry.code] = true; found.push([entry.code, entry.description]); }
      return found.length < limit;
    }
    var streams = [function () { codeMatches(index, normalize(query), take); },
                   function () { localMatches(index, query, take); },
                   function () { wordMatches(index, query, take); }];
    for (var s = 0; s < streams.length && found.length < limit; s++) streams[s]();
    return found;
  }

  // The problems icd10.check_diagnoses finds, in entry order: {code, message key, codes to use instead}.
  function check(index, typed) {
    var seen = {}, problems = [];
    typed.forEach(function (raw, position) {
      var code = normalize(raw);
      if (code === "") return;
      if (seen[code]) { problems.push({ position: position, code: code, key: "icdRepeated" }); return; }
      seen[code] = true;
      if (isValid(index, code)) return;
      var instead = index.replacements[code];
      problems.push(instead ? { position: position, code: code, key: "icdOtherEdition", codes: instead.join(" / ") }
                            : { position: position, code: code, key: "icdNotCode" });
    });
    return problems;
  }

  var ICD10 = { normalize: normalize, words: words, unpack: unpack, build: build, search: search, check: check,
                isValid: isValid, label: label };
  if (typeof module !== "undefined" && module.exports) { module.exports = ICD10; return; }
  root.ClinicICD10 = ICD10;

  // --- the page: the visit and correction forms ----------------------------------------------------
  var list = document.getElementById("icd-options");
  if (!list) return;
  var lang = document.documentElement.lang || "id";
  var T = root.CLINIC_TEXTS || {};
  var index = null;

  var loading = null;

  function load() {
    if (loading) return loading;
    loading = fetch(list.getAttribute("data-icd-data"), { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.json();
    }).then(function (data) {
      index = build(data);
      list.setAttribute("data-icd-ready", data.edition);
      document.querySelectorAll("[data-icd-field]").forEach(showLabel);
    }).catch(function () { loading = null; /* no list on this device yet: the server checks and suggests */ });
    return loading;
  }

  // Offline the list is needed at once. Online the server suggests and checks, and building the list (one
  // long task) waits until a diagnosis field is entered or the connection drops: the page's first load stays
  // light (issue 10, point 8).
  if (!navigator.onLine) load();
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-icd-field]")) load();
  });
  root.addEventListener("offline", load);

  document.addEventListener("input", function (event) {
    if (!event.target.matches("[data-icd-field]")) return;
    showLabel(event.target);
    clearError(event.target);
    if (index && !navigator.onLine) suggest(event.target.value);
  });
  // Offline (or the request failed): the same suggestions from the device, never an error.
  document.addEventListener("htmx:before:request", function (event) {
    var source = event.detail && event.detail.ctx && event.detail.ctx.sourceElement;
    var field = source || event.target;
    if (index && !navigator.onLine && field && field.matches && field.matches("[data-icd-field]")) event.preventDefault();
  });
  document.addEventListener("htmx:error", function (event) {
    if (index && event.target && event.target.matches && event.target.matches("[data-icd-field]")) suggest(event.target.value);
  });
  document.addEventListener("submit", refuseInvalid, true);
  // A form shell filled on the device (offline_pages.js): the descriptions of the codes it was given.
  document.addEventListener("clinic:form-filled", function () {
    document.querySelectorAll("[data-icd-field]").forEach(showLabel);
  });

  function suggest(text) {
    var results = String(text || "").trim().length >= MIN_QUERY ? search(index, text, LIMIT) : [];
    list.textContent = "";
    results.forEach(function (pair) {
      var option = document.createElement("option");
      option.value = pair[0];
      option.textContent = pair[0] + " · " + label(index, pair[0], lang);
      list.appendChild(option);
    });
  }

  // After a pick (or a typed code): the description beside the field, in the page's language.
  function showLabel(input) {
    var node = document.getElementById(input.id + "-label");
    if (!node) return;
    var text = "";
    if (index) {
      text = label(index, input.value, lang);
    } else {
      var code = normalize(input.value);
      Array.prototype.forEach.call(list.options, function (option) {
        if (option.value === code) text = option.textContent.replace(/^[^·]*·\s*/, "");
      });
    }
    if (text || index || !input.value) node.textContent = text;
  }

  function clearError(input) {
    var field = input.closest(".diagnosis-field");
    var old = field && field.querySelector("[data-icd-error]");
    if (old) old.remove();
    input.removeAttribute("aria-invalid");
    var described = (input.getAttribute("aria-describedby") || "").replace(input.id + "-error ", "");
    input.setAttribute("aria-describedby", described);
  }

  // A code the server would refuse is refused here, before the form is sent or queued on the device.
  function refuseInvalid(event) {
    var form = event.target;
    if (!index || !form.querySelector("[data-icd-field]")) return;
    var inputs = Array.prototype.slice.call(form.querySelectorAll("[data-icd-field]"));
    inputs.forEach(clearError);
    var problems = check(index, inputs.map(function (input) { return input.value; }));
    if (!problems.length) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    problems.forEach(function (problem) {
      var input = inputs[problem.position];
      var message = (T[problem.key] || "{code}").replace("{code}", problem.code).replace("{codes}", problem.codes || "");
      var node = document.createElement("p");
      node.className = "error";
      node.id = input.id + "-error";
      node.setAttribute("data-icd-error", "");
      node.setAttribute("role", "alert");
      node.textContent = message;
      input.insertAdjacentElement("afterend", node);
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-describedby", node.id + " " + (input.getAttribute("aria-describedby") || ""));
    });
    inputs[problems[0].position].focus();
  }
})(this);
