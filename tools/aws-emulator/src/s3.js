// S3 through s3rver (in-process, on an internal port): requests are forwarded only after the
// emulator verified their signature. aws-chunked bodies are decoded first (s3rver does not
// understand them); signed chunks are verified with the same signer.
import fs from 'node:fs';
import http from 'node:http';
import S3rver from 's3rver';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { BucketControl, bucket_config_operation } from './s3_buckets.js';
import { parse_amz_date } from './sigv4.js';
import { sha256_hex } from './util.js';

const DROP = new Set(['host', 'authorization', 'connection', 'transfer-encoding', 'content-length', 'expect', 'keep-alive']);

export function s3_operation(method, url_path, query, headers) {
  const parts = url_path.split('/').filter(Boolean);
  const has_key = parts.length > 1;
  if (parts.length === 0) return 'ListBuckets';
  if (!has_key) {
    const config_op = bucket_config_operation(method, query);
    if (config_op) return config_op;
    if (method === 'POST' && 'delete' in query) return 'DeleteObjects';
    const sub = Object.keys(query).find((k) => k !== 'x-id');
    if (sub && (method === 'PUT' || method === 'DELETE')) return `${method === 'PUT' ? 'Put' : 'Delete'}Bucket${sub[0].toUpperCase()}${sub.slice(1)}`;
    if (method === 'GET') return query['list-type'] === '2' ? 'ListObjectsV2' : 'uploads' in query ? 'ListMultipartUploads' : 'ListObjects';
    return { PUT: 'CreateBucket', HEAD: 'HeadBucket', DELETE: 'DeleteBucket', POST: 'DeleteObjects' }[method] || 'Unknown';
  }
  if (method === 'POST') return 'uploads' in query ? 'CreateMultipartUpload' : 'uploadId' in query ? 'CompleteMultipartUpload' : 'Unknown';
  if (method === 'PUT') return 'partNumber' in query ? 'UploadPart' : headers['x-amz-copy-source'] ? 'CopyObject' : 'PutObject';
  if (method === 'DELETE') return 'uploadId' in query ? 'AbortMultipartUpload' : 'DeleteObject';
  if (method === 'GET') return 'uploadId' in query ? 'ListParts' : 'GetObject';
  return method === 'HEAD' ? 'HeadObject' : 'Unknown';
}

export class S3Backend {
  async start(directory, buckets, region) {
    fs.mkdirSync(directory, { recursive: true }); // s3rver's ListBuckets needs it, buckets or not
    this.server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory,
      configureBuckets: buckets.map((name) => ({ name })) });
    const address = await this.server.run();
    this.port = address.port;
    this.control = new BucketControl({ store: this.server.store, region });
  }

  async create_bucket(name) {
    await this.control.create_bucket(name);
  }

  async close() {
    if (this.server) await this.server.close().catch(() => {});
  }

  // Decodes an aws-chunked body. Returns {body} or {error: [code, message]}.
  async decode_chunked(req, body, verdict, credential) {
    const mode = req.headers['x-amz-content-sha256'];
    if (mode !== 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' && mode !== 'STREAMING-UNSIGNED-PAYLOAD-TRAILER') {
      return { error: ['NotImplemented', `x-amz-content-sha256 ${mode} is not supported by the emulator`] };
    }
    const signed = mode === 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
    const { auth } = verdict;
    const signer = new SignatureV4({ credentials: credential, region: auth.region, service: 's3', sha256: Sha256 });
    const date = parse_amz_date(req.headers['x-amz-date']);
    let previous = auth.signature;
    const parts = [];
    let pos = 0;
    for (;;) {
      const eol = body.indexOf('\r\n', pos);
      if (eol < 0) return { error: ['IncompleteBody', 'aws-chunked body ends inside a chunk header'] };
      const [size_hex, ...ext] = body.subarray(pos, eol).toString('latin1').split(';');
      const size = parseInt(size_hex, 16);
      if (!Number.isInteger(size) || size < 0) return { error: ['IncompleteBody', `bad chunk size ${size_hex}`] };
      const data = body.subarray(eol + 2, eol + 2 + size);
      if (data.length !== size) return { error: ['IncompleteBody', 'aws-chunked body is shorter than its chunk sizes'] };
      if (signed) {
        const sig = (ext.find((e) => e.startsWith('chunk-signature=')) || '').slice('chunk-signature='.length);
        const string_to_sign = ['AWS4-HMAC-SHA256-PAYLOAD', req.headers['x-amz-date'],
          `${auth.date}/${auth.region}/s3/aws4_request`, previous, sha256_hex(''), sha256_hex(data)].join('\n');
        const expected = await signer.sign(string_to_sign, { signingDate: date, signingRegion: auth.region, signingService: 's3' });
        if (sig !== expected) return { error: ['SignatureDoesNotMatch', 'a chunk signature does not match'] };
        previous = sig;
      }
      parts.push(data);
      pos = eol + 2 + size + (size > 0 ? 2 : 0);
      if (size === 0) break;
    }
    const decoded = Buffer.concat(parts);
    const declared = req.headers['x-amz-decoded-content-length'];
    if (declared !== undefined && Number(declared) !== decoded.length) {
      return { error: ['IncompleteBody', `x-amz-decoded-content-length ${declared} != ${decoded.length} decoded bytes`] };
    }
    return { body: decoded };
  }

  forward(req, res, body, auth) {
    const headers = {};
    for (const [name, value] of Object.entries(req.headers)) if (!DROP.has(name)) headers[name] = value;
    if (/aws-chunked/.test(headers['content-encoding'] || '')) {
      const rest = headers['content-encoding'].split(',').map((s) => s.trim()).filter((s) => s && s !== 'aws-chunked');
      if (rest.length) headers['content-encoding'] = rest.join(',');
      else delete headers['content-encoding'];
      delete headers['x-amz-decoded-content-length'];
      delete headers['x-amz-trailer'];
      headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
    }
    headers['content-length'] = String(body.length);
    headers.authorization = `AWS4-HMAC-SHA256 Credential=S3RVER/${auth.date}/${auth.region}/s3/aws4_request, ` +
      `SignedHeaders=${auth.signedHeaders.join(';')}, Signature=${auth.signature}`;
    return new Promise((resolve) => {
      const upstream = http.request({ host: '127.0.0.1', port: this.port, method: req.method, path: req.url,
        headers: { ...headers, host: `127.0.0.1:${this.port}` } }, (up) => {
        res.writeHead(up.statusCode, up.headers);
        up.pipe(res);
        up.on('end', resolve);
        up.on('error', resolve);
      });
      upstream.on('error', (e) => {
        if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
        res.end(`s3rver backend failed: ${e.message}`);
        resolve();
      });
      upstream.end(body);
    });
  }
}
