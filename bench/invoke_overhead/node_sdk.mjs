// The Node side of bench/invoke_overhead.sh: the same N one-test invocations as
// ht_bench_invoke_overhead, made the way Node tools commonly make them: @aws-sdk/client-lambda's
// LambdaClient + InvokeCommand behind a concurrency limiter.
//
//   node node_sdk.mjs [--invocations 2000] [--concurrency 100] [--function bench-instant]
//                     [--region us-east-1]
//
// Fair fight: the SDK's HTTP agent allows 50 sockets by default, which would cap real concurrency
// near 50 (a client that keeps the default agent has that cap); here maxSockets is raised to the concurrency. The events have
// the shape hypertest sends (plugins/model.hpp InvocationEvent), and like hypertest the calls ask
// for the log tail (LogType Tail). Every answer is checked: no FunctionError, a version 1 result
// whose one outcome is the test, passed. Endpoint and credentials come from the environment
// (AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY). Prints one JSON line with the
// keys ht_bench_invoke_overhead prints: cpu_s is the whole process (process.cpuUsage(), module
// loading included), loop_cpu_s only the invocations, max_rss_mb is process.resourceUsage().maxRSS.
// Exit 0 when every test passed, 1 otherwise, 2 on bad usage.
import { createHash, randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'; // the pinned SDK on Node 20
const { InvokeCommand, LambdaClient } = await import('@aws-sdk/client-lambda');

function options() {
  const spec = { invocations: { type: 'string', default: '2000' }, concurrency: { type: 'string', default: '100' },
    function: { type: 'string', default: 'bench-instant' }, region: { type: 'string', default: 'us-east-1' } };
  try {
    const { values } = parseArgs({ options: spec });
    const n = Number(values.invocations);
    const c = Number(values.concurrency);
    if (!Number.isInteger(n) || n < 1 || !Number.isInteger(c) || c < 1) throw new Error('--invocations and --concurrency must be positive integers');
    return { invocations: n, concurrency: c, function: values.function, region: values.region };
  } catch (e) {
    process.stderr.write(`node_sdk.mjs: ${e.message}\n`);
    process.exit(2);
  }
}

// p-limit's contract, by hand: at most `n` of the returned function's calls run at once.
function limiter(n) {
  let active = 0;
  const queue = [];
  const next = () => {
    if (active >= n || !queue.length) return;
    active += 1;
    const { fn, resolve, reject } = queue.shift();
    fn().then(resolve, reject).finally(() => {
      active -= 1;
      next();
    });
  };
  return (fn) => new Promise((resolve, reject) => {
    queue.push({ fn, resolve, reject });
    next();
  });
}

// The tests ht_bench_invoke_overhead dispatches (bench/makespan/workload.cpp: same files, titles
// and ids), one per invocation.
function make_test(i) {
  const file = `bench/spec${Math.floor(i / 10)}.spec.ts`;
  const title = `t${String(i).padStart(4, '0')}`;
  const id = createHash('sha256').update(`\x1f${file}\x1f${title}`).digest('hex').slice(0, 20);
  return { id, file, titlePath: [title], project: '', line: 0, column: 0, tags: [], order: i };
}

function event(run_id, i, test, region) {
  return { version: 1, runId: run_id, invocationId: `inv-${i + 1}`, attempt: 1, plugin: 'bench', pluginOptions: {},
    tests: [test], storage: { kind: 's3', root: '', bucket: 'ht-bench-unused', region, prefix: '' },
    deadlineMs: Date.now() + 60_000 };
}

// -> null when the test passed, else why not.
function check(out, test) {
  if (out.FunctionError) return `function error ${out.FunctionError}`;
  const result = JSON.parse(Buffer.from(out.Payload).toString('utf8'));
  if (result.version !== 1 || !Array.isArray(result.outcomes)) return 'not a hypertest invocation result';
  const mine = result.outcomes.find((o) => o.id === test.id);
  return mine && mine.status === 'passed' ? null : `test ${test.id}: ${mine ? mine.status : 'no outcome'}`;
}

const args = options();
const client = new LambdaClient({
  region: args.region,
  ...(process.env.AWS_ENDPOINT_URL ? { endpoint: process.env.AWS_ENDPOINT_URL } : {}),
  requestHandler: { httpAgent: { maxSockets: args.concurrency } }, // the default, 50, would cap concurrency
});
const limit = limiter(args.concurrency);
const run_id = randomUUID();
const tests = Array.from({ length: args.invocations }, (_, i) => make_test(i));

const cpu_before = process.cpuUsage();
const start = process.hrtime.bigint();
let in_flight = 0;
let max_in_flight = 0;
const failures = await Promise.all(tests.map((test, i) => limit(async () => {
  in_flight += 1;
  max_in_flight = Math.max(max_in_flight, in_flight);
  try {
    const out = await client.send(new InvokeCommand({ FunctionName: args.function, LogType: 'Tail',
      Payload: Buffer.from(JSON.stringify(event(run_id, i, test, args.region))) }));
    return check(out, test);
  } catch (e) {
    return `${e.name}: ${e.message}`;
  } finally {
    in_flight -= 1;
  }
})));
const wall_s = Number(process.hrtime.bigint() - start) / 1e9;
const loop = process.cpuUsage(cpu_before);
const cpu = process.cpuUsage();
client.destroy();

const failed = failures.filter((f) => f !== null);
process.stdout.write(`${JSON.stringify({
  client: 'node-sdk', invocations: args.invocations, concurrency: args.concurrency, tests: tests.length,
  passed: tests.length - failed.length, wall_s, cpu_user_s: cpu.user / 1e6, cpu_sys_s: cpu.system / 1e6,
  cpu_s: (cpu.user + cpu.system) / 1e6, loop_cpu_s: (loop.user + loop.system) / 1e6,
  max_rss_mb: process.resourceUsage().maxRSS / 1024, max_in_flight,
})}\n`);
if (failed.length) {
  process.stderr.write(`node_sdk.mjs: ${failed.length} of ${tests.length} tests did not pass; first: ${failed[0]}\n`);
  process.exitCode = 1;
}
