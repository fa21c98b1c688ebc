// Pulls a single-platform image from the OCI registry (Basic auth AWS:<password>, every digest
// verified) and unpacks its layers, in order and with OCI whiteouts, into a root filesystem.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const MANIFEST_TYPES = {
  oci_manifest: 'application/vnd.oci.image.manifest.v1+json',
  oci_index: 'application/vnd.oci.image.index.v1+json',
  docker_manifest: 'application/vnd.docker.distribution.manifest.v2+json',
  docker_list: 'application/vnd.docker.distribution.manifest.list.v2+json',
};
const ACCEPT = Object.values(MANIFEST_TYPES).join(', ');
const ECR_HOST = /^\d{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com$/;

export class ImageError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code; // InvalidImage | ImageNotFound | ImageAccessDenied
  }
}

// "<host>/<repo>[:tag|@sha256:hex]" -> {host, repo, reference, digest}. The host must be the
// emulator's registry or an ECR-style host (both served by the same registry).
export function parse_image_uri(uri, registry_host) {
  const m = /^([^/]+)\/([a-z0-9]+(?:[._\-/][a-z0-9]+)*)(?::([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(sha256:[0-9a-f]{64}))?$/.exec(uri || '');
  if (!m) return null;
  const [, host, repo, tag, digest] = m;
  if (host !== registry_host && !ECR_HOST.test(host)) return null;
  if (!tag && !digest) return null;
  return { host, repo, reference: digest || tag, digest: digest || null };
}

export class RegistryClient {
  constructor({ host, password, cache_dir }) {
    this.base = `http://${host}`;
    this.auth = password ? `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` : null;
    this.cache_dir = cache_dir;
  }

  // GETs with auth; follows redirects without forwarding Authorization (as for ECR's S3 blobs).
  async get(url_path, accept) {
    let url = `${this.base}${url_path}`;
    let headers = { ...(accept ? { Accept: accept } : {}), ...(this.auth ? { Authorization: this.auth } : {}) };
    for (let hop = 0; hop < 5; hop += 1) {
      let res;
      try {
        res = await fetch(url, { headers, redirect: 'manual' });
      } catch (e) {
        throw new ImageError('ImageAccessDenied', `cannot reach the registry at ${this.base}: ${e.cause?.message || e.message}`);
      }
      if (![301, 302, 303, 307, 308].includes(res.status)) return res;
      url = new URL(res.headers.get('location'), url).toString();
      headers = accept ? { Accept: accept } : {};
    }
    throw new ImageError('ImageAccessDenied', `too many redirects from ${url_path}`);
  }

  async check(res, what) {
    if (res.ok) return;
    const text = await res.text().catch(() => '');
    if (res.status === 401 || res.status === 403) throw new ImageError('ImageAccessDenied', `registry denied ${what}: ${res.status} ${text}`);
    if (res.status === 404) throw new ImageError('ImageNotFound', `${what} does not exist in the registry: ${text}`);
    throw new ImageError('ImageAccessDenied', `registry answered ${res.status} for ${what}: ${text}`);
  }

  // -> {digest, mediaType, manifest, config}. Rejects image indexes (push single-platform images).
  async resolve(repo, reference) {
    const res = await this.get(`/v2/${repo}/manifests/${reference}`, ACCEPT);
    await this.check(res, `manifest ${repo}:${reference}`);
    const bytes = Buffer.from(await res.arrayBuffer());
    const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
    if (reference.startsWith('sha256:') && reference !== digest) {
      throw new ImageError('InvalidImage', `manifest bytes hash to ${digest}, not ${reference}`);
    }
    let manifest;
    try {
      manifest = JSON.parse(bytes.toString('utf8'));
    } catch {
      throw new ImageError('InvalidImage', `manifest ${digest} is not JSON`);
    }
    const media_type = manifest.mediaType || res.headers.get('content-type');
    if (media_type === MANIFEST_TYPES.oci_index || media_type === MANIFEST_TYPES.docker_list || manifest.manifests) {
      throw new ImageError('InvalidImage', `image index ${digest} is not supported: push a single-platform manifest`);
    }
    if (media_type !== MANIFEST_TYPES.oci_manifest && media_type !== MANIFEST_TYPES.docker_manifest) {
      throw new ImageError('InvalidImage', `unsupported manifest media type ${media_type}`);
    }
    if (!manifest.config?.digest || !Array.isArray(manifest.layers)) {
      throw new ImageError('InvalidImage', `manifest ${digest} lacks config or layers`);
    }
    const config_path = await this.blob(repo, manifest.config);
    let config;
    try {
      config = JSON.parse(await fs.readFile(config_path, 'utf8'));
    } catch {
      throw new ImageError('InvalidImage', `image config ${manifest.config.digest} is not JSON`);
    }
    return { digest, mediaType: media_type, manifest, config };
  }

  // The repository's tags ([] when the registry does not know the repository), or null when
  // the registry cannot be reached (ECR DeleteRepository then treats the repository as empty).
  async tags(repo) {
    let res;
    try {
      res = await this.get(`/v2/${repo}/tags/list`);
    } catch {
      return null;
    }
    if (res.status === 404) return [];
    if (!res.ok) return null;
    const body = await res.json().catch(() => ({}));
    return Array.isArray(body.tags) ? body.tags : [];
  }

  // Deletes every tagged manifest of a repository (ECR DeleteRepository with force).
  async delete_images(repo) {
    for (const tag of (await this.tags(repo)) || []) {
      const head = await fetch(`${this.base}/v2/${repo}/manifests/${tag}`, { method: 'HEAD',
        headers: { Accept: ACCEPT, ...(this.auth ? { Authorization: this.auth } : {}) } }).catch(() => null);
      const digest = head?.headers.get('docker-content-digest');
      if (!digest) continue;
      await fetch(`${this.base}/v2/${repo}/manifests/${digest}`, { method: 'DELETE',
        headers: this.auth ? { Authorization: this.auth } : {} }).catch(() => null);
    }
  }

  // Downloads a blob into the cache (once), verifying size and digest; returns its path.
  async blob(repo, descriptor) {
    const m = /^sha256:([0-9a-f]{64})$/.exec(descriptor.digest || '');
    if (!m) throw new ImageError('InvalidImage', `unsupported digest ${descriptor.digest}`);
    const dest = path.join(this.cache_dir, m[1]);
    if (await exists(dest)) return dest;
    await fs.mkdir(this.cache_dir, { recursive: true });
    const res = await this.get(`/v2/${repo}/blobs/${descriptor.digest}`);
    await this.check(res, `blob ${descriptor.digest}`);
    const tmp = `${dest}.${randomBytes(4).toString('hex')}.part`;
    const hash = createHash('sha256');
    let size = 0;
    const body = Readable.fromWeb(res.body);
    body.on('data', (chunk) => { hash.update(chunk); size += chunk.length; });
    await pipeline(body, createWriteStream(tmp));
    const got = `sha256:${hash.digest('hex')}`;
    if (got !== descriptor.digest || (descriptor.size !== undefined && size !== descriptor.size)) {
      await fs.rm(tmp, { force: true });
      throw new ImageError('InvalidImage', `blob ${descriptor.digest} (size ${descriptor.size}) arrived as ${got} (size ${size})`);
    }
    await fs.rename(tmp, dest);
    return dest;
  }
}

async function exists(p) {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

function run(cmd, args) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('error', (e) => resolve({ code: -1, out, err: e.message }));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function compression_flag(media_type) {
  if (/gzip$/.test(media_type)) return ['-z'];
  if (/zstd$/.test(media_type)) return ['--zstd'];
  if (/tar$/.test(media_type)) return [];
  throw new ImageError('InvalidImage', `unsupported layer media type ${media_type}`);
}

// Unpacks [{path, mediaType}] in order into `rootfs` (created atomically; reused if present).
export async function unpack_layers(layers, rootfs) {
  if (await exists(rootfs)) return;
  const work = `${rootfs}.${randomBytes(4).toString('hex')}.tmp`;
  await fs.mkdir(work, { recursive: true });
  try {
    for (const layer of layers) {
      const z = compression_flag(layer.mediaType);
      const list = await run('tar', ['-t', ...z, '-f', layer.path]);
      if (list.code !== 0) throw new ImageError('InvalidImage', `layer ${path.basename(layer.path)} is not a readable tar: ${list.err}`);
      for (const entry of list.out.split('\n')) {
        const name = entry.replace(/^\.?\//, '');
        const base = path.posix.basename(name);
        if (!base.startsWith('.wh.') || name.split('/').includes('..')) continue;
        const dir = path.join(work, path.posix.dirname(name));
        if (base === '.wh..wh..opq') {
          for (const child of await fs.readdir(dir).catch(() => [])) await fs.rm(path.join(dir, child), { recursive: true, force: true });
        } else {
          await fs.rm(path.join(dir, base.slice(4)), { recursive: true, force: true });
        }
      }
      const x = await run('tar', ['-x', ...z, '-f', layer.path, '-C', work, '--no-same-owner', '--exclude=.wh.*']);
      if (x.code !== 0) throw new ImageError('InvalidImage', `cannot unpack layer ${path.basename(layer.path)}: ${x.err}`);
    }
    await fs.rename(work, rootfs).catch(async (e) => {
      if (!(await exists(rootfs))) throw e;
    });
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}
