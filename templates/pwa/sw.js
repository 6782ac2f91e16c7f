/* Service worker (scope /). Rendered by the server so that VERSION and the shell's URLs follow
   the static files' content hashes: a change of any of them installs a new worker. */
"use strict";
importScripts({{ static_url("idb.js")|tojson }}, {{ static_url("outbox_states.js")|tojson }}, {{ static_url("outbox.js")|tojson }});
{{ record_targets|safe }}

var VERSION = {{ version|tojson }};
var SHELL_CACHE = "shell-" + VERSION;
var PAGES_CACHE = "pages-v1"; // pages the user opened; removed at sign-out
var SHELL = {{ shell|tojson }};
var OFFLINE_PAGE = "/offline";
// The form shells a device fills for any patient of its index or visit of its working set, by the page asked for.
var FORM_SHELLS = [
  [/^\/patients\/[0-9a-f-]{36}\/visits\/new$/, "/offline/visit-form"],
  [/^\/patients\/[0-9a-f-]{36}\/edit$/, "/offline/edit-form"],
  [/^\/patients\/[0-9a-f-]{36}\/visits\/[0-9a-f-]{36}\/correct$/, "/offline/correction-form"],
];
var PAGE_TIMEOUT_MS = 4000;
var NEVER_CACHED = /^\/(login|logout|lang|sync$|sw\.js|healthz)/;

self.addEventListener("install", function (event) { event.waitUntil(install()); });
self.addEventListener("activate", function (event) { event.waitUntil(activate()); });
self.addEventListener("fetch", function (event) { route(event); });
self.addEventListener("message", function (event) { event.waitUntil(onMessage(event.data || {})); });
self.addEventListener("sync", function (event) { if (event.tag === "outbox") event.waitUntil(replaySoon()); });

function install() {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return Promise.all(SHELL.map(function (url) { return keepShellFile(cache, url, SHELL_TRIES); }));
  }).then(function () {
    // The first worker takes over at once; an update waits until the user chooses to reload.
    if (!self.registration.active) return self.skipWaiting();
  });
}

// One file of the shell, tried again after a failed fetch (a dropped or refused connection on a bad link):
// one failure would fail the whole install, and the device would have no worker until the next page.
var SHELL_TRIES = 4;
function keepShellFile(cache, url, tries) {
  return cache.match(url).then(function (hit) {
    if (hit) return;
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) throw new Error(url + ": " + response.status);
      return cache.put(url, response);
    });
  }).catch(function (error) {
    if (tries <= 1) throw error;
    return new Promise(function (resolve) { setTimeout(resolve, 500 * (SHELL_TRIES - tries + 1)); }).then(function () {
      return keepShellFile(cache, url, tries - 1);
    });
  });
}

function activate() {
  // The offline shells belong to the old version (its scripts and styles): fetch them anew.
  var shells = caches.open(PAGES_CACHE).then(function (cache) {
    return Promise.all([OFFLINE_PAGE].concat(FORM_SHELLS.map(function (shell) { return shell[1]; })).map(function (path) {
      return cache.delete(path);
    }));
  });
  return shells.then(function () { return caches.keys(); }).then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("shell-") === 0 && name !== SHELL_CACHE;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }).then(replaySoon);
}

function onMessage(message) {
  if (message.type === "skip-waiting") return self.skipWaiting();
  if (message.type === "replay") return settleSignOut().then(function () { return Outbox.replay({ force: !!message.force }); });
  if (message.type === "warm") return warm(message.urls || []);
  if (message.type === "signed-out") return endSession();
  return Promise.resolve();
}

function replaySoon() {
  return settleSignOut().then(function () { return Outbox.replay({ force: true }); }).catch(function () {});
}

// --- signing out without a network (issue 10) -------------------------------------------------------
// The user's saved pages and working set go at once (app.js has already cleared them; this is for a tab
// without the script), the sign-in page comes from the cache, and the server session is ended on the next
// contact: before anything else is sent, so never after another sign-in on this device.
var LOGIN_PAGE = "/login";
var SIGN_OUT_PENDING = "signOutPending";

function forgetWorkingSet() {
  return ClinicDB.transaction([ClinicDB.WORKING_SET, ClinicDB.META], "readwrite", function (tx) {
    return Promise.all([tx.store(ClinicDB.WORKING_SET).clear(), tx.store(ClinicDB.META).delete("cursor:visits"),
      tx.store(ClinicDB.META).delete("workingSetOwner"), tx.store(ClinicDB.META).delete("deviceReady")]);
  }).catch(function () {});
}

// A sign-out ends what the worker was fetching for that user: a page warmed for them that arrives later is
// not kept (sessions counts sign-outs; warm() keeps a page only while the count is the one it began with).
var sessions = 0;
function endSession() {
  sessions += 1;
  return Promise.all([caches.delete(PAGES_CACHE), forgetWorkingSet()]);
}

function signOut(request) {
  sessions += 1;
  return fetch(request).then(function (response) {
    return caches.delete(PAGES_CACHE).then(function () { return response; });
  }, function () {
    return Promise.all([caches.delete(PAGES_CACHE), forgetWorkingSet(), ClinicDB.setMeta(SIGN_OUT_PENDING, true),
      ClinicDB.setMeta("currentUser", null)]).then(function () {
      return Response.redirect(LOGIN_PAGE, 303);
    });
  });
}

function settleSignOut() {
  return ClinicDB.getMeta(SIGN_OUT_PENDING).then(function (pending) {
    if (!pending) return;
    return fetch("/logout", { method: "POST", credentials: "same-origin", redirect: "manual" }).then(function () {
      return ClinicDB.setMeta(SIGN_OUT_PENDING, false);
    });
  }).catch(function () {});
}

function signIn(request) {
  return settleSignOut().then(function () { return fetch(request); });
}

function loginPage(request) {
  return fetch(request).catch(function () {
    return caches.open(SHELL_CACHE).then(function (cache) { return cache.match(LOGIN_PAGE); }).then(function (hit) {
      return hit || lastResort();
    });
  });
}

// The anonymous sign-in page, kept with the shell (fetched without the session, which would redirect).
function keepLoginPage() {
  return caches.open(SHELL_CACHE).then(function (cache) {
    return cache.match(LOGIN_PAGE).then(function (hit) {
      if (hit) return;
      return fetch(LOGIN_PAGE, { credentials: "omit" }).then(function (response) {
        if (response.ok && !response.redirected) return cache.put(LOGIN_PAGE, response);
      });
    });
  }).catch(function () {});
}

function route(event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && Outbox.kindOf(url.pathname)) {
    event.respondWith(submitRecord(event));
    return;
  }
  if (request.method === "POST" && url.pathname === "/logout") { event.respondWith(signOut(request)); return; }
  if (request.method === "POST" && url.pathname === "/login") { event.respondWith(signIn(request)); return; }
  if (request.method === "GET" && url.pathname === LOGIN_PAGE && request.mode === "navigate") {
    event.respondWith(loginPage(request));
    return;
  }
  if (request.method !== "GET" || NEVER_CACHED.test(url.pathname)) return;
  if (url.pathname.indexOf("/static/") === 0 || url.pathname === "/texts.js" || url.pathname === "/icd10.json") {
    event.respondWith(cacheFirst(request));
    return;
  }
  var accept = request.headers.get("Accept") || "";
  if (request.mode === "navigate" || accept.indexOf("text/html") !== -1) {
    event.respondWith(networkFirst(request, url));
  }
}

function cacheFirst(request) {
  return caches.match(request).then(function (hit) {
    return hit || fetch(request).then(function (response) {
      if (response.ok) {
        var copy = response.clone();
        caches.open(SHELL_CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    }, function (error) {
      // Offline, a page saved under an older version asks for its own file versions: serve the current.
      return caches.match(request, { ignoreSearch: true }).then(function (other) {
        if (other) return other;
        throw error;
      });
    });
  });
}

function timeout(ms) {
  return new Promise(function (_, reject) { setTimeout(function () { reject(new Error("timeout")); }, ms); });
}

function keep(request, response) {
  // Only full pages: an htmx fragment under the same URL would replace the page in the cache.
  if (!response.ok || response.type !== "basic" || request.headers.get("HX-Request")) return Promise.resolve();
  var began = sessions; // a page fetched before a sign-out is not saved after it: the next user would find it
  return response.clone().blob().then(function (body) {
    var headers = new Headers(response.headers);
    headers.set("X-Saved-At", new Date().toISOString());
    var saved = new Response(body, { status: 200, headers: headers });
    return caches.open(PAGES_CACHE).then(function (cache) {
      if (began !== sessions) return;
      var url = new URL(request.url);
      return cache.put(url.pathname + url.search, saved);
    });
  });
}

// After a record is stored, the page the server sends the user to (its record) is shown as the server has
// it now, however slow the link: never an older saved copy without the record (issue 10, point 6).
var FRESH_MS = 120000;
var fresh = {};
function expectFresh(url, fields) {
  var match = /^\/patients\/([0-9a-f-]{36})/.exec(url.pathname);
  var id = match ? match[1] : (fields.id || [])[0];
  if (id) fresh["/patients/" + id] = Date.now() + FRESH_MS;
}

function mustBeFresh(url) {
  var until = fresh[url.pathname];
  if (until && until > Date.now()) { delete fresh[url.pathname]; return true; }
  return false;
}

function networkFirst(request, url) {
  // An htmx fragment (search results as one types) is never answered with a saved whole page, which would
  // nest a second page in this one: offline, the page searches the device's index instead (offline_pages.js).
  if (request.headers.get("HX-Request")) {
    return fetch(request).catch(function () { return new Response(null, { status: 204, headers: { "X-Offline": "1" } }); });
  }
  var network = fetch(request);
  network.then(function (response) { return keep(request, response); }).catch(function () {});
  // A record from the device is read as soon as the network has failed, while the saved pages are looked up.
  var parts = null;
  var readOnce = function () { return parts || (parts = deviceRecord(url)); };
  if (mustBeFresh(url)) return network.catch(function () { return savedCopy(request, url, readOnce()); });
  return Promise.race([network, timeout(PAGE_TIMEOUT_MS)]).catch(function () {
    readOnce();
    return savedCopy(request, url).then(function (copy) { return copy || network; });
  }).catch(function () {
    return savedCopy(request, url, readOnce());
  });
}

// A record page offline: what the device holds of it (ClinicDB.readRecord), handed to the shell with its
// HTML so that the page shows it without opening IndexedDB itself (issue 10: opening a record offline).
var RECORD_PAGE = /^\/patients\/([0-9a-f-]{36})$/;
function deviceRecord(url) {
  var match = RECORD_PAGE.exec(url.pathname);
  if (!match) return Promise.resolve(null);
  return ClinicDB.readRecord(match[1]).then(function (found) {
    return found.patient ? { id: match[1], parts: found } : null;
  }).catch(function () { return null; });
}

// As data, never as script: `<` escaped, so nothing in a record can end the element (offline_pages.js readEarly).
function withRecord(html, record) {
  if (!record) return html;
  var json = JSON.stringify(record).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
  var element = '<script type="application/json" id="device-record">' + json + "</script>";
  var end = html.lastIndexOf("</body>");
  return end === -1 ? html + element : html.slice(0, end) + element + html.slice(end);
}

// Before the offline pages were fetched (the very first minutes of a device): a plain page, both languages.
function lastResort() {
  var css = SHELL.filter(function (url) { return url.indexOf("/static/app.css") === 0; })[0];
  var html = '<!doctype html><html lang="id"><meta charset="utf-8"><meta name="viewport" content="width=device-width">' +
    '<link rel="stylesheet" href="' + css + '"><title>Luring</title><main class="container"><h1>Anda sedang luring</h1>' +
    "<p>Halaman ini belum tersimpan di perangkat ini. Semua yang sudah Anda masukkan tetap tersimpan.</p>" +
    '<p lang="en">You are offline and this page is not saved on this device yet. Everything you entered is kept.</p>' +
    '<p><a class="btn btn-primary" href="/patients">Pasien</a></p></main></html>';
  return new Response(html, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

function markSaved(response, record) {
  var savedAt = response.headers.get("X-Saved-At") || "";
  return Promise.all([response.text(), record]).then(function (found) {
    var marked = withRecord(found[0].replace("<body", '<body data-saved-at="' + savedAt + '"'), found[1]);
    return new Response(marked, { status: 200, headers: { "Content-Type": "text/html; charset=utf-8" } });
  });
}

// The saved copy of a page; with `fallback` (a promise of deviceRecord's), the offline shell that renders
// from this device's outbox, index and working set.
function savedCopy(request, url, fallback) {
  return caches.open(PAGES_CACHE).then(function (cache) {
    return cache.match(url.pathname + url.search).then(function (hit) {
      return hit || cache.match(url.pathname, { ignoreSearch: true });
    }).then(function (hit) {
      if (hit) return markSaved(hit);
      if (!fallback) return null;
      var shell = FORM_SHELLS.filter(function (pair) { return pair[0].test(url.pathname); }).map(function (pair) { return pair[1]; })[0] ||
        OFFLINE_PAGE;
      return cache.match(shell).then(function (page) {
        return page || cache.match(OFFLINE_PAGE);
      }).then(function (page) {
        return page ? markSaved(page, shell === OFFLINE_PAGE ? fallback : null) : lastResort();
      });
    });
  });
}

// Pages needed offline that this device does not hold yet (a page the user opened is kept already),
// each fetched once even when several pages ask at the same time.
var warming = {};
function warm(urls) {
  var session = sessions;
  // One page after the other, in small steps: never more than one request beside the page's own.
  return urls.reduce(function (done, path) {
    return done.then(function () { return warmPage(path, session); });
  }, keepLoginPage().catch(function () {}));
}

function warmPage(path, session) {
  if (!warming[path]) {
    warming[path] = caches.open(PAGES_CACHE).then(function (cache) { return cache.match(path); }).then(function (hit) {
      if (hit || session !== sessions) return;
      return fetch(path, { credentials: "same-origin" }).then(function (response) {
        if (!response.ok || response.redirected || session !== sessions) return;
        return keep(new Request(path), response).then(function () {
          if (session !== sessions) return caches.open(PAGES_CACHE).then(function (cache) { return cache.delete(path); });
        });
      });
    }).catch(function () {}).then(function () { delete warming[path]; });
  }
  return warming[path];
}

function formFields(formData) {
  var fields = {};
  formData.forEach(function (value, name) {
    if (typeof value !== "string") return;
    (fields[name] = fields[name] || []).push(value);
  });
  return fields;
}

// A create or edit form sent to the server. If the server cannot be reached (or answers 5xx, or the
// session has ended), the submission is kept on this device and the user is told so at once.
function submitRecord(event) {
  var request = event.request;
  var url = new URL(request.url);
  var user = Outbox.currentUser().catch(function () { return null; });
  return Promise.all([request.clone().formData(), user]).then(function (found) {
    var fields = formFields(found[0]);
    // A stale tab: its form was opened for someone other than who is signed in on this device now.
    if (found[1] && !Outbox.isAuthor(fields, found[1])) return refuse(fields);
    return fetch(request).then(function (response) {
      if (response.status < 500 && response.status !== 401) {
        if (response.status < 400) {
          expectFresh(url, fields);
          return forget(fields).then(function () { return response; });
        }
        return response;
      }
      return keepOnDevice(request, url, fields, response.status === 401 ? "auth" : "server", response);
    }, function () {
      return keepOnDevice(request, url, fields, "network", null);
    });
  });
}

function forget(fields) {
  var key = Outbox.keyOf(fields);
  return (key ? Outbox.markSent(key) : Promise.resolve()).then(function () { Outbox.announce({ type: "changed" }); })
    .catch(function () {});
}

// Neither sent nor kept: the page stays as it is, with what was typed (a 204 leaves it in place), and
// says why (app.js, on the "refused" message).
function refuse(fields) {
  Outbox.announce({ type: "refused", key: Outbox.keyOf(fields) });
  return new Response(null, { status: 204 });
}

function keepOnDevice(request, url, fields, why, response) {
  return Outbox.currentUser().then(function (user) {
    if (!Outbox.isAuthor(fields, user)) {
      // Nobody signed in on this device, or someone else: it is never kept under another person.
      return Outbox.authorOf(fields) ? refuse(fields) : response || new Response("Offline", { status: 503 });
    }
    var formPath = request.referrer ? new URL(request.referrer).pathname : null;
    // Kept because the session ended: it waits (paused) until its author signs in again.
    return Outbox.enqueue(url.pathname, fields, user, formPath, why === "auth").then(function (item) {
      if (self.registration.sync) self.registration.sync.register("outbox").catch(function () {});
      var target = "/patients/" + item.patientId + "?saved=device&key=" + encodeURIComponent(item.key);
      if (why === "auth") target = "/login?next=" + encodeURIComponent("/patients/" + item.patientId) + "&saved=device";
      return Response.redirect(target, 303);
    }, function (error) {
      // Never pretend: a failed local save is reported, and the form can be sent again.
      var page = "<!doctype html><meta charset=utf-8><title>Tidak tersimpan</title><h1>Data BELUM tersimpan</h1>" +
        "<p>Perangkat ini tidak dapat menyimpan formulir (" + String(error).replace(/</g, "&lt;") + "). " +
        "Kembali dan coba lagi; jangan tutup formulir.</p><p>The form was NOT saved on this device. Go back and try again.</p>";
      return new Response(page, { status: 507, headers: { "Content-Type": "text/html; charset=utf-8" } });
    });
  });
}
