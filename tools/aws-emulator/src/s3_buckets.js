// S3 bucket-level operations the emulator answers itself (s3rver answers the rest): CreateBucket
// (location constraints, BucketAlreadyOwnedByYou), HeadBucket, DeleteBucket, default encryption,
// Block Public Access and lifecycle configuration (kept here, per bucket), the checksum S3
// requires on those PUTs and on DeleteObjects, and buckets "owned by another account" (admin
// API) that answer AccessDenied / BucketAlreadyExists.
import { createHash } from 'node:crypto';
import { send_error } from './protocols.js';
import { send } from './util.js';
import { child, child_text, children, el, leaf, parse_xml, write_xml, XmlError } from './xml.js';

const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';
const BUCKET_NAME = /^(?!xn--)(?!sthree-)(?!.*-s3alias$)(?!.*--ol-s3$)(?!\d+\.\d+\.\d+\.\d+$)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const CONFIGS = ['encryption', 'publicAccessBlock', 'lifecycle'];
// Operations S3 refuses without Content-MD5 or an x-amz-checksum-* header.
const CHECKSUM_REQUIRED = new Set(['PutBucketEncryption', 'PutPublicAccessBlock', 'PutBucketLifecycleConfiguration', 'DeleteObjects']);

export class S3Error extends Error {
  constructor(status, code, message, extra = {}) {
    super(message);
    Object.assign(this, { status, code, extra });
  }
}

const malformed = () => new S3Error(400, 'MalformedXML', 'The XML you provided was not well-formed or did not validate against our published schema');

// The bucket-level operation of a request, or null for object-level ones.
export function bucket_config_operation(method, query) {
  const sub = CONFIGS.find((c) => c in query);
  if (!sub) return null;
  const verb = { PUT: 'Put', GET: 'Get', DELETE: 'Delete' }[method];
  if (!verb) return null;
  if (sub === 'encryption') return `${verb}BucketEncryption`;
  if (sub === 'publicAccessBlock') return `${verb}PublicAccessBlock`;
  return verb === 'Delete' ? 'DeleteBucketLifecycle' : `${verb}BucketLifecycleConfiguration`;
}

// ---- checksums ----
function crc_table(poly) {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
}
const CRC32 = crc_table(0xedb88320);
const CRC32C = crc_table(0x82f63b78);

function crc(table, data) {
  let c = 0xffffffff;
  for (const b of data) c = table[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

const CHECKSUMS = {
  'x-amz-checksum-crc32': ['CRC32', (b) => crc(CRC32, b)],
  'x-amz-checksum-crc32c': ['CRC32C', (b) => crc(CRC32C, b)],
  'x-amz-checksum-sha1': ['SHA1', (b) => createHash('sha1').update(b).digest('base64')],
  'x-amz-checksum-sha256': ['SHA256', (b) => createHash('sha256').update(b).digest('base64')],
  'x-amz-checksum-crc64nvme': ['CRC64NVME', null], // accepted, not recomputed
};

// Throws S3Error when a required checksum is missing or a given one does not match the body.
export function check_checksums(headers, body, required) {
  let present = false;
  if (headers['content-md5'] !== undefined) {
    present = true;
    const given = Buffer.from(headers['content-md5'], 'base64');
    if (given.length !== 16) throw new S3Error(400, 'InvalidDigest', 'The Content-MD5 you specified was invalid.');
    if (!given.equals(createHash('md5').update(body).digest())) {
      throw new S3Error(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    }
  }
  for (const [header, [name, compute]] of Object.entries(CHECKSUMS)) {
    if (headers[header] === undefined) continue;
    present = true;
    if (compute && compute(body) !== headers[header]) {
      throw new S3Error(400, 'BadDigest', `The ${name} you specified did not match the calculated checksum.`);
    }
  }
  if (headers['x-amz-trailer'] && /x-amz-checksum-/.test(headers['x-amz-trailer'])) present = true;
  if (required && !present) {
    throw new S3Error(400, 'InvalidRequest', 'Missing required header for this request: Content-MD5 OR x-amz-checksum-*');
  }
}

// ---- configuration documents ----
function parse_body(body, root_name) {
  let root;
  try {
    root = parse_xml(body);
  } catch (e) {
    if (e instanceof XmlError) throw malformed();
    throw e;
  }
  if (root.name !== root_name) throw malformed();
  return root;
}

function only(node, allowed) {
  for (const c of node.children) if (!allowed.includes(c.name)) throw malformed();
}

const bool_text = (node, name) => {
  const v = child_text(node, name);
  if (v === null) return false;
  if (v !== 'true' && v !== 'false') throw malformed();
  return v === 'true';
};

function positive_int(text) {
  return /^\d+$/.test(text || '') && Number(text) > 0;
}

function parse_encryption(body) {
  const root = parse_body(body, 'ServerSideEncryptionConfiguration');
  only(root, ['Rule']);
  const rules = children(root, 'Rule');
  if (rules.length !== 1) throw malformed();
  const rule = rules[0];
  only(rule, ['ApplyServerSideEncryptionByDefault', 'BucketKeyEnabled', 'BlockedEncryptionTypes']);
  const by_default = child(rule, 'ApplyServerSideEncryptionByDefault');
  if (!by_default) throw malformed();
  only(by_default, ['SSEAlgorithm', 'KMSMasterKeyID']);
  const algorithm = child_text(by_default, 'SSEAlgorithm');
  if (!['AES256', 'aws:kms', 'aws:kms:dsse'].includes(algorithm)) throw malformed();
  const key = child_text(by_default, 'KMSMasterKeyID');
  if (key !== null && algorithm === 'AES256') {
    throw new S3Error(400, 'InvalidArgument', 'a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse',
      { ArgumentName: 'ApplyServerSideEncryptionByDefault' });
  }
  return { algorithm, key, bucketKey: bool_text(rule, 'BucketKeyEnabled') };
}

function encryption_xml(enc) {
  const by_default = el('ApplyServerSideEncryptionByDefault', leaf('SSEAlgorithm', enc.algorithm),
    ...(enc.key !== null ? [leaf('KMSMasterKeyID', enc.key)] : []));
  return write_xml(el('ServerSideEncryptionConfiguration', el('Rule', by_default, leaf('BucketKeyEnabled', enc.bucketKey))), S3_NS);
}

const PAB_FIELDS = ['BlockPublicAcls', 'IgnorePublicAcls', 'BlockPublicPolicy', 'RestrictPublicBuckets'];

function parse_public_access_block(body) {
  const root = parse_body(body, 'PublicAccessBlockConfiguration');
  only(root, PAB_FIELDS);
  return Object.fromEntries(PAB_FIELDS.map((f) => [f, bool_text(root, f)]));
}

function public_access_block_xml(pab) {
  return write_xml(el('PublicAccessBlockConfiguration', ...PAB_FIELDS.map((f) => leaf(f, pab[f]))), S3_NS);
}

const RULE_CHILDREN = ['ID', 'Prefix', 'Filter', 'Status', 'Transition', 'NoncurrentVersionTransition', 'Expiration',
  'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload'];
const ACTIONS = ['Transition', 'NoncurrentVersionTransition', 'Expiration', 'NoncurrentVersionExpiration', 'AbortIncompleteMultipartUpload'];

function check_filter(filter) {
  if (filter.children.length > 1) throw malformed();
  const f = filter.children[0];
  if (!f) return { tags: false };
  if (f.name === 'Prefix' || f.name === 'ObjectSizeGreaterThan' || f.name === 'ObjectSizeLessThan') return { tags: false };
  if (f.name === 'Tag') {
    only(f, ['Key', 'Value']);
    if (child_text(f, 'Key') === null) throw malformed();
    return { tags: true };
  }
  if (f.name === 'And') {
    only(f, ['Prefix', 'Tag', 'ObjectSizeGreaterThan', 'ObjectSizeLessThan']);
    return { tags: children(f, 'Tag').length > 0 };
  }
  throw malformed();
}

function invalid_argument(message, name, value) {
  return new S3Error(400, 'InvalidArgument', message, { ArgumentName: name, ArgumentValue: value ?? '' });
}

function parse_lifecycle(body) {
  const root = parse_body(body, 'LifecycleConfiguration');
  only(root, ['Rule']);
  const rules = children(root, 'Rule');
  if (!rules.length || rules.length > 1000) throw malformed();
  const ids = new Set();
  for (const rule of rules) {
    only(rule, RULE_CHILDREN);
    const status = child_text(rule, 'Status');
    if (status !== 'Enabled' && status !== 'Disabled') throw malformed();
    const filter = child(rule, 'Filter');
    if (Boolean(filter) === (child(rule, 'Prefix') !== null)) throw malformed();
    const { tags } = filter ? check_filter(filter) : { tags: false };
    if (!ACTIONS.some((a) => child(rule, a))) throw new S3Error(400, 'InvalidRequest', 'At least one action needs to be specified in a rule');
    const expiration = child(rule, 'Expiration');
    if (expiration) {
      only(expiration, ['Days', 'Date', 'ExpiredObjectDeleteMarker']);
      if (expiration.children.length !== 1) throw malformed();
      const days = child_text(expiration, 'Days');
      if (days !== null && !positive_int(days)) throw invalid_argument("'Days' for Expiration action must be a positive integer", 'Days', days);
    }
    const abort = child(rule, 'AbortIncompleteMultipartUpload');
    if (abort) {
      const days = child_text(abort, 'DaysAfterInitiation');
      if (!positive_int(days)) throw invalid_argument("'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a positive integer", 'DaysAfterInitiation', days);
      if (tags) throw new S3Error(400, 'InvalidRequest', 'AbortIncompleteMultipartUpload cannot be specified with Tags.');
    }
    const noncurrent = child(rule, 'NoncurrentVersionExpiration');
    if (noncurrent && !positive_int(child_text(noncurrent, 'NoncurrentDays'))) {
      throw invalid_argument("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer", 'NoncurrentDays', child_text(noncurrent, 'NoncurrentDays'));
    }
    let id = child_text(rule, 'ID');
    if (id === null || id === '') {
      id = createHash('sha1').update(`${Date.now()}${Math.random()}`).digest('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, 48);
      rule.children = [leaf('ID', id), ...rule.children.filter((c) => c.name !== 'ID')];
    }
    if (id.length > 255) throw invalid_argument('ID length should not exceed allowed limit of 255', 'ID', id);
    if (ids.has(id)) throw invalid_argument('Rule ID must be unique. Found same ID for more than one rule', 'ID', id);
    ids.add(id);
  }
  return rules;
}

// ---- the handler ----
export class BucketControl {
  // store: s3rver's store (getBucket, putBucket, deleteBucket, listObjects)
  constructor({ store, region }) {
    this.store = store;
    this.region = region;
    this.configs = new Map(); // bucket -> {encryption, publicAccessBlock, lifecycle}
    this.foreign = new Set(); // names taken by "another account"
  }

  config(bucket) {
    if (!this.configs.has(bucket)) {
      // Since 2023 new buckets have SSE-S3 default encryption and Block Public Access on.
      this.configs.set(bucket, { encryption: null, lifecycle: null,
        publicAccessBlock: Object.fromEntries(PAB_FIELDS.map((f) => [f, true])) });
    }
    return this.configs.get(bucket);
  }

  async create_bucket(name) {
    await this.store.putBucket(name);
    this.configs.delete(name);
    this.config(name);
  }

  add_foreign(name) {
    this.foreign.add(name);
  }

  no_such_bucket(bucket) {
    return new S3Error(404, 'NoSuchBucket', 'The specified bucket does not exist', { BucketName: bucket });
  }

  // Answers the request if it is one of ours; returns false to let s3rver answer it.
  async handle(req, res, body, url_path, query, operation) {
    try {
      return await this.dispatch(req, res, body, url_path, query, operation);
    } catch (e) {
      if (!(e instanceof S3Error)) throw e;
      if (req.method === 'HEAD') {
        res.emulator_error = e.code;
        send(res, e.status, { 'x-amz-request-id': res.emulator_request_id }, '');
      } else {
        send_error(res, 's3', e.status, e.code, e.message, e.extra);
      }
      return true;
    }
  }

  async dispatch(req, res, body, url_path, query, operation) {
    const parts = url_path.split('/').filter(Boolean);
    if (!parts.length) return false;
    const bucket = decodeURIComponent(parts[0]);
    if (this.foreign.has(bucket)) {
      if (operation === 'CreateBucket') {
        throw new S3Error(409, 'BucketAlreadyExists', 'The requested bucket name is not available. The bucket namespace is shared by all ' +
          'users of the system. Please select a different name and try again.', { BucketName: bucket });
      }
      throw new S3Error(403, 'AccessDenied', 'Access Denied');
    }
    check_checksums(req.headers, body, CHECKSUM_REQUIRED.has(operation));
    if (parts.length > 1) return false;
    const ok = (status, xml, headers = {}) => {
      send(res, status, { 'x-amz-request-id': res.emulator_request_id, ...(xml ? { 'Content-Type': 'application/xml' } : {}), ...headers },
        xml ? `<?xml version="1.0" encoding="UTF-8"?>\n${xml}` : '');
      return true;
    };
    if (operation === 'CreateBucket') {
      if (!BUCKET_NAME.test(bucket)) throw new S3Error(400, 'InvalidBucketName', 'The specified bucket is not valid.', { BucketName: bucket });
      let constraint = '';
      if (body.length) {
        const root = parse_body(body, 'CreateBucketConfiguration');
        constraint = child_text(root, 'LocationConstraint') || '';
      }
      if (this.region === 'us-east-1' ? constraint !== '' : constraint !== this.region) {
        if (this.region === 'us-east-1' && constraint === 'us-east-1') {
          throw new S3Error(400, 'InvalidLocationConstraint', 'The specified location-constraint is not valid', { LocationConstraint: constraint });
        }
        throw new S3Error(400, 'IllegalLocationConstraintException',
          `The ${constraint || 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`);
      }
      if (await this.store.getBucket(bucket)) {
        // us-east-1 keeps its legacy answer: 200 OK to the owner.
        if (this.region !== 'us-east-1') {
          throw new S3Error(409, 'BucketAlreadyOwnedByYou', 'Your previous request to create the named bucket succeeded and you already own it.',
            { BucketName: bucket });
        }
        return ok(200, null, { Location: `/${bucket}` });
      }
      await this.create_bucket(bucket);
      return ok(200, null, { Location: `/${bucket}` });
    }
    const exists = await this.store.getBucket(bucket);
    if (operation === 'HeadBucket') {
      if (!exists) throw this.no_such_bucket(bucket);
      return ok(200, null, { 'x-amz-bucket-region': this.region, 'x-amz-access-point-alias': 'false' });
    }
    const config_op = bucket_config_operation(req.method, query);
    if (operation !== 'DeleteBucket' && !config_op) return false;
    if (!exists) throw this.no_such_bucket(bucket);
    const cfg = this.config(bucket);
    switch (operation) {
      case 'DeleteBucket': {
        const { objects } = await this.store.listObjects(bucket, { maxKeys: 1 });
        if (objects.length) throw new S3Error(409, 'BucketNotEmpty', 'The bucket you tried to delete is not empty', { BucketName: bucket });
        await this.store.deleteBucket(bucket);
        this.configs.delete(bucket);
        return ok(204, null);
      }
      case 'PutBucketEncryption':
        cfg.encryption = parse_encryption(body);
        return ok(200, null);
      case 'GetBucketEncryption':
        return ok(200, encryption_xml(cfg.encryption || { algorithm: 'AES256', key: null, bucketKey: false }));
      case 'DeleteBucketEncryption':
        cfg.encryption = null;
        return ok(204, null);
      case 'PutPublicAccessBlock':
        cfg.publicAccessBlock = parse_public_access_block(body);
        return ok(200, null);
      case 'GetPublicAccessBlock':
        if (!cfg.publicAccessBlock) {
          throw new S3Error(404, 'NoSuchPublicAccessBlockConfiguration', 'The public access block configuration was not found', { BucketName: bucket });
        }
        return ok(200, public_access_block_xml(cfg.publicAccessBlock));
      case 'DeletePublicAccessBlock':
        cfg.publicAccessBlock = null;
        return ok(204, null);
      case 'PutBucketLifecycleConfiguration':
        cfg.lifecycle = parse_lifecycle(body);
        return ok(200, null, { 'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K' });
      case 'GetBucketLifecycleConfiguration':
        if (!cfg.lifecycle) {
          throw new S3Error(404, 'NoSuchLifecycleConfiguration', 'The lifecycle configuration does not exist', { BucketName: bucket });
        }
        return ok(200, write_xml(el('LifecycleConfiguration', ...cfg.lifecycle), S3_NS),
          { 'x-amz-transition-default-minimum-object-size': 'all_storage_classes_128K' });
      case 'DeleteBucketLifecycle':
        cfg.lifecycle = null;
        return ok(204, null);
      default:
        return false;
    }
  }
}
