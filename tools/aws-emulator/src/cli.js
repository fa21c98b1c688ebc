// The emulator's command line (main.js makes sure DES is available first, then calls run()).
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { DEFAULT_ACCESS_KEY, DEFAULT_SECRET_KEY } from './credentials.js';
import { Emulator } from './emulator.js';

const USAGE = 'usage: main.js --port P --state DIR --registry HOST:PORT [--registry-password X] [--region R] ' +
  '[--account-id ID] [--access-key K --secret-key S] [--bucket NAME]... [--setup FILE] [--update-ms MS] ' +
  '[--init-timeout-ms MS] [--concurrency-limit N] [--web-identity-token T] [--empty-account] [--role-propagation-ms MS]';

const OPTIONS = {
  port: { type: 'string' }, state: { type: 'string' }, registry: { type: 'string' },
  'registry-password': { type: 'string' }, region: { type: 'string' }, 'account-id': { type: 'string' },
  'access-key': { type: 'string' }, 'secret-key': { type: 'string' }, bucket: { type: 'string', multiple: true },
  setup: { type: 'string' }, 'update-ms': { type: 'string' }, 'init-timeout-ms': { type: 'string' },
  'concurrency-limit': { type: 'string' }, 'web-identity-token': { type: 'string' }, help: { type: 'boolean' },
  'empty-account': { type: 'boolean' }, 'role-propagation-ms': { type: 'string' },
};

function fail(message) {
  process.stderr.write(`aws-emulator: ${message}\n${USAGE}\n`);
  process.exit(2);
}

function int_option(values, name, fallback, min) {
  if (values[name] === undefined) return fallback;
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer >= ${min}, got ${values[name]}`);
  return n;
}

function parse_options(argv) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: OPTIONS }));
  } catch (e) {
    fail(e.message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (values.port === undefined || !values.state || !values.registry) fail('--port, --state and --registry are required');
  if (!/^[A-Za-z0-9.-]+:\d+$/.test(values.registry)) fail(`--registry must be HOST:PORT, got ${values.registry}`);
  if (Boolean(values['access-key']) !== Boolean(values['secret-key'])) fail('give --access-key and --secret-key together');
  const account_id = values['account-id'] || '123456789012';
  if (!/^\d{12}$/.test(account_id)) fail('--account-id must be 12 digits');
  if (values['empty-account'] && values.bucket) fail('--empty-account starts without buckets: drop --bucket');
  return {
    port: int_option(values, 'port', 0, 0),
    state: values.state,
    registry: values.registry,
    registryPassword: values['registry-password'] || '',
    region: values.region || 'us-east-1',
    accountId: account_id,
    accessKey: values['access-key'] || DEFAULT_ACCESS_KEY,
    secretKey: values['secret-key'] || DEFAULT_SECRET_KEY,
    buckets: values.bucket || [],
    setup: values.setup,
    updateMs: int_option(values, 'update-ms', 300, 0),
    initTimeoutMs: int_option(values, 'init-timeout-ms', 10000, 1),
    concurrencyLimit: int_option(values, 'concurrency-limit', 1000, 1),
    webIdentityToken: values['web-identity-token'],
    emptyAccount: Boolean(values['empty-account']),
    rolePropagationMs: int_option(values, 'role-propagation-ms', 0, 0),
  };
}

// --setup FILE: {"credentials":[...], "roles":[...], "ssoTokens":[...], "buckets":["name"],
//   "functions":[...], "faults":{...}} (the objects the admin endpoints take)
async function apply_setup(emulator, setup) {
  for (const cred of setup.credentials || []) emulator.credentials.add(cred);
  for (const role of setup.roles || []) emulator.iam.create_role(role);
  for (const token of setup.ssoTokens || []) emulator.sso.add(token);
  for (const name of setup.buckets || []) await emulator.s3.create_bucket(name);
  for (const fn of setup.functions || []) await emulator.functions.create(fn);
  if (setup.faults) emulator.faults.set(setup.faults);
}

export async function run(argv = process.argv.slice(2)) {
  const options = parse_options(argv);
  const emulator = new Emulator(options);
  try {
    const port = await emulator.start();
    if (options.setup) await apply_setup(emulator, JSON.parse(fs.readFileSync(options.setup, 'utf8')));
    process.stdout.write(`ready ${port}\n`);
  } catch (e) {
    process.stderr.write(`aws-emulator: cannot start: ${e.message}\n`);
    await emulator.close().catch(() => {});
    process.exit(1);
  }

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await emulator.close().catch(() => {});
    process.exit(0);
  };
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, shutdown);
  // When started by main.js's thin parent, stop if that parent goes away (e.g. SIGKILL).
  if (process.env.AWS_EMULATOR_PARENT) {
    setInterval(() => {
      if (String(process.ppid) !== process.env.AWS_EMULATOR_PARENT) shutdown();
    }, 500).unref();
  }
}
