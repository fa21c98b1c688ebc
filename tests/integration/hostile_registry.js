#!/usr/bin/env node
// A hostile OCI registry for tests/integration/hostile_image_test.sh (node's built-in http only).
// Usage: node hostile_registry.js <state-dir>
// Listens on two free loopback ports: the registry and a token service; writes
// <state-dir>/ports.json ({"registry": N, "token": N}) once both listen. Every request either
// listener sees is logged to <state-dir>/auth.log as "<listener> <method> <url> <Authorization>".
// The repository name picks the behaviour (tag: any):
//   normal/img    a single-layer image                 modes/img    layer with 04755/02755/0777 entries
//   large/img     layer with a 2 MiB file of zeros      big/img      a 1 GiB manifest (streamed)
//   deep/img      manifest [[[...]]] 300000 deep        deepindex/img an index nesting 300000 deep
//   endless/img   a layer blob that never ends          basic/img    Basic auth (user base, password basepass)
//   bearer/img    Bearer auth; the token service hands out a token to anyone
'use strict';
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const path = require('path');
const zlib = require('zlib');

const state = process.argv[2];
if (!state) { console.error('usage: hostile_registry.js <state-dir>'); process.exit(2); }
const authLog = path.join(state, 'auth.log');
const sha = (b) => 'sha256:' + crypto.createHash('sha256').update(b).digest('hex');
const TOKEN = 'hostile-token';
const GiB = 1024 * 1024 * 1024;

// One tar entry: ustar header (+ data padded to 512 bytes).
function tarEntry(name, { mode = 0o644, type = '0', data = Buffer.alloc(0) } = {}) {
  const h = Buffer.alloc(512);
  const put = (s, off, len) => h.write(s, off, len, 'latin1');
  const octal = (n, len) => n.toString(8).padStart(len - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(mode, 8), 100, 8);
  put(octal(0, 8), 108, 8);  // uid root
  put(octal(0, 8), 116, 8);  // gid root
  put(octal(type === '0' ? data.length : 0, 12), 124, 12);
  put(octal(1700000000, 12), 136, 12);
  put('        ', 148, 8);
  put(type, 156, 1);
  put('ustar\0' + '00', 257, 8);
  put('root', 265, 32);
  put('root', 297, 32);
  let sum = 0;
  for (const b of h) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}

function image(entries) {
  const tar = Buffer.concat([...entries.map(([n, o]) => tarEntry(n, o)), Buffer.alloc(1024)]);
  const layer = zlib.gzipSync(tar);
  const arch = process.arch === 'arm64' ? 'arm64' : 'amd64';
  const config = Buffer.from(JSON.stringify({
    architecture: arch, os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'] },
    rootfs: { type: 'layers', diff_ids: [sha(tar)] },
    history: [{ created_by: 'hostile_registry.js' }],
  }));
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(layer), size: layer.length }],
  }));
  return { manifest, blobs: new Map([[sha(config), config], [sha(layer), layer]]) };
}

const hello = ['etc/', { type: '5', mode: 0o755 }];
const images = {
  normal: image([hello, ['etc/hello', { data: Buffer.from('hello\n') }]]),
  modes: image([hello, ['bin/', { type: '5', mode: 0o755 }],
    ['bin/suid', { mode: 0o4755, data: Buffer.from('#!/bin/sh\nid\n') }],
    ['bin/sgid', { mode: 0o2755, data: Buffer.from('#!/bin/sh\nid\n') }],
    ['etc/world-writable', { mode: 0o777, data: Buffer.from('x\n') }],
    ['shared/', { type: '5', mode: 0o777 }]]),
  large: image([hello, ['etc/zeros', { data: Buffer.alloc(2 * 1024 * 1024) }]]),
};
// endless: a real manifest whose layer descriptor says 123457 bytes; the blob never ends.
const endlessLayer = Buffer.alloc(123457, 1);
images.endless = (() => {
  const base = image([hello]);
  const m = JSON.parse(base.manifest);
  m.layers[0] = { ...m.layers[0], digest: sha(endlessLayer), size: endlessLayer.length };
  return { manifest: Buffer.from(JSON.stringify(m)), blobs: base.blobs, endless: sha(endlessLayer) };
})();
const DEPTH = 300000;
const deep = Buffer.from('['.repeat(DEPTH) + ']'.repeat(DEPTH));
const deepIndex = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":' +
  '['.repeat(DEPTH) + ']'.repeat(DEPTH) + '}');

function log(listener, req) {
  fs.appendFileSync(authLog, `${listener} ${req.method} ${req.url} ${req.headers.authorization || '-'}\n`);
}

function streamForever(res, chunk, limit) {
  let sent = 0;
  const more = () => {
    while (!res.destroyed && sent < limit) {
      sent += chunk.length;
      if (!res.write(chunk)) return res.once('drain', more);
    }
    if (!res.destroyed) res.end();
  };
  res.on('close', () => { sent = limit; });
  more();
}

let ports = {};
const registry = http.createServer((req, res) => {
  log('registry', req);
  const m = req.url.match(/^\/v2\/([a-z]+)\/img\/(manifests|blobs)\/([^/?]+)/);
  const repo = m ? m[1] : '';
  const auth = req.headers.authorization || '';
  if (repo === 'basic' && auth !== 'Basic ' + Buffer.from('base:basepass').toString('base64')) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="x"', 'Content-Type': 'application/json' });
    return res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  }
  if (repo === 'bearer' && auth !== 'Bearer ' + TOKEN) {
    res.writeHead(401, { 'WWW-Authenticate': `Bearer realm="http://127.0.0.1:${ports.token}/token",service="x",scope="repository:bearer/img:pull"`,
      'Content-Type': 'application/json' });
    return res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
  }
  if (req.url === '/v2/' || req.url === '/v2') { res.writeHead(200, { 'Content-Type': 'application/json' }); return res.end('{}'); }
  if (!m) { res.writeHead(404); return res.end(); }
  const img = images[repo] || images.normal;
  if (m[2] === 'manifests') {
    if (repo === 'big') {
      res.writeHead(200, { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json',
        'Docker-Content-Digest': 'sha256:' + 'a'.repeat(64) });
      if (req.method === 'HEAD') return res.end();
      res.write('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","annotations":{"x":"');
      return streamForever(res, Buffer.alloc(1 << 20, 'a'), GiB);
    }
    const body = repo === 'deep' ? deep : repo === 'deepindex' ? deepIndex : img.manifest;
    const type = repo === 'deepindex' ? 'application/vnd.oci.image.index.v1+json' : 'application/vnd.oci.image.manifest.v1+json';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length, 'Docker-Content-Digest': sha(body) });
    return res.end(req.method === 'HEAD' ? undefined : body);
  }
  if (img.endless === m[3]) {
    res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
    if (req.method === 'HEAD') return res.end();
    return streamForever(res, Buffer.alloc(1 << 16, 1), Infinity);
  }
  const blob = img.blobs.get(m[3]);
  if (!blob) { res.writeHead(404); return res.end(); }
  res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': blob.length, 'Docker-Content-Digest': m[3] });
  res.end(req.method === 'HEAD' ? undefined : blob);
});

const tokens = http.createServer((req, res) => {
  log('token', req);
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.end(JSON.stringify({ token: TOKEN, access_token: TOKEN }));
});

registry.listen(0, '127.0.0.1', () => {
  ports.registry = registry.address().port;
  tokens.listen(0, '127.0.0.1', () => {
    ports.token = tokens.address().port;
    fs.writeFileSync(path.join(state, 'ports.json.tmp'), JSON.stringify(ports));
    fs.renameSync(path.join(state, 'ports.json.tmp'), path.join(state, 'ports.json'));
  });
});
