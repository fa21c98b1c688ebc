// A tiny Lambda custom runtime used as the test image's entrypoint. Events: {action: "echo" |
// "fail" | "sleep" (ms) | "exit" (code) | "log" (lines)}.
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const base = '/2018-06-01/runtime';

function call(method, p, body, headers = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, method, path: base + p, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function main() {
  console.log(`init ${process.env.AWS_LAMBDA_FUNCTION_NAME}`);
  const root = process.env.LAMBDA_TASK_ROOT;
  if (fs.existsSync(path.join(root, 'init-fail'))) {
    await call('POST', '/init/error', JSON.stringify({ errorType: 'Runtime.TestInit', errorMessage: 'init failed on purpose' }),
      { 'Lambda-Runtime-Function-Error-Type': 'Runtime.TestInit' });
    process.exit(1);
  }
  let count = 0;
  for (;;) {
    const next = await call('GET', '/invocation/next');
    const id = next.headers['lambda-runtime-aws-request-id'];
    const event = JSON.parse(next.body);
    count += 1;
    console.log(`handling ${event.action} #${count}`);
    const respond = (value) => call('POST', `/invocation/${id}/response`, JSON.stringify(value));
    if (event.action === 'fail') {
      await call('POST', `/invocation/${id}/error`, JSON.stringify({ errorType: 'Function.Boom', errorMessage: 'boom', stackTrace: ['here'] }),
        { 'Lambda-Runtime-Function-Error-Type': 'Function.Boom' });
    } else if (event.action === 'sleep') {
      await new Promise((r) => setTimeout(r, event.ms));
      await respond({ slept: event.ms, pid: process.pid });
    } else if (event.action === 'exit') {
      process.exit(event.code);
    } else {
      for (const line of event.lines || []) console.log(line);
      const env = {};
      for (const k of ['AWS_LAMBDA_FUNCTION_NAME', 'AWS_LAMBDA_FUNCTION_MEMORY_SIZE', 'AWS_LAMBDA_FUNCTION_TIMEOUT', 'AWS_REGION',
        'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'IMAGE_MARKER', 'LAMBDA_TASK_ROOT', 'HT_MODE']) {
        env[k] = process.env[k];
      }
      await respond({
        event, env, pid: process.pid, count, cwd: process.cwd(),
        deadline: Number(next.headers['lambda-runtime-deadline-ms']),
        arn: next.headers['lambda-runtime-invoked-function-arn'],
        hello: fs.readFileSync(path.join(root, 'hello.txt'), 'utf8'),
        goneExists: fs.existsSync(path.join(root, 'gone.txt')),
      });
    }
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(3);
});
