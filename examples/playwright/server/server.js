// Static file server for the Tiny Shop app, Node's standard library only.
// The tests start one per Playwright worker on 127.0.0.1 port 0 (see tests/fixtures.ts), so any
// number of Playwright processes can run side by side. `node server/server.js [port]` serves the
// app for a look in a browser (default port 3000).
'use strict';

const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');

const APP_ROOT = path.resolve(__dirname, '..', 'app');

const CONTENT_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

// Maps a URL path to a file under root; null when it would leave root.
function resolveFile(root, urlPath) {
  let decoded;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return null;
  }
  if (decoded.endsWith('/')) decoded += 'index.html';
  const file = path.resolve(root, '.' + path.posix.normalize('/' + decoded));
  return file.startsWith(root + path.sep) ? file : null;
}

function send(response, status, type, body, headOnly) {
  response.writeHead(status, {
    'Content-Type': type,
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  response.end(headOnly ? undefined : body);
}

function handle(root, request, response) {
  const headOnly = request.method === 'HEAD';
  if (request.method !== 'GET' && !headOnly) {
    send(response, 405, 'text/plain; charset=utf-8', 'Method not allowed\n', headOnly);
    return;
  }
  const url = new URL(request.url, 'http://localhost');
  if (url.pathname === '/healthz') {
    send(response, 200, 'application/json; charset=utf-8', '{"ok":true}\n', headOnly);
    return;
  }
  const file = resolveFile(root, url.pathname);
  fs.readFile(file || '', (error, body) => {
    if (error) {
      const page = fs.readFileSync(path.join(root, '404.html'));
      send(response, 404, CONTENT_TYPES['.html'], page, headOnly);
      return;
    }
    const type = CONTENT_TYPES[path.extname(file)] || 'application/octet-stream';
    send(response, 200, type, body, headOnly);
  });
}

// Starts a server for root on host:port (port 0 picks a free one).
// Resolves to { url, close() }; close() resolves once every connection is gone.
function startServer({ root = APP_ROOT, host = '127.0.0.1', port = 0 } = {}) {
  const server = http.createServer((request, response) => handle(root, request, response));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.address();
      resolve({
        url: `http://${host}:${address.port}`,
        close: () =>
          new Promise((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

module.exports = { startServer, APP_ROOT };

if (require.main === module) {
  const port = Number(process.argv[2] || process.env.PORT || 3000);
  startServer({ port }).then(({ url }) => console.log(`Tiny Shop on ${url}`));
}
