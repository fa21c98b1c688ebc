// (f) Temporary credentials: STS AssumeRole (trust policy, ExternalId, DurationSeconds, expiry),
// AssumeRoleWithWebIdentity, and the SSO portal's GetRoleCredentials (unsigned, bearer token
// registered through the admin API), through the official clients and the SDK's own SSO
// credential provider. Every set of credentials issued signs requests the emulator accepts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { CreateRoleCommand, GetRoleCommand, IAMClient } from '@aws-sdk/client-iam';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { AssumeRoleCommand, AssumeRoleWithWebIdentityCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { await_request_log, REGION, sdk_config, start_emulator, temp_dir } from './helpers.js';

let dir;
let emu;
let iam;
let sts;
const ACCOUNT = '123456789012';

before(async () => {
  dir = temp_dir('aws-emulator-creds-');
  // The default account (not --empty-account); nothing here pulls an image.
  emu = await start_emulator(`${dir}/state`, '127.0.0.1:9');
  iam = new IAMClient(sdk_config(emu.url));
  sts = new STSClient(sdk_config(emu.url));
  await iam.send(new CreateRoleCommand({ RoleName: 'deployer', MaxSessionDuration: 7200, AssumeRolePolicyDocument: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole',
      Condition: { StringEquals: { 'sts:ExternalId': 'ext-42' } } }],
  }) }));
  await iam.send(new CreateRoleCommand({ RoleName: 'chained', AssumeRolePolicyDocument: JSON.stringify({
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/deployer` }, Action: 'sts:AssumeRole' }],
  }) }));
});

after(async () => {
  await emu?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

const client_with = (Client, c) => new Client(sdk_config(emu.url, { credentials: {
  accessKeyId: c.AccessKeyId ?? c.accessKeyId, secretAccessKey: c.SecretAccessKey ?? c.secretAccessKey,
  sessionToken: c.SessionToken ?? c.sessionToken } }));

test('the default account has the default execution role; AssumeRole of an unknown role is AccessDenied', async () => {
  const role = await iam.send(new GetRoleCommand({ RoleName: 'hypertest-emulator' }));
  assert.equal(role.Role.Arn, `arn:aws:iam::${ACCOUNT}:role/hypertest-emulator`);
  assert.deepEqual((await emu.admin('GET', 'health')).emptyAccount, false);
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/nope`, RoleSessionName: 's1' })),
    (e) => e.name === 'AccessDenied' && e.$metadata.httpStatusCode === 403 &&
      e.message === `User: arn:aws:iam::${ACCOUNT}:user/emulator is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::${ACCOUNT}:role/nope`);
});

test('AssumeRole checks the trust policy ExternalId and returns working temporary credentials', async () => {
  const arn = `arn:aws:iam::${ACCOUNT}:role/deployer`;
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ci-1' })), (e) => e.name === 'AccessDenied');
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ci-1', ExternalId: 'wrong-id' })),
    (e) => e.name === 'AccessDenied');
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ci-1', ExternalId: 'ext-42', DurationSeconds: 10800 })),
    (e) => e.name === 'ValidationError' && /exceeds the MaxSessionDuration/.test(e.message));
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'bad name!', ExternalId: 'ext-42' })),
    (e) => e.name === 'ValidationError' && /roleSessionName/.test(e.message));

  const out = await sts.send(new AssumeRoleCommand({ RoleArn: arn, RoleSessionName: 'ci-1', ExternalId: 'ext-42', DurationSeconds: 7200 }));
  const role = await iam.send(new GetRoleCommand({ RoleName: 'deployer' }));
  assert.match(out.Credentials.AccessKeyId, /^ASIA/);
  assert.ok(out.Credentials.SessionToken.length > 20);
  const ttl = out.Credentials.Expiration.getTime() - Date.now();
  assert.ok(ttl > 7100 * 1000 && ttl <= 7200 * 1000, `expires in ${ttl} ms`);
  assert.equal(out.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-1`);
  assert.equal(out.AssumedRoleUser.AssumedRoleId, `${role.Role.RoleId}:ci-1`);

  const as_role = client_with(STSClient, out.Credentials);
  const who = await as_role.send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/ci-1`);
  assert.equal(who.UserId, `${role.Role.RoleId}:ci-1`);
  // Without the session token the key is refused.
  const no_token = new STSClient(sdk_config(emu.url, { credentials: { accessKeyId: out.Credentials.AccessKeyId,
    secretAccessKey: out.Credentials.SecretAccessKey } }));
  await assert.rejects(no_token.send(new GetCallerIdentityCommand({})), (e) => e.name === 'InvalidClientTokenId');

  // Role chaining: the role's session may assume 'chained', for at most one hour.
  await assert.rejects(as_role.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/chained`, RoleSessionName: 'ch',
    DurationSeconds: 3601 })), (e) => e.name === 'ValidationError' && /role chaining/.test(e.message));
  const chained = await as_role.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/chained`, RoleSessionName: 'ch' }));
  assert.equal(chained.AssumedRoleUser.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/chained/ch`);
  // The long-term user is not in 'chained''s trust policy.
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/chained`, RoleSessionName: 'ch' })),
    (e) => e.name === 'AccessDenied');
  await assert.rejects(sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`, RoleSessionName: 'x',
    ExternalId: 'ext-42' })), (e) => e.name === 'ValidationError' && /length between 2 and 64/.test(e.message));
});

test('temporary credentials expire: ExpiredToken once the emulator clock passes their expiry', async () => {
  const out = await sts.send(new AssumeRoleCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`, RoleSessionName: 'short',
    ExternalId: 'ext-42', DurationSeconds: 900 }));
  const as_role = client_with(STSClient, out.Credentials);
  await as_role.send(new GetCallerIdentityCommand({}));
  await emu.admin('POST', 'settings', { clockOffsetSeconds: 901 });
  try {
    await assert.rejects(as_role.send(new GetCallerIdentityCommand({})), (e) => e.name === 'ExpiredToken' && e.$metadata.httpStatusCode === 403);
    // Long-term keys do not expire.
    await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    await emu.admin('POST', 'settings', { clockOffsetSeconds: 0 });
  }
  await as_role.send(new GetCallerIdentityCommand({}));
});

test('AssumeRoleWithWebIdentity accepts any non-empty token and refuses an empty one', async () => {
  const anonymous = new STSClient({ endpoint: emu.url, region: REGION, maxAttempts: 1, credentials: { accessKeyId: 'unused', secretAccessKey: 'unused' } });
  const out = await anonymous.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
    RoleSessionName: 'gha-1', WebIdentityToken: 'header.payload.signature', DurationSeconds: 900 }));
  const role = await iam.send(new GetRoleCommand({ RoleName: 'deployer' }));
  assert.equal(out.AssumedRoleUser.AssumedRoleId, `${role.Role.RoleId}:gha-1`);
  const who = await client_with(STSClient, out.Credentials).send(new GetCallerIdentityCommand({}));
  assert.equal(who.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/deployer/gha-1`);
  await assert.rejects(anonymous.send(new AssumeRoleWithWebIdentityCommand({ RoleArn: `arn:aws:iam::${ACCOUNT}:role/deployer`,
    RoleSessionName: 'gha-1', WebIdentityToken: '' })), (e) => e.name === 'ValidationError');
});

test('SSO GetRoleCredentials: unsigned, bearer token from the admin API, expiration in ms', async () => {
  const sso = new SSOClient({ endpoint: emu.url, region: REGION, maxAttempts: 1 });
  const input = { accessToken: 'sso-token-1', accountId: ACCOUNT, roleName: 'HypertestDeployer' };
  await assert.rejects(sso.send(new GetRoleCredentialsCommand(input)),
    (e) => e.name === 'UnauthorizedException' && e.$metadata.httpStatusCode === 401);
  await emu.admin('POST', 'sso-tokens', { accessToken: 'sso-token-1', roles: [{ accountId: ACCOUNT, roleName: 'HypertestDeployer' }],
    userName: 'dev@example.com' });
  const out = await sso.send(new GetRoleCredentialsCommand(input));
  const c = out.roleCredentials;
  assert.match(c.accessKeyId, /^ASIA/);
  assert.equal(typeof c.expiration, 'number');
  assert.ok(c.expiration > Date.now() + 3500 * 1000 && c.expiration <= Date.now() + 3600 * 1000, `expiration ${c.expiration}`);
  const who = await client_with(STSClient, c).send(new GetCallerIdentityCommand({}));
  assert.match(who.Arn, new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_HypertestDeployer_[0-9a-f]{16}/dev@example\\.com$`));

  await assert.rejects(sso.send(new GetRoleCredentialsCommand({ ...input, roleName: 'Admin' })), (e) => e.name === 'ForbiddenException');
  await assert.rejects(sso.send(new GetRoleCredentialsCommand({ ...input, accountId: '210987654321' })), (e) => e.name === 'ForbiddenException');
  await emu.admin('POST', 'sso-tokens', { accessToken: 'sso-token-old', expiration: new Date(Date.now() - 1000).toISOString() });
  await assert.rejects(sso.send(new GetRoleCredentialsCommand({ ...input, accessToken: 'sso-token-old' })), (e) => e.name === 'UnauthorizedException');

  // On the wire: GET /federation/credentials with the bearer header, no Authorization.
  const raw = await fetch(`${emu.url}/federation/credentials?role_name=HypertestDeployer&account_id=${ACCOUNT}`,
    { headers: { 'x-amz-sso_bearer_token': 'sso-token-1' } });
  assert.equal(raw.status, 200);
  assert.equal(typeof (await raw.json()).roleCredentials.expiration, 'number');
  const missing = await fetch(`${emu.url}/federation/credentials?role_name=HypertestDeployer&account_id=${ACCOUNT}`);
  assert.equal(missing.status, 401);
  assert.equal(missing.headers.get('x-amzn-errortype'), 'UnauthorizedException');
  const entries = await await_request_log(`${dir}/state`, (all) => all.filter((e) => e.service === 'sso').length >= 7);
  const sso_entries = entries.filter((e) => e.service === 'sso');
  assert.ok(sso_entries.length >= 7, `${sso_entries.length} SSO requests logged`);
  assert.ok(sso_entries.every((e) => e.operation === 'GetRoleCredentials' && e.signatureOk === null && e.signed === false));
});

test("the SDK's own SSO credential provider (profile with sso_session) works against the emulator", async () => {
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.aws', 'sso', 'cache'), { recursive: true });
  const config = path.join(home, '.aws', 'config');
  fs.writeFileSync(config, [
    '[profile dev]', 'sso_session = team', `sso_account_id = ${ACCOUNT}`, 'sso_role_name = HypertestDeployer', `region = ${REGION}`, '',
    '[sso-session team]', 'sso_start_url = https://emulator.invalid/start', `sso_region = ${REGION}`, 'sso_registration_scopes = sso:account:access', '',
  ].join('\n'));
  const cache = path.join(home, '.aws', 'sso', 'cache', `${createHash('sha1').update('team').digest('hex')}.json`);
  fs.writeFileSync(cache, JSON.stringify({ accessToken: 'sso-token-cli', expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    region: REGION, startUrl: 'https://emulator.invalid/start' }));
  await emu.admin('POST', 'sso-tokens', { accessToken: 'sso-token-cli' });
  const saved = { ...process.env };
  Object.assign(process.env, { HOME: home, AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'none'),
    AWS_ENDPOINT_URL: emu.url, AWS_EC2_METADATA_DISABLED: 'true' });
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE']) delete process.env[k];
  try {
    const client = new STSClient({ endpoint: emu.url, region: REGION, profile: 'dev', maxAttempts: 1 });
    const who = await client.send(new GetCallerIdentityCommand({}));
    assert.match(who.Arn, /assumed-role\/AWSReservedSSO_HypertestDeployer_[0-9a-f]{16}\/emulator-user$/);
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});
