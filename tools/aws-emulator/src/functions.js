// Lambda functions (PackageType Image; Zip ones only as stand-ins): CreateFunction (State Pending
// while the image is pulled, then Active or Failed), configuration, UpdateFunctionCode's state
// machine (resolve the image synchronously, pull + unpack while LastUpdateStatus is InProgress,
// then Successful or Failed), UpdateFunctionConfiguration (InProgress for update_ms, then
// Successful) and DeleteFunction. The image that actually runs switches only on Successful.
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
const ROLE_ARN = /^arn:(aws[a-zA-Z-]*)?:iam::\d{12}:role\/?[a-zA-Z_0-9+=,.@\-_/]+$/;
const ENV_KEY = /^[a-zA-Z]([a-zA-Z0-9_])+$/;
const RESERVED_ENV = ['_HANDLER', '_X_AMZN_TRACE_ID', 'AWS_DEFAULT_REGION', 'AWS_REGION', 'AWS_EXECUTION_ENV', 'AWS_LAMBDA_FUNCTION_NAME',
  'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_VERSION', 'AWS_LAMBDA_INITIALIZATION_TYPE', 'AWS_LAMBDA_LOG_GROUP_NAME',
  'AWS_LAMBDA_LOG_STREAM_NAME', 'AWS_ACCESS_KEY', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'AWS_LAMBDA_RUNTIME_API', 'LAMBDA_TASK_ROOT', 'LAMBDA_RUNTIME_DIR'];
// CreateFunction fields the emulator does not model: refused rather than silently ignored.
const UNSUPPORTED_CREATE = ['ImageConfig', 'VpcConfig', 'Layers', 'FileSystemConfigs', 'KMSKeyArn', 'DeadLetterConfig', 'CodeSigningConfigArn',
  'SnapStart', 'Runtime', 'Handler'];

const validation_error = (value, field, constraint) => new LambdaError(400, 'ValidationException',
  `1 validation error detected: Value '${typeof value === 'object' ? JSON.stringify(value) : value}' at '${field}' failed to satisfy constraint: ${constraint}`);

function check_range(value, field, min, max) {
  if (!Number.isInteger(value)) throw validation_error(value, field, 'Member must be an integer');
  if (value < min) throw validation_error(value, field, `Member must have value greater than or equal to ${min}`);
  if (value > max) throw validation_error(value, field, `Member must have value less than or equal to ${max}`);
  return value;
}

function check_environment(environment) {
  if (environment === undefined) return {};
  const vars = environment?.Variables ?? {};
  if (typeof vars !== 'object' || Array.isArray(vars) || vars === null) throw validation_error(vars, 'environment.variables', 'Member must be a map');
  for (const [k, v] of Object.entries(vars)) {
    if (!ENV_KEY.test(k)) throw validation_error(k, 'environment.variables', 'Member must satisfy regular expression pattern: [a-zA-Z]([a-zA-Z0-9_])+');
    if (typeof v !== 'string') throw validation_error(v, `environment.variables.${k}`, 'Member must be a string');
  }
  const reserved = Object.keys(vars).filter((k) => RESERVED_ENV.includes(k));
  if (reserved.length) {
    throw new LambdaError(400, 'InvalidParameterValueException', 'Lambda was unable to configure your environment variables because the ' +
      'environment variables you have provided contains reserved keys that are currently not supported for modification. ' +
      `Reserved keys used in this request: ${reserved.join(', ')}`);
  }
  return { ...vars };
}

function check_architectures(value) {
  if (value === undefined) return ['x86_64'];
  if (!Array.isArray(value) || value.length !== 1 || !['x86_64', 'arm64'].includes(value[0])) {
    throw validation_error(value, 'architectures', 'Member must have length less than or equal to 1, Member must satisfy enum value set: [x86_64, arm64]');
  }
  return [...value];
}

function check_ephemeral(value) {
  if (value === undefined) return 512;
  return check_range(value?.Size, 'ephemeralStorage.size', 512, 10240);
}

export class FunctionStore {
  constructor({ region, account_id, registry, registry_host, state_dir, update_ms }) {
    Object.assign(this, { region, account_id, registry, registry_host, state_dir, update_ms });
    this.functions = new Map();
    this.on_image_switch = () => {};
    this.on_delete = () => {};
    // Can Lambda assume this role (IAM PassRole / trust check)? Set by the emulator.
    this.can_assume = () => true;
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
      ephemeralStorage: spec.ephemeralStorage ?? 512, description: spec.description ?? '',
      state: 'Active', stateReason: null, stateReasonCode: null,
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
      FunctionName: fn.name, FunctionArn: fn.arn, Role: fn.role, CodeSize: fn.codeSize,
      Timeout: fn.timeout, MemorySize: fn.memory, LastModified: lambda_time(fn.lastModified), CodeSha256: fn.codeSha256,
      Description: fn.description,
      Version: '$LATEST', TracingConfig: { Mode: 'PassThrough' }, RevisionId: fn.revisionId,
      State: fn.state, PackageType: fn.packageType, Architectures: fn.architectures,
      EphemeralStorage: { Size: fn.ephemeralStorage }, SnapStart: { ApplyOn: 'None', OptimizationStatus: 'Off' },
      LoggingConfig: { LogFormat: 'Text', LogGroup: `/aws/lambda/${fn.name}` },
    };
    if (fn.lastUpdateStatus) c.LastUpdateStatus = fn.lastUpdateStatus;
    if (fn.stateReason) c.StateReason = fn.stateReason;
    if (fn.stateReasonCode) c.StateReasonCode = fn.stateReasonCode;
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
    if (fn.state === 'Pending' || fn.state === 'Failed') {
      throw new LambdaError(409, 'ResourceConflictException',
        `The operation cannot be performed at this time. The function is currently in the following state: ${fn.state}`);
    }
    if (fn.lastUpdateStatus === 'InProgress') {
      throw new LambdaError(409, 'ResourceConflictException',
        `The operation cannot be performed at this time. An update is in progress for resource: ${fn.arn}`);
    }
  }

  // Resolves an image URI as Lambda does when given one -> {ref, image}; InvalidParameterValueException otherwise.
  async resolve_image(uri) {
    const ref = parse_image_uri(uri, this.registry_host);
    if (!ref) {
      throw new LambdaError(400, 'InvalidParameterValueException',
        `Source image ${uri} is not valid. Provide <registry>/<repository>@sha256:<digest> or :<tag>, registry ${this.registry_host}.`);
    }
    try {
      return { ref, image: await this.registry.resolve(ref.repo, ref.reference) };
    } catch (e) {
      if (!(e instanceof ImageError)) throw e;
      const what = e.code === 'ImageNotFound' ? 'does not exist' : 'is not valid';
      throw new LambdaError(400, 'InvalidParameterValueException', `Source image ${uri} ${what}. ${e.message}`);
    }
  }

  start_pull(fn, uri, ref, image) {
    fn.imageUri = uri;
    fn.resolvedImageUri = `${ref.host}/${ref.repo}@${image.digest}`;
    fn.codeSha256 = image.digest.slice('sha256:'.length);
    fn.codeSize = 0;
    fn.lastUpdateStatusReason = null;
    fn.lastUpdateStatusReasonCode = null;
    fn.lastModified = new Date();
    fn.revisionId = randomUUID();
    fn.settled = this.pull(fn, ref.repo, image, fn.revisionId);
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
    if (body.Architectures !== undefined) check_architectures(body.Architectures);
    const uri = body.ImageUri;
    const { ref, image } = await this.resolve_image(uri);
    if (body.DryRun) return;
    if (body.Architectures !== undefined) fn.architectures = check_architectures(body.Architectures);
    fn.lastUpdateStatus = 'InProgress';
    this.start_pull(fn, uri, ref, image);
  }

  // CreateFunction (PackageType Image only). Answers at once with State Pending; the image is
  // pulled in the background, then the function is Active (LastUpdateStatus Successful) or Failed.
  async create_from_api(body) {
    let name = body.FunctionName;
    const arn_name = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:([a-zA-Z0-9-_]+)$/.exec(name || '');
    if (arn_name) name = arn_name[1];
    if (typeof name !== 'string' || !NAME.test(name)) {
      throw validation_error(name, 'functionName', 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]+ and have length 1..64');
    }
    if (typeof body.Role !== 'string' || !ROLE_ARN.test(body.Role)) {
      throw validation_error(body.Role, 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
    }
    for (const key of UNSUPPORTED_CREATE) {
      if (body[key] !== undefined) {
        if ((key === 'Runtime' || key === 'Handler') && body.PackageType === 'Image') {
          throw new LambdaError(400, 'InvalidParameterValueException',
            'Please don\'t provide Handler or Runtime or Layer when the intended function PackageType is Image.');
        }
        throw new LambdaError(400, 'InvalidParameterValueException', `${key} is not supported by the emulator`);
      }
    }
    if (body.Publish) throw new LambdaError(400, 'InvalidParameterValueException', 'Publish (function versions) is not supported by the emulator');
    const uri = body.Code?.ImageUri;
    if (body.PackageType !== 'Image') {
      throw new LambdaError(400, 'InvalidParameterValueException', uri
        ? 'Please don\'t provide ImageUri when creating a function with packageType Zip.'
        : 'The emulator only creates functions with PackageType Image.');
    }
    if (typeof uri !== 'string' || !uri) {
      throw new LambdaError(400, 'InvalidParameterValueException', 'Please provide ImageUri when creating a function with packageType Image.');
    }
    const spec = {
      timeout: check_range(body.Timeout ?? 3, 'timeout', 1, 900),
      memory: check_range(body.MemorySize ?? 128, 'memorySize', 128, 10240),
      ephemeralStorage: check_ephemeral(body.EphemeralStorage),
      architectures: check_architectures(body.Architectures),
      environment: check_environment(body.Environment),
    };
    if (body.Description !== undefined && (typeof body.Description !== 'string' || body.Description.length > 256)) {
      throw validation_error(body.Description, 'description', 'Member must have length less than or equal to 256');
    }
    if (this.functions.has(name)) throw new LambdaError(409, 'ResourceConflictException', `Function already exist: ${name}`);
    if (!this.can_assume(body.Role)) {
      throw new LambdaError(400, 'InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.');
    }
    const { ref, image } = await this.resolve_image(uri);
    if (this.functions.has(name)) throw new LambdaError(409, 'ResourceConflictException', `Function already exist: ${name}`);
    const fn = await this.create({ name, role: body.Role, description: body.Description ?? '', ...spec });
    fn.state = 'Pending';
    fn.stateReason = 'The function is being created.';
    fn.stateReasonCode = 'Creating';
    fn.lastUpdateStatus = null;
    this.start_pull(fn, uri, ref, image);
    return fn;
  }

  delete(fn) {
    this.functions.delete(fn.name);
    fn.deleted = true;
    fn.revisionId = randomUUID(); // a pull still running finds nothing to update
    this.on_delete(fn);
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
    const creating = fn.state === 'Pending';
    if (outcome.ok) {
      fn.active = outcome.active;
      fn.codeSize = image.manifest.layers.reduce((n, l) => n + (l.size || 0), 0);
      fn.lastUpdateStatus = 'Successful';
      fn.lastUpdateStatusReason = null;
      fn.lastUpdateStatusReasonCode = null;
      if (creating) Object.assign(fn, { state: 'Active', stateReason: null, stateReasonCode: null });
      this.on_image_switch(fn);
    } else {
      fn.lastUpdateStatus = 'Failed';
      fn.lastUpdateStatusReason = outcome.reason;
      fn.lastUpdateStatusReasonCode = outcome.code;
      if (creating) Object.assign(fn, { state: 'Failed', stateReason: outcome.reason, stateReasonCode: outcome.code });
    }
  }

  async wait_settled(fn) {
    if (fn.settled) await fn.settled;
  }

  // UpdateFunctionConfiguration: LastUpdateStatus InProgress for update_ms, then Successful.
  update_configuration(fn, body) {
    this.check_not_updating(fn);
    const next = {};
    if (body.Timeout !== undefined) next.timeout = check_range(body.Timeout, 'timeout', 1, 900);
    if (body.MemorySize !== undefined) next.memory = check_range(body.MemorySize, 'memorySize', 128, 10240);
    if (body.EphemeralStorage !== undefined) next.ephemeralStorage = check_ephemeral(body.EphemeralStorage);
    if (body.Environment !== undefined) next.environment = check_environment(body.Environment);
    if (body.Description !== undefined) next.description = String(body.Description);
    if (body.Role !== undefined) {
      if (typeof body.Role !== 'string' || !ROLE_ARN.test(body.Role)) {
        throw validation_error(body.Role, 'role', 'Member must satisfy regular expression pattern: arn:(aws[a-zA-Z-]*)?:iam::\\d{12}:role/?[a-zA-Z_0-9+=,.@\\-_/]+');
      }
      if (!this.can_assume(body.Role)) {
        throw new LambdaError(400, 'InvalidParameterValueException', 'The role defined for the function cannot be assumed by Lambda.');
      }
      next.role = body.Role;
    }
    Object.assign(fn, next);
    fn.configRevision += 1;
    fn.lastModified = new Date();
    fn.revisionId = randomUUID();
    fn.lastUpdateStatus = 'InProgress';
    fn.lastUpdateStatusReason = null;
    fn.lastUpdateStatusReasonCode = null;
    const revision = fn.revisionId;
    fn.settled = sleep(this.update_ms).then(() => {
      if (fn.revisionId === revision) fn.lastUpdateStatus = 'Successful';
    });
    this.on_image_switch(fn); // running environments keep the old settings: recycle them
  }
}

function check_int(value, min, max, name) {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new LambdaError(400, 'InvalidParameterValueException', `${name} must be an integer between ${min} and ${max}, got ${value}`);
  }
  return value;
}
