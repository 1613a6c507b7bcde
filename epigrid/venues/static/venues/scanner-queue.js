// The venue scanner's storage on the phone (IndexedDB through idb, installed from npm):
// - "queue": entries recorded and not yet answered by the server, keyed by the id the device
//   made (crypto.randomUUID()). Putting an entry with an id already there replaces it, and the
//   server stores an id once, so nothing is ever stored twice.
// - "refused": entries the server refused (unknown ID number, a code it cannot verify), kept
//   apart with the server's message so that they stop blocking the queue.
// - "feed": the latest colour change per code id from the signed colour-change feed.
// - "meta": the last upload time and the feed's cursor.
import { openDB } from "./vendor/idb.js";
import { verifySignedDocument } from "../healthcode/verify.js";

const DB_NAME = "epigrid-venues-scanner";
const FEED_KIND = "epigrid.healthcode.changes";
const FEED_WINDOW_MS = 24 * 3600 * 1000;
// ask the feed again from this long before the newest time it answered, so a change whose
// transaction committed while the previous pull ran is not missed (seen twice changes nothing)
const FEED_OVERLAP_MS = 120 * 1000;
const ENTRY_FIELD = /^entries(?:\[(\d+)\]|\.(\d+))/;

export function openStore() {
  return openDB(DB_NAME, 1, {
    upgrade(db) {
      const queue = db.createObjectStore("queue", { keyPath: "id" });
      queue.createIndex("entered_at", "entered_at");
      db.createObjectStore("refused", { keyPath: "id" });
      db.createObjectStore("feed", { keyPath: "code_id" });
      db.createObjectStore("meta");
    },
  });
}

// What the entries API takes of a queued entry (the rest, like the shown colour's label, stays
// on the phone).
function wire(entry) {
  const out = {
    id: entry.id,
    venue_id: entry.venue_id,
    method: entry.method,
    entered_at: entry.entered_at,
    colour_seen: entry.colour_seen || "",
    device_id: entry.device_id || "",
  };
  if (entry.token) out.token = entry.token;
  if (entry.code_id) out.code_id = entry.code_id;
  if (entry.document_number) out.document_number = entry.document_number;
  if (entry.temperature !== null && entry.temperature !== undefined && entry.temperature !== "") {
    out.temperature = Number(entry.temperature);
  }
  return out;
}

export class Store {
  constructor(db, { uploadUrl, feedUrl, batch = 500, csrf }) {
    this.db = db;
    this.uploadUrl = uploadUrl;
    this.feedUrl = feedUrl;
    this.batch = batch;
    this.csrf = csrf;
    this.running = null;
  }

  add(entry) {
    return this.db.put("queue", entry);
  }

  count() {
    return this.db.count("queue");
  }

  refused() {
    return this.db.getAll("refused");
  }

  clearRefused() {
    return this.db.clear("refused");
  }

  meta(key) {
    return this.db.get("meta", key);
  }

  // One upload at a time, across the tabs of this browser too (Web Locks where there are).
  upload() {
    if (!this.running) {
      const run = () => this._upload();
      const job = navigator.locks ? navigator.locks.request("epigrid-venues-upload", run) : run();
      this.running = job.finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  // Sends the queue oldest first in batches; removes an entry only once the server answered it
  // (stored now or stored by an earlier upload), so a batch cut off half way is sent again and
  // loses nothing. Returns {answered: [...], refused: [...], error}.
  async _upload() {
    const summary = { answered: [], refused: [], error: null, status: null, message: "" };
    for (let round = 0; round < 10000; round++) {
      const batch = await this.db.getAllFromIndex("queue", "entered_at", null, this.batch);
      if (!batch.length) break;
      let response;
      try {
        response = await fetch(this.uploadUrl, {
          method: "POST",
          credentials: "same-origin",
          headers: { "Content-Type": "application/json", "X-CSRFToken": this.csrf() },
          // "%" as the JSON escape \u0025: the site's NUL filter refuses a body holding "%00",
          // which a base45 token may contain
          body: JSON.stringify({ entries: batch.map(wire) }).replace(/%/g, "\\u0025"),
        });
      } catch (error) {
        summary.error = "network";
        break;
      }
      let body = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (response.status === 201 && body && Array.isArray(body.entries)) {
        const tx = this.db.transaction(["queue", "meta"], "readwrite");
        for (const answer of body.entries) tx.objectStore("queue").delete(String(answer.id).toLowerCase());
        tx.objectStore("meta").put(new Date().toISOString(), "last_upload");
        await tx.done;
        summary.answered.push(...body.entries);
        continue;
      }
      // the batch is stored whole or not at all: the entries the server named go aside with
      // its message, and the rest is sent again at once
      const named = this._named(body, batch, response.status);
      if (named.size) {
        const tx = this.db.transaction(["queue", "refused"], "readwrite");
        for (const [index, problem] of named) {
          const entry = batch[index];
          tx.objectStore("queue").delete(entry.id);
          const kept = { ...entry, refused_code: problem.code, refused_message: problem.message };
          // an ID number is kept no longer than it is needed for the upload
          delete kept.document_number;
          delete kept.token;
          tx.objectStore("refused").put(kept);
          summary.refused.push(kept);
        }
        await tx.done;
        continue;
      }
      summary.error = "refused";
      summary.status = response.status;
      summary.message = (body && body.message) || "";
      break;
    }
    return summary;
  }

  _named(body, batch, status) {
    const named = new Map();
    // a session that ended or a role that may not record is not the entries' fault
    if (!body || status >= 500 || status === 401 || status === 403) return named;
    for (const problem of Array.isArray(body.errors) && body.errors.length ? body.errors : [body]) {
      const match = ENTRY_FIELD.exec(problem.field || "");
      if (!match) continue;
      const index = Number(match[1] ?? match[2]);
      if (index < batch.length && !named.has(index)) named.set(index, problem);
    }
    return named;
  }

  // --- the colour-change feed --------------------------------------------------------------

  // Pulls the changes since the last pull, checks each page's signature against the trust
  // list, keeps the latest change per code. Returns {changes, at} or throws.
  async pullFeed(trust) {
    const cursor = await this.meta("feed_cursor");
    let since = cursor ? new Date(Date.parse(cursor) - FEED_OVERLAP_MS).toISOString() : "";
    let afterId = "";
    let seen = 0;
    let generated = null;
    for (let page = 0; page < 100; page++) {
      const query = new URLSearchParams();
      if (since) query.set("since", since);
      if (afterId !== "") query.set("after_id", String(afterId));
      const response = await fetch(`${this.feedUrl}?${query}`, { credentials: "same-origin", cache: "no-store" });
      if (!response.ok) throw new Error(`feed ${response.status}`);
      const doc = await response.json();
      const payload = await verifySignedDocument(doc, trust);
      if (!payload || payload.kind !== FEED_KIND || !Array.isArray(payload.changes)) {
        const error = new Error("feed signature");
        error.badSignature = true;
        throw error;
      }
      const tx = this.db.transaction("feed", "readwrite");
      for (const change of payload.changes) {
        const known = await tx.store.get(change.code_id);
        if (!known || Date.parse(known.at) <= Date.parse(change.at)) tx.store.put(change);
      }
      await tx.done;
      seen += payload.changes.length;
      generated = payload.generated_at;
      if (payload.complete || !payload.next) break;
      since = payload.next.since;
      afterId = payload.next.after_id;
    }
    await this._pruneFeed(generated);
    const tx = this.db.transaction("meta", "readwrite");
    tx.store.put(generated, "feed_cursor");
    tx.store.put(new Date().toISOString(), "feed_pulled");
    await tx.done;
    return { changes: seen, at: generated };
  }

  async _pruneFeed(now) {
    const floor = Date.parse(now) - FEED_WINDOW_MS;
    let cursor = await this.db.transaction("feed", "readwrite").store.openCursor();
    while (cursor) {
      if (Date.parse(cursor.value.at) < floor) await cursor.delete();
      cursor = await cursor.continue();
    }
  }

  // The change written after the token was issued, if its colour differs from the token's.
  async laterChange(codeId, issuedAt, colour) {
    if (!codeId) return null;
    const change = await this.db.get("feed", codeId);
    if (!change || Date.parse(change.at) <= issuedAt.getTime() || change.colour === colour) return null;
    return change;
  }
}
