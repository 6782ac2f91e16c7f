/* The device's IndexedDB: schema in one place, one lazily opened connection.
   Used by pages (<script>) and by the service worker (importScripts). */
(function (scope) {
  "use strict";

  var DB_NAME = "clinic";
  var DB_VERSION = 2;
  var OUTBOX = "outbox"; // queued submissions, key = the record's (or revision's) UUID
  var META = "meta"; // small named values: currentUser, lastGoodSync, backoff, ...
  var PATIENTS = "patients"; // the facility's patient index (device.js), key = the patient's id
  var WORKING_SET = "working_set"; // the signed-in clinician's recent visits, key = patient_id

  // Every schema change adds a step here; old steps never change (items must survive updates).
  function upgrade(db, oldVersion) {
    if (oldVersion < 1) {
      var outbox = db.createObjectStore(OUTBOX, { keyPath: "key" });
      outbox.createIndex("seq", "seq");
      db.createObjectStore(META, { keyPath: "name" });
    }
    if (oldVersion < 2) {
      db.createObjectStore(PATIENTS, { keyPath: "id" });
      db.createObjectStore(WORKING_SET, { keyPath: "patient_id" });
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

  // One request as a promise: its result, or its error.
  function requested(request) {
    return new Promise(function (resolve, reject) {
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }

  function committed(tx) {
    return new Promise(function (resolve, reject) {
      tx.oncomplete = function () { resolve(); };
      tx.onerror = function (event) { reject(event.target.error || tx.error); }; // a failed request
      tx.onabort = function () { reject(tx.error || new Error("transaction aborted")); };
    });
  }

  // An object store whose requests are promises. The last(index) value is the one with the highest key.
  function storeOf(tx, name) {
    var store = tx.objectStore(name);
    return {
      get: function (key) { return requested(store.get(key)); },
      put: function (value) { return requested(store.put(value)); },
      delete: function (key) { return requested(store.delete(key)); },
      clear: function () { return requested(store.clear()); },
      getAll: function (index) { return requested((index ? store.index(index) : store).getAll()); },
      last: function (index) {
        return requested(store.index(index).openCursor(null, "prev")).then(function (cursor) {
          return cursor ? cursor.value : undefined;
        });
      },
    };
  }

  // Run fn(tx) in one transaction over `names` (a store name or a list); tx.store(name) gives a store
  // whose requests are promises. Resolves with fn's result once the transaction has committed; if fn throws
  // or its promise rejects, the transaction is aborted and nothing of it is written.
  // fn may chain IndexedDB requests only: the transaction commits by itself as soon as no request is
  // pending, so after any other wait (fetch, a timer) the next request fails (TransactionInactiveError).
  function transaction(names, mode, fn) {
    return open().then(function (db) {
      var tx = db.transaction(names, mode || "readonly");
      var done = committed(tx);
      done.catch(function () {}); // reported below, through the promise returned
      var result;
      try {
        result = Promise.resolve(fn({ store: function (name) { return storeOf(tx, name); } }));
      } catch (error) {
        result = Promise.reject(error);
      }
      return result.then(function (value) {
        return done.then(function () { return value; });
      }, function (error) {
        try { tx.abort(); } catch (ignored) { /* already committed or aborted */ }
        throw error;
      });
    });
  }

  function get(name, key) {
    return transaction(name, "readonly", function (tx) { return tx.store(name).get(key); });
  }

  function put(name, value) {
    return transaction(name, "readwrite", function (tx) { return tx.store(name).put(value); }).then(function () {});
  }

  function remove(name, key) {
    return transaction(name, "readwrite", function (tx) { return tx.store(name).delete(key); });
  }

  function allInOrder() {
    return transaction(OUTBOX, "readonly", function (tx) { return tx.store(OUTBOX).getAll("seq"); });
  }

  function getMeta(name) {
    return get(META, name).then(function (row) { return row ? row.value : undefined; });
  }

  function setMeta(name, value) {
    return put(META, { name: name, value: value });
  }

  scope.ClinicDB = {
    OUTBOX: OUTBOX, META: META, PATIENTS: PATIENTS, WORKING_SET: WORKING_SET, open: open, get: get, put: put, remove: remove,
    allInOrder: allInOrder, getMeta: getMeta, setMeta: setMeta, transaction: transaction,
  };
})(self);
