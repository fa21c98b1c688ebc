// Test-only admin API under /_emulator/ (unsigned; never part of AWS's surface).
//   GET  /_emulator/health                      -> {ok, port, region, accountId}
//   POST /_emulator/functions {name, timeout?, memory?, reservedConcurrency?, architectures?,
//        environment?, role?, imageUri?, builtinAnswer?} -> 201 FunctionConfiguration
//   GET  /_emulator/functions                   -> [FunctionConfiguration]
//   GET  /_emulator/functions/<name>            -> {configuration, code, environments}
//   POST /_emulator/credentials {accessKeyId, secretAccessKey, sessionToken?, expired?, expiration?}
//   POST /_emulator/credentials/expire {accessKeyId, expired?: true}
//   POST /_emulator/buckets {name, foreign?}     (foreign: the name is taken by another account)
//   POST /_emulator/roles {name, path?, assumeRolePolicyDocument?, maxSessionDuration?} -> {arn, roleId}
//   POST /_emulator/sso-tokens {accessToken, expiration?, roles?: [{accountId, roleName}], userName?, durationSeconds?}
//   GET|POST|DELETE /_emulator/faults           (knobs: see faults.js)
//   POST /_emulator/settings {concurrencyLimit?, quotaApplied?, registryPassword?, webIdentityToken?,
//        updateMs?, rolePropagationMs?, clockOffsetSeconds?}
//   GET  /_emulator/requests                    -> the request log as a JSON array
import fs from 'node:fs';
import path from 'node:path';
import { LambdaError } from './functions.js';
import { IamError } from './iam.js';
import { read_body, send_json } from './util.js';

export async function handle_admin(emulator, req, res, url_path) {
  let input = {};
  const body = await read_body(req, 1024 * 1024);
  if (body.length) {
    try {
      input = JSON.parse(body.toString('utf8'));
    } catch {
      return send_json(res, 400, { error: 'body is not JSON' });
    }
  }
  try {
    return await route(emulator, req.method, url_path.replace(/\/+$/, ''), input, res);
  } catch (e) {
    const status = e instanceof LambdaError || e instanceof IamError ? e.status : 400;
    return send_json(res, status, { error: e.message, code: e.code });
  }
}

async function route(em, method, p, input, res) {
  const fn_match = /^\/_emulator\/functions\/([^/]+)(\/environments)?$/.exec(p);
  if (method === 'GET' && p === '/_emulator/health') {
    return send_json(res, 200, { ok: true, port: em.port, region: em.region, accountId: em.account_id,
      emptyAccount: em.settings.emptyAccount });
  }
  if (p === '/_emulator/functions') {
    if (method === 'POST') return send_json(res, 201, em.functions.configuration(await em.functions.create(input)));
    if (method === 'GET') return send_json(res, 200, [...em.functions.functions.values()].map((f) => em.functions.configuration(f)));
  }
  if (method === 'GET' && fn_match) {
    const fn = em.functions.lookup(fn_match[1]);
    const environments = em.runtime.environments(fn.name);
    if (fn_match[2]) return send_json(res, 200, environments);
    const { Configuration, Code } = em.functions.get_function(fn);
    return send_json(res, 200, { configuration: Configuration, code: Code || null, environments });
  }
  if (method === 'POST' && p === '/_emulator/credentials') {
    const cred = em.credentials.add(input);
    return send_json(res, 201, { accessKeyId: cred.accessKeyId });
  }
  if (method === 'POST' && p === '/_emulator/credentials/expire') {
    if (!em.credentials.set_expired(input.accessKeyId, input.expired ?? true)) {
      return send_json(res, 404, { error: `unknown access key ${input.accessKeyId}` });
    }
    return send_json(res, 200, { accessKeyId: input.accessKeyId, expired: input.expired ?? true });
  }
  if (method === 'POST' && p === '/_emulator/buckets') {
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(input.name || '')) return send_json(res, 400, { error: 'invalid bucket name' });
    if (input.foreign) em.s3.control.add_foreign(input.name);
    else await em.s3.create_bucket(input.name);
    return send_json(res, 201, { name: input.name, foreign: Boolean(input.foreign) });
  }
  if (method === 'POST' && p === '/_emulator/roles') {
    const role = em.iam.create_role(input);
    return send_json(res, 201, { arn: role.arn, roleId: role.id, name: role.name });
  }
  if (method === 'POST' && p === '/_emulator/sso-tokens') {
    const token = em.sso.add(input);
    return send_json(res, 201, { accessToken: token.accessToken, expiration: token.expiration });
  }
  if (p === '/_emulator/faults') {
    if (method === 'POST') em.faults.set(input);
    else if (method === 'DELETE') em.faults.set({});
    else if (method !== 'GET') return send_json(res, 405, { error: 'use GET, POST or DELETE' });
    return send_json(res, 200, em.faults.get());
  }
  if (method === 'POST' && p === '/_emulator/settings') {
    if (input.concurrencyLimit !== undefined) {
      if (!Number.isInteger(input.concurrencyLimit) || input.concurrencyLimit < 1) throw new Error('concurrencyLimit must be a positive integer');
      em.settings.concurrencyLimit = input.concurrencyLimit;
      em.runtime.account_concurrency = input.concurrencyLimit;
    }
    if (input.quotaApplied !== undefined) em.settings.quotaApplied = Boolean(input.quotaApplied);
    if (input.registryPassword !== undefined) em.set_registry_password(input.registryPassword);
    if (input.webIdentityToken !== undefined) em.settings.webIdentityToken = input.webIdentityToken || null;
    for (const [name, min] of [['updateMs', 0], ['rolePropagationMs', 0]]) {
      if (input[name] === undefined) continue;
      if (!Number.isInteger(input[name]) || input[name] < min) throw new Error(`${name} must be an integer >= ${min}`);
    }
    if (input.updateMs !== undefined) em.functions.update_ms = input.updateMs;
    if (input.rolePropagationMs !== undefined) em.settings.rolePropagationMs = input.rolePropagationMs;
    if (input.clockOffsetSeconds !== undefined) {
      if (typeof input.clockOffsetSeconds !== 'number' || !Number.isFinite(input.clockOffsetSeconds)) throw new Error('clockOffsetSeconds must be a number');
      em.credentials.clock_offset_ms = input.clockOffsetSeconds * 1000;
    }
    const { repositories, ...rest } = em.settings;
    return send_json(res, 200, { ...rest, repositories: [...repositories.keys()], updateMs: em.functions.update_ms,
      clockOffsetSeconds: em.credentials.clock_offset_ms / 1000 });
  }
  if (method === 'GET' && p === '/_emulator/requests') {
    const text = fs.readFileSync(path.join(em.state_dir, 'requests.jsonl'), 'utf8');
    return send_json(res, 200, text.split('\n').filter(Boolean).map((line) => JSON.parse(line)));
  }
  return send_json(res, 404, { error: `unknown admin endpoint ${method} ${p}` });
}
