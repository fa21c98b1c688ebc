// ECR (JSON 1.1): authorization tokens for the OCI registry behind --registry, and repositories
// with lifecycle policies. Repositories are kept in the emulator (settings.repositories); their
// images live in the registry, which DeleteRepository asks whether the repository still has any.
import { send_error } from './protocols.js';
import { send } from './util.js';

const REPO_NAME = /^(?=.{2,256}$)(?:[a-z0-9]+(?:[._-][a-z0-9]+)*\/)*[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
const REPO_PATTERN = '(?:[a-z0-9]+(?:[._-][a-z0-9]+)*/)*[a-z0-9]+(?:[._-][a-z0-9]+)*';

class EcrError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function json_body(body) {
  if (!body.length) return {};
  try {
    const v = JSON.parse(body.toString('utf8'));
    return v && typeof v === 'object' && !Array.isArray(v) ? v : null;
  } catch {
    return null;
  }
}

function send_json11(res, value) {
  send(res, 200, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': res.emulator_request_id }, JSON.stringify(value));
}

const epoch = (date) => date.getTime() / 1000;

// Checks a lifecycle policy as ECR does; returns an error message or null.
export function lifecycle_policy_problem(text) {
  let policy;
  try {
    policy = JSON.parse(text);
  } catch {
    return 'Lifecycle policy validation failure: could not parse the policy as JSON';
  }
  if (!policy || typeof policy !== 'object' || !Array.isArray(policy.rules) || !policy.rules.length) {
    return 'Lifecycle policy validation failure: object has missing required properties (["rules"])';
  }
  const priorities = new Set();
  let any_priority = null;
  let max_priority = 0;
  for (const rule of policy.rules) {
    if (!rule || typeof rule !== 'object') return 'Lifecycle policy validation failure: a rule is not an object';
    for (const key of ['rulePriority', 'selection', 'action']) {
      if (!(key in rule)) return `Lifecycle policy validation failure: object has missing required properties (["${key}"])`;
    }
    if (!Number.isInteger(rule.rulePriority) || rule.rulePriority < 1) {
      return `Lifecycle policy validation failure: numeric instance is lower than the required minimum (minimum: 1, found: ${rule.rulePriority})`;
    }
    if (priorities.has(rule.rulePriority)) return `Lifecycle policy validation failure: duplicate rulePriority ${rule.rulePriority}`;
    priorities.add(rule.rulePriority);
    max_priority = Math.max(max_priority, rule.rulePriority);
    const s = rule.selection;
    if (!s || typeof s !== 'object') return 'Lifecycle policy validation failure: selection must be an object';
    if (!['tagged', 'untagged', 'any'].includes(s.tagStatus)) {
      return `Lifecycle policy validation failure: instance value ("${s.tagStatus}") not found in enum (possible values: ["tagged","untagged","any"])`;
    }
    if (s.tagStatus === 'tagged' && !(Array.isArray(s.tagPrefixList) && s.tagPrefixList.length) &&
        !(Array.isArray(s.tagPatternList) && s.tagPatternList.length)) {
      return 'Lifecycle policy validation failure: tagPrefixList or tagPatternList is required when tagStatus is tagged';
    }
    if (!['imageCountMoreThan', 'sinceImagePushed'].includes(s.countType)) {
      return `Lifecycle policy validation failure: instance value ("${s.countType}") not found in enum (possible values: ["imageCountMoreThan","sinceImagePushed"])`;
    }
    if (!Number.isInteger(s.countNumber) || s.countNumber < 1) {
      return `Lifecycle policy validation failure: numeric instance is lower than the required minimum (minimum: 1, found: ${s.countNumber})`;
    }
    if (s.countType === 'sinceImagePushed' && s.countUnit !== 'days') return 'Lifecycle policy validation failure: countUnit must be days with sinceImagePushed';
    if (s.countType === 'imageCountMoreThan' && s.countUnit !== undefined) return 'Lifecycle policy validation failure: countUnit is not allowed with imageCountMoreThan';
    if (!rule.action || rule.action.type !== 'expire') {
      return 'Lifecycle policy validation failure: instance value not found in enum (possible values: ["expire"])';
    }
    if (s.tagStatus === 'any') any_priority = rule.rulePriority;
  }
  if (any_priority !== null && any_priority !== max_priority) {
    return 'Lifecycle policy validation failure: the rule with tagStatus "any" must have the highest rulePriority';
  }
  return null;
}

export async function handle_ecr(ctx) {
  try {
    return await ecr_operation(ctx);
  } catch (e) {
    if (!(e instanceof EcrError)) throw e;
    return send_error(ctx.res, 'json', e.code === 'ServerException' ? 500 : 400, e.code, e.message);
  }
}

async function ecr_operation({ req, res, body, settings, registry, registry_host, account_id, region, operation }) {
  const input = json_body(body);
  if (input === null) throw new EcrError('SerializationException', 'the request body is not a JSON object');
  const repos = settings.repositories;
  if (input.registryId !== undefined && input.registryId !== account_id && operation !== 'GetAuthorizationToken') {
    throw new EcrError('InvalidParameterException', `Invalid parameter at 'registryId' failed to satisfy constraint: 'the registry ${input.registryId} is not this account's'`);
  }
  const describe = (r) => ({ repositoryArn: `arn:aws:ecr:${region}:${account_id}:repository/${r.name}`, registryId: account_id,
    repositoryName: r.name, repositoryUri: `${registry_host}/${r.name}`, createdAt: epoch(r.createdAt),
    imageTagMutability: r.imageTagMutability, imageScanningConfiguration: r.imageScanningConfiguration,
    encryptionConfiguration: r.encryptionConfiguration });
  const not_found = (name) => new EcrError('RepositoryNotFoundException',
    `The repository with name '${name}' does not exist in the registry with id '${account_id}'`);
  const lookup = (name) => {
    if (typeof name !== 'string' || !name) throw new EcrError('InvalidParameterException', 'repositoryName is required');
    const repo = repos.get(name);
    if (!repo) throw not_found(name);
    return repo;
  };

  switch (operation) {
    case 'GetAuthorizationToken': {
      const token = Buffer.from(`AWS:${settings.registryPassword}`).toString('base64');
      return send_json11(res, { authorizationData: [{
        authorizationToken: token,
        expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
        proxyEndpoint: `http://${registry_host}`,
      }] });
    }
    case 'CreateRepository': {
      const name = input.repositoryName;
      if (typeof name !== 'string' || !REPO_NAME.test(name)) {
        throw new EcrError('InvalidParameterException', `Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must satisfy regular expression '${REPO_PATTERN}''`);
      }
      const mutability = input.imageTagMutability ?? 'MUTABLE';
      if (!['MUTABLE', 'IMMUTABLE', 'MUTABLE_WITH_EXCLUSION', 'IMMUTABLE_WITH_EXCLUSION'].includes(mutability)) {
        throw new EcrError('InvalidParameterException', `Invalid parameter at 'imageTagMutability' failed to satisfy constraint: 'Member must satisfy enum value set: [MUTABLE, IMMUTABLE]'`);
      }
      const encryption = input.encryptionConfiguration ?? { encryptionType: 'AES256' };
      if (!['AES256', 'KMS', 'KMS_DSSE'].includes(encryption.encryptionType)) {
        throw new EcrError('InvalidParameterException', `Invalid parameter at 'encryptionType' failed to satisfy constraint: 'Member must satisfy enum value set: [AES256, KMS, KMS_DSSE]'`);
      }
      if (repos.has(name)) {
        throw new EcrError('RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${account_id}'`);
      }
      const repo = { name, createdAt: new Date(), imageTagMutability: mutability,
        imageScanningConfiguration: { scanOnPush: Boolean(input.imageScanningConfiguration?.scanOnPush) },
        encryptionConfiguration: encryption, tags: input.tags || [], lifecyclePolicy: null };
      repos.set(name, repo);
      return send_json11(res, { repository: describe(repo) });
    }
    case 'DescribeRepositories': {
      const names = input.repositoryNames;
      if (names !== undefined && (!Array.isArray(names) || !names.length || names.length > 100)) {
        throw new EcrError('InvalidParameterException', 'Invalid parameter at \'repositoryNames\' failed to satisfy constraint: \'Member must have length between 1 and 100\'');
      }
      const found = names ? names.map(lookup) : [...repos.values()].sort((a, b) => a.name.localeCompare(b.name));
      const max = input.maxResults ?? 100;
      const start = input.nextToken ? Number(Buffer.from(input.nextToken, 'base64').toString('utf8')) : 0;
      if (!Number.isInteger(start) || start < 0) throw new EcrError('InvalidParameterException', 'Invalid parameter at \'nextToken\'');
      const page = names ? found : found.slice(start, start + max);
      const next = !names && start + max < found.length ? Buffer.from(String(start + max)).toString('base64') : undefined;
      return send_json11(res, { repositories: page.map(describe), ...(next ? { nextToken: next } : {}) });
    }
    case 'PutLifecyclePolicy': {
      const repo = lookup(input.repositoryName);
      const text = input.lifecyclePolicyText;
      if (typeof text !== 'string' || text.length < 100 || text.length > 30720) {
        throw new EcrError('InvalidParameterException', `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: 'Member must have length between 100 and 30720'`);
      }
      const problem = lifecycle_policy_problem(text);
      if (problem) throw new EcrError('InvalidParameterException', `Invalid parameter at 'LifecyclePolicyText' failed to satisfy constraint: '${problem}'`);
      repo.lifecyclePolicy = { text, at: new Date() };
      return send_json11(res, { registryId: account_id, repositoryName: repo.name, lifecyclePolicyText: text });
    }
    case 'GetLifecyclePolicy':
    case 'DeleteLifecyclePolicy': {
      const repo = lookup(input.repositoryName);
      if (!repo.lifecyclePolicy) {
        throw new EcrError('LifecyclePolicyNotFoundException',
          `Lifecycle policy does not exist for the repository with name '${repo.name}' in the registry with id '${account_id}'`);
      }
      const out = { registryId: account_id, repositoryName: repo.name, lifecyclePolicyText: repo.lifecyclePolicy.text,
        lastEvaluatedAt: epoch(repo.lifecyclePolicy.at) };
      if (operation === 'DeleteLifecyclePolicy') repo.lifecyclePolicy = null;
      return send_json11(res, out);
    }
    case 'DeleteRepository': {
      const repo = lookup(input.repositoryName);
      const tags = await registry.tags(repo.name);
      if (tags && tags.length && !input.force) {
        throw new EcrError('RepositoryNotEmptyException',
          `The repository with name '${repo.name}' in registry with id '${account_id}' cannot be deleted because it still contains images`);
      }
      if (tags && tags.length) await registry.delete_images(repo.name);
      repos.delete(repo.name);
      return send_json11(res, { repository: describe(repo) });
    }
    default:
      throw new EcrError('UnknownOperationException', `Unknown operation ${req.headers['x-amz-target'] || '(no X-Amz-Target)'}`);
  }
}
