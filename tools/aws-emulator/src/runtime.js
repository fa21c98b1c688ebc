// Execution environments: each runs the function image's entrypoint as a Lambda custom runtime
// against its own Runtime API server (2018-06-01), is kept warm for reuse, and is killed at the
// function timeout. Concurrency: one invocation per environment, at most reservedConcurrency
// environments busy per function, at most the account limit overall.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { builtin_answer } from './builtin.js';
import { LambdaError } from './functions.js';
import { format_report, log_tail } from './logs.js';
import { read_body, send_json, request_id } from './util.js';

const MAX_RESPONSE = 6 * 1024 * 1024;
const MAX_KEPT_OUTPUT = 2 * 1024 * 1024; // per invocation, for the log tail and logs.txt
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export class Runtime {
  constructor({ state_dir, region, account_id, credentials, faults, init_timeout_ms, account_concurrency, endpoint_url }) {
    Object.assign(this, { state_dir, region, account_id, credentials, faults, init_timeout_ms, account_concurrency, endpoint_url });
    this.envs = new Map(); // function name -> Set<Environment>
    this.inflight = new Map(); // function name -> count
    this.roles = new Map(); // function name -> temporary credential
    this.next_env = 1;
  }

  total_inflight() {
    let n = 0;
    for (const v of this.inflight.values()) n += v;
    return n;
  }

  environments(fn_name) {
    return [...(this.envs.get(fn_name) || [])].map((e) => e.describe());
  }

  // Kills idle environments that no longer match the function's image/configuration; busy ones
  // are retired when their invocation ends.
  recycle(fn) {
    for (const env of this.envs.get(fn.name) || []) {
      if (!env.current_for(fn)) {
        env.stale = true;
        if (!env.current) env.kill('recycled');
      }
    }
  }

  async close() {
    for (const set of this.envs.values()) for (const env of set) env.kill('shutdown');
  }

  // -> {status, headers, body}; throws LambdaError for throttling / not ready.
  async invoke(fn, payload, { tail }) {
    const id = request_id();
    const injected = this.faults.function_error();
    if (injected) {
      const log = `START RequestId: ${id} Version: $LATEST\nEND RequestId: ${id}\n${format_report({ id, duration: 0, memory: fn.memory, used: 0 })}`;
      return answer(Buffer.from(JSON.stringify({ ...injected, stackTrace: [] })), true, tail ? log : null);
    }
    if (fn.builtinAnswer) {
      const out = builtin_answer(fn, payload, id);
      return answer(out.body, out.error, tail ? out.log : null);
    }
    const busy = this.inflight.get(fn.name) || 0;
    if (fn.reservedConcurrency !== null && busy >= fn.reservedConcurrency) {
      throw new LambdaError(429, 'TooManyRequestsException', 'Rate Exceeded.',
        { Reason: 'ReservedFunctionConcurrentInvocationLimitExceeded', retryAfterSeconds: '1' }, { 'Retry-After': '1' });
    }
    if (this.total_inflight() >= this.account_concurrency) {
      throw new LambdaError(429, 'TooManyRequestsException', 'Rate Exceeded.',
        { Reason: 'ConcurrentInvocationLimitExceeded', retryAfterSeconds: '1' }, { 'Retry-After': '1' });
    }
    if (!fn.active) {
      throw new LambdaError(502, 'ResourceNotReadyException',
        `Function ${fn.name} has no runnable image yet (LastUpdateStatus ${fn.lastUpdateStatus}${fn.lastUpdateStatusReason ? `: ${fn.lastUpdateStatusReason}` : ''})`);
    }
    this.inflight.set(fn.name, busy + 1);
    try {
      let env = [...(this.envs.get(fn.name) || [])].find((e) => e.state === 'idle' && !e.current && e.current_for(fn));
      if (!env) env = this.start(fn);
      const timeout_s = this.faults.timeout_override() || fn.timeout;
      const result = await env.run({ id, payload, timeout_s });
      return answer(result.body, result.error, tail ? result.log : null);
    } finally {
      this.inflight.set(fn.name, (this.inflight.get(fn.name) || 1) - 1);
    }
  }

  role_credentials(fn) {
    let cred = this.roles.get(fn.name);
    if (!cred || cred.roleArn !== fn.role || this.credentials.is_expired(cred, new Date(Date.now() + 60_000))) {
      cred = this.credentials.mint_session(fn.role, fn.name, 12 * 3600);
      cred.roleArn = fn.role;
      this.roles.set(fn.name, cred);
    }
    return cred;
  }

  // DeleteFunction: every environment of the function is killed, busy or not.
  remove(fn) {
    for (const env of this.envs.get(fn.name) || []) {
      env.stale = true;
      env.kill('deleted');
    }
    this.envs.delete(fn.name);
    this.roles.delete(fn.name);
  }

  start(fn) {
    const env = new Environment(this, fn, `${fn.name}-${this.next_env++}`);
    if (!this.envs.has(fn.name)) this.envs.set(fn.name, new Set());
    this.envs.get(fn.name).add(env);
    env.on_dead = () => this.envs.get(fn.name)?.delete(env);
    env.boot();
    return env;
  }
}

function answer(body, error, log) {
  const headers = { 'Content-Type': 'application/json', 'X-Amz-Executed-Version': '$LATEST' };
  if (error) headers['X-Amz-Function-Error'] = 'Unhandled';
  if (log !== null) headers['X-Amz-Log-Result'] = log_tail(log);
  return { status: 200, headers, body };
}

function error_body(type, message) {
  return Buffer.from(JSON.stringify({ errorType: type, errorMessage: message, stackTrace: [] }));
}

class Environment {
  constructor(runtime, fn, id) {
    Object.assign(this, { runtime, fn, id });
    this.image = fn.active;
    this.config_rev = fn.configRevision;
    this.state = 'init'; // init -> idle <-> busy; dead
    this.booted = false; // the runtime has called /next once
    this.parked = null; // the runtime's pending GET /next
    this.current = null;
    this.output = '';
    this.init_ms = null;
    this.invocations = 0;
    this.stale = false;
    this.dir = path.join(runtime.state_dir, 'functions', fn.name, 'envs', id);
    this.log_path = path.join(runtime.state_dir, 'functions', fn.name, 'logs.txt');
  }

  current_for(fn) {
    return this.image === fn.active && this.config_rev === fn.configRevision && !this.stale;
  }

  describe() {
    return { id: this.id, pid: this.proc?.pid ?? null, state: this.state, digest: this.image.digest,
      invocations: this.invocations, runtimeApi: this.port ? `127.0.0.1:${this.port}` : null };
  }

  boot() {
    this.server = http.createServer((req, res) => this.serve(req, res).catch((e) => send_json(res, 500,
      { errorType: 'ServiceException', errorMessage: e.message })));
    this.server.requestTimeout = 0;
    this.ready = new Promise((resolve) => this.server.listen(0, '127.0.0.1', resolve)).then(() => {
      this.port = this.server.address().port;
      return this.spawn();
    });
  }

  spawn() {
    const { config, rootfs } = this.image;
    const argv = [...(config.Entrypoint || []), ...(config.Cmd || [])];
    if (!argv.length) return this.init_failed('Runtime.InvalidEntrypoint', 'Error: the image has no Entrypoint or Cmd');
    const exe = path.isAbsolute(argv[0]) ? path.join(rootfs, argv[0]) : argv[0];
    if (path.isAbsolute(argv[0])) {
      try {
        fs.accessSync(exe, fs.constants.X_OK);
      } catch {
        return this.init_failed('Runtime.InvalidEntrypoint', `Error: fork/exec ${argv[0]}: no such file or directory (looked for ${exe})`);
      }
    }
    const cwd = path.join(rootfs, config.WorkingDir || '/var/task');
    fs.mkdirSync(cwd, { recursive: true });
    // A short private /tmp like Lambda's: deep paths break Chromium's Unix socket (108 bytes).
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lambda-env-'));
    this.started_at = performance.now();
    this.proc = spawn(exe, argv.slice(1), { cwd, env: this.environment(cwd), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const take = (chunk) => {
      this.output += chunk.toString('utf8');
      if (this.output.length > MAX_KEPT_OUTPUT) this.output = `[emulator: earlier output dropped]\n${this.output.slice(-MAX_KEPT_OUTPUT / 2)}`;
    };
    this.proc.stdout.on('data', take);
    this.proc.stderr.on('data', take);
    this.proc.on('error', (e) => this.exited(`Runtime exited with error: ${e.message}`));
    this.proc.on('exit', (code, signal) => {
      this.exited(`Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`);
    });
    this.init_timer = setTimeout(() => this.init_failed('Sandbox.Timedout',
      `Error: init did not reach /runtime/invocation/next within ${this.runtime.init_timeout_ms} ms`), this.runtime.init_timeout_ms);
  }

  environment(cwd) {
    const { config, rootfs } = this.image;
    const fn = this.fn;
    const env = { PATH: DEFAULT_PATH };
    for (const kv of config.Env || []) {
      const eq = kv.indexOf('=');
      if (eq > 0) env[kv.slice(0, eq)] = kv.slice(eq + 1);
    }
    const task_root = env.LAMBDA_TASK_ROOT ? path.join(rootfs, env.LAMBDA_TASK_ROOT) : cwd;
    Object.assign(env, fn.environment);
    const cred = this.runtime.role_credentials(fn);
    Object.assign(env, {
      LAMBDA_TASK_ROOT: task_root,
      LAMBDA_RUNTIME_DIR: path.join(rootfs, 'var/runtime'),
      LAMBDA_EMULATOR_ROOTFS: rootfs,
      AWS_LAMBDA_RUNTIME_API: `127.0.0.1:${this.port}`,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memory),
      AWS_LAMBDA_FUNCTION_TIMEOUT: String(this.runtime.faults.timeout_override() || fn.timeout),
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
      AWS_LAMBDA_LOG_GROUP_NAME: `/aws/lambda/${fn.name}`,
      AWS_LAMBDA_LOG_STREAM_NAME: `emulator/[$LATEST]/${this.id}`,
      AWS_REGION: this.runtime.region,
      AWS_DEFAULT_REGION: this.runtime.region,
      AWS_ACCESS_KEY_ID: cred.accessKeyId,
      AWS_SECRET_ACCESS_KEY: cred.secretAccessKey,
      AWS_SESSION_TOKEN: cred.sessionToken,
      AWS_ENDPOINT_URL: this.runtime.endpoint_url(),
      TMPDIR: this.tmp,
      TZ: ':UTC',
    });
    return env;
  }

  // Runs one invocation; resolves {body, error, log}.
  run({ id, payload, timeout_s }) {
    return new Promise((resolve) => {
      const inv = { id, payload, timeout_s, resolve, cold: this.invocations === 0, init_output: '' };
      this.invocations += 1;
      if (this.state === 'dead') return resolve(this.dead_result(inv));
      if (this.booted) this.state = 'busy';
      this.current = inv;
      if (this.parked) this.deliver(inv);
    });
  }

  deliver(inv) {
    const res = this.parked;
    this.parked = null;
    if (inv.cold) inv.init_output = this.output;
    this.output = '';
    inv.started = performance.now();
    inv.max_rss = 0;
    const deadline = Date.now() + inv.timeout_s * 1000;
    inv.timer = setTimeout(() => this.timed_out(inv), inv.timeout_s * 1000);
    inv.sampler = setInterval(() => { inv.max_rss = Math.max(inv.max_rss, tree_rss(this.proc?.pid)); }, 100);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Lambda-Runtime-Aws-Request-Id': inv.id,
      'Lambda-Runtime-Deadline-Ms': String(deadline),
      'Lambda-Runtime-Invoked-Function-Arn': this.fn.arn,
      'Lambda-Runtime-Trace-Id': `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${inv.id.replace(/-/g, '').slice(0, 24)};Sampled=0`,
    });
    res.end(inv.payload);
  }

  async serve(req, res) {
    const url = req.url.split('?')[0];
    const body = await read_body(req, MAX_RESPONSE + 1).catch((e) => (e.tooLarge ? null : Buffer.alloc(0)));
    if (req.method === 'GET' && url === '/2018-06-01/runtime/invocation/next') {
      if (!this.booted) this.init_done();
      if (this.current && this.current.started === undefined) {
        this.parked = res;
        return this.deliver(this.current);
      }
      if (this.parked) this.parked.destroy();
      this.parked = res;
      if (!this.current && this.state !== 'dead') this.state = 'idle';
      return undefined;
    }
    if (req.method === 'POST' && url === '/2018-06-01/runtime/init/error') {
      send_json(res, 202, { status: 'OK' });
      const parsed = parse_error(body, req.headers['lambda-runtime-function-error-type'], 'Runtime.InitError');
      return this.init_failed(parsed.type, parsed.message, parsed.body);
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === 'POST' && m) {
      const inv = this.current;
      if (!inv || inv.id !== decodeURIComponent(m[1]) || inv.started === undefined) {
        return send_json(res, 400, { errorType: 'InvalidRequestID', errorMessage: 'Invalid request ID' });
      }
      if (body === null) {
        send_json(res, 413, { errorType: 'RequestEntityTooLarge', errorMessage: `response payload larger than ${MAX_RESPONSE} bytes` });
        return this.finish(inv, error_body('Function.ResponseSizeTooLarge',
          `Response payload size exceeded maximum allowed payload size (${MAX_RESPONSE} bytes).`), true);
      }
      send_json(res, 202, { status: 'OK' });
      if (m[2] === 'response') return this.finish(inv, body, false);
      const parsed = parse_error(body, req.headers['lambda-runtime-function-error-type'], 'Function.Unknown');
      return this.finish(inv, parsed.body, true);
    }
    return send_json(res, 404, { errorType: 'NotFound', errorMessage: `unknown Runtime API path ${req.method} ${url}` });
  }

  init_done() {
    clearTimeout(this.init_timer);
    this.booted = true;
    this.init_ms = performance.now() - this.started_at;
    if (this.state !== 'dead') this.state = this.current ? 'busy' : 'idle';
  }

  finish(inv, body, error, { status = null, note = '' } = {}) {
    if (this.current !== inv) return;
    clearTimeout(inv.timer);
    clearInterval(inv.sampler);
    inv.max_rss = Math.max(inv.max_rss || 0, tree_rss(this.proc?.pid));
    const duration = inv.started === undefined ? 0 : performance.now() - inv.started;
    const report = format_report({ id: inv.id, duration, memory: this.fn.memory, used: Math.ceil(inv.max_rss / 1048576),
      init: inv.cold ? this.init_ms ?? performance.now() - (this.started_at ?? performance.now()) : null, status });
    const log = `${inv.init_output}START RequestId: ${inv.id} Version: $LATEST\n${this.output}${note}END RequestId: ${inv.id}\n${report}`;
    this.output = '';
    fs.appendFile(this.log_path, log, () => {});
    this.current = null;
    if (this.state !== 'dead') this.state = 'idle';
    inv.resolve({ body, error, log });
    if (this.stale) this.kill('recycled');
  }

  timed_out(inv) {
    const secs = inv.timeout_s.toFixed(2);
    const message = `RequestId: ${inv.id} Error: Task timed out after ${secs} seconds`;
    this.kill('timeout');
    this.finish(inv, error_body('Sandbox.Timedout', message), true,
      { status: 'timeout', note: `${new Date().toISOString()} ${inv.id} Task timed out after ${secs} seconds\n` });
  }

  init_failed(type, message, body = null) {
    clearTimeout(this.init_timer);
    const inv = this.current;
    this.kill('init error');
    if (inv) {
      inv.started ??= performance.now();
      this.finish(inv, body || error_body(type, `RequestId: ${inv.id} ${message}`), true,
        { status: 'error', note: `INIT_REPORT Status: error\tError Type: ${type}\n` });
    }
  }

  exited(message) {
    const inv = this.current;
    this.mark_dead();
    if (inv) {
      inv.started ??= performance.now();
      this.finish(inv, error_body('Runtime.ExitError', `RequestId: ${inv.id} Error: ${message}`), true, { status: 'error' });
    }
  }

  dead_result(inv) {
    return { body: error_body('Runtime.ExitError', `RequestId: ${inv.id} Error: environment is gone`), error: true, log: '' };
  }

  mark_dead() {
    if (this.state === 'dead') return;
    this.state = 'dead';
    clearTimeout(this.init_timer);
    if (this.parked) this.parked.destroy();
    this.parked = null;
    this.server?.close();
    this.on_dead?.();
  }

  kill(reason) {
    this.kill_reason = reason;
    if (this.proc && this.proc.exitCode === null && this.proc.signalCode === null) {
      try {
        process.kill(-this.proc.pid, 'SIGKILL');
      } catch {
        this.proc.kill('SIGKILL');
      }
    }
    if (this.tmp) fs.rm(this.tmp, { recursive: true, force: true }, () => {});
    this.mark_dead();
  }
}

function parse_error(body, header_type, fallback) {
  let parsed = null;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch { /* not JSON */ }
  if (parsed && typeof parsed === 'object') {
    const type = parsed.errorType || header_type || fallback;
    return { type, message: parsed.errorMessage || '', body: Buffer.from(JSON.stringify({ errorType: type, ...parsed })) };
  }
  const type = header_type || fallback;
  return { type, message: body.toString('utf8'), body: error_body(type, body.toString('utf8')) };
}

// Resident memory of a process and its descendants, in bytes (0 if unknown).
function tree_rss(pid) {
  if (!pid) return 0;
  let total = 0;
  const todo = [pid];
  const seen = new Set();
  while (todo.length && seen.size < 256) {
    const p = todo.pop();
    if (seen.has(p)) continue;
    seen.add(p);
    try {
      const status = fs.readFileSync(`/proc/${p}/status`, 'utf8');
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) total += Number(m[1]) * 1024;
      for (const child of fs.readFileSync(`/proc/${p}/task/${p}/children`, 'utf8').trim().split(/\s+/)) if (child) todo.push(Number(child));
    } catch { /* gone */ }
  }
  return total;
}
