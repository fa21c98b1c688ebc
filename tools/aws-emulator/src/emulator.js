// The emulator's front door: one HTTP server for every AWS API (routed by the SigV4 credential
// scope's service, or by path when unsigned) plus the test-only /_emulator admin API.
// The account starts as before (a default execution role, --bucket buckets) or, with
// emptyAccount, with nothing in it, for `hypertest setup` to provision.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { handle_admin } from './admin.js';
import { CredentialStore } from './credentials.js';
import { handle_ecr } from './ecr.js';
import { Faults } from './faults.js';
import { FunctionStore, LambdaError } from './functions.js';
import { handle_iam, IAM_ACTIONS, IamStore, lambda_trust_policy } from './iam.js';
import { RegistryClient } from './image.js';
import { handle_lambda, lambda_operation } from './lambda_api.js';
import { RequestLog } from './logs.js';
import { PROTOCOL_OF_SERVICE, send_auth_error, send_error, send_server_error, send_throttle } from './protocols.js';
import { Runtime } from './runtime.js';
import { S3Backend, s3_operation } from './s3.js';
import { trust_allows } from './policy.js';
import { handle_quotas, handle_sts, json_target, sts_params } from './services.js';
import { parse_authorization, verify_request } from './sigv4.js';
import { handle_sso, SSO_PATHS, SsoTokens } from './sso.js';
import { parse_query, read_body, request_id, sleep } from './util.js';

// The execution role functions made through the admin API default to (it exists in IAM unless
// the account starts empty).
export const DEFAULT_ROLE_NAME = 'hypertest-emulator';
// Services whose requests are SigV4-verified (the SSO portal API is not signed).
const SIGNED_SERVICES = new Set(['lambda', 'ecr', 'servicequotas', 'sts', 's3', 'iam']);

const MAX_BODY = 1024 * 1024 * 1024;

export class Emulator {
  // options: {port, state, registry, registryPassword, region, accountId, accessKey, secretKey,
  //   buckets[], updateMs, initTimeoutMs, concurrencyLimit, webIdentityToken, emptyAccount,
  //   rolePropagationMs}
  constructor(options) {
    this.options = options;
    this.region = options.region;
    this.account_id = options.accountId;
    this.state_dir = path.resolve(options.state);
    fs.mkdirSync(this.state_dir, { recursive: true });
    this.settings = {
      concurrencyLimit: options.concurrencyLimit, quotaApplied: true, registryPassword: options.registryPassword,
      webIdentityToken: options.webIdentityToken || null, repositories: new Map(),
      rolePropagationMs: options.rolePropagationMs || 0, emptyAccount: Boolean(options.emptyAccount),
    };
    this.iam = new IamStore(this.account_id);
    if (!options.emptyAccount) this.iam.create_role({ name: DEFAULT_ROLE_NAME, assumeRolePolicyDocument: lambda_trust_policy() });
    this.sso = new SsoTokens(this.account_id);
    this.credentials = new CredentialStore(this.account_id);
    this.credentials.add({ accessKeyId: options.accessKey, secretAccessKey: options.secretKey });
    this.faults = new Faults();
    this.registry = new RegistryClient({ host: options.registry, password: options.registryPassword,
      cache_dir: path.join(this.state_dir, 'blobs', 'sha256') });
    this.functions = new FunctionStore({ region: this.region, account_id: this.account_id, registry: this.registry,
      registry_host: options.registry, state_dir: this.state_dir, update_ms: options.updateMs });
    this.runtime = new Runtime({ state_dir: this.state_dir, region: this.region, account_id: this.account_id,
      credentials: this.credentials, faults: this.faults, init_timeout_ms: options.initTimeoutMs,
      account_concurrency: options.concurrencyLimit, endpoint_url: () => this.url });
    this.functions.on_image_switch = (fn) => this.runtime.recycle(fn);
    this.functions.on_delete = (fn) => this.runtime.remove(fn);
    this.functions.can_assume = (arn) => this.lambda_can_assume(arn);
    this.s3 = new S3Backend();
    this.log = new RequestLog(path.join(this.state_dir, 'requests.jsonl'));
  }

  set_registry_password(password) {
    this.settings.registryPassword = password;
    this.registry.auth = password ? `Basic ${Buffer.from(`AWS:${password}`).toString('base64')}` : null;
  }

  // Lambda's check of a function's execution role: it exists (and has propagated), and its trust
  // policy lets lambda.amazonaws.com assume it.
  lambda_can_assume(arn) {
    const role = this.iam.role_by_arn(arn);
    if (!role || Date.now() - role.created.getTime() < this.settings.rolePropagationMs) return false;
    return trust_allows(role.trust, { principal: { type: 'Service', name: 'lambda.amazonaws.com' }, action: 'sts:AssumeRole',
      account_id: this.account_id });
  }

  async start() {
    await this.s3.start(path.join(this.state_dir, 's3'), this.options.buckets || [], this.region);
    this.server = http.createServer((req, res) => this.handle(req, res).catch((e) => {
      process.stderr.write(`aws-emulator: ${req.method} ${req.url}: ${e.stack}\n`);
      if (!res.headersSent) send_error(res, 'rest-json', 500, 'ServiceException', e.message);
    }));
    this.server.requestTimeout = 0;
    this.server.keepAliveTimeout = 65_000;
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.options.port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    this.url = `http://127.0.0.1:${this.port}`;
    return this.port;
  }

  async close() {
    await this.runtime.close();
    await this.s3.close();
    this.server?.closeAllConnections?.();
    await new Promise((resolve) => (this.server ? this.server.close(resolve) : resolve()));
    this.log.close();
  }

  // Signing name of an unsigned request, from its shape.
  guess_service(req, url_path, body, raw_query) {
    if (/^\/20\d\d-\d\d-\d\d\//.test(url_path)) return 'lambda';
    const { prefix } = json_target(req);
    if (prefix.startsWith('AmazonEC2ContainerRegistry')) return 'ecr';
    if (prefix.startsWith('ServiceQuotas')) return 'servicequotas';
    if (url_path === '/' && (req.method === 'POST' || /(^|&)Action=/.test(raw_query))) {
      return IAM_ACTIONS.has(sts_params(req, body, raw_query).Action) ? 'iam' : 'sts';
    }
    return 's3';
  }

  operation(service, req, url_path, query, body) {
    if (service === 'lambda') return lambda_operation(req.method, url_path)?.operation || 'Unknown';
    if (service === 'ecr' || service === 'servicequotas') return json_target(req).operation || 'Unknown';
    if (service === 'sts' || service === 'iam') return sts_params(req, body, req.url.split('?')[1] || '').Action || 'Unknown';
    if (service === 'sso') return /^\/federation\/credentials\/?$/.test(url_path) ? 'GetRoleCredentials' : 'Unknown';
    return s3_operation(req.method, url_path, query, req.headers);
  }

  async handle(req, res) {
    res.emulator_request_id = request_id();
    const qpos = req.url.indexOf('?');
    const url_path = qpos < 0 ? req.url : req.url.slice(0, qpos);
    const raw_query = qpos < 0 ? '' : req.url.slice(qpos + 1);
    const query = parse_query(raw_query);
    if (url_path.startsWith('/_emulator/')) return handle_admin(this, req, res, url_path);

    const auth = parse_authorization(req.headers.authorization);
    let body;
    try {
      body = await read_body(req, MAX_BODY);
    } catch (e) {
      if (!e.tooLarge) throw e;
      const guess = auth && SIGNED_SERVICES.has(auth.service) ? auth.service : 's3';
      return send_error(res, PROTOCOL_OF_SERVICE[guess], 413, 'RequestEntityTooLargeException', 'request body too large');
    }
    // A request signed for an emulated service is that service's, whatever its path (an S3 key
    // may be "logout"); the SSO portal's requests carry a bearer token, not a signature.
    const service = auth && SIGNED_SERVICES.has(auth.service) ? auth.service
      : SSO_PATHS.test(url_path) ? 'sso' : this.guess_service(req, url_path, body, raw_query);
    const protocol = PROTOCOL_OF_SERVICE[service];
    const operation = this.operation(service, req, url_path, query, body);
    const entry = { method: req.method, path: req.url, service, operation, accessKeyId: auth?.accessKeyId ?? null,
      signed: Boolean(req.headers.authorization), signatureOk: false, requestId: res.emulator_request_id };
    res.on('close', () => this.log.write({ ...entry, status: res.headersSent ? res.statusCode : null,
      ...(res.emulator_error ? { error: res.emulator_error } : {}) }));

    if (auth && service !== 'sso' && !SIGNED_SERVICES.has(auth.service)) {
      return send_auth_error(res, protocol, 'mismatch', `Credential should be scoped to correct service: '${auth.service}' is not emulated.`);
    }
    let verdict;
    if ((!req.headers.authorization && service === 'sts' && operation === 'AssumeRoleWithWebIdentity') || service === 'sso') {
      verdict = { ok: true };
      entry.signatureOk = null;
    } else {
      // IAM is global: its requests are signed for us-east-1 whatever the emulator's region.
      const regions = service === 'iam' ? [this.region, 'us-east-1'] : [this.region];
      verdict = await verify_request(req, body, { credentials: this.credentials, region: regions });
      entry.signatureOk = verdict.ok;
      if (!verdict.ok) {
        if (verdict.canonicalRequest) entry.canonicalRequest = verdict.canonicalRequest;
        entry.reason = verdict.message.split('\n')[0];
        const s3_extra = verdict.kind === 'region' ? { Region: this.region }
          : verdict.kind === 'mismatch' && verdict.canonicalRequest
            ? { AWSAccessKeyId: verdict.auth.accessKeyId, StringToSign: verdict.stringToSign, CanonicalRequest: verdict.canonicalRequest }
            : verdict.auth ? { AWSAccessKeyId: verdict.auth.accessKeyId } : {};
        return send_auth_error(res, protocol, verdict.kind, verdict.message, s3_extra);
      }
    }

    const delay = this.faults.delay_ms(service, operation);
    if (delay) await sleep(delay);
    const fault = this.faults.decide(service, operation);
    entry.fault = fault || undefined;
    if (fault === 'drop') return req.socket.destroy();
    if (fault === 'throttle') return send_throttle(res, service, this.faults.knobs.throttleReason);
    if (fault === 'server') return send_server_error(res, service);

    const ctx = { req, res, body, url_path, query, operation, settings: this.settings, account_id: this.account_id, region: this.region,
      registry_host: this.options.registry, registry: this.registry, functions: this.functions, runtime: this.runtime,
      credentials: this.credentials, iam: this.iam, sso: this.sso };
    if (service === 'lambda') {
      try {
        return await handle_lambda(ctx);
      } catch (e) {
        if (!(e instanceof LambdaError)) throw e;
        return send_error(res, 'rest-json', e.status, e.code, e.message, e.extra, e.headers);
      }
    }
    if (service === 'ecr') return handle_ecr(ctx);
    if (service === 'servicequotas') return handle_quotas(ctx);
    if (service === 'sts') {
      return handle_sts({ ...ctx, params: sts_params(req, body, raw_query), credential: verdict.credential });
    }
    if (service === 'iam') return handle_iam({ ...ctx, params: sts_params(req, body, raw_query) });
    if (service === 'sso') return handle_sso(ctx);
    return this.handle_s3(req, res, body, verdict, url_path, query, operation);
  }

  async handle_s3(req, res, body, verdict, url_path, query, operation) {
    let payload = body;
    const mode = req.headers['x-amz-content-sha256'];
    if (!mode) return send_error(res, 's3', 400, 'InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    if (mode.startsWith('STREAMING-')) {
      const decoded = await this.s3.decode_chunked(req, body, verdict, verdict.credential);
      if (decoded.error) return send_error(res, 's3', decoded.error[0] === 'SignatureDoesNotMatch' ? 403 : 400, ...decoded.error);
      payload = decoded.body;
    }
    if (await this.s3.control.handle(req, res, payload, url_path, query, operation)) return undefined;
    return this.s3.forward(req, res, payload, verdict.auth);
  }
}
