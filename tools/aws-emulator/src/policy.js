// IAM policy documents: the checks IAM makes when a policy is stored (MalformedPolicyDocument),
// and the evaluation of a role's trust policy that STS AssumeRole and Lambda's "can the service
// assume this role" check need. Only what those two need is evaluated: Allow/Deny statements,
// Action/NotAction with wildcards, Principal AWS/Service/Federated, and the condition operators
// StringEquals/StringLike (+ their IfExists forms) on sts:ExternalId. Any other condition key
// makes the statement not apply (fail closed), which is documented.

export class PolicyError extends Error {}

const VERSIONS = new Set(['2012-10-17', '2008-10-17']);
const as_list = (v) => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

// -> the parsed policy; throws PolicyError with IAM's MalformedPolicyDocument messages.
// kind: 'trust' (a role's AssumeRolePolicyDocument) or 'identity' (an inline policy).
export function check_policy(text, kind) {
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    throw new PolicyError('This policy contains invalid Json');
  }
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new PolicyError('This policy contains invalid Json');
  if (doc.Version !== undefined && !VERSIONS.has(doc.Version)) throw new PolicyError('The policy failed legacy parsing');
  for (const key of Object.keys(doc)) {
    if (!['Version', 'Id', 'Statement'].includes(key)) throw new PolicyError(`Syntax errors in policy. Unknown field ${key}`);
  }
  const statements = as_list(doc.Statement);
  if (!statements.length) throw new PolicyError('Syntax errors in policy.');
  for (const st of statements) {
    if (!st || typeof st !== 'object' || Array.isArray(st)) throw new PolicyError('Syntax errors in policy.');
    if (st.Effect !== 'Allow' && st.Effect !== 'Deny') throw new PolicyError('Syntax errors in policy.');
    if ((st.Action === undefined) === (st.NotAction === undefined)) throw new PolicyError('Policy statement must contain actions.');
    for (const a of as_list(st.Action ?? st.NotAction)) {
      if (typeof a !== 'string' || (a !== '*' && !/^[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+$/.test(a))) {
        throw new PolicyError(`Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.`);
      }
    }
    if (kind === 'trust') {
      if (st.Resource !== undefined || st.NotResource !== undefined) throw new PolicyError('Has prohibited field Resource');
      if (st.Principal === undefined && st.NotPrincipal === undefined) throw new PolicyError('Missing required field Principal');
      const principal = st.Principal ?? st.NotPrincipal;
      if (principal !== '*') {
        if (!principal || typeof principal !== 'object' || Array.isArray(principal)) throw new PolicyError('Invalid principal in policy');
        for (const [type, values] of Object.entries(principal)) {
          if (!['AWS', 'Service', 'Federated', 'CanonicalUser'].includes(type)) throw new PolicyError(`Invalid principal in policy: "${type}"`);
          for (const v of as_list(values)) if (typeof v !== 'string' || !v) throw new PolicyError('Invalid principal in policy');
        }
      }
    } else {
      if (st.Principal !== undefined || st.NotPrincipal !== undefined) throw new PolicyError('Policy document should not specify a principal.');
      if (st.Resource === undefined && st.NotResource === undefined) throw new PolicyError('Policy statement must contain resources.');
    }
    if (st.Condition !== undefined && (typeof st.Condition !== 'object' || Array.isArray(st.Condition) || st.Condition === null)) {
      throw new PolicyError('Syntax errors in policy.');
    }
  }
  return doc;
}

function glob(pattern, value) {
  const re = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`, 'i');
  return re.test(value);
}

function action_matches(st, action) {
  if (st.Action !== undefined) return as_list(st.Action).some((a) => glob(a, action));
  return !as_list(st.NotAction).some((a) => glob(a, action));
}

// principal: {type: 'AWS', arns: [candidate ARNs or account ids]} or {type: 'Service', name}
function principal_matches(st, principal, account_id) {
  if (st.NotPrincipal !== undefined) return false; // not evaluated: never grants
  const p = st.Principal;
  if (p === '*') return true;
  const values = as_list(p[principal.type]);
  if (principal.type === 'Service') return values.includes(principal.name);
  return values.some((v) => v === '*' || principal.arns.includes(v) ||
    (v === account_id || v === `arn:aws:iam::${account_id}:root`) && principal.same_account);
}

function conditions_hold(st, context) {
  if (!st.Condition) return true;
  for (const [operator, block] of Object.entries(st.Condition)) {
    const base = operator.replace(/IfExists$/, '');
    if (!['StringEquals', 'StringLike'].includes(base) || typeof block !== 'object' || block === null) return false;
    for (const [key, expected] of Object.entries(block)) {
      if (key.toLowerCase() !== 'sts:externalid') return false;
      const actual = context.externalId;
      if (actual === undefined || actual === null || actual === '') {
        if (operator.endsWith('IfExists')) continue;
        return false;
      }
      const ok = as_list(expected).some((e) => (base === 'StringEquals' ? e === actual : glob(e, actual)));
      if (!ok) return false;
    }
  }
  return true;
}

// Does the trust policy let `principal` perform `action` (sts:AssumeRole...)?
export function trust_allows(doc, { principal, action, account_id, externalId }) {
  let allowed = false;
  for (const st of as_list(doc.Statement)) {
    if (!action_matches(st, action) || !principal_matches(st, principal, account_id)) continue;
    if (!conditions_hold(st, { externalId })) continue;
    if (st.Effect === 'Deny') return false;
    allowed = true;
  }
  return allowed;
}

// The ARNs a caller is known by in a trust policy's Principal.AWS: an IAM user ARN, or for an
// assumed-role session both the session ARN and its role's ARN.
export function caller_principal(caller_arn, account_id) {
  const arns = [caller_arn];
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([^/]+)\/.+$/.exec(caller_arn);
  if (m) arns.push(`arn:aws:iam::${m[1]}:role/${m[2]}`);
  const account = /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(caller_arn)?.[1];
  return { type: 'AWS', arns, same_account: account === account_id };
}
