// (e) builtinAnswer: a function the emulator answers itself (no runtime process), for client-side
// benchmarks. Requests to it are still signature-checked like every other.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { await_request_log, decode_log, payload_json, sdk_config, signed_fetch, start_emulator, temp_dir } from './helpers.js';

let dir;
let emu;
let lambda;

before(async () => {
  dir = temp_dir('aws-emulator-builtin-');
  // No image is ever pulled, so no registry runs behind --registry.
  emu = await start_emulator(`${dir}/state`, '127.0.0.1:9');
  await emu.admin('POST', 'functions', { name: 'instant', builtinAnswer: 'hypertest-passed' });
  lambda = new LambdaClient(sdk_config(emu.url));
});

after(async () => {
  await emu?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const event = (ids) => ({ version: 1, runId: 'r1', invocationId: `inv-${ids.join('-')}`, attempt: 1, plugin: 'playwright',
  pluginOptions: {}, tests: ids.map((id) => ({ id, file: 'a.spec.ts', titlePath: [id] })), storage: { kind: 's3' } });

test('an invocation event gets a version 1 result in which every test passed, without a runtime', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'instant', LogType: 'Tail',
    Payload: Buffer.from(JSON.stringify(event(['t1', 't2', 't3']))) }));
  assert.equal(out.StatusCode, 200);
  assert.equal(out.FunctionError, undefined);
  const result = payload_json(out);
  assert.equal(result.version, 1);
  assert.equal(result.invocationId, 'inv-t1-t2-t3');
  assert.deepEqual(result.outcomes.map((o) => [o.id, o.status]), [['t1', 'passed'], ['t2', 'passed'], ['t3', 'passed']]);
  assert.match(decode_log(out), /^START RequestId: [0-9a-f-]+ Version: \$LATEST\nEND RequestId: [^\n]+\nREPORT RequestId: .*\tBilled Duration: \d+ ms\t/);
  assert.deepEqual(await emu.admin('GET', 'functions/instant/environments'), []);
});

test('a payload that is not an invocation event answers Unhandled', async () => {
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'instant', Payload: Buffer.from('{"hello":1}') }));
  assert.equal(out.FunctionError, 'Unhandled');
  assert.equal(payload_json(out).errorType, 'Emulator.NotAnInvocationEvent');
});

test('invocations of a builtin function are still signature-checked', async () => {
  const body = JSON.stringify(event(['t9']));
  const good = await signed_fetch(emu.url, { method: 'POST', service: 'lambda', path: '/2015-03-31/functions/instant/invocations',
    headers: { 'content-type': 'application/json' }, body });
  assert.equal(good.status, 200);
  assert.equal(JSON.parse(good.text).outcomes[0].status, 'passed');
  const tampered = await signed_fetch(emu.url, { method: 'POST', service: 'lambda', path: '/2015-03-31/functions/instant/invocations',
    headers: { 'content-type': 'application/json' }, body, tamper: (r) => ({ ...r, body: body.replace('t9', 't8') }) });
  assert.equal(tampered.status, 403);
  assert.equal(tampered.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  const invoke_entries = (all) => all.filter((e) => e.operation === 'Invoke');
  const invokes = invoke_entries(await await_request_log(`${dir}/state`, (all) => invoke_entries(all).length >= 4));
  assert.deepEqual(invokes.map((e) => e.signatureOk), [true, true, true, false]);
});

test('an unknown builtinAnswer is refused', async () => {
  await assert.rejects(emu.admin('POST', 'functions', { name: 'other', builtinAnswer: 'nope' }), /builtinAnswer must be one of: hypertest-passed/);
});
