// Small helpers shared by the emulator's modules: bodies, ids, XML, timing.
import { randomBytes, randomUUID, createHash } from 'node:crypto';

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function request_id() {
  return randomUUID();
}

export function sha256_hex(data) {
  return createHash('sha256').update(data).digest('hex');
}

export function random_id(prefix, length) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  const bytes = randomBytes(length);
  let out = prefix;
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

export function random_secret(length = 40) {
  return randomBytes(length).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, length).padEnd(length, 'x');
}

// Reads a request body into one Buffer; rejects with {tooLarge:true} past `limit` bytes.
export function read_body(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    let over = false;
    req.on('data', (chunk) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on('end', () => (over ? reject(Object.assign(new Error('body too large'), { tooLarge: true, size }))
      : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
  });
}

export function xml_escape(value) {
  return String(value).replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
}

export function send(res, status, headers, body) {
  if (res.headersSent || res.destroyed) return;
  const buf = body === undefined || body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  res.writeHead(status, { ...headers, 'Content-Length': String(buf.length) });
  res.end(buf);
}

export function send_json(res, status, value, headers = {}) {
  send(res, status, { 'Content-Type': 'application/json', ...headers }, JSON.stringify(value));
}

// Splits a raw query string into decoded key -> string | string[] (the form the signer expects).
// '+' is kept literally: SigV4 clients must encode spaces as %20.
export function parse_query(raw) {
  const query = {};
  if (!raw) return query;
  for (const part of raw.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safe_decode(eq < 0 ? part : part.slice(0, eq));
    const value = eq < 0 ? '' : safe_decode(part.slice(eq + 1));
    if (key in query) query[key] = [].concat(query[key], value);
    else query[key] = value;
  }
  return query;
}

export function safe_decode(s) {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// Form bodies (STS query API) do use '+' for spaces.
export function parse_form(body) {
  const out = {};
  for (const [k, v] of new URLSearchParams(body.toString('utf8'))) out[k] = v;
  return out;
}

export function iso_seconds(date) {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Deterministic RNG (mulberry32) so fault injection is reproducible from a seed.
export function seeded_rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
