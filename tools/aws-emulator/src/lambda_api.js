// Lambda control plane and Invoke (REST JSON, API version 2015-03-31 and friends).
import { LambdaError } from './functions.js';
import { send, send_json } from './util.js';

const MAX_SYNC_PAYLOAD = 6 * 1024 * 1024;
const MAX_ASYNC_PAYLOAD = 256 * 1024;
const FN = '([^/]+)';
const ROUTES = [
  ['POST', /^\/2015-03-31\/functions\/?$/, 'CreateFunction'],
  ['GET', new RegExp(`^/2015-03-31/functions/${FN}/?$`), 'GetFunction'],
  ['DELETE', new RegExp(`^/2015-03-31/functions/${FN}/?$`), 'DeleteFunction'],
  ['GET', new RegExp(`^/2015-03-31/functions/${FN}/configuration/?$`), 'GetFunctionConfiguration'],
  ['PUT', new RegExp(`^/2015-03-31/functions/${FN}/configuration/?$`), 'UpdateFunctionConfiguration'],
  ['PUT', new RegExp(`^/2015-03-31/functions/${FN}/code/?$`), 'UpdateFunctionCode'],
  ['POST', new RegExp(`^/2015-03-31/functions/${FN}/invocations/?$`), 'Invoke'],
  ['GET', new RegExp(`^/2019-09-30/functions/${FN}/concurrency/?$`), 'GetFunctionConcurrency'],
  ['PUT', new RegExp(`^/2017-10-31/functions/${FN}/concurrency/?$`), 'PutFunctionConcurrency'],
  ['DELETE', new RegExp(`^/2017-10-31/functions/${FN}/concurrency/?$`), 'DeleteFunctionConcurrency'],
  ['GET', /^\/2016-08-19\/account-settings\/?$/, 'GetAccountSettings'],
];

// -> {operation, name} or null
export function lambda_operation(method, url_path) {
  for (const [m, re, operation] of ROUTES) {
    const match = method === m && re.exec(url_path);
    if (match) return { operation, name: match[1] };
  }
  return null;
}

function parse_json_body(body) {
  if (!body.length) return {};
  try {
    const v = JSON.parse(body.toString('utf8'));
    if (v && typeof v === 'object' && !Array.isArray(v)) return v;
  } catch { /* fall through */ }
  throw new LambdaError(400, 'InvalidRequestContentException', 'Could not parse request body into json: the body is not a JSON object');
}

export async function handle_lambda({ req, res, body, url_path, query, functions, runtime, settings }) {
  const route = lambda_operation(req.method, url_path);
  if (!route) throw new LambdaError(404, 'UnknownOperationException', `Unknown operation ${req.method} ${url_path}`);
  const { operation } = route;
  if (operation === 'GetAccountSettings') {
    let reserved = 0;
    for (const fn of functions.functions.values()) reserved += fn.reservedConcurrency ?? 0;
    return send_json(res, 200, {
      AccountLimit: { TotalCodeSize: 80530636800, CodeSizeUnzipped: 262144000, CodeSizeZipped: 52428800,
        ConcurrentExecutions: settings.concurrencyLimit, UnreservedConcurrentExecutions: settings.concurrencyLimit - reserved },
      AccountUsage: { TotalCodeSize: 0, FunctionCount: functions.functions.size },
    });
  }
  if (operation === 'CreateFunction') {
    const fn = await functions.create_from_api(parse_json_body(body));
    return send_json(res, 201, functions.configuration(fn));
  }
  const fn = functions.lookup(route.name, query.Qualifier);
  switch (operation) {
    case 'GetFunction':
      return send_json(res, 200, functions.get_function(fn));
    case 'GetFunctionConfiguration':
      return send_json(res, 200, functions.configuration(fn));
    case 'DeleteFunction':
      functions.delete(fn);
      return send(res, 204, {});
    case 'UpdateFunctionConfiguration':
      functions.update_configuration(fn, parse_json_body(body));
      return send_json(res, 200, functions.configuration(fn));
    case 'UpdateFunctionCode': {
      const input = parse_json_body(body);
      await functions.update_code(fn, input);
      return send_json(res, 200, functions.configuration(fn));
    }
    case 'GetFunctionConcurrency':
      return send_json(res, 200, fn.reservedConcurrency === null ? {} : { ReservedConcurrentExecutions: fn.reservedConcurrency });
    case 'PutFunctionConcurrency': {
      const n = parse_json_body(body).ReservedConcurrentExecutions;
      if (!Number.isInteger(n) || n < 0 || n > settings.concurrencyLimit) {
        throw new LambdaError(400, 'InvalidParameterValueException', `ReservedConcurrentExecutions must be 0..${settings.concurrencyLimit}`);
      }
      fn.reservedConcurrency = n;
      return send_json(res, 200, { ReservedConcurrentExecutions: n });
    }
    case 'DeleteFunctionConcurrency':
      fn.reservedConcurrency = null;
      return send(res, 204, {});
    default:
      return invoke(req, res, body, fn, runtime);
  }
}

async function invoke(req, res, body, fn, runtime) {
  if (fn.state === 'Pending') {
    throw new LambdaError(409, 'ResourceConflictException',
      'The operation cannot be performed at this time. The function is currently in the following state: Pending');
  }
  const type = req.headers['x-amz-invocation-type'] || 'RequestResponse';
  const tail = (req.headers['x-amz-log-type'] || 'None') === 'Tail';
  if (!['RequestResponse', 'Event', 'DryRun'].includes(type)) {
    throw new LambdaError(400, 'InvalidParameterValueException', `Unsupported InvocationType ${type}`);
  }
  const limit = type === 'Event' ? MAX_ASYNC_PAYLOAD : MAX_SYNC_PAYLOAD;
  if (body.length > limit) {
    throw new LambdaError(413, 'RequestTooLargeException', `Request must be smaller than ${limit} bytes for the InvokeFunction operation`);
  }
  if (body.length) {
    try {
      JSON.parse(body.toString('utf8'));
    } catch {
      throw new LambdaError(400, 'InvalidRequestContentException', 'Could not parse request body into json: the payload is not valid JSON');
    }
  }
  const payload = body.length ? body : Buffer.from('{}');
  if (type === 'DryRun') return send(res, 204, { 'X-Amz-Executed-Version': '$LATEST' });
  if (type === 'Event') {
    runtime.invoke(fn, payload, { tail: false }).catch(() => {});
    return send(res, 202, { 'X-Amz-Executed-Version': '$LATEST' });
  }
  const out = await runtime.invoke(fn, payload, { tail });
  return send(res, out.status, out.headers, out.body);
}
