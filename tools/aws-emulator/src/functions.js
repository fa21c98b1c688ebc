// Lambda functions (PackageType Image; Zip ones only as stand-ins): configuration, and UpdateFunctionCode's state machine
// (resolve the image synchronously, pull + unpack while LastUpdateStatus is InProgress, then
// Successful or Failed). The image that actually runs switches only on Successful.
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { BUILTIN_ANSWERS } from './builtin.js';
import { ImageError, parse_image_uri, unpack_layers } from './image.js';
import { sleep } from './util.js';

export class LambdaError extends Error {
  constructor(status, code, message, extra = {}, headers = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.extra = extra;
    this.headers = headers;
  }
}

function lambda_time(date) {
  return date.toISOString().replace('Z', '+0000');
}

const NAME = /^[a-zA-Z0-9-_]{1,64}$/;

export class FunctionStore {
  constructor({ region, account_id, registry, registry_host, state_dir, update_ms }) {
    Object.assign(this, { region, account_id, registry, registry_host, state_dir, update_ms });
    this.functions = new Map();
    this.on_image_switch = () => {};
  }

  arn(name) {
    return `arn:aws:lambda:${this.region}:${this.account_id}:function:${name}`;
  }

  // spec: {name, timeout?, memory?, reservedConcurrency?, architectures?, environment?, role?, imageUri?,
  //        builtinAnswer?} (builtinAnswer: the emulator answers Invoke itself, see builtin.js)
  async create(spec) {
    if (!spec || !NAME.test(spec.name || '')) throw new LambdaError(400, 'InvalidParameterValueException', 'name must match [a-zA-Z0-9-_]{1,64}');
    // Zip functions exist only to be told apart: they have no code and cannot run.
    if (spec.packageType && spec.packageType !== 'Image' && spec.packageType !== 'Zip') {
      throw new LambdaError(400, 'InvalidParameterValueException', 'PackageType must be Image or Zip');
    }
    if (spec.builtinAnswer !== undefined && !BUILTIN_ANSWERS.includes(spec.builtinAnswer)) {
      throw new LambdaError(400, 'InvalidParameterValueException', `builtinAnswer must be one of: ${BUILTIN_ANSWERS.join(', ')}`);
    }
    if (this.functions.has(spec.name)) throw new LambdaError(409, 'ResourceConflictException', `Function already exist: ${spec.name}`);
    const fn = {
      name: spec.name,
      packageType: spec.packageType || 'Image',
      arn: this.arn(spec.name),
      timeout: check_int(spec.timeout ?? 3, 1, 900, 'timeout'),
      memory: check_int(spec.memory ?? 128, 128, 10240, 'memory'),
      reservedConcurrency: spec.reservedConcurrency === undefined || spec.reservedConcurrency === null ? null
        : check_int(spec.reservedConcurrency, 0, 100000, 'reservedConcurrency'),
      architectures: spec.architectures || ['x86_64'],
      environment: { ...(spec.environment || {}) },
      role: spec.role || `arn:aws:iam::${this.account_id}:role/hypertest-emulator`,
      builtinAnswer: spec.builtinAnswer || null,
      imageUri: null, resolvedImageUri: null, codeSha256: '', codeSize: 0,
      active: null, // {digest, config, rootfs} once an image is runnable
      lastUpdateStatus: 'Successful', lastUpdateStatusReason: null, lastUpdateStatusReasonCode: null,
      lastModified: new Date(), revisionId: randomUUID(), configRevision: 0,
    };
    this.functions.set(fn.name, fn);
    if (spec.imageUri) {
      await this.update_code(fn, { ImageUri: spec.imageUri });
      await this.wait_settled(fn);
    }
    return fn;
  }

  // By name, full ARN, or partial ARN; a qualifier other than $LATEST is not supported.
  lookup(name_or_arn, qualifier) {
    const decoded = decodeURIComponent(name_or_arn || '');
    const m = /^(?:arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:|\d{12}:function:)?([a-zA-Z0-9-_]+)(?::([$A-Za-z0-9-_]+))?$/.exec(decoded);
    const fn = m ? this.functions.get(m[1]) : null;
    const q = qualifier || (m && m[2]);
    if (!fn || (q && q !== '$LATEST')) {
      throw new LambdaError(404, 'ResourceNotFoundException', `Function not found: ${this.arn(m ? m[1] : decoded)}${q ? `:${q}` : ''}`);
    }
    return fn;
  }

  configuration(fn) {
    const c = {
      FunctionName: fn.name, FunctionArn: fn.arn, Role: fn.role, CodeSize: fn.codeSize, Description: '',
      Timeout: fn.timeout, MemorySize: fn.memory, LastModified: lambda_time(fn.lastModified), CodeSha256: fn.codeSha256,
      Version: '$LATEST', TracingConfig: { Mode: 'PassThrough' }, RevisionId: fn.revisionId,
      State: 'Active', LastUpdateStatus: fn.lastUpdateStatus, PackageType: fn.packageType, Architectures: fn.architectures,
      EphemeralStorage: { Size: 512 }, SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
    };
    if (Object.keys(fn.environment).length) c.Environment = { Variables: { ...fn.environment } };
    if (fn.lastUpdateStatusReason) c.LastUpdateStatusReason = fn.lastUpdateStatusReason;
    if (fn.lastUpdateStatusReasonCode) c.LastUpdateStatusReasonCode = fn.lastUpdateStatusReasonCode;
    return c;
  }

  get_function(fn) {
    const out = { Configuration: this.configuration(fn) };
    if (fn.imageUri) out.Code = { RepositoryType: 'ECR', ImageUri: fn.imageUri, ResolvedImageUri: fn.resolvedImageUri };
    if (fn.reservedConcurrency !== null) out.Concurrency = { ReservedConcurrentExecutions: fn.reservedConcurrency };
    return out;
  }

  check_not_updating(fn) {
    if (fn.lastUpdateStatus === 'InProgress') {
      throw new LambdaError(409, 'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`);
    }
  }

  async update_code(fn, body) {
    this.check_not_updating(fn);
    if (fn.packageType === 'Zip') {
      throw new LambdaError(400, 'InvalidParameterValueException',
        "Please don't provide ImageUri when updating a function with packageType Zip.");
    }
    if (body.ZipFile || body.S3Bucket || body.S3Key) {
      throw new LambdaError(400, 'InvalidParameterValueException', 'Please provide ImageUri when updating a function with packageType Image.');
    }
    const uri = body.ImageUri;
    const ref = parse_image_uri(uri, this.registry_host);
    if (!ref) {
      throw new LambdaError(400, 'InvalidParameterValueException',
        `Source image ${uri} is not valid. Provide <registry>/<repository>@sha256:<digest> or :<tag>, registry ${this.registry_host}.`);
    }
    let image;
    try {
      image = await this.registry.resolve(ref.repo, ref.reference);
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      const what = e.code === 'ImageNotFound' ? 'does not exist' : 'is not valid';
      throw new LambdaError(400, 'InvalidParameterValueException', `Source image ${uri} ${what}. ${e.message}`);
    }
    if (body.DryRun) return;
    fn.imageUri = uri;
    fn.resolvedImageUri = `${ref.host}/${ref.repo}@${image.digest}`;
    fn.codeSha256 = image.digest.slice('sha256:'.length);
    fn.codeSize = 0;
    fn.lastUpdateStatus = 'InProgress';
    fn.lastUpdateStatusReason = null;
    fn.lastUpdateStatusReasonCode = null;
    fn.lastModified = new Date();
    fn.revisionId = randomUUID();
    fn.settled = this.pull(fn, ref.repo, image, fn.revisionId);
  }

  async pull(fn, repo, image, revision) {
    const started = Date.now();
    let outcome;
    try {
      const layers = [];
      for (const layer of image.manifest.layers) {
        layers.push({ path: await this.registry.blob(repo, layer), mediaType: layer.mediaType });
      }
      const rootfs = path.join(this.state_dir, 'functions', fn.name, image.digest.replace(':', '-'), 'rootfs');
      await unpack_layers(layers, rootfs);
      outcome = { ok: true, active: { digest: image.digest, config: image.config.config || {}, rootfs } };
    } catch (e) {
      outcome = { ok: false, reason: e.message, code: e instanceof ImageError && e.code === 'ImageAccessDenied' ? 'ImageAccessDenied' : 'InvalidImage' };
    }
    await sleep(Math.max(0, this.update_ms - (Date.now() - started)));
    if (fn.revisionId !== revision) return;
    if (outcome.ok) {
      fn.active = outcome.active;
      fn.codeSize = image.manifest.layers.reduce((n, l) => n + (l.size || 0), 0);
      fn.lastUpdateStatus = 'Successful';
      fn.lastUpdateStatusReason = null;
      fn.lastUpdateStatusReasonCode = null;
      this.on_image_switch(fn);
    } else {
      fn.lastUpdateStatus = 'Failed';
      fn.lastUpdateStatusReason = outcome.reason;
      fn.lastUpdateStatusReasonCode = outcome.code;
    }
  }

  async wait_settled(fn) {
    if (fn.settled) await fn.settled;
  }

  update_configuration(fn, body) {
    this.check_not_updating(fn);
    if (body.Timeout !== undefined) fn.timeout = check_int(body.Timeout, 1, 900, 'Timeout');
    if (body.MemorySize !== undefined) fn.memory = check_int(body.MemorySize, 128, 10240, 'MemorySize');
    if (body.Environment?.Variables) fn.environment = { ...body.Environment.Variables };
    if (body.Role) fn.role = body.Role;
    fn.configRevision += 1;
    fn.lastModified = new Date();
    fn.revisionId = randomUUID();
    this.on_image_switch(fn); // running environments keep the old settings: recycle them
  }
}

function check_int(value, min, max, name) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LambdaError(400, 'InvalidParameterValueException', `${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}
