// (h) Provisioning an empty account, part 2: the function's execution role (IAM roles and inline
// policies) and the function itself (CreateFunction -> Pending -> Active, the SDK waiters,
// UpdateFunctionConfiguration InProgress -> Successful, DeleteFunction), with the errors AWS
// returns: EntityAlreadyExists, NoSuchEntity, DeleteConflict, MalformedPolicyDocument, the
// PassRole check, ResourceConflictException, ResourceNotFoundException.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { CreateRoleCommand, DeleteRoleCommand, DeleteRolePolicyCommand, EntityAlreadyExistsException, GetRoleCommand,
  GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { CreateFunctionCommand, DeleteFunctionCommand, GetFunctionCommand, GetFunctionConfigurationCommand, InvokeCommand,
  LambdaClient, ResourceConflictException, ResourceNotFoundException, UpdateFunctionCodeCommand, UpdateFunctionConfigurationCommand,
  waitUntilFunctionActiveV2, waitUntilFunctionUpdatedV2 } from '@aws-sdk/client-lambda';
import { ACCESS_KEY, await_request_log, payload_json, push_runtime_image, sdk_config, sleep, start_stack, stop_stack } from './helpers.js';

const PASSWORD = 'function-pw';
const ACCOUNT = '123456789012';
let dir;
let registry;
let emu;
let iam;
let lambda;
let image_uri;

const LAMBDA_TRUST = JSON.stringify({ Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] });
const BUCKET_POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [
  { Effect: 'Allow', Action: ['s3:GetObject', 's3:PutObject'], Resource: 'arn:aws:s3:::ht-runs/*' },
  { Effect: 'Allow', Action: 's3:ListBucket', Resource: 'arn:aws:s3:::ht-runs' }] });

before(async () => {
  ({ dir, registry, emu } = await start_stack('aws-emulator-function-', PASSWORD, ['--empty-account']));
  const digest = await push_runtime_image(registry, `${dir}/work`, 'hypertest', 'v1');
  image_uri = `${registry.host}/hypertest@${digest}`;
  iam = new IAMClient(sdk_config(emu.url));
  lambda = new LambdaClient(sdk_config(emu.url));
});

after(async () => {
  await stop_stack({ dir, registry, emu });
});

test('IAM: CreateRole, EntityAlreadyExists (names are case-insensitive), GetRole, NoSuchEntity, MalformedPolicyDocument', async () => {
  const created = await iam.send(new CreateRoleCommand({ RoleName: 'hypertest-function', AssumeRolePolicyDocument: LAMBDA_TRUST,
    Description: 'runs the tests', Tags: [{ Key: 'app', Value: 'hypertest' }] }));
  assert.equal(created.Role.Arn, `arn:aws:iam::${ACCOUNT}:role/hypertest-function`);
  assert.match(created.Role.RoleId, /^AROA[A-Z2-7]{17}$/);
  assert.equal(created.Role.Path, '/');
  assert.equal(created.Role.MaxSessionDuration, 3600);
  assert.ok(created.Role.CreateDate instanceof Date);
  // IAM answers policy documents URL-encoded.
  assert.deepEqual(JSON.parse(decodeURIComponent(created.Role.AssumeRolePolicyDocument)), JSON.parse(LAMBDA_TRUST));
  await assert.rejects(iam.send(new CreateRoleCommand({ RoleName: 'hypertest-function', AssumeRolePolicyDocument: LAMBDA_TRUST })),
    (e) => e instanceof EntityAlreadyExistsException && e.$metadata.httpStatusCode === 409 && e.message === 'Role with name hypertest-function already exists.');
  await assert.rejects(iam.send(new CreateRoleCommand({ RoleName: 'HyperTest-Function', AssumeRolePolicyDocument: LAMBDA_TRUST })),
    (e) => e instanceof EntityAlreadyExistsException);
  const got = await iam.send(new GetRoleCommand({ RoleName: 'hypertest-function' }));
  assert.equal(got.Role.RoleId, created.Role.RoleId);
  assert.equal(got.Role.Description, 'runs the tests');
  assert.deepEqual(got.Role.Tags, [{ Key: 'app', Value: 'hypertest' }]);
  await assert.rejects(iam.send(new GetRoleCommand({ RoleName: 'missing' })),
    (e) => e instanceof NoSuchEntityException && e.message === 'The role with name missing cannot be found.');
  await assert.rejects(iam.send(new CreateRoleCommand({ RoleName: 'bad-trust', AssumeRolePolicyDocument: '{not json' })),
    (e) => e.name === 'MalformedPolicyDocumentException' && e.$metadata.httpStatusCode === 400);
  await assert.rejects(iam.send(new CreateRoleCommand({ RoleName: 'bad-trust', AssumeRolePolicyDocument: BUCKET_POLICY })),
    (e) => e.name === 'MalformedPolicyDocumentException' && /prohibited field Resource/.test(e.message));
  await assert.rejects(iam.send(new CreateRoleCommand({ RoleName: 'bad name', AssumeRolePolicyDocument: LAMBDA_TRUST })),
    (e) => e.name === 'ValidationError');
});

test('IAM: inline policies: Put/Get/List/DeleteRolePolicy, DeleteConflict, NoSuchEntity', async () => {
  await iam.send(new PutRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'bucket', PolicyDocument: BUCKET_POLICY }));
  await iam.send(new PutRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'logs', PolicyDocument: JSON.stringify({
    Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' }] }) }));
  // Putting it again replaces it (idempotent).
  await iam.send(new PutRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'bucket', PolicyDocument: BUCKET_POLICY }));
  const got = await iam.send(new GetRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'bucket' }));
  assert.equal(got.RoleName, 'hypertest-function');
  assert.equal(got.PolicyName, 'bucket');
  assert.equal(decodeURIComponent(got.PolicyDocument), BUCKET_POLICY);
  assert.deepEqual((await iam.send(new ListRolePoliciesCommand({ RoleName: 'hypertest-function' }))).PolicyNames, ['bucket', 'logs']);
  const page1 = await iam.send(new ListRolePoliciesCommand({ RoleName: 'hypertest-function', MaxItems: 1 }));
  assert.deepEqual(page1.PolicyNames, ['bucket']);
  assert.equal(page1.IsTruncated, true);
  const page2 = await iam.send(new ListRolePoliciesCommand({ RoleName: 'hypertest-function', MaxItems: 1, Marker: page1.Marker }));
  assert.deepEqual(page2.PolicyNames, ['logs']);
  assert.equal(page2.IsTruncated, false);
  await assert.rejects(iam.send(new PutRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'p', PolicyDocument: LAMBDA_TRUST })),
    (e) => e.name === 'MalformedPolicyDocumentException' && /should not specify a principal/.test(e.message));
  await assert.rejects(iam.send(new PutRolePolicyCommand({ RoleName: 'missing', PolicyName: 'p', PolicyDocument: BUCKET_POLICY })),
    (e) => e instanceof NoSuchEntityException);
  await assert.rejects(iam.send(new GetRolePolicyCommand({ RoleName: 'hypertest-function', PolicyName: 'nope' })),
    (e) => e instanceof NoSuchEntityException && e.message === 'The role policy with name nope cannot be found.');

  await iam.send(new CreateRoleCommand({ RoleName: 'short-lived', AssumeRolePolicyDocument: LAMBDA_TRUST }));
  await iam.send(new PutRolePolicyCommand({ RoleName: 'short-lived', PolicyName: 'only', PolicyDocument: BUCKET_POLICY }));
  await assert.rejects(iam.send(new DeleteRoleCommand({ RoleName: 'short-lived' })),
    (e) => e.name === 'DeleteConflictException' && e.$metadata.httpStatusCode === 409);
  await iam.send(new DeleteRolePolicyCommand({ RoleName: 'short-lived', PolicyName: 'only' }));
  await assert.rejects(iam.send(new DeleteRolePolicyCommand({ RoleName: 'short-lived', PolicyName: 'only' })), (e) => e instanceof NoSuchEntityException);
  await iam.send(new DeleteRoleCommand({ RoleName: 'short-lived' }));
  await assert.rejects(iam.send(new DeleteRoleCommand({ RoleName: 'short-lived' })), (e) => e instanceof NoSuchEntityException);
});

test('IAM rejects a bad signature with the query protocol error shape', async () => {
  const wrong = new IAMClient(sdk_config(emu.url, { credentials: { accessKeyId: ACCESS_KEY, secretAccessKey: 'not-the-secret' } }));
  await assert.rejects(wrong.send(new GetRoleCommand({ RoleName: 'hypertest-function' })),
    (e) => e.name === 'SignatureDoesNotMatch' && e.$metadata.httpStatusCode === 403);
  const raw = await fetch(emu.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'Action=GetRole&Version=2010-05-08&RoleName=hypertest-function' });
  assert.equal(raw.status, 403);
  assert.match(await raw.text(), /^<ErrorResponse xmlns="https:\/\/iam\.amazonaws\.com\/doc\/2010-05-08\/">[\s\S]*<Code>MissingAuthenticationToken<\/Code>/);
});

const create_input = (name, role, extra = {}) => ({ FunctionName: name, PackageType: 'Image', Code: { ImageUri: image_uri },
  Role: role, MemorySize: 2048, Timeout: 900, EphemeralStorage: { Size: 2048 }, Architectures: ['arm64'],
  Environment: { Variables: { HT_MODE: 'lambda' } }, ...extra });

test('Lambda CreateFunction refuses a role Lambda cannot assume (PassRole check), like AWS', async () => {
  const message = 'The role defined for the function cannot be assumed by Lambda.';
  await assert.rejects(lambda.send(new CreateFunctionCommand(create_input('hypertest', `arn:aws:iam::${ACCOUNT}:role/does-not-exist`))),
    (e) => e.name === 'InvalidParameterValueException' && e.message === message && e.$metadata.httpStatusCode === 400);
  await iam.send(new CreateRoleCommand({ RoleName: 'not-for-lambda', AssumeRolePolicyDocument: JSON.stringify({ Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }] }) }));
  await assert.rejects(lambda.send(new CreateFunctionCommand(create_input('hypertest', `arn:aws:iam::${ACCOUNT}:role/not-for-lambda`))),
    (e) => e.name === 'InvalidParameterValueException' && e.message === message);
  await assert.rejects(lambda.send(new CreateFunctionCommand(create_input('hypertest', 'not-an-arn'))), (e) => e.name === 'ValidationException');
  // IAM's propagation delay: a brand-new role is not assumable yet.
  await emu.admin('POST', 'settings', { rolePropagationMs: 1500 });
  try {
    await iam.send(new CreateRoleCommand({ RoleName: 'fresh', AssumeRolePolicyDocument: LAMBDA_TRUST }));
    await assert.rejects(lambda.send(new CreateFunctionCommand(create_input('fresh-fn', `arn:aws:iam::${ACCOUNT}:role/fresh`))),
      (e) => e.name === 'InvalidParameterValueException' && e.message === message);
    await sleep(1600);
    await lambda.send(new CreateFunctionCommand(create_input('fresh-fn', `arn:aws:iam::${ACCOUNT}:role/fresh`)));
  } finally {
    await emu.admin('POST', 'settings', { rolePropagationMs: 0 });
  }
  await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'fresh-fn' });
  await lambda.send(new DeleteFunctionCommand({ FunctionName: 'fresh-fn' }));
});

test('Lambda CreateFunction validates its input', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/hypertest-function`;
  const rejects = (extra, check) => assert.rejects(lambda.send(new CreateFunctionCommand(create_input('bad', role, extra))), check);
  await rejects({ MemorySize: 64 }, (e) => e.name === 'ValidationException' && /memorySize/.test(e.message));
  await rejects({ Timeout: 901 }, (e) => e.name === 'ValidationException' && /timeout/.test(e.message));
  await rejects({ EphemeralStorage: { Size: 100 } }, (e) => e.name === 'ValidationException');
  await rejects({ Architectures: ['x86_64', 'arm64'] }, (e) => e.name === 'ValidationException');
  await rejects({ Environment: { Variables: { AWS_REGION: 'x' } } }, (e) => e.name === 'InvalidParameterValueException' && /reserved keys/.test(e.message));
  await rejects({ Code: { ImageUri: `${registry.host}/hypertest:missing` } }, (e) => e.name === 'InvalidParameterValueException' && /does not exist/.test(e.message));
  await rejects({ PackageType: undefined }, (e) => e.name === 'InvalidParameterValueException');
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'bad' })), (e) => e instanceof ResourceNotFoundException);
});

test('Lambda CreateFunction -> State Pending -> Active (waitUntilFunctionActiveV2), ResourceConflictException on a duplicate', async () => {
  const role = `arn:aws:iam::${ACCOUNT}:role/hypertest-function`;
  await emu.admin('POST', 'settings', { updateMs: 1200 });
  const created = await lambda.send(new CreateFunctionCommand(create_input('hypertest', role, { Description: 'hypertest runner' })));
  assert.equal(created.$metadata.httpStatusCode, 201);
  assert.equal(created.State, 'Pending');
  assert.equal(created.StateReasonCode, 'Creating');
  assert.equal(created.LastUpdateStatus, undefined);
  assert.equal(created.FunctionArn, `arn:aws:lambda:us-east-1:${ACCOUNT}:function:hypertest`);
  assert.equal(created.CodeSha256, image_uri.split('@sha256:')[1]);
  const pending = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hypertest' }));
  assert.equal(pending.State, 'Pending');
  await assert.rejects(lambda.send(new InvokeCommand({ FunctionName: 'hypertest', Payload: '{}' })),
    (e) => e instanceof ResourceConflictException && /following state: Pending/.test(e.message));
  await assert.rejects(lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'hypertest', ImageUri: image_uri })),
    (e) => e instanceof ResourceConflictException);
  await assert.rejects(lambda.send(new CreateFunctionCommand(create_input('hypertest', role))),
    (e) => e instanceof ResourceConflictException && e.message === 'Function already exist: hypertest' && e.$metadata.httpStatusCode === 409);

  const waited = await waitUntilFunctionActiveV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'hypertest' });
  assert.equal(waited.state, 'SUCCESS');
  const fn = await lambda.send(new GetFunctionCommand({ FunctionName: 'hypertest' }));
  const c = fn.Configuration;
  assert.equal(c.State, 'Active');
  assert.equal(c.StateReason, undefined);
  assert.equal(c.LastUpdateStatus, 'Successful');
  assert.equal(c.PackageType, 'Image');
  assert.equal(c.Role, role);
  assert.equal(c.MemorySize, 2048);
  assert.equal(c.Timeout, 900);
  assert.deepEqual(c.EphemeralStorage, { Size: 2048 });
  assert.deepEqual(c.Architectures, ['arm64']);
  assert.deepEqual(c.Environment.Variables, { HT_MODE: 'lambda' });
  assert.equal(c.Description, 'hypertest runner');
  assert.equal(fn.Code.ImageUri, image_uri);
  assert.equal(fn.Code.ResolvedImageUri, image_uri);

  // The function runs, with its environment and its execution role's credentials.
  const out = await lambda.send(new InvokeCommand({ FunctionName: 'hypertest', Payload: JSON.stringify({ action: 'echo' }) }));
  const body = payload_json(out);
  assert.equal(body.env.HT_MODE, 'lambda');
  assert.equal(body.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE, '2048');
  assert.match(body.env.AWS_ACCESS_KEY_ID, /^ASIA/);
});

test('Lambda UpdateFunctionConfiguration -> LastUpdateStatus InProgress -> Successful (waitUntilFunctionUpdatedV2)', async () => {
  const updated = await lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hypertest', MemorySize: 3008,
    Environment: { Variables: { HT_MODE: 'lambda', EXTRA: '1' } } }));
  assert.equal(updated.LastUpdateStatus, 'InProgress');
  assert.equal(updated.MemorySize, 3008);
  await assert.rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hypertest', Timeout: 60 })),
    (e) => e instanceof ResourceConflictException && /An update is in progress/.test(e.message));
  const waited = await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'hypertest' });
  assert.equal(waited.state, 'SUCCESS');
  const c = await lambda.send(new GetFunctionConfigurationCommand({ FunctionName: 'hypertest' }));
  assert.equal(c.LastUpdateStatus, 'Successful');
  assert.deepEqual(c.Environment.Variables, { HT_MODE: 'lambda', EXTRA: '1' });
  await assert.rejects(lambda.send(new UpdateFunctionConfigurationCommand({ FunctionName: 'hypertest',
    Role: `arn:aws:iam::${ACCOUNT}:role/not-for-lambda` })), (e) => e.name === 'InvalidParameterValueException');
  // Code updates go through the same states.
  await lambda.send(new UpdateFunctionCodeCommand({ FunctionName: 'hypertest', ImageUri: image_uri }));
  await waitUntilFunctionUpdatedV2({ client: lambda, maxWaitTime: 30 }, { FunctionName: 'hypertest' });
  await emu.admin('POST', 'settings', { updateMs: 200 });
});

test('Lambda DeleteFunction kills its environments, then ResourceNotFoundException', async () => {
  await lambda.send(new InvokeCommand({ FunctionName: 'hypertest', Payload: JSON.stringify({ action: 'echo' }) }));
  const before_envs = await emu.admin('GET', 'functions/hypertest/environments');
  assert.ok(before_envs.length >= 1);
  const deleted = await lambda.send(new DeleteFunctionCommand({ FunctionName: 'hypertest' }));
  assert.equal(deleted.$metadata.httpStatusCode, 204);
  await assert.rejects(lambda.send(new GetFunctionCommand({ FunctionName: 'hypertest' })),
    (e) => e instanceof ResourceNotFoundException && e.$metadata.httpStatusCode === 404);
  await assert.rejects(lambda.send(new DeleteFunctionCommand({ FunctionName: 'hypertest' })), (e) => e instanceof ResourceNotFoundException);
  for (const env of before_envs) {
    let gone = false;
    for (let i = 0; i < 50 && !gone; i += 1) {
      try {
        process.kill(env.pid, 0);
        await sleep(50);
      } catch {
        gone = true;
      }
    }
    assert.ok(gone, `environment ${env.pid} still runs after DeleteFunction`);
  }
  const entries = await await_request_log(`${dir}/state`, (all) => all.some((e) => e.operation === 'DeleteFunction' && e.status === 404));
  const lambda_ops = new Set(entries.filter((e) => e.service === 'lambda').map((e) => e.operation));
  for (const op of ['CreateFunction', 'GetFunction', 'GetFunctionConfiguration', 'UpdateFunctionConfiguration', 'DeleteFunction']) {
    assert.ok(lambda_ops.has(op), `no ${op} logged`);
  }
  const bad = entries.filter((e) => e.signatureOk !== true && e.service !== 'iam');
  assert.deepEqual(bad, []);
});
