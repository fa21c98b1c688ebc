// (c) Fault knobs: throttling (429 + Reason), 5xx, dropped connections, injected function errors,
// and the reserved-concurrency limit of a real running function.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetFunctionCommand, InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { payload_json, push_runtime_image, read_request_log, sdk_config, signed_fetch, start_stack, stop_stack } from './helpers.js';

const PASSWORD = 'faults-pw';
let dir;
let registry;
let emu;
let lambda;

before(async () => {
  ({ dir, registry, emu } = await start_stack('aws-emulator-faults-', PASSWORD, ['--bucket', 'b']));
  const digest = await push_runtime_image(registry, `${dir}/work`, 'suite', 'v1');
  await emu.admin('POST', 'functions', { name: 'one', timeout: 10, reservedConcurrency: 1, imageUri: `${registry.host}/suite@${digest}` });
  lambda = new LambdaClient(sdk_config(emu.url));
});

after(async () => {
  await stop_stack({ dir, registry, emu });
});

test('throttleRate answers 429 TooManyRequestsException with the Reason, up to maxFaults', async () => {
  await emu.admin('POST', 'faults', { throttleRate: 1, throttleReason: 'CallerRateLimitExceeded', operations: ['GetFunction'], maxFaults: 2 });
  for (let i = 0; i < 2; i += 1) {
    const raw = await signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/one' });
    assert.equal(raw.status, 429);
    assert.equal(raw.headers.get('x-amzn-errortype'), 'TooManyRequestsException');
    assert.equal(raw.headers.get('retry-after'), '1');
    assert.equal(JSON.parse(raw.text).Reason, 'CallerRateLimitExceeded');
  }
  const ok = await lambda.send(new GetFunctionCommand({ FunctionName: 'one' }));
  assert.equal(ok.Configuration.FunctionName, 'one');
  const faults = await emu.admin('GET', 'faults');
  assert.equal(faults.injected, 2);
});

test('the SDK sees the throttle as TooManyRequestsException with Reason; S3 sees SlowDown 503', async () => {
  await emu.admin('POST', 'faults', { throttleRate: 1, throttleReason: 'ConcurrentInvocationLimitExceeded' });
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'one' })),
    (e) => e.name === 'TooManyRequestsException' && e.Reason === 'ConcurrentInvocationLimitExceeded' && e.$metadata.httpStatusCode === 429);
  const s3 = new S3Client(sdk_config(emu.url, { forcePathStyle: true }));
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'b' })), (e) => e.name === 'SlowDown' && e.$metadata.httpStatusCode === 503);
  await emu.admin('DELETE', 'faults');
  await s3.send(new ListObjectsV2Command({ Bucket: 'b' }));
});

test('seeded rates are reproducible; server errors and dropped connections', async () => {
  const pattern = async () => {
    await emu.admin('POST', 'faults', { seed: 42, serverErrorRate: 0.5, services: ['lambda'] });
    const out = [];
    for (let i = 0; i < 12; i += 1) out.push((await signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/one' })).status);
    return out;
  };
  const first = await pattern();
  assert.deepEqual(await pattern(), first);
  assert.ok(first.includes(500) && first.includes(200), first.join(','));

  await emu.admin('POST', 'faults', { dropConnectionRate: 1, operations: ['GetFunction'], maxFaults: 1 });
  await assert.rejects(signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/one' }));
  assert.equal((await signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/one' })).status, 200);

  await emu.admin('POST', 'faults', { serverErrorRate: 1, services: ['lambda'], maxFaults: 1 });
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'one' })),
    (e) => e.name === 'ServiceException' && e.$metadata.httpStatusCode === 500);
  await emu.admin('DELETE', 'faults');
});

test('functionError makes Invoke answer Unhandled without running the function', async () => {
  await emu.admin('POST', 'faults', { functionError: { errorType: 'Runtime.OutOfMemory', errorMessage: 'injected' }, maxFaults: 1 });
  const injected = await lambda.send(new InvokeCommand({ FunctionName: 'one', Payload: '{"action":"echo"}' }));
  assert.equal(injected.FunctionError, 'Unhandled');
  assert.equal(payload_json(injected).errorType, 'Runtime.OutOfMemory');
  const real = await lambda.send(new InvokeCommand({ FunctionName: 'one', Payload: '{"action":"echo"}' }));
  assert.equal(real.FunctionError, undefined);
  assert.equal(payload_json(real).event.action, 'echo');
  await emu.admin('DELETE', 'faults');
});

test('reserved concurrency 1: a second concurrent Invoke gets 429 ReservedFunctionConcurrentInvocationLimitExceeded', async () => {
  const slow = lambda.send(new InvokeCommand({ FunctionName: 'one', Payload: JSON.stringify({ action: 'sleep', ms: 800 }) }));
  await new Promise((r) => setTimeout(r, 150));
  await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'one', Payload: '{"action":"echo"}' })),
    (e) => e.name === 'TooManyRequestsException' && e.Reason === 'ReservedFunctionConcurrentInvocationLimitExceeded');
  assert.equal(payload_json(await slow).slept, 800);
  const after_slow = await lambda.send(new InvokeCommand({ FunctionName: 'one', Payload: '{"action":"echo"}' }));
  assert.equal(after_slow.StatusCode, 200);
  const entries = read_request_log(`${dir}/state`);
  assert.ok(entries.some((e) => e.fault === 'throttle' && e.status === 429));
  assert.ok(entries.some((e) => e.fault === 'drop' && e.status === null));
});
