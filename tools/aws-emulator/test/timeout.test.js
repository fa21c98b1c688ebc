// (d) The function timeout kills the environment; runtime crashes and init failures (missing
// entrypoint, /runtime/init/error) answer Unhandled with Lambda's error types.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { alive, build_layer, decode_log, payload_json, push_image, push_runtime_image, sdk_config, start_stack,
  stop_stack } from './helpers.js';

const PASSWORD = 'timeout-pw';
let dir;
let registry;
let emu;
let lambda;
let image;

before(async () => {
  ({ dir, registry, emu } = await start_stack('aws-emulator-timeout-', PASSWORD));
  image = `${registry.host}/suite@${await push_runtime_image(registry, `${dir}/work`, 'suite', 'v1')}`;
  lambda = new LambdaClient(sdk_config(emu.url));
});

after(async () => {
  await stop_stack({ dir, registry, emu });
});

const invoke = (name, event) => lambda.send(new InvokeCommand({ FunctionName: name, LogType: 'Tail', Payload: JSON.stringify(event) }));

test('an invocation past the function timeout is killed with Sandbox.Timedout', async () => {
  await emu.admin('POST', 'functions', { name: 'slow', timeout: 1, imageUri: image });
  const warm = payload_json(await invoke('slow', { action: 'echo' }));
  assert.ok(alive(warm.pid));
  const started = Date.now();
  const out = await invoke('slow', { action: 'sleep', ms: 10000 });
  const took = Date.now() - started;
  assert.ok(took >= 950 && took < 4000, `took ${took} ms`);
  assert.equal(out.FunctionError, 'Unhandled');
  const body = payload_json(out);
  assert.equal(body.errorType, 'Sandbox.Timedout');
  assert.match(body.errorMessage, /^RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds$/);
  assert.match(decode_log(out), /Task timed out after 1\.00 seconds\nEND RequestId: .*\nREPORT .*Status: timeout/);
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(alive(warm.pid), false, 'the environment process was killed');
  assert.deepEqual(await emu.admin('GET', 'functions/slow/environments'), []);

  const fresh = await invoke('slow', { action: 'echo' });
  assert.equal(fresh.FunctionError, undefined);
  assert.notEqual(payload_json(fresh).pid, warm.pid);
  assert.match(decode_log(fresh), /Init Duration/);
});

test('invokeTimeoutOverride shortens the timeout', async () => {
  await emu.admin('POST', 'functions', { name: 'patient', timeout: 60, imageUri: image });
  await emu.admin('POST', 'faults', { invokeTimeoutOverride: 1 });
  const out = await invoke('patient', { action: 'sleep', ms: 5000 });
  await emu.admin('DELETE', 'faults');
  assert.equal(payload_json(out).errorType, 'Sandbox.Timedout');
});

test('a runtime that exits mid-invocation -> Runtime.ExitError', async () => {
  await emu.admin('POST', 'functions', { name: 'crash', imageUri: image });
  const out = await invoke('crash', { action: 'exit', code: 7 });
  assert.equal(out.FunctionError, 'Unhandled');
  const body = payload_json(out);
  assert.equal(body.errorType, 'Runtime.ExitError');
  assert.match(body.errorMessage, /Runtime exited with error: exit status 7/);
});

test('init failures: a missing entrypoint and /runtime/init/error', async () => {
  const missing = await push_runtime_image(registry, `${dir}/work`, 'suite', 'noentry', { entrypoint: ['/usr/local/bin/absent'] });
  await emu.admin('POST', 'functions', { name: 'noentry', imageUri: `${registry.host}/suite@${missing}` });
  const a = await invoke('noentry', { action: 'echo' });
  assert.equal(a.FunctionError, 'Unhandled');
  assert.equal(payload_json(a).errorType, 'Runtime.InvalidEntrypoint');

  // The test runtime plus a layer holding /var/task/init-fail: the runtime posts /runtime/init/error.
  const runtime_layer = build_layer(`${dir}/work`, {
    'usr/local/bin/hypertest-runner': { content: `#!${process.execPath}\n${fs.readFileSync(new URL('./runtime.cjs', import.meta.url), 'utf8')}`, mode: 0o755 },
    'var/task/hello.txt': { content: 'x' },
  });
  const fail_layer = build_layer(`${dir}/work`, { 'var/task/init-fail': { content: '' } });
  const digest = await push_image(registry, 'initfail', 'v1', [runtime_layer, fail_layer],
    { Entrypoint: ['/usr/local/bin/hypertest-runner'], WorkingDir: '/var/task', Env: ['LAMBDA_TASK_ROOT=/var/task'] });
  await emu.admin('POST', 'functions', { name: 'initfail', imageUri: `${registry.host}/initfail@${digest}` });
  const b = await invoke('initfail', { action: 'echo' });
  assert.equal(b.FunctionError, 'Unhandled');
  assert.deepEqual(payload_json(b), { errorType: 'Runtime.TestInit', errorMessage: 'init failed on purpose' });
  assert.deepEqual(await emu.admin('GET', 'functions/initfail/environments'), []);
});
