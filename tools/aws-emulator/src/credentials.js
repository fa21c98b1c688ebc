// The access keys the emulator accepts: long-term keys (no token) and temporary ones (with a
// session token, an expiry and an assumed-role identity). Tests can mark any key expired.
import { random_id, random_secret } from './util.js';

export const DEFAULT_ACCESS_KEY = 'AKIDEXAMPLE';
export const DEFAULT_SECRET_KEY = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';

export class CredentialStore {
  constructor(account_id) {
    this.account_id = account_id;
    this.keys = new Map();
    this.clock_offset_ms = 0; // admin settings clockOffsetSeconds: expiry is judged this far ahead
  }

  // {accessKeyId, secretAccessKey, sessionToken?, expired?, expiration?, arn?, userId?}
  add(entry) {
    if (!entry || typeof entry.accessKeyId !== 'string' || typeof entry.secretAccessKey !== 'string' ||
        !entry.accessKeyId || !entry.secretAccessKey || entry.accessKeyId.includes('/')) {
      throw new Error('a credential needs non-empty accessKeyId (without "/") and secretAccessKey');
    }
    const cred = {
      accessKeyId: entry.accessKeyId,
      secretAccessKey: entry.secretAccessKey,
      sessionToken: entry.sessionToken || null,
      expired: Boolean(entry.expired),
      expiration: entry.expiration ? new Date(entry.expiration) : null,
      arn: entry.arn || `arn:aws:iam::${this.account_id}:user/emulator`,
      userId: entry.userId || entry.accessKeyId,
      chained: Boolean(entry.chained),
    };
    this.keys.set(cred.accessKeyId, cred);
    return cred;
  }

  get(access_key_id) {
    return this.keys.get(access_key_id) || null;
  }

  set_expired(access_key_id, expired) {
    const cred = this.get(access_key_id);
    if (!cred) return false;
    cred.expired = expired;
    return true;
  }

  is_expired(cred, now = new Date()) {
    return cred.expired || (cred.expiration !== null && cred.expiration.getTime() <= now.getTime() + this.clock_offset_ms);
  }

  // Temporary credentials for an assumed role (STS AssumeRole*, SSO, or a function's execution
  // role); they verify like any other key until they expire. {roleId, roleName} name an IAM role.
  mint_session(role_arn, session_name, duration_seconds, { roleId, roleName } = {}) {
    const role_name = roleName || role_arn.split('/').pop() || 'role';
    const role_id = roleId || random_id('AROA', 17);
    return this.add({
      chained: true,
      accessKeyId: random_id('ASIA', 16),
      secretAccessKey: random_secret(40),
      sessionToken: `EMULATOR${random_secret(120)}`,
      expiration: new Date(Date.now() + duration_seconds * 1000),
      arn: `arn:aws:sts::${this.account_id}:assumed-role/${role_name}/${session_name}`,
      userId: `${role_id}:${session_name}`,
      roleId: role_id,
    });
  }
}
