// Test fixtures: a real docker-registry with htpasswd (Basic auth AWS:<password>), the emulator
// as a child process, and a tiny OCI image whose entrypoint is a Node custom runtime.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

// The pinned SDK warns that its later releases will need Node 22; Node 20 is what runs here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const here = path.dirname(fileURLToPath(import.meta.url));
export const EMULATOR_MAIN = path.join(here, '..', 'src', 'main.js');
export const ACCESS_KEY = 'AKIDEXAMPLE';
export const SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
export const REGION = 'us-east-1';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function temp_dir(prefix) {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export async function free_port() {
  const server = net.createServer();
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

async function poll(what, fn, timeout_ms = 10000) {
  const end = Date.now() + timeout_ms;
  for (;;) {
    try {
      if (await fn()) return;
    } catch { /* not yet */ }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function stop_child(child) {
  return new Promise((resolve) => {
    if (!child || child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => { clearTimeout(timer); resolve(); });
    child.kill('SIGTERM');
  });
}

// Debian's docker-registry on a free port with htpasswd auth for user AWS.
export async function start_registry(dir, password) {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  if (spawnSync('docker-registry', ['--version']).error) {
    throw new Error('docker-registry is not installed (scripts/setup.sh installs the Debian package)');
  }
  const hp = spawnSync('htpasswd', ['-Bbn', 'AWS', password], { encoding: 'utf8' });
  if (hp.status !== 0) throw new Error(`htpasswd (apache2-utils) failed: ${hp.error?.message || hp.stderr}`);
  fs.writeFileSync(path.join(dir, 'htpasswd'), hp.stdout);
  const port = await free_port();
  fs.writeFileSync(path.join(dir, 'config.yml'), [
    'version: 0.1',
    'log: {level: warn, accesslog: {disabled: true}}',
    `storage: {filesystem: {rootdirectory: ${path.join(dir, 'data')}}, delete: {enabled: true}}`,
    `http: {addr: 127.0.0.1:${port}}`,
    `auth: {htpasswd: {realm: basic-realm, path: ${path.join(dir, 'htpasswd')}}}`,
    '',
  ].join('\n'));
  const child = spawn('docker-registry', ['serve', path.join(dir, 'config.yml')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const host = `127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}`;
  await poll('docker-registry', async () => (await fetch(`http://${host}/v2/`, { headers: { Authorization: auth } })).ok)
    .catch((e) => { child.kill('SIGKILL'); throw new Error(`${e.message}: ${stderr}`); });
  return { host, auth, pid: child.pid, stop: () => stop_child(child) };
}

export async function start_emulator(state, registry_host, extra = []) {
  const child = spawn(process.execPath, [EMULATOR_MAIN, '--port', '0', '--state', state, '--registry', registry_host,
    '--update-ms', '200', ...extra], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => { stderr += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /^ready (\d+)$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('exit', (code) => reject(new Error(`emulator exited ${code}: ${stderr}`)));
  });
  const url = `http://127.0.0.1:${port}`;
  return { port, url, child, stderr: () => stderr, stop: () => stop_child(child),
    admin: (method, p, body) => admin(url, method, p, body) };
}

// A temp dir holding a registry (htpasswd user AWS, `password`), an emulator on it and work/ for
// building images; what started is stopped again when a later step fails.
export async function start_stack(prefix, password, emulator_args = []) {
  const stack = { dir: temp_dir(prefix) };
  try {
    stack.registry = await start_registry(`${stack.dir}/registry`, password);
    stack.emu = await start_emulator(`${stack.dir}/state`, stack.registry.host,
      ['--registry-password', password, ...emulator_args]);
    fs.mkdirSync(`${stack.dir}/work`);
    return stack;
  } catch (e) {
    await stop_stack(stack);
    throw e;
  }
}

export async function stop_stack({ dir, registry, emu } = {}) {
  await emu?.stop();
  await registry?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}

export async function admin(url, method, p, body) {
  const res = await fetch(`${url}/_emulator/${p}`, { method, headers: { 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body) });
  const value = await res.json();
  if (!res.ok) throw new Error(`admin ${method} ${p}: ${res.status} ${JSON.stringify(value)}`);
  return value;
}

export function sdk_config(url, extra = {}) {
  return { endpoint: url, region: REGION, credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, maxAttempts: 1, ...extra };
}

const sha256 = (b) => createHash('sha256').update(b).digest('hex');

// Builds a gzip layer from {path: {content, mode}} with tar (argv only).
export function build_layer(work, files) {
  const root = fs.mkdtempSync(path.join(work, 'layer-'));
  for (const [p, { content, mode = 0o644 }] of Object.entries(files)) {
    const dest = path.join(root, p);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.writeFileSync(dest, content);
    fs.chmodSync(dest, mode);
  }
  const tar_path = `${root}.tar`;
  const r = spawnSync('tar', ['--sort=name', '--owner=0', '--group=0', '--numeric-owner', '-C', root, '-cf', tar_path, '.']);
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  const tar = fs.readFileSync(tar_path);
  const gz = zlib.gzipSync(tar);
  return { bytes: gz, digest: `sha256:${sha256(gz)}`, diff_id: `sha256:${sha256(tar)}`, size: gz.length,
    mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip' };
}

async function push_blob(registry, repo, bytes) {
  const digest = `sha256:${sha256(bytes)}`;
  const start = await fetch(`http://${registry.host}/v2/${repo}/blobs/uploads/`, { method: 'POST', headers: { Authorization: registry.auth } });
  if (start.status !== 202) throw new Error(`upload start: ${start.status} ${await start.text()}`);
  const location = new URL(start.headers.get('location'), `http://${registry.host}`);
  location.searchParams.set('digest', digest);
  const put = await fetch(location, { method: 'PUT', body: bytes,
    headers: { Authorization: registry.auth, 'Content-Type': 'application/octet-stream' } });
  if (put.status !== 201) throw new Error(`upload put: ${put.status} ${await put.text()}`);
  return digest;
}

// Pushes a single-platform OCI image; returns the manifest digest.
export async function push_image(registry, repo, tag, layers, config) {
  const full_config = { architecture: 'amd64', os: 'linux', config,
    rootfs: { type: 'layers', diff_ids: layers.map((l) => l.diff_id) } };
  const config_bytes = Buffer.from(JSON.stringify(full_config));
  const config_digest = await push_blob(registry, repo, config_bytes);
  for (const layer of layers) await push_blob(registry, repo, layer.bytes);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config_digest, size: config_bytes.length },
    layers: layers.map((l) => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
  }));
  const res = await fetch(`http://${registry.host}/v2/${repo}/manifests/${tag}`, { method: 'PUT', body: manifest,
    headers: { Authorization: registry.auth, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
  if (res.status !== 201) throw new Error(`manifest put: ${res.status} ${await res.text()}`);
  return `sha256:${sha256(manifest)}`;
}

// The test image: /usr/local/bin/hypertest-runner is a small Node custom runtime (runtime.cjs).
export async function push_runtime_image(registry, work, repo, tag, { marker = tag, entrypoint } = {}) {
  const runtime = fs.readFileSync(path.join(here, 'runtime.cjs'), 'utf8');
  const base = build_layer(work, {
    'usr/local/bin/hypertest-runner': { content: `#!${process.execPath}\n${runtime}`, mode: 0o755 },
    'var/task/hello.txt': { content: 'stale' },
    'var/task/gone.txt': { content: 'removed by a whiteout' },
  });
  const top = build_layer(work, {
    'var/task/hello.txt': { content: `hello from ${marker}` },
    'var/task/.wh.gone.txt': { content: '' },
  });
  return push_image(registry, repo, tag, [base, top], {
    Entrypoint: entrypoint || ['/usr/local/bin/hypertest-runner'],
    Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'LAMBDA_TASK_ROOT=/var/task', 'IMAGE_MARKER=' + marker],
    WorkingDir: '/var/task',
  });
}

// Signs a request with AWS's signer (as a correct client would), for tests that then tamper with it.
export async function signed_fetch(url, { method = 'GET', path: p = '/', query = {}, headers = {}, body, service,
  credentials = { accessKeyId: ACCESS_KEY, secretAccessKey: SECRET_KEY }, tamper = (r) => r }) {
  const { SignatureV4 } = await import('@smithy/signature-v4');
  const { Sha256 } = await import('@aws-crypto/sha256-js');
  const u = new URL(url);
  const signer = new SignatureV4({ credentials, region: REGION, service, sha256: Sha256, uriEscapePath: service !== 's3' });
  const request = { method, protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: p, query,
    headers: { host: u.host, ...headers }, body };
  const signed = tamper(await signer.sign(request));
  const qs = Object.entries(signed.query || {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
  const { host, ...send_headers } = signed.headers;
  const res = await fetch(`${url}${signed.path}${qs ? `?${qs}` : ''}`, { method, headers: send_headers, body: signed.body });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

export function decode_log(result) {
  return Buffer.from(result.LogResult || '', 'base64').toString('utf8');
}

export function payload_json(result) {
  return JSON.parse(Buffer.from(result.Payload).toString('utf8'));
}

export function read_request_log(state) {
  return fs.readFileSync(path.join(state, 'requests.jsonl'), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

// The request log once `done(entries)` holds: an entry is written when its response closes,
// which can be just after the client has read the response.
export async function await_request_log(state, done, timeout_ms = 3000) {
  const until = Date.now() + timeout_ms;
  for (;;) {
    const entries = read_request_log(state);
    if (done(entries) || Date.now() > until) return entries;
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
