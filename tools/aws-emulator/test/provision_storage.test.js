// (g) Provisioning an empty account, part 1: the ECR repository (lifecycle policy, delete with
// force) and the S3 bucket (create, encryption, Block Public Access, lifecycle, empty + delete),
// with the idempotency and conflict errors AWS returns, parsed by the official clients.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateRepositoryCommand, DeleteRepositoryCommand, DescribeRepositoriesCommand, ECRClient, GetLifecyclePolicyCommand,
  PutLifecyclePolicyCommand, RepositoryAlreadyExistsException, RepositoryNotFoundException } from '@aws-sdk/client-ecr';
import { BucketAlreadyExists, BucketAlreadyOwnedByYou, CreateBucketCommand, DeleteBucketCommand, DeleteObjectsCommand,
  GetBucketEncryptionCommand, GetBucketLifecycleConfigurationCommand, GetPublicAccessBlockCommand, HeadBucketCommand, ListBucketsCommand,
  ListObjectsV2Command, PutBucketEncryptionCommand, PutBucketLifecycleConfigurationCommand, PutObjectCommand, PutPublicAccessBlockCommand,
  DeletePublicAccessBlockCommand, S3Client } from '@aws-sdk/client-s3';
import { GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetFunctionCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { push_runtime_image, read_request_log, sdk_config, signed_fetch, start_emulator, start_stack, stop_stack } from './helpers.js';

const PASSWORD = 'provision-pw';
let dir;
let registry;
let emu;
let ecr;
let s3;

before(async () => {
  ({ dir, registry, emu } = await start_stack('aws-emulator-provision-', PASSWORD, ['--empty-account']));
  ecr = new ECRClient(sdk_config(emu.url));
  s3 = new S3Client(sdk_config(emu.url, { forcePathStyle: true }));
});

after(async () => {
  await stop_stack({ dir, registry, emu });
});

const LIFECYCLE = JSON.stringify({ rules: [{ rulePriority: 1, description: 'keep the last 10 images',
  selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 10 }, action: { type: 'expire' } }] });

test('--empty-account: no repositories, buckets, roles or functions', async () => {
  assert.equal((await emu.admin('GET', 'health')).emptyAccount, true);
  assert.deepEqual((await ecr.send(new DescribeRepositoriesCommand({}))).repositories, []);
  assert.deepEqual((await s3.send(new ListBucketsCommand({}))).Buckets ?? [], []);
  await assert.rejects(new IAMClient(sdk_config(emu.url)).send(new GetRoleCommand({ RoleName: 'hypertest-emulator' })),
    (e) => e.name === 'NoSuchEntityException' && e.Error?.Code === 'NoSuchEntity' && e.$metadata.httpStatusCode === 404);
  await assert.rejects(new LambdaClient(sdk_config(emu.url)).send(new GetFunctionCommand({ FunctionName: 'hypertest' })),
    (e) => e.name === 'ResourceNotFoundException');
});

test('ECR: CreateRepository, RepositoryAlreadyExistsException, DescribeRepositories, RepositoryNotFoundException', async () => {
  const created = await ecr.send(new CreateRepositoryCommand({ repositoryName: 'hypertest', imageTagMutability: 'MUTABLE',
    imageScanningConfiguration: { scanOnPush: false }, encryptionConfiguration: { encryptionType: 'AES256' } }));
  assert.equal(created.repository.repositoryName, 'hypertest');
  assert.equal(created.repository.repositoryArn, 'arn:aws:ecr:us-east-1:123456789012:repository/hypertest');
  assert.equal(created.repository.repositoryUri, `${registry.host}/hypertest`);
  assert.ok(created.repository.createdAt instanceof Date && Math.abs(created.repository.createdAt - Date.now()) < 60_000);
  await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'hypertest' })),
    (e) => e instanceof RepositoryAlreadyExistsException && /already exists in the registry with id '123456789012'/.test(e.message));
  await assert.rejects(ecr.send(new CreateRepositoryCommand({ repositoryName: 'Bad_Name' })), (e) => e.name === 'InvalidParameterException');
  const described = await ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['hypertest'] }));
  assert.deepEqual(described.repositories.map((r) => r.repositoryName), ['hypertest']);
  await assert.rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['missing'] })),
    (e) => e instanceof RepositoryNotFoundException);
});

test('ECR: PutLifecyclePolicy / GetLifecyclePolicy, validation and not-found errors', async () => {
  await assert.rejects(ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'hypertest' })),
    (e) => e.name === 'LifecyclePolicyNotFoundException');
  const bad = JSON.stringify({ rules: [{ rulePriority: 1, description: 'a count of zero is not allowed by ECR at all',
    selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 0 }, action: { type: 'expire' } }] });
  await assert.rejects(ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'hypertest', lifecyclePolicyText: bad })),
    (e) => e.name === 'InvalidParameterException' && /Lifecycle policy validation failure/.test(e.message));
  const put = await ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'hypertest', lifecyclePolicyText: LIFECYCLE }));
  assert.equal(put.lifecyclePolicyText, LIFECYCLE);
  assert.equal(put.registryId, '123456789012');
  const got = await ecr.send(new GetLifecyclePolicyCommand({ repositoryName: 'hypertest' }));
  assert.deepEqual(JSON.parse(got.lifecyclePolicyText), JSON.parse(LIFECYCLE));
  assert.ok(got.lastEvaluatedAt instanceof Date);
  await assert.rejects(ecr.send(new PutLifecyclePolicyCommand({ repositoryName: 'missing', lifecyclePolicyText: LIFECYCLE })),
    (e) => e instanceof RepositoryNotFoundException);
});

test('ECR: DeleteRepository refuses a repository with images unless force', async () => {
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'scratch' }));
  await push_runtime_image(registry, `${dir}/work`, 'scratch', 'v1');
  await assert.rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'scratch' })), (e) => e.name === 'RepositoryNotEmptyException');
  const deleted = await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'scratch', force: true }));
  assert.equal(deleted.repository.repositoryName, 'scratch');
  const tags = await fetch(`http://${registry.host}/v2/scratch/tags/list`, { headers: { Authorization: registry.auth } });
  assert.deepEqual((tags.ok ? (await tags.json()).tags : null) ?? [], [], 'force deleted the images from the registry');
  await assert.rejects(ecr.send(new DescribeRepositoriesCommand({ repositoryNames: ['scratch'] })), (e) => e instanceof RepositoryNotFoundException);
  await assert.rejects(ecr.send(new DeleteRepositoryCommand({ repositoryName: 'scratch' })), (e) => e instanceof RepositoryNotFoundException);
  // An empty repository needs no force.
  await ecr.send(new CreateRepositoryCommand({ repositoryName: 'empty-one' }));
  await ecr.send(new DeleteRepositoryCommand({ repositoryName: 'empty-one' }));
});

test('S3: CreateBucket, HeadBucket, us-east-1 re-create answers 200, bad location constraint, taken names', async () => {
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'ht-runs' })), (e) => e.name === 'NotFound' && e.$metadata.httpStatusCode === 404);
  const created = await s3.send(new CreateBucketCommand({ Bucket: 'ht-runs' }));
  assert.equal(created.Location, '/ht-runs');
  const head = await s3.send(new HeadBucketCommand({ Bucket: 'ht-runs' }));
  assert.equal(head.BucketRegion, 'us-east-1');
  // us-east-1's legacy answer to the owner re-creating its bucket.
  await s3.send(new CreateBucketCommand({ Bucket: 'ht-runs' }));
  await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'ht-other', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
    (e) => e.name === 'IllegalLocationConstraintException');
  await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'Bad_Bucket' })), (e) => e.name === 'InvalidBucketName');
  await emu.admin('POST', 'buckets', { name: 'someone-elses', foreign: true });
  await assert.rejects(s3.send(new CreateBucketCommand({ Bucket: 'someone-elses' })),
    (e) => e instanceof BucketAlreadyExists && e.$metadata.httpStatusCode === 409);
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'someone-elses' })), (e) => e.$metadata.httpStatusCode === 403);
});

test('S3: default encryption and Block Public Access of a new bucket, then set and read back', async () => {
  const dflt = await s3.send(new GetBucketEncryptionCommand({ Bucket: 'ht-runs' }));
  assert.equal(dflt.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault.SSEAlgorithm, 'AES256');
  await s3.send(new PutBucketEncryptionCommand({ Bucket: 'ht-runs', ServerSideEncryptionConfiguration: { Rules: [{
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/ht' }, BucketKeyEnabled: true }] } }));
  const kms = (await s3.send(new GetBucketEncryptionCommand({ Bucket: 'ht-runs' }))).ServerSideEncryptionConfiguration.Rules[0];
  assert.deepEqual(kms, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: 'alias/ht' }, BucketKeyEnabled: true });
  await s3.send(new PutBucketEncryptionCommand({ Bucket: 'ht-runs', ServerSideEncryptionConfiguration: { Rules: [{
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] } }));
  const sse = (await s3.send(new GetBucketEncryptionCommand({ Bucket: 'ht-runs' }))).ServerSideEncryptionConfiguration.Rules[0];
  assert.deepEqual(sse, { ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' }, BucketKeyEnabled: false });
  await assert.rejects(s3.send(new PutBucketEncryptionCommand({ Bucket: 'ht-runs', ServerSideEncryptionConfiguration: { Rules: [{
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256', KMSMasterKeyID: 'alias/ht' } }] } })), (e) => e.name === 'InvalidArgument');
  await assert.rejects(s3.send(new PutBucketEncryptionCommand({ Bucket: 'ht-runs', ServerSideEncryptionConfiguration: { Rules: [{
    ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'ROT13' } }] } })), (e) => e.name === 'MalformedXML');

  const all_on = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
  assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'ht-runs' }))).PublicAccessBlockConfiguration, all_on);
  await s3.send(new DeletePublicAccessBlockCommand({ Bucket: 'ht-runs' }));
  await assert.rejects(s3.send(new GetPublicAccessBlockCommand({ Bucket: 'ht-runs' })),
    (e) => e.name === 'NoSuchPublicAccessBlockConfiguration' && e.$metadata.httpStatusCode === 404);
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'ht-runs', PublicAccessBlockConfiguration: { ...all_on, IgnorePublicAcls: false } }));
  assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'ht-runs' }))).PublicAccessBlockConfiguration,
    { ...all_on, IgnorePublicAcls: false });
  await s3.send(new PutPublicAccessBlockCommand({ Bucket: 'ht-runs', PublicAccessBlockConfiguration: all_on }));
  await assert.rejects(s3.send(new GetBucketEncryptionCommand({ Bucket: 'no-such-bucket' })), (e) => e.name === 'NoSuchBucket');
});

test('S3: lifecycle configuration (expire run data, keep _hypertest/), validation errors', async () => {
  await assert.rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs' })),
    (e) => e.name === 'NoSuchLifecycleConfiguration' && e.$metadata.httpStatusCode === 404);
  // Run ids start with a digit (the year); _hypertest/ does not, so these rules never touch it.
  const rules = [...'0123456789'].map((d) => ({ ID: `expire-runs-${d}`, Status: 'Enabled', Filter: { Prefix: d }, Expiration: { Days: 30 } }));
  rules.push({ ID: 'abort-uploads', Status: 'Enabled', Filter: {}, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 7 } });
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: rules } }));
  const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs' }));
  assert.equal(got.Rules.length, 11);
  assert.deepEqual(got.Rules[3], { ID: 'expire-runs-3', Status: 'Enabled', Filter: { Prefix: '3' }, Expiration: { Days: 30 } });
  assert.deepEqual(got.Rules[10].AbortIncompleteMultipartUpload, { DaysAfterInitiation: 7 });
  // A rule without an ID gets one.
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: [
    { Status: 'Enabled', Filter: { Prefix: '2' }, Expiration: { Days: 1 } }] } }));
  const generated = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs' }))).Rules[0];
  assert.match(generated.ID, /^[A-Za-z0-9]{10,}$/);
  await assert.rejects(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: [
    { ID: 'zero', Status: 'Enabled', Filter: { Prefix: '' }, Expiration: { Days: 0 } }] } })), (e) => e.name === 'InvalidArgument');
  await assert.rejects(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: [
    { ID: 'same', Status: 'Enabled', Filter: { Prefix: 'a' }, Expiration: { Days: 1 } },
    { ID: 'same', Status: 'Enabled', Filter: { Prefix: 'b' }, Expiration: { Days: 1 } }] } })), (e) => e.name === 'InvalidArgument');
  await assert.rejects(s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: [
    { ID: 'no-action', Status: 'Enabled', Filter: { Prefix: 'a' } }] } })), (e) => e.name === 'InvalidRequest');
  await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs', LifecycleConfiguration: { Rules: rules } }));
});

test('S3: these PUTs need Content-MD5 or an x-amz-checksum header, and a matching one', async () => {
  const xml = '<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><BlockPublicAcls>true</BlockPublicAcls>' +
    '</PublicAccessBlockConfiguration>';
  const put = (headers) => signed_fetch(emu.url, { service: 's3', method: 'PUT', path: '/ht-runs', query: { publicAccessBlock: '' }, body: xml,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers } });
  const none = await put({});
  assert.equal(none.status, 400);
  assert.match(none.text, /<Code>InvalidRequest<\/Code><Message>Missing required header for this request: Content-MD5/);
  const wrong = await put({ 'content-md5': Buffer.alloc(16).toString('base64') });
  assert.equal(wrong.status, 400);
  assert.match(wrong.text, /<Code>BadDigest<\/Code>/);
  const wrong_crc = await put({ 'x-amz-checksum-crc32': 'AAAAAA==' });
  assert.match(wrong_crc.text, /<Code>BadDigest<\/Code><Message>The CRC32 you specified/);
  const { createHash } = await import('node:crypto');
  const right = await put({ 'content-md5': createHash('md5').update(xml).digest('base64') });
  assert.equal(right.status, 200, right.text);
  // Missing elements are false.
  assert.deepEqual((await s3.send(new GetPublicAccessBlockCommand({ Bucket: 'ht-runs' }))).PublicAccessBlockConfiguration,
    { BlockPublicAcls: true, IgnorePublicAcls: false, BlockPublicPolicy: false, RestrictPublicBuckets: false });
  const tampered = await signed_fetch(emu.url, { service: 's3', method: 'PUT', path: '/ht-runs', query: { publicAccessBlock: '' }, body: xml,
    headers: { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', 'content-md5': createHash('md5').update(xml).digest('base64') },
    tamper: (r) => ({ ...r, headers: { ...r.headers, authorization: r.headers.authorization.replace(/Signature=(.)/, (_, c) => `Signature=${c === 'f' ? '0' : 'f'}`) } }) });
  assert.equal(tampered.status, 403);
  assert.match(tampered.text, /<Code>SignatureDoesNotMatch<\/Code>/);
});

test('S3: DeleteBucket refuses a bucket with objects; ListObjectsV2 + DeleteObjects empty it', async () => {
  for (let i = 0; i < 5; i += 1) await s3.send(new PutObjectCommand({ Bucket: 'ht-runs', Key: `20260101-000000-abc/${i}.json`, Body: `{"i":${i}}` }));
  await s3.send(new PutObjectCommand({ Bucket: 'ht-runs', Key: '_hypertest/hypertest/hypertest.manifest.json', Body: '{}' }));
  await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket: 'ht-runs' })), (e) => e.name === 'BucketNotEmpty' && e.$metadata.httpStatusCode === 409);
  let token;
  let deleted = 0;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'ht-runs', MaxKeys: 4, ContinuationToken: token }));
    const out = await s3.send(new DeleteObjectsCommand({ Bucket: 'ht-runs', Delete: { Objects: page.Contents.map((c) => ({ Key: c.Key })), Quiet: false } }));
    deleted += out.Deleted.length;
    token = page.NextContinuationToken;
  } while (token);
  assert.equal(deleted, 6);
  await s3.send(new DeleteBucketCommand({ Bucket: 'ht-runs' }));
  await assert.rejects(s3.send(new HeadBucketCommand({ Bucket: 'ht-runs' })), (e) => e.name === 'NotFound');
  await assert.rejects(s3.send(new DeleteBucketCommand({ Bucket: 'ht-runs' })), (e) => e.name === 'NoSuchBucket');
  // A re-created bucket starts from the defaults again.
  await s3.send(new CreateBucketCommand({ Bucket: 'ht-runs' }));
  await assert.rejects(s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ht-runs' })), (e) => e.name === 'NoSuchLifecycleConfiguration');
});

test('outside us-east-1: LocationConstraint must match and re-creating answers BucketAlreadyOwnedByYou; IAM signs for us-east-1', async () => {
  const eu = await start_emulator(`${dir}/state-eu`, '127.0.0.1:9', ['--region', 'eu-west-1', '--empty-account']);
  try {
    const client = new S3Client(sdk_config(eu.url, { forcePathStyle: true, region: 'eu-west-1' }));
    await assert.rejects(client.send(new CreateBucketCommand({ Bucket: 'ht-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-central-1' } })),
      (e) => e.name === 'IllegalLocationConstraintException');
    // (The SDK fills in LocationConstraint from the client's region when it is not given.)
    await client.send(new CreateBucketCommand({ Bucket: 'ht-eu' }));
    await assert.rejects(client.send(new CreateBucketCommand({ Bucket: 'ht-eu', CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
      (e) => e instanceof BucketAlreadyOwnedByYou && e.$metadata.httpStatusCode === 409);
    assert.equal((await client.send(new HeadBucketCommand({ Bucket: 'ht-eu' }))).BucketRegion, 'eu-west-1');
    // IAM is global: requests signed for us-east-1 (what the SDKs do without an endpoint override) or the emulator's region.
    for (const region of ['us-east-1', 'eu-west-1']) {
      await assert.rejects(new IAMClient(sdk_config(eu.url, { region })).send(new GetRoleCommand({ RoleName: 'x' })), (e) => e.name === 'NoSuchEntityException');
    }
    await assert.rejects(new LambdaClient(sdk_config(eu.url)).send(new GetFunctionCommand({ FunctionName: 'x' })),
      (e) => e.name === 'InvalidSignatureException');
  } finally {
    await eu.stop();
  }
});

test('every request of the official clients passed the signature check', () => {
  const entries = read_request_log(`${dir}/state`);
  const ours = entries.filter((e) => e.signatureOk === true);
  const rejected = entries.filter((e) => e.signatureOk === false);
  assert.equal(rejected.length, 1, JSON.stringify(rejected));
  assert.equal(rejected[0].operation, 'PutPublicAccessBlock');
  for (const op of ['CreateRepository', 'PutLifecyclePolicy', 'DeleteRepository', 'CreateBucket', 'PutBucketEncryption',
    'GetPublicAccessBlock', 'PutBucketLifecycleConfiguration', 'DeleteObjects', 'DeleteBucket', 'HeadBucket']) {
    assert.ok(ours.some((e) => e.operation === op), `no ${op} logged`);
  }
});
