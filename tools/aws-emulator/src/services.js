// ECR (JSON 1.1), STS (query API, XML) and Service Quotas (JSON 1.1).
import { send_error } from './protocols.js';
import { iso_seconds, parse_form, parse_query, send, xml_escape } from './util.js';

const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const LAMBDA_CONCURRENCY_QUOTA = 'L-B99A9384';

export function json_target(req) {
  const target = req.headers['x-amz-target'] || '';
  const dot = target.indexOf('.');
  return dot < 0 ? { prefix: target, operation: '' } : { prefix: target.slice(0, dot), operation: target.slice(dot + 1) };
}

function json_body(body) {
  if (!body.length) return {};
  try {
    return JSON.parse(body.toString('utf8')) || {};
  } catch {
    return null;
  }
}

function send_json11(res, value) {
  send(res, 200, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': res.emulator_request_id }, JSON.stringify(value));
}

// ---- ECR ----
export function handle_ecr({ req, res, body, settings, registry_host, account_id, region }) {
  const { operation } = json_target(req);
  const input = json_body(body);
  if (input === null) return send_error(res, 'json', 400, 'SerializationException', 'the request body is not JSON');
  if (operation === 'GetAuthorizationToken') {
    const token = Buffer.from(`AWS:${settings.registryPassword}`).toString('base64');
    return send_json11(res, { authorizationData: [{
      authorizationToken: token,
      expiresAt: Math.floor(Date.now() / 1000) + 12 * 3600,
      proxyEndpoint: `http://${registry_host}`,
    }] });
  }
  if (operation === 'DescribeRepositories' || operation === 'CreateRepository') {
    const names = operation === 'CreateRepository' ? [input.repositoryName] : input.repositoryNames || [...settings.repositories];
    const repos = [];
    for (const name of names) {
      if (typeof name !== 'string' || !name) return send_error(res, 'json', 400, 'InvalidParameterException', 'repositoryName is required');
      if (operation === 'CreateRepository') {
        if (settings.repositories.has(name)) {
          return send_error(res, 'json', 400, 'RepositoryAlreadyExistsException', `The repository with name '${name}' already exists in the registry with id '${account_id}'`);
        }
        settings.repositories.add(name);
      } else if (!settings.repositories.has(name)) {
        return send_error(res, 'json', 400, 'RepositoryNotFoundException', `The repository with name '${name}' does not exist in the registry with id '${account_id}'`);
      }
      repos.push({ repositoryArn: `arn:aws:ecr:${region}:${account_id}:repository/${name}`, registryId: account_id,
        repositoryName: name, repositoryUri: `${registry_host}/${name}`, createdAt: 0, imageTagMutability: 'MUTABLE' });
    }
    return send_json11(res, operation === 'CreateRepository' ? { repository: repos[0] } : { repositories: repos });
  }
  return send_error(res, 'json', 400, 'UnknownOperationException', `Unknown operation ${req.headers['x-amz-target'] || '(no X-Amz-Target)'}`);
}

// ---- Service Quotas ----
export function handle_quotas({ req, res, body, settings, account_id, region }) {
  const { operation } = json_target(req);
  const input = json_body(body);
  if (input === null) return send_error(res, 'json', 400, 'SerializationException', 'the request body is not JSON');
  if (operation !== 'GetServiceQuota' && operation !== 'GetAWSDefaultServiceQuota') {
    return send_error(res, 'json', 400, 'UnknownOperationException', `Unknown operation ${req.headers['x-amz-target'] || '(no X-Amz-Target)'}`);
  }
  if (!input.ServiceCode || !input.QuotaCode) return send_error(res, 'json', 400, 'IllegalArgumentException', 'ServiceCode and QuotaCode are required');
  const known = input.ServiceCode === 'lambda' && input.QuotaCode === LAMBDA_CONCURRENCY_QUOTA;
  if (!known || (operation === 'GetServiceQuota' && !settings.quotaApplied)) {
    return send_error(res, 'json', 400, 'NoSuchResourceException', `The request failed because the specified service quota ${input.QuotaCode} does not exist.`);
  }
  const is_default = operation === 'GetAWSDefaultServiceQuota';
  return send_json11(res, { Quota: {
    ServiceCode: 'lambda', ServiceName: 'AWS Lambda', QuotaCode: LAMBDA_CONCURRENCY_QUOTA, QuotaName: 'Concurrent executions',
    QuotaArn: `arn:aws:servicequotas:${region}:${is_default ? '' : account_id}:lambda/${LAMBDA_CONCURRENCY_QUOTA}`,
    Value: is_default ? 1000 : settings.concurrencyLimit, Unit: 'None', Adjustable: true, GlobalQuota: false,
  } });
}

// ---- STS ----
export function sts_params(req, body, raw_query) {
  const from_query = parse_query(raw_query);
  const from_body = req.method === 'POST' ? parse_form(body) : {};
  return { ...from_query, ...from_body };
}

function sts_xml(res, action, result) {
  const rid = res.emulator_request_id;
  send(res, 200, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': rid },
    `<${action}Response xmlns="${STS_NS}">\n  <${action}Result>\n${result}  </${action}Result>\n` +
    `  <ResponseMetadata>\n    <RequestId>${rid}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`);
}

export function handle_sts({ res, params, credential, credentials, account_id, settings }) {
  if (params.Action === 'GetCallerIdentity') {
    return sts_xml(res, 'GetCallerIdentity', `    <Arn>${xml_escape(credential.arn)}</Arn>\n` +
      `    <UserId>${xml_escape(credential.userId)}</UserId>\n    <Account>${account_id}</Account>\n`);
  }
  if (params.Action === 'AssumeRoleWithWebIdentity') {
    for (const field of ['RoleArn', 'RoleSessionName', 'WebIdentityToken']) {
      if (!params[field]) return send_error(res, 'query', 400, 'ValidationError', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    }
    if (!/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/.test(params.RoleArn)) {
      return send_error(res, 'query', 400, 'ValidationError', `${params.RoleArn} is not a valid role ARN`);
    }
    if (settings.webIdentityToken && params.WebIdentityToken !== settings.webIdentityToken) {
      return send_error(res, 'query', 400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider');
    }
    const duration = Number(params.DurationSeconds || 3600);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      return send_error(res, 'query', 400, 'ValidationError', 'DurationSeconds must be between 900 and 43200');
    }
    const cred = credentials.mint_session(params.RoleArn, params.RoleSessionName, duration);
    return sts_xml(res, 'AssumeRoleWithWebIdentity',
      '    <Credentials>\n' +
      `      <AccessKeyId>${cred.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xml_escape(cred.secretAccessKey)}</SecretAccessKey>\n` +
      `      <SessionToken>${xml_escape(cred.sessionToken)}</SessionToken>\n      <Expiration>${iso_seconds(cred.expiration)}</Expiration>\n` +
      '    </Credentials>\n' +
      `    <SubjectFromWebIdentityToken>emulator-subject</SubjectFromWebIdentityToken>\n` +
      `    <AssumedRoleUser>\n      <Arn>${xml_escape(cred.arn)}</Arn>\n      <AssumedRoleId>${xml_escape(cred.userId)}</AssumedRoleId>\n    </AssumedRoleUser>\n` +
      '    <Provider>emulator</Provider>\n    <Audience>sts.amazonaws.com</Audience>\n');
  }
  return send_error(res, 'query', 400, 'InvalidAction', `Could not find operation ${params.Action || '(no Action)'} for version ${params.Version || '(none)'}`);
}
