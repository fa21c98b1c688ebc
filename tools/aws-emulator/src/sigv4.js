// Independent SigV4 check: recomputes the signature of a request as received with AWS's own JS
// signer (@smithy/signature-v4), using exactly the headers the client listed in SignedHeaders.
import { timingSafeEqual } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import { Sha256 } from '@aws-crypto/sha256-js';
import { parse_query, sha256_hex } from './util.js';

const MAX_SKEW_MS = 15 * 60 * 1000;
const HEX64 = /^[0-9a-f]{64}$/;

// "AWS4-HMAC-SHA256 Credential=AKID/20150830/us-east-1/iam/aws4_request, SignedHeaders=a;b, Signature=hex"
export function parse_authorization(header) {
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/s.exec(header || '');
  if (!m) return null;
  const fields = {};
  for (const part of m[1].split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  const scope = (fields.Credential || '').split('/');
  if (scope.length !== 5 || !fields.SignedHeaders || !fields.Signature) return null;
  const [accessKeyId, date, region, service, terminator] = scope;
  if (!accessKeyId || !/^\d{8}$/.test(date) || terminator !== 'aws4_request') return null;
  return { accessKeyId, date, region, service, signedHeaders: fields.SignedHeaders.split(';'), signature: fields.Signature };
}

// "20150830T123600Z" -> Date
export function parse_amz_date(value) {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value || '');
  if (!m) return null;
  return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]));
}

// Header values as received; repeated headers joined with ',' (SigV4), not ', ' (Node).
function raw_header_map(raw) {
  const out = {};
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    out[name] = name in out ? `${out[name]},${raw[i + 1]}` : raw[i + 1];
  }
  return out;
}

function equal_hex(a, b) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

// Returns {ok:true, auth, credential} or {ok:false, kind, message, auth?, canonicalRequest?,
// stringToSign?}. kind names a row of protocols.js's AUTH table. region: one region or the list of
// regions the service accepts (IAM: the emulator's and us-east-1).
export async function verify_request(req, body, { credentials, region, now = new Date() }) {
  const auth = parse_authorization(req.headers.authorization);
  if (!req.headers.authorization) return { ok: false, kind: 'missing', message: 'Missing Authentication Token' };
  if (!auth) {
    return { ok: false, kind: 'malformed', message: 'Authorization header requires \'Credential\', \'SignedHeaders\' and ' +
      '\'Signature\' parameters, with Credential=<key>/<yyyymmdd>/<region>/<service>/aws4_request.' };
  }
  const cred = credentials.get(auth.accessKeyId);
  if (!cred) {
    const message = auth.service === 's3' ? 'The AWS Access Key Id you provided does not exist in our records.'
      : 'The security token included in the request is invalid.';
    return { ok: false, kind: 'unknown_key', message, auth };
  }
  const token = req.headers['x-amz-security-token'];
  if ((cred.sessionToken || token) && token !== cred.sessionToken) {
    return { ok: false, kind: 'bad_token', message: 'The security token included in the request is invalid.', auth };
  }
  if (credentials.is_expired(cred, now)) {
    return { ok: false, kind: 'expired', message: 'The security token included in the request is expired', auth };
  }
  const regions = Array.isArray(region) ? region : [region];
  if (!regions.includes(auth.region)) {
    return { ok: false, kind: 'region', auth, region_expected: regions[0],
      message: `Credential should be scoped to a valid region: '${auth.region}' is wrong; expecting '${regions[0]}'.` };
  }
  if (!auth.signedHeaders.includes('host')) {
    return { ok: false, kind: 'mismatch', auth, message: '\'Host\' must be a \'SignedHeader\' in the AWS Authorization.' };
  }
  const amz_date = req.headers['x-amz-date'];
  const signing_date = parse_amz_date(amz_date);
  if (!signing_date || !auth.signedHeaders.includes('x-amz-date')) {
    return { ok: false, kind: 'malformed', auth,
      message: 'The request must carry a signed X-Amz-Date header (YYYYMMDDTHHMMSSZ).' };
  }
  if (amz_date.slice(0, 8) !== auth.date) {
    return { ok: false, kind: 'mismatch', auth,
      message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.date}' != '${amz_date.slice(0, 8)}'` };
  }
  if (Math.abs(now.getTime() - signing_date.getTime()) > MAX_SKEW_MS) {
    return { ok: false, kind: 'skewed', auth,
      message: `Signature expired: ${amz_date} is now earlier or later than the server time by more than 15 min.` };
  }

  const received = raw_header_map(req.rawHeaders);
  const headers = {};
  for (const name of auth.signedHeaders) if (name in received) headers[name] = received[name];
  const qpos = req.url.indexOf('?');
  const request = {
    method: req.method,
    protocol: 'http:',
    hostname: (received.host || '').replace(/:\d+$/, ''),
    path: qpos < 0 ? req.url : req.url.slice(0, qpos),
    query: parse_query(qpos < 0 ? '' : req.url.slice(qpos + 1)),
    headers,
    body: body.length ? body : undefined,
  };
  const signer = new SignatureV4({
    credentials: {
      accessKeyId: cred.accessKeyId,
      secretAccessKey: cred.secretAccessKey,
      sessionToken: 'x-amz-security-token' in headers ? cred.sessionToken : undefined,
    },
    region: auth.region,
    service: auth.service,
    sha256: Sha256,
    uriEscapePath: auth.service !== 's3',
    applyChecksum: false,
  });
  const signed = await signer.sign(request, {
    signingDate: signing_date,
    signableHeaders: new Set(auth.signedHeaders),
    signingRegion: auth.region,
    signingService: auth.service,
  });
  const expected = parse_authorization(signed.headers.authorization);
  const same_list = expected.signedHeaders.join(';') === auth.signedHeaders.join(';');
  if (!same_list || !equal_hex(expected.signature, auth.signature)) {
    const diag = await diagnostics(signer, request, signed, auth, amz_date);
    const missing = auth.signedHeaders.filter((h) => !(h in received));
    return { ok: false, kind: 'mismatch', auth, ...diag,
      message: 'The request signature we calculated does not match the signature you provided. Check your AWS Secret ' +
        'Access Key and signing method. Consult the service documentation for details.' +
        (missing.length ? ` Signed headers missing from the request: ${missing.join(', ')}.` : '') +
        `\n\nThe Canonical String for this request should have been\n'${diag.canonicalRequest}'\n\n` +
        `The String-to-Sign should have been\n'${diag.stringToSign}'\n` };
  }
  const claimed = received['x-amz-content-sha256'];
  if (claimed && HEX64.test(claimed) && claimed !== sha256_hex(body)) {
    return { ok: false, kind: 'payload_hash', auth, claimed, computed: sha256_hex(body),
      message: 'The provided \'x-amz-content-sha256\' header does not match what was computed.' };
  }
  return { ok: true, auth, credential: cred };
}

// The canonical request and string to sign the signer used, for error messages and the log.
async function diagnostics(signer, request, signed, auth, amz_date) {
  const canonical_headers = {};
  for (const name of Object.keys(signed.headers).sort()) {
    if (!auth.signedHeaders.includes(name)) continue;
    canonical_headers[name] = String(signed.headers[name]).replace(/[\r\n]/g, ' ').replace(/[ \t]+/g, ' ').trim();
  }
  const payload_hash = signed.headers['x-amz-content-sha256'] ||
    (request.body ? sha256_hex(request.body) : sha256_hex(''));
  const canonical_request = signer.createCanonicalRequest(signed, canonical_headers, payload_hash);
  const scope = `${auth.date}/${auth.region}/${auth.service}/aws4_request`;
  const string_to_sign = await signer.createStringToSign(amz_date, scope, canonical_request, 'AWS4-HMAC-SHA256');
  return { canonicalRequest: canonical_request, stringToSign: string_to_sign };
}
