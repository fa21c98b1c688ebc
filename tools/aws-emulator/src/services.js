// STS (query API, XML) and Service Quotas (JSON 1.1); ECR is in ecr.js, IAM in iam.js.
import { send_error } from './protocols.js';
import { caller_principal, trust_allows } from './policy.js';
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

function credentials_xml(cred) {
  return '    <Credentials>\n' +
    `      <AccessKeyId>${cred.accessKeyId}</AccessKeyId>\n      <SecretAccessKey>${xml_escape(cred.secretAccessKey)}</SecretAccessKey>\n` +
    `      <SessionToken>${xml_escape(cred.sessionToken)}</SessionToken>\n      <Expiration>${iso_seconds(cred.expiration)}</Expiration>\n` +
    '    </Credentials>\n';
}

function assumed_user_xml(cred) {
  return `    <AssumedRoleUser>\n      <Arn>${xml_escape(cred.arn)}</Arn>\n      <AssumedRoleId>${xml_escape(cred.userId)}</AssumedRoleId>\n    </AssumedRoleUser>\n`;
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/;
const SESSION_NAME = /^[\w+=,.@-]{2,64}$/;
const EXTERNAL_ID = /^[\w+=,.@:/-]{2,1224}$/;

function sts_validation(field, value, constraint) {
  return `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: ${constraint}`;
}

// -> an error [status, code, message] or null
function check_assume_params(params) {
  for (const field of ['RoleArn', 'RoleSessionName']) {
    if (!params[field]) return [400, 'ValidationError', `1 validation error detected: Value null at '${field[0].toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`];
  }
  if (!ROLE_ARN.test(params.RoleArn)) return [400, 'ValidationError', `${params.RoleArn} is not a valid role ARN`];
  if (params.RoleSessionName.length < 2 || params.RoleSessionName.length > 64) {
    return [400, 'ValidationError', sts_validation('roleSessionName', params.RoleSessionName, 'Member must have length between 2 and 64')];
  }
  if (!SESSION_NAME.test(params.RoleSessionName)) {
    return [400, 'ValidationError', sts_validation('roleSessionName', params.RoleSessionName, 'Member must satisfy regular expression pattern: [\\w+=,.@-]*')];
  }
  const duration = Number(params.DurationSeconds || 3600);
  if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
    return [400, 'ValidationError', sts_validation('durationSeconds', params.DurationSeconds, 'Member must have value less than or equal to 43200 and greater than or equal to 900')];
  }
  return null;
}

// STS: GetCallerIdentity; AssumeRole (signed: the role must exist in IAM and its trust policy
// must let the caller in, ExternalId conditions included); AssumeRoleWithWebIdentity (unsigned;
// any non-empty token unless settings.webIdentityToken pins one; the role need not exist).
export function handle_sts({ res, params, credential, credentials, account_id, settings, iam }) {
  const fail = ([status, code, message]) => send_error(res, 'query', status, code, message);
  if (params.Action === 'GetCallerIdentity') {
    return sts_xml(res, 'GetCallerIdentity', `    <Arn>${xml_escape(credential.arn)}</Arn>\n` +
      `    <UserId>${xml_escape(credential.userId)}</UserId>\n    <Account>${account_id}</Account>\n`);
  }
  if (params.Action === 'AssumeRole') {
    const problem = check_assume_params(params);
    if (problem) return fail(problem);
    if (params.ExternalId !== undefined && !EXTERNAL_ID.test(params.ExternalId)) {
      return fail([400, 'ValidationError', sts_validation('externalId', params.ExternalId, 'Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]*')]);
    }
    const denied = [403, 'AccessDenied', `User: ${credential.arn} is not authorized to perform: sts:AssumeRole on resource: ${params.RoleArn}`];
    const role = iam.role_by_arn(params.RoleArn);
    if (!role) return fail(denied);
    const allowed = trust_allows(role.trust, { principal: caller_principal(credential.arn, account_id), action: 'sts:AssumeRole',
      account_id, externalId: params.ExternalId });
    if (!allowed) return fail(denied);
    const duration = Number(params.DurationSeconds || 3600);
    if (credential.chained && duration > 3600) {
      return fail([400, 'ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.']);
    }
    if (duration > role.maxSessionDuration) {
      return fail([400, 'ValidationError', 'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.']);
    }
    const cred = credentials.mint_session(role.arn, params.RoleSessionName, duration, { roleId: role.id, roleName: role.name });
    return sts_xml(res, 'AssumeRole', credentials_xml(cred) + assumed_user_xml(cred) + '    <PackedPolicySize>0</PackedPolicySize>\n');
  }
  if (params.Action === 'AssumeRoleWithWebIdentity') {
    if (!params.WebIdentityToken) {
      return fail([400, 'ValidationError', '1 validation error detected: Value null at \'webIdentityToken\' failed to satisfy constraint: Member must not be null']);
    }
    const problem = check_assume_params(params);
    if (problem) return fail(problem);
    if (settings.webIdentityToken && params.WebIdentityToken !== settings.webIdentityToken) {
      return fail([400, 'InvalidIdentityToken', 'Couldn\'t retrieve verification key from your identity provider']);
    }
    const role = iam.role_by_arn(params.RoleArn);
    const cred = credentials.mint_session(params.RoleArn, params.RoleSessionName, Number(params.DurationSeconds || 3600),
      role ? { roleId: role.id, roleName: role.name } : {});
    return sts_xml(res, 'AssumeRoleWithWebIdentity', credentials_xml(cred) +
      '    <SubjectFromWebIdentityToken>emulator-subject</SubjectFromWebIdentityToken>\n' + assumed_user_xml(cred) +
      '    <Provider>emulator</Provider>\n    <Audience>sts.amazonaws.com</Audience>\n');
  }
  return fail([400, 'InvalidAction', `Could not find operation ${params.Action || '(no Action)'} for version ${params.Version || '(none)'}`]);
}
