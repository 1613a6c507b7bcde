// Offline verifier for health code (健康码) tokens, the browser twin of
// epigrid/healthcode/tokens.py: same layout, same key-list JSON, same reason codes.
// No dependencies; Ed25519 comes from WebCrypto, which needs a secure context
// (https:// or http://127.0.0.1 / localhost).
//
// Layout v1 after the "HCT1:" prefix and base45 decoding (big-endian):
//   0 u8 version=1 | 1 u8 colour (1 green, 2 yellow, 3 red) | 2 u32 issued_at (Unix s)
//   6 u16 ttl (s)  | 8 kid[4] | 12 code_id[16] | 28 issuer ASCII[n] | last 64: signature
// The signature covers every byte before it.

export const PREFIX = "HCT1:";
export const VERSION = 1;
export const HEADER_LENGTH = 28;
export const SIGNATURE_LENGTH = 64;
export const KID_LENGTH = 4;
const MAX_ISSUER_LENGTH = 16;
const MAX_LENGTH = HEADER_LENGTH + MAX_ISSUER_LENGTH + SIGNATURE_LENGTH;
const MAX_TEXT_LENGTH = PREFIX.length + 3 * Math.floor(MAX_LENGTH / 2) + 2 * (MAX_LENGTH % 2);

export const Reason = Object.freeze({
  OK: "ok",
  MALFORMED: "malformed",
  UNSUPPORTED_VERSION: "unsupported_version",
  UNTRUSTED_ISSUER: "untrusted_issuer",
  UNKNOWN_KID: "unknown_kid",
  BAD_SIGNATURE: "bad_signature",
  KEY_NOT_VALID_AT_ISSUE: "key_not_valid_at_issue",
  NOT_YET_VALID: "not_yet_valid",
  EXPIRED: "expired",
  KEY_EXPIRED: "key_expired",
});

const COLOURS = [null, "green", "yellow", "red"];
const ISSUER_RE = /^[A-Z0-9][A-Z0-9-]{0,15}$/;
const OTHER_VERSION_RE = /^HCT[0-9]+:/;
const ISO_WITH_OFFSET_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

const BASE45_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";
const BASE45_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE45_ALPHABET.length; i++) BASE45_VALUE[BASE45_ALPHABET.charCodeAt(i)] = i;

export class TokenError extends Error {
  constructor(reason, message) {
    super(message);
    this.reason = reason;
  }
}

function digit(text, i) {
  const code = text.charCodeAt(i);
  const value = code < 128 ? BASE45_VALUE[code] : -1;
  if (value < 0) throw new TokenError(Reason.MALFORMED, "character outside the base45 alphabet");
  return value;
}

// Strict RFC 9285 base45: throws TokenError on a bad character, length or group value.
export function base45Decode(text) {
  const n = text.length;
  if (n % 3 === 1) throw new TokenError(Reason.MALFORMED, "base45 length leaves a single character");
  const out = new Uint8Array(Math.floor(n / 3) * 2 + (n % 3 ? 1 : 0));
  let o = 0;
  for (let i = 0; i < n; i += 3) {
    if (i + 2 < n) {
      const x = digit(text, i) + 45 * digit(text, i + 1) + 2025 * digit(text, i + 2);
      if (x > 0xffff) throw new TokenError(Reason.MALFORMED, "base45 group out of range");
      out[o++] = x >> 8;
      out[o++] = x & 0xff;
    } else {
      const x = digit(text, i) + 45 * digit(text, i + 1);
      if (x > 0xff) throw new TokenError(Reason.MALFORMED, "base45 group out of range");
      out[o++] = x;
    }
  }
  return out;
}

function hex(bytes) {
  let s = "";
  for (const b of bytes) s += b.toString(16).padStart(2, "0");
  return s;
}

function fromBase64url(text) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) {
    throw new Error("public_key must be base64url");
  }
  const plain = text.replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const binary = atob(plain + "=".repeat((4 - (plain.length % 4)) % 4));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// Parses without checking the signature; throws TokenError (malformed / unsupported_version).
export function parseToken(token) {
  if (typeof token !== "string" || !token.startsWith(PREFIX)) {
    if (typeof token === "string" && OTHER_VERSION_RE.test(token)) {
      throw new TokenError(Reason.UNSUPPORTED_VERSION, "token of another layout version");
    }
    throw new TokenError(Reason.MALFORMED, "not a health code token");
  }
  // refused before decoding, so a scanner fed megabytes does not spend time on them
  if (token.length > MAX_TEXT_LENGTH) throw new TokenError(Reason.MALFORMED, "token too long");
  const raw = base45Decode(token.slice(PREFIX.length));
  const size = raw.length;
  if (size < HEADER_LENGTH + 1 + SIGNATURE_LENGTH || size > HEADER_LENGTH + MAX_ISSUER_LENGTH + SIGNATURE_LENGTH) {
    throw new TokenError(Reason.MALFORMED, "wrong token length");
  }
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const version = view.getUint8(0);
  const colour = COLOURS[view.getUint8(1)];
  const issuedAt = view.getUint32(2, false);
  const ttl = view.getUint16(6, false);
  const split = size - SIGNATURE_LENGTH;
  const issuer = String.fromCharCode(...raw.subarray(HEADER_LENGTH, split));
  if (version !== VERSION || !colour || ttl === 0 || !ISSUER_RE.test(issuer)) {
    throw new TokenError(Reason.MALFORMED, "field out of range");
  }
  return {
    version,
    colour,
    issuedAt,
    expires: issuedAt + ttl,
    kid: hex(raw.subarray(8, 12)),
    codeId: hex(raw.subarray(12, 28)),
    issuer,
    signed: raw.subarray(0, split),
    signature: raw.subarray(split),
  };
}

function parseTime(text, name) {
  if (typeof text !== "string" || !ISO_WITH_OFFSET_RE.test(text)) {
    throw new Error(`${name} must be ISO-8601 with a UTC offset`);
  }
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`${name} is not a valid time: ${text}`);
  return ms / 1000;
}

async function loadKeyList(doc, issuers) {
  const issuer = doc && doc.issuer;
  if (typeof issuer !== "string" || !ISSUER_RE.test(issuer)) throw new Error("bad issuer in key list");
  if (!Array.isArray(doc.keys)) throw new Error(`${issuer}: 'keys' must be a list`);
  const byKid = issuers.get(issuer) || new Map();
  for (const entry of doc.keys) {
    if (!entry || entry.alg !== "Ed25519") throw new Error(`${issuer}: only Ed25519 keys are supported`);
    if (typeof entry.kid !== "string" || !/^[0-9a-fA-F]{8}$/.test(entry.kid)) {
      throw new Error(`${issuer}: kid must be 8 hex digits`);
    }
    const raw = fromBase64url(entry.public_key);
    if (raw.length !== 32) throw new Error(`${issuer}: public_key must be 32 bytes`);
    const notBefore = parseTime(entry.not_before, "not_before");
    const notAfter = entry.not_after == null ? Infinity : parseTime(entry.not_after, "not_after");
    if (notAfter <= notBefore) throw new Error(`${issuer}: not_after must be later than not_before`);
    const kid = entry.kid.toLowerCase();
    const known = byKid.get(kid);
    if (known) {
      if (known.publicKey !== entry.public_key.replace(/=+$/, "") || known.notBefore !== notBefore || known.notAfter !== notAfter) {
        throw new Error(`${issuer} kid ${kid} is published twice with different contents`);
      }
      continue;
    }
    // imported once here, so verifying a token never re-imports a key
    const key = await crypto.subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
    byKid.set(kid, { key, publicKey: entry.public_key.replace(/=+$/, ""), notBefore, notAfter });
  }
  issuers.set(issuer, byKid);
}

// Builds a trust list from documents that are each a key list {"issuer", "keys"}, a trust
// list {"issuers": [key list, ...]}, or the JSON text of either. Throws on a bad document:
// a broken key file is a configuration error, not a verdict on a token.
export async function loadTrustList(...docs) {
  const issuers = new Map();
  for (let doc of docs) {
    if (typeof doc === "string") doc = JSON.parse(doc);
    if (!doc || typeof doc !== "object") throw new Error("a key list document is a JSON object");
    if ("issuers" in doc) {
      if (!Array.isArray(doc.issuers)) throw new Error("'issuers' must be a list of key lists");
      for (const item of doc.issuers) await loadKeyList(item, issuers);
    } else {
      await loadKeyList(doc, issuers);
    }
  }
  return { issuers };
}

function verdict(reason, fields = {}) {
  return {
    valid: reason === Reason.OK,
    reason,
    colour: null,
    issuer: null,
    kid: null,
    codeId: null,
    issuedAt: null,
    expires: null,
    ...fields,
  };
}

// Verifies one token against a trust list from loadTrustList. Never throws on the token.
// `at` is a Date or milliseconds; `leeway` (seconds) widens the token's own validity window
// for scanners whose clocks drift, but never a key's window.
// Like the Python side, colour, codeId and times are only reported once the signature holds.
export async function verifyToken(token, trustList, at = new Date(), { leeway = 0 } = {}) {
  const now = (at instanceof Date ? at.getTime() : Number(at)) / 1000;
  // a NaN time would slip through every comparison below and pass as valid
  if (!Number.isFinite(now)) throw new TypeError("verification time must be a valid Date or milliseconds");
  let parsed;
  try {
    parsed = parseToken(token);
  } catch (error) {
    return verdict(error instanceof TokenError ? error.reason : Reason.MALFORMED);
  }
  const routing = { issuer: parsed.issuer, kid: parsed.kid };
  const byKid = trustList.issuers.get(parsed.issuer);
  if (!byKid) return verdict(Reason.UNTRUSTED_ISSUER, routing);
  const entry = byKid.get(parsed.kid);
  if (!entry) return verdict(Reason.UNKNOWN_KID, routing);
  let good = false;
  try {
    good = await crypto.subtle.verify({ name: "Ed25519" }, entry.key, parsed.signature, parsed.signed);
  } catch {
    good = false;
  }
  if (!good) return verdict(Reason.BAD_SIGNATURE, routing);

  let reason;
  if (!(entry.notBefore <= parsed.issuedAt && parsed.issuedAt < entry.notAfter)) {
    reason = Reason.KEY_NOT_VALID_AT_ISSUE;
  } else if (now + leeway < parsed.issuedAt) {
    reason = Reason.NOT_YET_VALID;
  } else if (now - leeway >= parsed.expires) {
    reason = Reason.EXPIRED;
  } else if (now >= entry.notAfter) {
    reason = Reason.KEY_EXPIRED;
  } else {
    reason = Reason.OK;
  }
  return verdict(reason, {
    ...routing,
    colour: parsed.colour,
    codeId: parsed.codeId,
    issuedAt: new Date(parsed.issuedAt * 1000),
    expires: new Date(parsed.expires * 1000),
  });
}

// Checks a document the issuer signed with a token key, such as the colour-change feed
// (/healthcode/changes.json, epigrid/healthcode/feed.py): {payload, alg, issuer, kid, signature}
// where the signature (base64url) covers the payload text's UTF-8 bytes. Returns the parsed
// payload, or null when the signature, the key or the key's window does not hold at `at`.
export async function verifySignedDocument(doc, trustList, at = new Date()) {
  if (!doc || doc.alg !== "Ed25519" || typeof doc.payload !== "string") return null;
  const byKid = trustList.issuers.get(doc.issuer);
  const entry = byKid && typeof doc.kid === "string" ? byKid.get(doc.kid.toLowerCase()) : null;
  if (!entry) return null;
  const now = (at instanceof Date ? at.getTime() : Number(at)) / 1000;
  if (!(entry.notBefore <= now && now < entry.notAfter)) return null;
  let good = false;
  try {
    const signature = fromBase64url(doc.signature);
    good = await crypto.subtle.verify({ name: "Ed25519" }, entry.key, signature, new TextEncoder().encode(doc.payload));
  } catch {
    good = false;
  }
  if (!good) return null;
  const payload = JSON.parse(doc.payload);
  return payload && payload.issuer === doc.issuer ? payload : null;
}
