// The IAM Identity Center (SSO) portal API's GetRoleCredentials, which the SDKs' SSO credential
// provider calls with the access token of a cached `aws sso login`:
//   GET /federation/credentials?role_name=R&account_id=A   x-amz-sso_bearer_token: <token>
// It is not SigV4-signed. Tokens are registered through the admin API (POST /_emulator/sso-tokens);
// the credentials it returns are temporary keys the emulator then accepts for signing.
import { randomBytes } from 'node:crypto';
import { send_error } from './protocols.js';
import { send_json } from './util.js';

export const SSO_PATHS = /^\/(federation\/credentials|assignment\/accounts|assignment\/roles|logout)\/?$/;

export class SsoTokens {
  constructor(account_id) {
    this.account_id = account_id;
    this.tokens = new Map();
  }

  // {accessToken, expiration? (ISO time or ms), roles?: [{accountId, roleName}], userName?, durationSeconds?}
  add(entry) {
    if (!entry || typeof entry.accessToken !== 'string' || !entry.accessToken) throw new Error('an SSO token needs a non-empty accessToken');
    if (entry.roles !== undefined && (!Array.isArray(entry.roles) ||
        !entry.roles.every((r) => r && /^\d{12}$/.test(r.accountId) && typeof r.roleName === 'string' && r.roleName))) {
      throw new Error('roles must be [{accountId (12 digits), roleName}]');
    }
    const duration = entry.durationSeconds ?? 3600;
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) throw new Error('durationSeconds must be 900..43200');
    const token = {
      accessToken: entry.accessToken,
      expiration: entry.expiration !== undefined ? new Date(entry.expiration) : null,
      roles: entry.roles || null, // null: any role name in the emulator's account
      userName: entry.userName || 'emulator-user',
      durationSeconds: duration,
    };
    this.tokens.set(token.accessToken, token);
    return token;
  }
}

export function handle_sso({ req, res, url_path, query, sso, credentials, account_id }) {
  const token_value = req.headers['x-amz-sso_bearer_token'];
  const token = token_value ? sso.tokens.get(token_value) : null;
  const live = token && (token.expiration === null || token.expiration.getTime() > Date.now() + credentials.clock_offset_ms);
  if (!/^\/federation\/credentials\/?$/.test(url_path) || req.method !== 'GET') {
    return send_error(res, 'rest-json', 404, 'UnknownOperationException', `The emulator only implements GetRoleCredentials, not ${req.method} ${url_path}`);
  }
  if (!query.role_name || !query.account_id) {
    return send_error(res, 'rest-json', 400, 'InvalidRequestException', 'role_name and account_id are required');
  }
  if (!live) return send_error(res, 'rest-json', 401, 'UnauthorizedException', 'Session token not found or invalid');
  const assigned = query.account_id === account_id &&
    (token.roles === null || token.roles.some((r) => r.accountId === query.account_id && r.roleName === query.role_name));
  if (!assigned) return send_error(res, 'rest-json', 403, 'ForbiddenException', 'No access');
  const role_name = `AWSReservedSSO_${query.role_name}_${randomBytes(8).toString('hex')}`;
  const cred = credentials.mint_session(`arn:aws:iam::${account_id}:role/aws-reserved/sso.amazonaws.com/${role_name}`,
    token.userName, token.durationSeconds, { roleName: role_name });
  return send_json(res, 200, { roleCredentials: { accessKeyId: cred.accessKeyId, secretAccessKey: cred.secretAccessKey,
    sessionToken: cred.sessionToken, expiration: cred.expiration.getTime() } }, { 'x-amzn-RequestId': res.emulator_request_id });
}
