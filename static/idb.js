/* The device's IndexedDB: schema in one place, one lazily opened connection.
   Used by pages (<script>) and by the service worker (importScripts). */
(function (scope) {
  "use strict";

  var DB_NAME = "clinic";
  var DB_VERSION = 1;
  var OUTBOX = "outbox"; // queued submissions, key = the record's (or revision's) UUID
  var META = "meta"; // small named values: currentUser, lastGoodSync, backoff, ...

  // Every schema change adds a step here; old steps never change (items must survive updates).
  function upgrade(db, oldVersion) {
    if (oldVersion < 1) {
      var outbox = db.createObjectStore(OUTBOX, { keyPath: "key" });
      outbox.createIndex("seq", "seq");
      db.createObjectStore(META, { keyPath: "name" });
    }
  }

  var connection = null;

  function open() {
    if (connection) return connection;
    connection = new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, DB_VERSION);
      request.onupgradeneeded = function (event) { upgrade(request.result, event.oldVersion); };
      request.onsuccess = function () {
        var db = request.result;
        db.onversionchange = function () { db.close(); connection = null; };
        db.onclose = function () { connection = null; };
        resolve(db);
      };
      request.onerror = function () { connection = null; reject(request.error); };
      request.onblocked = function () { connection = null; reject(new Error("IndexedDB upgrade blocked")); };
    });
    return connection;
  }

  function done(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function finished(tx) {
    return new Promise(function (resolve, reject) {
      tx.oncomplete = function () { resolve(); };
      tx.onerror = function () { reject(tx.error); };
      tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
    });
  }

  // Run fn(store) in one transaction; resolves with fn's result once the transaction has committed.
  function withStore(name, mode, fn) {
    return open().then(function (db) {
      var tx = db.transaction(name, mode);
      var result = fn(tx.objectStore(name));
      return finished(tx).then(function () { return result; });
    });
  }

  function get(name, key) {
    return open().then(function (db) { return done(db.transaction(name).objectStore(name).get(key)); });
  }

  function put(name, value) {
    return withStore(name, "readwrite", function (store) { store.put(value); });
  }

  function remove(name, key) {
    return withStore(name, "readwrite", function (store) { store.delete(key); });
  }

  function allInOrder() {
    return open().then(function (db) {
      return done(db.transaction(OUTBOX).objectStore(OUTBOX).index("seq").getAll());
    });
  }

  function getMeta(name) {
    return get(META, name).then(function (row) { return row ? row.value : undefined; });
  }

  function setMeta(name, value) {
    return put(META, { name: name, value: value });
  }

  scope.ClinicDB = {
    OUTBOX: OUTBOX, META: META, open: open, get: get, put: put, remove: remove,
    allInOrder: allInOrder, getMeta: getMeta, setMeta: setMeta, withStore: withStore,
  };
})(self);
