// IAM (query API, XML; one global endpoint): roles and their inline policies, as `hypertest setup`
// provisions them. Names are unique case-insensitively, as in IAM. Policy documents are returned
// URL-encoded, as IAM does. Roles carry a creation time so Lambda's "can the service assume this
// role" check can model IAM's propagation delay (settings.rolePropagationMs).
import { send_error } from './protocols.js';
import { check_policy, PolicyError } from './policy.js';
import { iso_seconds, random_id, send, xml_escape } from './util.js';

const IAM_NS = 'https://iam.amazonaws.com/doc/2010-05-08/';
const NAME = /^[\w+=,.@-]{1,64}$/;
const POLICY_NAME = /^[\w+=,.@-]{1,128}$/;
const PATH = /^(\/|\/[\u0021-\u007E]{1,510}\/)$/;
const MAX_INLINE_POLICY = 10240;
export const IAM_ACTIONS = new Set(['CreateRole', 'GetRole', 'DeleteRole', 'PutRolePolicy', 'GetRolePolicy',
  'DeleteRolePolicy', 'ListRolePolicies', 'ListRoles']);

export class IamError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

const validation = (value, field, pattern) => new IamError(400, 'ValidationError',
  `1 validation error detected: Value '${value}' at '${field}' failed to satisfy constraint: Member must satisfy regular expression pattern: ${pattern}`);

// The trust policy of the emulator's default execution role (and of roles the admin API makes).
export function lambda_trust_policy() {
  return { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }] };
}

export class IamStore {
  constructor(account_id) {
    this.account_id = account_id;
    this.roles = new Map(); // lower-cased name -> role
  }

  // {name, path?, assumeRolePolicyDocument (string|object), description?, maxSessionDuration?, tags?}
  create_role(spec) {
    const name = spec.name;
    if (typeof name !== 'string' || !NAME.test(name)) throw validation(name, 'roleName', '[\\w+=,.@-]+');
    const role_path = spec.path ?? '/';
    if (typeof role_path !== 'string' || !PATH.test(role_path)) throw validation(role_path, 'path', '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)');
    let text = spec.assumeRolePolicyDocument ?? lambda_trust_policy();
    if (typeof text !== 'string') text = JSON.stringify(text);
    const max = spec.maxSessionDuration === undefined ? 3600 : Number(spec.maxSessionDuration);
    if (!Number.isInteger(max) || max < 3600 || max > 43200) {
      throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${spec.maxSessionDuration}' at 'maxSessionDuration' failed to satisfy constraint: Member must have value less than or equal to 43200 and greater than or equal to 3600`);
    }
    if (spec.description !== undefined && String(spec.description).length > 1000) {
      throw new IamError(400, 'ValidationError', '1 validation error detected: Value at \'description\' failed to satisfy constraint: Member must have length less than or equal to 1000');
    }
    const doc = this.check(text, 'trust');
    if (this.roles.has(name.toLowerCase())) throw new IamError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
    const role = {
      name, path: role_path, arn: `arn:aws:iam::${this.account_id}:role${role_path}${name}`, id: random_id('AROA', 17),
      trustText: text, trust: doc, description: spec.description ?? null, maxSessionDuration: max,
      tags: spec.tags || [], created: new Date(), policies: new Map(),
    };
    this.roles.set(name.toLowerCase(), role);
    return role;
  }

  check(text, kind) {
    try {
      return check_policy(text, kind);
    } catch (e) {
      if (!(e instanceof PolicyError)) throw e;
      throw new IamError(400, 'MalformedPolicyDocument', e.message);
    }
  }

  get_role(name) {
    if (typeof name !== 'string' || !NAME.test(name)) throw validation(name, 'roleName', '[\\w+=,.@-]+');
    const role = this.roles.get(name.toLowerCase());
    if (!role) throw new IamError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
    return role;
  }

  // The role an ARN names (its path included), or null.
  role_by_arn(arn) {
    const m = /^arn:aws:iam::(\d{12}):role(\/(?:[\u0021-\u007E]*\/)?)([\w+=,.@-]+)$/.exec(arn || '');
    if (!m || m[1] !== this.account_id) return null;
    const role = this.roles.get(m[3].toLowerCase());
    return role && role.arn === arn ? role : null;
  }

  delete_role(name) {
    const role = this.get_role(name);
    if (role.policies.size) throw new IamError(409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
    this.roles.delete(role.name.toLowerCase());
  }

  put_role_policy(role_name, policy_name, text) {
    const role = this.get_role(role_name);
    if (typeof policy_name !== 'string' || !POLICY_NAME.test(policy_name)) throw validation(policy_name, 'policyName', '[\\w+=,.@-]+');
    if (typeof text !== 'string' || !text) {
      throw new IamError(400, 'ValidationError', '1 validation error detected: Value null at \'policyDocument\' failed to satisfy constraint: Member must not be null');
    }
    this.check(text, 'identity');
    let total = text.replace(/\s/g, '').length;
    for (const [n, t] of role.policies) if (n !== policy_name) total += t.replace(/\s/g, '').length;
    if (total > MAX_INLINE_POLICY) {
      throw new IamError(409, 'LimitExceeded', `Maximum policy size of ${MAX_INLINE_POLICY} bytes exceeded for role ${role.name}`);
    }
    role.policies.set(policy_name, text);
  }

  get_role_policy(role_name, policy_name) {
    const role = this.get_role(role_name);
    if (!role.policies.has(policy_name)) throw new IamError(404, 'NoSuchEntity', `The role policy with name ${policy_name} cannot be found.`);
    return { role, text: role.policies.get(policy_name) };
  }

  delete_role_policy(role_name, policy_name) {
    const { role } = this.get_role_policy(role_name, policy_name);
    role.policies.delete(policy_name);
  }
}

// IAM returns policy documents URL-encoded (RFC 3986).
const url_encode = (text) => encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

function role_xml(role, indent = '      ') {
  const i = indent;
  let out = `${i}<Path>${xml_escape(role.path)}</Path>\n${i}<AssumeRolePolicyDocument>${url_encode(role.trustText)}</AssumeRolePolicyDocument>\n` +
    `${i}<MaxSessionDuration>${role.maxSessionDuration}</MaxSessionDuration>\n${i}<RoleId>${role.id}</RoleId>\n` +
    `${i}<RoleName>${xml_escape(role.name)}</RoleName>\n${i}<Arn>${xml_escape(role.arn)}</Arn>\n` +
    `${i}<CreateDate>${iso_seconds(role.created)}</CreateDate>\n`;
  if (role.description !== null) out += `${i}<Description>${xml_escape(role.description)}</Description>\n`;
  if (role.tags.length) {
    out += `${i}<Tags>\n${role.tags.map((t) => `${i}  <member>\n${i}    <Key>${xml_escape(t.Key)}</Key>\n${i}    <Value>${xml_escape(t.Value ?? '')}</Value>\n${i}  </member>\n`).join('')}${i}</Tags>\n`;
  }
  return out;
}

function iam_xml(res, action, result) {
  const rid = res.emulator_request_id;
  const body = result === null
    ? `<${action}Response xmlns="${IAM_NS}">\n  <ResponseMetadata>\n    <RequestId>${rid}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`
    : `<${action}Response xmlns="${IAM_NS}">\n  <${action}Result>\n${result}  </${action}Result>\n` +
      `  <ResponseMetadata>\n    <RequestId>${rid}</RequestId>\n  </ResponseMetadata>\n</${action}Response>\n`;
  send(res, 200, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': rid }, body);
}

// Query-API lists: Tags.member.1.Key=..., Tags.member.1.Value=...
function member_list(params, prefix) {
  const out = [];
  for (let i = 1; `${prefix}.member.${i}.Key` in params; i += 1) {
    out.push({ Key: params[`${prefix}.member.${i}.Key`], Value: params[`${prefix}.member.${i}.Value`] ?? '' });
  }
  return out;
}

function required(params, ...fields) {
  for (const f of fields) {
    if (params[f] === undefined || params[f] === '') {
      const field = f[0].toLowerCase() + f.slice(1);
      throw new IamError(400, 'ValidationError', `1 validation error detected: Value null at '${field}' failed to satisfy constraint: Member must not be null`);
    }
  }
}

export function handle_iam({ res, params, iam }) {
  try {
    return iam_action(res, params, iam);
  } catch (e) {
    if (!(e instanceof IamError)) throw e;
    return send_error(res, 'query-iam', e.status, e.code, e.message);
  }
}

function iam_action(res, p, iam) {
  switch (p.Action) {
    case 'CreateRole': {
      required(p, 'RoleName', 'AssumeRolePolicyDocument');
      const role = iam.create_role({ name: p.RoleName, path: p.Path, assumeRolePolicyDocument: p.AssumeRolePolicyDocument,
        description: p.Description, maxSessionDuration: p.MaxSessionDuration, tags: member_list(p, 'Tags') });
      return iam_xml(res, 'CreateRole', `    <Role>\n${role_xml(role)}    </Role>\n`);
    }
    case 'GetRole': {
      required(p, 'RoleName');
      const role = iam.get_role(p.RoleName);
      return iam_xml(res, 'GetRole', `    <Role>\n${role_xml(role)}      <RoleLastUsed/>\n    </Role>\n`);
    }
    case 'ListRoles': {
      const roles = [...iam.roles.values()].filter((r) => r.path.startsWith(p.PathPrefix || '/'));
      return iam_xml(res, 'ListRoles', `    <IsTruncated>false</IsTruncated>\n    <Roles>\n${roles.map((r) => `      <member>\n${role_xml(r, '        ')}      </member>\n`).join('')}    </Roles>\n`);
    }
    case 'DeleteRole':
      required(p, 'RoleName');
      iam.delete_role(p.RoleName);
      return iam_xml(res, 'DeleteRole', null);
    case 'PutRolePolicy':
      required(p, 'RoleName', 'PolicyName', 'PolicyDocument');
      iam.put_role_policy(p.RoleName, p.PolicyName, p.PolicyDocument);
      return iam_xml(res, 'PutRolePolicy', null);
    case 'GetRolePolicy': {
      required(p, 'RoleName', 'PolicyName');
      const { role, text } = iam.get_role_policy(p.RoleName, p.PolicyName);
      return iam_xml(res, 'GetRolePolicy', `    <RoleName>${xml_escape(role.name)}</RoleName>\n` +
        `    <PolicyName>${xml_escape(p.PolicyName)}</PolicyName>\n    <PolicyDocument>${url_encode(text)}</PolicyDocument>\n`);
    }
    case 'DeleteRolePolicy':
      required(p, 'RoleName', 'PolicyName');
      iam.delete_role_policy(p.RoleName, p.PolicyName);
      return iam_xml(res, 'DeleteRolePolicy', null);
    case 'ListRolePolicies': {
      required(p, 'RoleName');
      const names = [...iam.get_role(p.RoleName).policies.keys()].sort();
      const max = p.MaxItems === undefined ? 100 : Number(p.MaxItems);
      if (!Number.isInteger(max) || max < 1 || max > 1000) {
        throw new IamError(400, 'ValidationError', `1 validation error detected: Value '${p.MaxItems}' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000`);
      }
      const start = p.Marker ? names.findIndex((n) => n > Buffer.from(p.Marker, 'base64').toString('utf8')) : 0;
      const page = start < 0 ? [] : names.slice(start, start + max);
      const truncated = start >= 0 && start + max < names.length;
      return iam_xml(res, 'ListRolePolicies', `    <PolicyNames>\n${page.map((n) => `      <member>${xml_escape(n)}</member>\n`).join('')}    </PolicyNames>\n` +
        `    <IsTruncated>${truncated}</IsTruncated>\n` +
        (truncated ? `    <Marker>${Buffer.from(page.at(-1)).toString('base64')}</Marker>\n` : ''));
    }
    default:
      throw new IamError(400, 'InvalidAction', `Could not find operation ${p.Action || '(no Action)'} for version ${p.Version || '(none)'}`);
  }
}
