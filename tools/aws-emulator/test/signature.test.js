// (b) Requests whose signature does not verify are rejected with each protocol's error shape;
// unknown keys, bad or expired session tokens are told apart; the request log records it all.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { after, before, test } from 'node:test';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { ACCESS_KEY, read_request_log, sdk_config, SECRET_KEY, signed_fetch, start_emulator, temp_dir } from './helpers.js';

let dir;
let emu;

before(async () => {
  dir = temp_dir('aws-emulator-sig-');
  // No registry is needed here: nothing in this file pulls an image.
  emu = await start_emulator(`${dir}/state`, '127.0.0.1:9', ['--bucket', 'b']);
  await emu.admin('POST', 'functions', { name: 'f' });
});

after(async () => {
  await emu?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const flip = (sig) => sig.replace(/Signature=([0-9a-f])/, (m, c) => `Signature=${c === '0' ? '1' : '0'}`);
const tamper_signature = (r) => ({ ...r, headers: { ...r.headers, authorization: flip(r.headers.authorization) } });

test('Lambda (rest-json): tampered signature -> 403 InvalidSignatureException with the canonical request', async () => {
  const ok = await signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/f' });
  assert.equal(ok.status, 200, ok.text);
  const bad = await signed_fetch(emu.url, { service: 'lambda', path: '/2015-03-31/functions/f', tamper: tamper_signature });
  assert.equal(bad.status, 403);
  assert.equal(bad.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  const body = JSON.parse(bad.text);
  assert.match(body.message, /signature we calculated does not match/);
  assert.match(body.message, /GET\n\/2015-03-31\/functions\/f\n\nhost:127\.0\.0\.1:\d+\n/);
});

test('a signed header changed after signing and a changed body are caught', async () => {
  const changed_header = await signed_fetch(emu.url, { service: 'lambda', method: 'POST', path: '/2015-03-31/functions/f/invocations',
    headers: { 'x-amz-invocation-type': 'DryRun' }, body: '{}',
    tamper: (r) => ({ ...r, headers: { ...r.headers, 'x-amz-invocation-type': 'RequestResponse' } }) });
  assert.equal(changed_header.status, 403);
  assert.equal(changed_header.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
  const changed_body = await signed_fetch(emu.url, { service: 'lambda', method: 'POST', path: '/2015-03-31/functions/f/invocations',
    headers: { 'x-amz-invocation-type': 'DryRun' }, body: '{"a":1}', tamper: (r) => ({ ...r, body: '{"a":2}' }) });
  assert.equal(changed_body.status, 403);
  const untouched = await signed_fetch(emu.url, { service: 'lambda', method: 'POST', path: '/2015-03-31/functions/f/invocations',
    headers: { 'x-amz-invocation-type': 'DryRun' }, body: '{"a":1}' });
  assert.equal(untouched.status, 204, untouched.text);
});

test('ECR (JSON 1.1): tampered signature -> __type InvalidSignatureException', async () => {
  const bad = await signed_fetch(emu.url, { service: 'ecr', method: 'POST', path: '/', body: '{}', tamper: tamper_signature,
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken' } });
  assert.equal(bad.status, 400);
  assert.equal(JSON.parse(bad.text).__type, 'InvalidSignatureException');
  assert.equal(bad.headers.get('x-amzn-errortype'), 'InvalidSignatureException');
});

test('Service Quotas (JSON 1.1): GetServiceQuota, default quota, NoSuchResourceException', async () => {
  const call = (target, body) => signed_fetch(emu.url, { service: 'servicequotas', method: 'POST', path: '/', body: JSON.stringify(body),
    headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `ServiceQuotasV20190624.${target}` } });
  const q = await call('GetServiceQuota', { ServiceCode: 'lambda', QuotaCode: 'L-B99A9384' });
  assert.equal(q.status, 200, q.text);
  assert.equal(JSON.parse(q.text).Quota.Value, 1000);
  await emu.admin('POST', 'settings', { quotaApplied: false, concurrencyLimit: 50 });
  const missing = await call('GetServiceQuota', { ServiceCode: 'lambda', QuotaCode: 'L-B99A9384' });
  assert.equal(missing.status, 400);
  assert.equal(JSON.parse(missing.text).__type, 'NoSuchResourceException');
  const dflt = await call('GetAWSDefaultServiceQuota', { ServiceCode: 'lambda', QuotaCode: 'L-B99A9384' });
  assert.equal(JSON.parse(dflt.text).Quota.Value, 1000);
  await emu.admin('POST', 'settings', { quotaApplied: true });
  assert.equal(JSON.parse((await call('GetServiceQuota', { ServiceCode: 'lambda', QuotaCode: 'L-B99A9384' })).text).Quota.Value, 50);
  await emu.admin('POST', 'settings', { concurrencyLimit: 1000 });
});

test('STS (query): wrong secret -> XML ErrorResponse SignatureDoesNotMatch; unknown key -> InvalidClientTokenId', async () => {
  const wrong = new STSClient(sdk_config(emu.url, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'not-the-secret' } }));
  await assert.rejects(wrong.send(new GetCallerIdentityCommand({})), (e) => e.name === 'SignatureDoesNotMatch' && e.$metadata.httpStatusCode === 403);
  const raw = await signed_fetch(emu.url, { service: 'sts', method: 'POST', path: '/', body: 'Action=GetCallerIdentity&Version=2011-06-15',
    headers: { 'content-type': 'application/x-www-form-urlencoded' }, tamper: tamper_signature });
  assert.equal(raw.status, 403);
  assert.match(raw.text, /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/);
  assert.match(raw.text, /<Type>Sender<\/Type>\s*<Code>SignatureDoesNotMatch<\/Code>/);
  const unknown = new STSClient(sdk_config(emu.url, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } }));
  await assert.rejects(unknown.send(new GetCallerIdentityCommand({})), (e) => e.name === 'InvalidClientTokenId');
});

test('S3 (rest-xml): SignatureDoesNotMatch with CanonicalRequest; unknown key -> InvalidAccessKeyId', async () => {
  const bad = await signed_fetch(emu.url, { service: 's3', path: '/b', query: { 'list-type': '2' },
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }, tamper: tamper_signature });
  assert.equal(bad.status, 403);
  assert.match(bad.text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<Error><Code>SignatureDoesNotMatch<\/Code>/);
  assert.match(bad.text, /<CanonicalRequest>GET\n\/b\nlist-type=2\n/);
  const s3 = new S3Client(sdk_config(emu.url, { forcePathStyle: true, credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: 'x' } }));
  await assert.rejects(s3.send(new ListObjectsV2Command({ Bucket: 'b' })), (e) => e.name === 'InvalidAccessKeyId');
  const lying_hash = await signed_fetch(emu.url, { service: 's3', method: 'PUT', path: '/b/k', body: 'abc',
    headers: { 'x-amz-content-sha256': '0'.repeat(64) } });
  assert.equal(lying_hash.status, 400);
  assert.match(lying_hash.text, /<Code>XAmzContentSHA256Mismatch<\/Code>/);
});

test('Lambda: unknown key -> UnrecognizedClientException; expired session token -> ExpiredTokenException', async () => {
  const unknown = new LambdaClient(sdk_config(emu.url, { credentials: { accessKeyId: 'AKIDUNKNOWN', secretAccessKey: SECRET_KEY } }));
  await assert.rejects(unknown.send(new GetFunctionCommand({ FunctionName: 'f' })), (e) => e.name === 'UnrecognizedClientException');
  const temp = { accessKeyId: 'ASIATEMPORARY', secretAccessKey: 'temp-secret', sessionToken: 'token-1' };
  await emu.admin('POST', 'credentials', temp);
  const client = new LambdaClient(sdk_config(emu.url, { credentials: temp }));
  assert.equal((await client.send(new GetFunctionCommand({ FunctionName: 'f' }))).Configuration.FunctionName, 'f');
  const wrong_token = new LambdaClient(sdk_config(emu.url, { credentials: { ...temp, sessionToken: 'token-2' } }));
  await assert.rejects(wrong_token.send(new GetFunctionCommand({ FunctionName: 'f' })), (e) => e.name === 'UnrecognizedClientException');
  await emu.admin('POST', 'credentials/expire', { accessKeyId: temp.accessKeyId });
  await assert.rejects(client.send(new GetFunctionCommand({ FunctionName: 'f' })),
    (e) => e.name === 'ExpiredTokenException' && e.$metadata.httpStatusCode === 403);
});

test('STS AssumeRoleWithWebIdentity is unsigned and returns working temporary credentials', async () => {
  const anonymous = new STSClient({ endpoint: emu.url, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const out = await anonymous.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: 'arn:aws:iam::123456789012:role/ci',
    RoleSessionName: 'job-7', WebIdentityToken: 'eyJ.token' }));
  assert.match(out.Credentials.AccessKeyId, /^ASIA/);
  assert.ok(out.Credentials.Expiration.getTime() > Date.now() + 3000 * 1000);
  const sts = new STSClient(sdk_config(emu.url, { credentials: { accessKeyId: out.Credentials.AccessKeyId,
    secretAccessKey: out.Credentials.SecretAccessKey, sessionToken: out.Credentials.SessionToken } }));
  assert.equal((await sts.send(new GetCallerIdentityCommand({}))).Arn, 'arn:aws:sts::123456789012:assumed-role/ci/job-7');
  const entries = read_request_log(`${dir}/state`).filter((e) => e.operation === 'AssumeRoleWithWebIdentity');
  assert.ok(entries.length >= 1);
  assert.equal(entries.at(-1).signed, false, 'the SDK sends AssumeRoleWithWebIdentity unsigned');
  assert.equal(entries.at(-1).signatureOk, null);
});

test('the request log marks every rejected request', () => {
  const entries = read_request_log(`${dir}/state`);
  const rejected = entries.filter((e) => e.signatureOk === false);
  assert.ok(rejected.length >= 8, `only ${rejected.length} rejected`);
  for (const e of rejected) assert.ok(e.status >= 400 && e.error, JSON.stringify(e));
  const mismatch = rejected.find((e) => e.service === 'lambda' && e.error === 'InvalidSignatureException');
  assert.match(mismatch.canonicalRequest, /^GET\n/);
});
