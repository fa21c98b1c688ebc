// (a) The official, pinned AWS SDK v3 clients work against the emulator unchanged (endpoint
// override + credentials): Lambda, ECR, S3, STS. Every request they sent passed the signature check.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { GetAccountSettingsCommand, GetFunctionCommand, InvokeCommand, LambdaClient, UpdateFunctionCodeCommand } from '@aws-sdk/client-lambda';
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, GetObjectCommand, HeadBucketCommand, ListObjectsV2Command, PutObjectCommand,
  S3Client, UploadPartCommand } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { alive, decode_log, payload_json, push_runtime_image, read_request_log, sdk_config, sleep, start_stack,
  stop_stack } from './helpers.js';

const PASSWORD = 'registry-secret-1';
let dir;
let registry;
let emu;
let digest_v1;
let digest_v2;

before(async () => {
  ({ dir, registry, emu } = await start_stack('aws-emulator-sdk-', PASSWORD, ['--bucket', 'results']));
  digest_v1 = await push_runtime_image(registry, `${dir}/work`, 'hypertest/suite', 'v1');
  digest_v2 = await push_runtime_image(registry, `${dir}/work`, 'hypertest/suite', 'v2');
  await emu.admin('POST', 'functions', { name: 'runner', timeout: 30, memory: 512, reservedConcurrency: 4 });
});

after(async () => {
  await stop_stack({ dir, registry, emu });
});

async function wait_updated(lambda, name) {
  for (let i = 0; i < 100; i += 1) {
    const out = await lambda.send(new GetFunctionCommand({ FunctionName: name }));
    if (out.Configuration.LastUpdateStatus !== 'InProgress') return out;
    await sleep(50);
  }
  throw new Error('update never finished');
}

test('Lambda GetAccountSettings', async () => {
  const lambda = new LambdaClient(sdk_config(emu.url));
  const out = await lambda.send(new GetAccountSettingsCommand({}));
  assert.equal(out.AccountLimit.ConcurrentExecutions, 1000);
  assert.equal(out.AccountLimit.UnreservedConcurrentExecutions, 996);
});

test('ECR GetAuthorizationToken matches the registry htpasswd', async () => {
  const ecr = new ECRClient(sdk_config(emu.url));
  const out = await ecr.send(new GetAuthorizationTokenCommand({}));
  const data = out.authorizationData[0];
  assert.equal(Buffer.from(data.authorizationToken, 'base64').toString(), `AWS:${PASSWORD}`);
  assert.equal(data.proxyEndpoint, `http://${registry.host}`);
  assert.ok(data.expiresAt.getTime() > Date.now() + 11 * 3600 * 1000);
  const res = await fetch(`${data.proxyEndpoint}/v2/`, { headers: { Authorization: `Basic ${data.authorizationToken}` } });
  assert.equal(res.status, 200);
});

test('STS GetCallerIdentity', async () => {
  const sts = new STSClient(sdk_config(emu.url));
  const out = await sts.send(new GetCallerIdentityCommand({}));
  assert.equal(out.Account, '123456789012');
  assert.equal(out.Arn, 'arn:aws:iam::123456789012:user/emulator');
});

test('S3 PutObject, GetObject, ListObjectsV2 and a multipart upload', async () => {
  const s3 = new S3Client(sdk_config(emu.url, { forcePathStyle: true }));
  await s3.send(new PutObjectCommand({ Bucket: 'results', Key: 'run 1/a+b.json', Body: '{"ok":true}' }));
  await s3.send(new PutObjectCommand({ Bucket: 'results', Key: 'run 1/b.json', Body: Buffer.from('second') }));
  await s3.send(new PutObjectCommand({ Bucket: 'results', Key: 'other/c.json', Body: 'third' }));
  const got = await s3.send(new GetObjectCommand({ Bucket: 'results', Key: 'run 1/a+b.json' }));
  assert.equal(await got.Body.transformToString(), '{"ok":true}');
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'results', Prefix: 'run 1/' }));
  assert.deepEqual(listed.Contents.map((c) => c.Key).sort(), ['run 1/a+b.json', 'run 1/b.json']);
  assert.equal(listed.Contents.find((c) => c.Key === 'run 1/b.json').Size, 6);
  // Paging: s3rver's continuation tokens need DES (main.js starts Node with the legacy provider).
  const page1 = await s3.send(new ListObjectsV2Command({ Bucket: 'results', MaxKeys: 2 }));
  assert.equal(page1.IsTruncated, true);
  const page2 = await s3.send(new ListObjectsV2Command({ Bucket: 'results', MaxKeys: 2, ContinuationToken: page1.NextContinuationToken }));
  assert.deepEqual([...page1.Contents, ...page2.Contents].map((c) => c.Key).sort(), ['other/c.json', 'run 1/a+b.json', 'run 1/b.json']);

  // A bucket named like an SSO portal path is still S3's: the signature decides the service.
  await s3.send(new CreateBucketCommand({ Bucket: 'logout' }));
  await s3.send(new HeadBucketCommand({ Bucket: 'logout' }));

  const big = Buffer.alloc(5 * 1024 * 1024 + 10, 7);
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'results', Key: 'big.bin' }));
  const p1 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'big.bin', UploadId, PartNumber: 1, Body: big.subarray(0, 5 * 1024 * 1024) }));
  const p2 = await s3.send(new UploadPartCommand({ Bucket: 'results', Key: 'big.bin', UploadId, PartNumber: 2, Body: big.subarray(5 * 1024 * 1024) }));
  await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'results', Key: 'big.bin', UploadId,
    MultipartUpload: { Parts: [{ PartNumber: 1, ETag: p1.ETag }, { PartNumber: 2, ETag: p2.ETag }] } }));
  const whole = await s3.send(new GetObjectCommand({ Bucket: 'results', Key: 'big.bin' }));
  assert.ok(Buffer.from(await whole.Body.transformToByteArray()).equals(big));
});

test('Lambda UpdateFunctionCode, GetFunction, Invoke (cold then warm), function error', async () => {
  const lambda = new LambdaClient(sdk_config(emu.url));
  const image_uri = `${registry.host}/hypertest/suite@${digest_v1}`;
  const updated = await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'runner', ImageUri: image_uri }));
  assert.equal(updated.LastUpdateStatus, 'InProgress');
  const fn = await wait_updated(lambda, 'runner');
  assert.equal(fn.Configuration.LastUpdateStatus, 'Successful');
  assert.equal(fn.Configuration.PackageType, 'Image');
  assert.equal(fn.Configuration.MemorySize, 512);
  assert.equal(fn.Configuration.Timeout, 30);
  assert.deepEqual(fn.Configuration.Architectures, ['x86_64']);
  assert.equal(fn.Configuration.CodeSha256, digest_v1.slice(7));
  assert.equal(fn.Code.ImageUri, image_uri);
  assert.equal(fn.Code.ResolvedImageUri, image_uri);
  assert.equal(fn.Concurrency.ReservedConcurrentExecutions, 4);

  const cold = await lambda.send(new InvokeCommand({ FunctionName: 'runner', LogType: 'Tail',
    Payload: JSON.stringify({ action: 'echo', lines: ['hello log'] }) }));
  assert.equal(cold.StatusCode, 200);
  assert.equal(cold.FunctionError, undefined);
  const body = payload_json(cold);
  assert.equal(body.hello, 'hello from v1');
  assert.equal(body.goneExists, false, 'the whiteout in the top layer removed gone.txt');
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_NAME, 'runner');
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '512');
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_TIMEOUT, '30');
  assert.equal(body.env.AWS_REGION, 'us-east-1');
  assert.equal(body.env.AWS_ENDPOINT_URL, emu.url);
  assert.equal(body.env.IMAGE_MARKER, 'v1');
  assert.equal(body.arn, 'arn:aws:lambda:us-east-1:123456789012:function:runner');
  assert.ok(body.deadline > Date.now() + 20000 && body.deadline <= Date.now() + 30000);
  const cold_log = decode_log(cold);
  assert.match(cold_log, /hello log/);
  assert.match(cold_log, /REPORT RequestId: [0-9a-f-]{36}\tDuration: [\d.]+ ms\tBilled Duration: \d+ ms\tMemory Size: 512 MB\tMax Memory Used: \d+ MB\tInit Duration: [\d.]+ ms\t\n$/);

  const warm = await lambda.send(new InvokeCommand({ FunctionName: 'runner', LogType: 'Tail', Payload: JSON.stringify({ action: 'echo' }) }));
  const warm_body = payload_json(warm);
  assert.equal(warm_body.pid, body.pid, 'the warm environment is reused');
  assert.equal(warm_body.count, 2);
  assert.doesNotMatch(decode_log(warm), /Init Duration/);

  // The function's own credentials are temporary ones the emulator accepts.
  const sts = new STSClient({ endpoint: body.env.AWS_ENDPOINT_URL, region: 'us-east-1', maxAttempts: 1, credentials: {
    accessKeyId: body.env.AWS_ACCESS_KEY_ID, secretAccessKey: body.env.AWS_SECRET_ACCESS_KEY, sessionToken: body.env.AWS_SESSION_TOKEN } });
  const who = await sts.send(new GetCallerIdentityCommand({}));
  assert.match(who.Arn, /^arn:aws:sts::123456789012:assumed-role\/hypertest-emulator\/runner$/);

  const failed = await lambda.send(new InvokeCommand({ FunctionName: 'runner', Payload: JSON.stringify({ action: 'fail' }) }));
  assert.equal(failed.StatusCode, 200);
  assert.equal(failed.FunctionError, 'Unhandled');
  assert.deepEqual(payload_json(failed), { errorType: 'Function.Boom', errorMessage: 'boom', stackTrace: ['here'] });

  // A tag resolves to its digest; the old environment is recycled.
  const v2_uri = `${registry.host}/hypertest/suite:v2`;
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'runner', ImageUri: v2_uri }));
  const fn2 = await wait_updated(lambda, 'runner');
  assert.equal(fn2.Code.ResolvedImageUri, `${registry.host}/hypertest/suite@${digest_v2}`);
  const v2 = payload_json(await lambda.send(new InvokeCommand({ FunctionName: 'runner', Payload: JSON.stringify({ action: 'echo' }) })));
  assert.equal(v2.hello, 'hello from v2');
  assert.notEqual(v2.pid, body.pid);
  assert.equal(alive(body.pid), false, 'the v1 environment was killed');

  await assert.rejects(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'runner', ImageUri: `${registry.host}/hypertest/none:v1` })),
    (e) => e.name === 'InvalidParameterValueException' && /does not exist/.test(e.message));
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'nope' })), (e) => e.name === 'ResourceNotFoundException');
});

test('every request the SDKs sent passed the independent signature check', () => {
  const entries = read_request_log(`${dir}/state`);
  assert.ok(entries.length >= 20);
  const services = new Set(entries.map((e) => e.service));
  for (const s of ['lambda', 'ecr', 's3', 'sts']) assert.ok(services.has(s), `no ${s} request logged`);
  for (const e of entries) assert.equal(e.signatureOk, true, JSON.stringify(e));
});
