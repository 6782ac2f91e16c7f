/* A page of the patient index as the server sends it (clinic/feed/wire.py) back into the entries it holds:
   one array per field, ids as 22-character base64url, No. RM as steps, birth dates as day numbers, a NIK
   without the birth date it repeats. Also runs in Node (tests/unit/test_index_wire.py). */
(function (scope) {
  "use strict";

  var ID_CHARS = 22;
  var RECORD_NUMBER_DIGITS = 6;
  var FEMALE_DAY_OFFSET = 40;
  var DAY_MS = 86400000;
  var HEX = [];
  for (var h = 0; h < 256; h++) HEX.push((h < 16 ? "0" : "") + h.toString(16));
  var BASE64URL = {};
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".split("").forEach(function (c, i) { BASE64URL[c] = i; });

  function pad(n, width) {
    var text = String(n);
    while (text.length < width) text = "0" + text;
    return text;
  }

  // 22 base64url characters -> the UUID's text (8-4-4-4-12 lowercase hex).
  function uuidText(short) {
    var bits = 0, value = 0, bytes = [];
    for (var i = 0; i < short.length; i++) {
      value = (value << 6) | BASE64URL[short.charAt(i)];
      bits += 6;
      if (bits >= 8) { bits -= 8; bytes.push((value >> bits) & 255); }
    }
    var hex = bytes.slice(0, 16).map(function (b) { return HEX[b]; }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20, 32);
  }

  function isoDate(days) {
    if (days === null || days === undefined) return null;
    var d = new Date(days * DAY_MS);
    return pad(d.getUTCFullYear(), 4) + "-" + pad(d.getUTCMonth() + 1, 2) + "-" + pad(d.getUTCDate(), 2);
  }

  function fullNik(nik, birthDate, sex) {
    if (typeof nik !== "number" || !birthDate) return nik;
    nik = String(nik);
    var day = +birthDate.slice(8, 10) + (sex === "female" ? FEMALE_DAY_OFFSET : 0);
    return nik.slice(0, 6) + pad(day, 2) + birthDate.slice(5, 7) + birthDate.slice(2, 4) + nik.slice(6);
  }

  // The page's entries, each {id, record_number, name, sex, birth_date, nik, bpjs_number, mother_nik, address,
  // version, possible_duplicate, merged_into}.
  function entries(columns, count) {
    var out = new Array(count);
    var previous = 0;
    for (var i = 0; i < count; i++) {
      var step = columns.record_number[i], recordNumber = step;
      if (typeof step === "number") { previous += step; recordNumber = pad(previous, RECORD_NUMBER_DIGITS); }
      var born = isoDate(columns.birth_date[i]);
      var merged = columns.merged_into[i];
      out[i] = {
        id: uuidText(columns.id.slice(i * ID_CHARS, (i + 1) * ID_CHARS)), record_number: recordNumber,
        name: columns.name[i], sex: columns.sex[i], birth_date: born, nik: fullNik(columns.nik[i], born, columns.sex[i]),
        bpjs_number: columns.bpjs_number[i], mother_nik: columns.mother_nik[i], address: columns.address[i],
        version: columns.version[i], possible_duplicate: columns.possible_duplicate[i] === 1,
        merged_into: merged ? uuidText(merged) : null,
      };
    }
    return out;
  }

  var api = { entries: entries, uuidText: uuidText, isoDate: isoDate, fullNik: fullNik };
  if (typeof module === "object" && module.exports) module.exports = api;
  if (scope) scope.IndexWire = api;
})(typeof self !== "undefined" ? self : this);
