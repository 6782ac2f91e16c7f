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
  var OWNER = "workingSetOwner"; // META: the user whose working set this device holds
  var READY = "deviceReady"; // META: {user, asOf}: the last complete download for that user

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

  // What a record shown from the device is made of, read in one transaction with every request at once: the
  // patient (or the survivor it was merged into), its working-set entry, the working set's owner and the last
  // download. Whose they are is judged by the page (device.js judgeRecord); the worker reads them too, to hand
  // them to the offline record page with its HTML.
  function readRecord(id) {
    return transaction([PATIENTS, WORKING_SET, META], "readonly", function (tx) {
      var patients = tx.store(PATIENTS), visits = tx.store(WORKING_SET), meta = tx.store(META);
      return Promise.all([patients.get(id), visits.get(id), meta.get(OWNER), meta.get(READY)]).then(function (found) {
        var p = found[0];
        if (!p || !p.merged_into) return found;
        return Promise.all([patients.get(p.merged_into), visits.get(p.merged_into)]).then(function (survivor) {
          return survivor[0] ? [survivor[0], survivor[1], found[2], found[3]] : found;
        });
      }).then(function (found) {
        return { patient: found[0] || null, entry: found[1] || null, owner: found[2] ? found[2].value : null,
          ready: found[3] ? found[3].value || null : null };
      });
    });
  }

  scope.ClinicDB = {
    OUTBOX: OUTBOX, META: META, PATIENTS: PATIENTS, WORKING_SET: WORKING_SET, OWNER: OWNER, READY: READY, open: open,
    get: get, put: put, remove: remove, allInOrder: allInOrder, getMeta: getMeta, setMeta: setMeta,
    transaction: transaction, readRecord: readRecord,
  };
})(self);
