// The template validates (aws-cdk-lib CfnInclude + CloudFormation Validate, and the resource
// specification); broken copies are rejected; and what it provisions matches hypertest's needs
// (storage layout, defaults, least-privilege policies), checked on a rendering of the template.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { cdk_check, read_template, spec_check, validate } from '../validate.js';
import { lifecycle_policy_problem } from '../../aws-emulator/src/ecr.js';
import { check_policy } from '../../aws-emulator/src/policy.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TEMPLATE = path.join(here, '..', 'hypertest.yaml');
const REPO_ROOT = path.join(here, '..', '..', '..');
let dir;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hypertest-cfn-test-'));
});

after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

// A copy of the template with `edit` applied to its text.
function broken_copy(name, edit) {
  const text = fs.readFileSync(TEMPLATE, 'utf8');
  const changed = edit(text);
  assert.notEqual(changed, text, `the edit for ${name} changed nothing`);
  const file = path.join(dir, name);
  fs.writeFileSync(file, changed);
  return file;
}

test('hypertest.yaml passes both checks', async () => {
  const problems = await validate(TEMPLATE);
  assert.deepEqual(problems, []);
});

test('a copy missing a required property (the function Role) is rejected by both checks', async () => {
  const file = broken_copy('missing-role.yaml', (t) => t.replace('      Role: !GetAtt FunctionRole.Arn\n', ''));
  const problems = await validate(file);
  assert.ok(problems.some((p) => p.check === 'spec' && p.message === 'Function.Properties: missing required property Role'), JSON.stringify(problems));
  assert.ok(problems.some((p) => p.check === 'cdk' && /Function \[AWS::Lambda::Function\] is missing required property: role/.test(p.message)),
    JSON.stringify(problems));
});

test('a copy with an unknown property name is rejected by both checks', async () => {
  const file = broken_copy('unknown-property.yaml', (t) => t.replace('      MemorySize: !Ref MemorySize\n',
    '      MemorySize: !Ref MemorySize\n      MemorySizeMB: !Ref MemorySize\n'));
  const problems = await validate(file);
  assert.ok(problems.some((p) => p.check === 'spec' && /Function\.Properties: unknown property MemorySizeMB \(did you mean MemorySize\?\)/.test(p.message)),
    JSON.stringify(problems));
  assert.ok(problems.some((p) => p.check === 'cdk' && p.rule === 'F3002' && /MemorySizeMB/.test(p.message)), JSON.stringify(problems));
});

test('nested property names, types and references are checked too', async () => {
  const nested = broken_copy('nested.yaml', (t) => t.replace('            AbortIncompleteMultipartUpload:\n              DaysAfterInitiation: 7',
    '            AbortIncompleteMultipartUpload:\n              DaysAfterInitation: 7'));
  const nested_problems = await spec_check(read_template(nested));
  assert.ok(nested_problems.some((p) => /AbortIncompleteMultipartUpload: unknown property DaysAfterInitation/.test(p.message)),
    JSON.stringify(nested_problems));
  assert.ok(nested_problems.some((p) => /AbortIncompleteMultipartUpload: missing required property DaysAfterInitiation/.test(p.message)));

  const wrong_type = broken_copy('wrong-type.yaml', (t) => t.replace('        EncryptionType: AES256\n', '        EncryptionType: [AES256]\n'));
  assert.ok((await cdk_check(wrong_type)).some((p) => /encryptionType: \["AES256"\] should be a string/.test(p.message) ||
    /Supplied properties not correct/.test(p.message)));
  assert.ok((await spec_check(read_template(wrong_type))).some((p) => /EncryptionType: expected a string, got a list/.test(p.message)));

  const bad_refs = broken_copy('bad-refs.yaml', (t) => t
    .replace('Value: !GetAtt Repository.RepositoryUri', 'Value: !GetAtt Repository.Uri')
    .replace('LogGroupName: !Sub /aws/lambda/${FunctionName}', 'LogGroupName: !Sub /aws/lambda/${FunctionNam}')
    .replace('Condition: HasImage\n    DependsOn', 'Condition: HaveImage\n    DependsOn'));
  const ref_problems = (await spec_check(read_template(bad_refs))).map((p) => p.message);
  assert.ok(ref_problems.includes('Outputs.RepositoryUri.Value: AWS::ECR::Repository has no attribute Uri'), JSON.stringify(ref_problems));
  assert.ok(ref_problems.some((m) => /Sub variable \$\{FunctionNam\} is not a parameter/.test(m)), JSON.stringify(ref_problems));
  assert.ok(ref_problems.includes('Function: unknown condition HaveImage'), JSON.stringify(ref_problems));
});

// ---- a rendering of the template: parameters (defaults + overrides), conditions, Ref/Sub/GetAtt/If ----
function render(template, overrides = {}) {
  const params = {};
  for (const [name, p] of Object.entries(template.Parameters)) params[name] = String(overrides[name] ?? p.Default ?? '');
  const pseudo = { 'AWS::AccountId': '123456789012', 'AWS::Region': 'us-east-1', 'AWS::Partition': 'aws', 'AWS::StackName': 'hypertest' };
  const conditions = {};
  const value = (v) => {
    if (Array.isArray(v)) return v.map(value).filter((x) => x !== undefined);
    if (!v || typeof v !== 'object') return v;
    const [k] = Object.keys(v);
    const x = v[k];
    if (k === 'Ref') return x === 'AWS::NoValue' ? undefined : x in params ? params[x] : x in pseudo ? pseudo[x] : `ref:${x}`;
    if (k === 'Fn::GetAtt') return `arn:aws:test:::${x[0]}.${x[1]}`;
    if (k === 'Fn::Sub') {
      return String(x).replace(/\$\{([^}]+)\}/g, (m, name) => (name.includes('.') ? `arn:aws:test:::${name}` : value({ Ref: name })));
    }
    if (k === 'Fn::If') return value(cond(x[0]) ? x[1] : x[2]);
    return Object.fromEntries(Object.entries(v).map(([key, y]) => [key, value(y)]).filter(([, y]) => y !== undefined));
  };
  const cond = (name) => {
    if (!(name in conditions)) conditions[name] = evaluate(template.Conditions[name]);
    return conditions[name];
  };
  const evaluate = (c) => {
    const [k] = Object.keys(c);
    const x = c[k];
    if (k === 'Fn::Equals') return value(x[0]) === value(x[1]);
    if (k === 'Fn::Not') return !evaluate(x[0]);
    if (k === 'Fn::And') return x.every(evaluate);
    if (k === 'Fn::Or') return x.some(evaluate);
    if (k === 'Condition') return cond(x);
    throw new Error(`condition ${k}`);
  };
  const resources = {};
  for (const [id, r] of Object.entries(template.Resources)) {
    if (!r.Condition || cond(r.Condition)) resources[id] = { ...r, Properties: value(r.Properties || {}) };
  }
  const outputs = Object.keys(template.Outputs).filter((id) => !template.Outputs[id].Condition || cond(template.Outputs[id].Condition));
  return { resources, outputs };
}

const template = read_template(TEMPLATE);

test('defaults: function 2048 MB, 900 s, 2048 MB /tmp, x86_64|arm64; no function without ImageUri; no CI role without a repository', () => {
  const p = template.Parameters;
  assert.equal(p.MemorySize.Default, 2048);
  assert.equal(p.Timeout.Default, 900);
  assert.equal(p.EphemeralStorageSize.Default, 2048);
  assert.deepEqual(p.Architecture.AllowedValues, ['x86_64', 'arm64']);
  const bare = render(template);
  assert.deepEqual(Object.keys(bare.resources).sort(), ['Bucket', 'BucketPolicy', 'FunctionRole', 'LogGroup', 'Repository']);
  assert.deepEqual(bare.outputs.sort(), ['BucketName', 'FunctionName', 'FunctionRoleArn', 'RepositoryUri']);
  const image = '123456789012.dkr.ecr.us-east-1.amazonaws.com/hypertest-base@sha256:' + 'a'.repeat(64);
  assert.match(image, new RegExp(p.ImageUri.AllowedPattern));
  const full = render(template, { ImageUri: image, Architecture: 'arm64', GitHubRepository: 'acme/web' });
  const fn = full.resources.Function.Properties;
  assert.deepEqual({ PackageType: fn.PackageType, ImageUri: fn.Code.ImageUri, MemorySize: fn.MemorySize, Timeout: fn.Timeout,
    EphemeralStorage: fn.EphemeralStorage, Architectures: fn.Architectures },
  { PackageType: 'Image', ImageUri: image, MemorySize: '2048', Timeout: '900', EphemeralStorage: { Size: '2048' }, Architectures: ['arm64'] });
  assert.deepEqual(Object.keys(full.resources).sort(),
    ['Bucket', 'BucketPolicy', 'CiRole', 'Function', 'FunctionRole', 'GitHubOidcProvider', 'LogGroup', 'Repository']);
  assert.ok(full.outputs.includes('CiRoleArn') && full.outputs.includes('FunctionArn'));
  const no_provider = render(template, { GitHubRepository: 'acme/web', CreateGitHubOidcProvider: 'false' });
  assert.equal(no_provider.resources.GitHubOidcProvider, undefined);
  assert.equal(no_provider.resources.CiRole.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Federated,
    'arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com');
});

test('the ECR lifecycle policy keeps the last N images and passes ECR validation (the emulator\'s)', () => {
  const repo = render(template, { KeepImages: 25 }).resources.Repository.Properties;
  const text = repo.LifecyclePolicy.LifecyclePolicyText;
  assert.ok(text.length >= 100 && text.length <= 30720, `length ${text.length}`);
  assert.equal(lifecycle_policy_problem(text), null);
  assert.deepEqual(JSON.parse(text).rules[0].selection, { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: 25 });
  assert.equal(repo.ImageTagMutability, 'MUTABLE');
});

test('the bucket: SSE-S3, public access blocked, run data expires, _hypertest/ never does', () => {
  const b = render(template, { RunDataRetentionDays: 14 }).resources.Bucket.Properties;
  assert.deepEqual(b.BucketEncryption.ServerSideEncryptionConfiguration, [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
  assert.deepEqual(b.PublicAccessBlockConfiguration, { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  const rules = b.LifecycleConfiguration.Rules;
  const expiring = (key) => rules.filter((r) => r.Status === 'Enabled' && r.ExpirationInDays !== undefined &&
    key.startsWith(r.Prefix ?? r.Filter?.Prefix ?? ''));
  // The keys of docs/formats.md's storage layout.
  for (const key of ['_hypertest/hypertest/hypertest.manifest.json', '_hypertest/hypertest/timings.json', '_hypertest/fn-2/last-run.json']) {
    assert.deepEqual(expiring(key), [], `${key} must never expire`);
  }
  for (const key of ['20261127-100000-ab12cd/hypertest.results.json', '20261127-100000-ab12cd/blobs/inv-1.zip', '30010101-000000-000000/x',
    '19991231-235959-ffffff/t/attempt-1/trace.zip']) {
    const matched = expiring(key);
    assert.equal(matched.length, 1, key);
    assert.equal(matched[0].ExpirationInDays, '14');
  }
  // That rests on run ids starting with the year: util::make_run_id formats "%Y%m%d-%H%M%S-xxxxxx".
  assert.match(fs.readFileSync(path.join(REPO_ROOT, 'src', 'util', 'time.cpp'), 'utf8'), /strftime\([^)]*"%Y%m%d-%H%M%S"/);
  assert.ok(rules.some((r) => r.AbortIncompleteMultipartUpload?.DaysAfterInitiation === 7 && r.Prefix === undefined && r.Filter === undefined));
});

test('IAM: least-privilege execution role; the CI role is limited to the repository, the function and the bucket', () => {
  const { resources } = render(template, { GitHubRepository: 'acme/web', GitHubSubjectFilter: 'ref:refs/heads/main' });
  const role = resources.FunctionRole.Properties;
  const trust = role.AssumeRolePolicyDocument;
  check_policy(JSON.stringify(trust), 'trust');
  assert.deepEqual(trust.Statement.map((s) => [s.Principal.Service, s.Action]), [['lambda.amazonaws.com', 'sts:AssumeRole']]);
  assert.equal(role.Policies.length, 1);
  const doc = role.Policies[0].PolicyDocument;
  check_policy(JSON.stringify(doc), 'identity');
  const grants = doc.Statement.flatMap((s) => [].concat(s.Action).map((a) => `${a} ${[].concat(s.Resource).join(',')}`)).sort();
  assert.deepEqual(grants, [
    'logs:CreateLogStream arn:aws:test:::LogGroup.Arn',
    'logs:PutLogEvents arn:aws:test:::LogGroup.Arn',
    's3:GetObject arn:aws:test:::Bucket.Arn/*',
    's3:ListBucket arn:aws:test:::Bucket.Arn',
    's3:PutObject arn:aws:test:::Bucket.Arn/*',
  ]);

  const ci = resources.CiRole.Properties;
  check_policy(JSON.stringify(ci.AssumeRolePolicyDocument), 'trust');
  const st = ci.AssumeRolePolicyDocument.Statement[0];
  assert.equal(st.Action, 'sts:AssumeRoleWithWebIdentity');
  assert.deepEqual(st.Condition, { StringEquals: { 'token.actions.githubusercontent.com:aud': 'sts.amazonaws.com' },
    StringLike: { 'token.actions.githubusercontent.com:sub': 'repo:acme/web:ref:refs/heads/main' } });
  const ci_doc = ci.Policies[0].PolicyDocument;
  check_policy(JSON.stringify(ci_doc), 'identity');
  const by_action = {};
  for (const s of ci_doc.Statement) for (const a of [].concat(s.Action)) by_action[a] = [].concat(s.Resource);
  for (const a of ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload', 'ecr:BatchCheckLayerAvailability']) {
    assert.deepEqual(by_action[a], ['arn:aws:test:::Repository.Arn'], a);
  }
  for (const a of ['lambda:GetFunction', 'lambda:UpdateFunctionCode', 'lambda:InvokeFunction', 'lambda:PublishVersion']) {
    assert.deepEqual(by_action[a], ['arn:aws:lambda:us-east-1:123456789012:function:hypertest',
      'arn:aws:lambda:us-east-1:123456789012:function:hypertest:*'], a);
  }
  for (const a of ['s3:GetObject', 's3:PutObject', 's3:DeleteObject']) assert.deepEqual(by_action[a], ['arn:aws:test:::Bucket.Arn/*'], a);
  assert.deepEqual(by_action['s3:ListBucket'], ['arn:aws:test:::Bucket.Arn']);
  // Only what cannot be scoped is granted on '*'.
  const star = Object.entries(by_action).filter(([, r]) => r.includes('*')).map(([a]) => a).sort();
  assert.deepEqual(star, ['ecr:GetAuthorizationToken', 'lambda:GetAccountSettings', 'servicequotas:GetAWSDefaultServiceQuota',
    'servicequotas:GetServiceQuota']);
  assert.ok(!Object.keys(by_action).some((a) => a.includes('*') || a.startsWith('iam:')), 'no wildcard actions, no IAM rights');
});

test('the YAML reader understands the short-form tags as CloudFormation does', () => {
  const t = YAML.parse('a: 1');
  assert.deepEqual(t, { a: 1 });
  const file = path.join(dir, 'tags.yaml');
  fs.writeFileSync(file, 'Resources:\n  X:\n    Type: AWS::SNS::Topic\n    Properties:\n      TopicName: !Sub "${AWS::StackName}-t"\n' +
    '      DisplayName: !GetAtt Y.Name\n      Tags:\n        - !If [C, {Key: a, Value: !Ref P}, !Ref AWS::NoValue]\n');
  const parsed = read_template(file);
  assert.deepEqual(parsed.Resources.X.Properties, { TopicName: { 'Fn::Sub': '${AWS::StackName}-t' }, DisplayName: { 'Fn::GetAtt': ['Y', 'Name'] },
    Tags: [{ 'Fn::If': ['C', { Key: 'a', Value: { Ref: 'P' } }, { Ref: 'AWS::NoValue' }] }] });
});
