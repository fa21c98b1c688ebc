#!/usr/bin/env node
// Starts the AWS emulator. Prints "ready <port>" on stdout once it listens.
//   node src/main.js --port P --state DIR --registry 127.0.0.1:5000 [--registry-password X]
//     [--region us-east-1] [--account-id 123456789012] [--access-key K --secret-key S]
//     [--bucket NAME]... [--setup FILE] [--update-ms 300] [--init-timeout-ms 10000]
//     [--concurrency-limit 1000] [--web-identity-token T] [--empty-account] [--role-propagation-ms 0]
import { spawn } from 'node:child_process';
import { createCipheriv } from 'node:crypto';

// s3rver encrypts ListObjectsV2 continuation tokens with DES, which Node 17+ (OpenSSL 3) only
// offers with --openssl-legacy-provider. Without it, run this script again with the flag and
// act as a thin parent: forward SIGTERM/SIGINT, exit with the child's status.
function des_available() {
  try {
    createCipheriv('des', Buffer.alloc(8), Buffer.alloc(8));
    return true;
  } catch {
    return false;
  }
}

if (des_available()) {
  await (await import('./cli.js')).run();
} else if (process.env.AWS_EMULATOR_PARENT) {
  process.stderr.write('aws-emulator: DES is unavailable even with --openssl-legacy-provider\n');
  process.exit(1);
} else {
  const child = spawn(process.execPath, ['--openssl-legacy-provider', ...process.execArgv, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, AWS_EMULATOR_PARENT: String(process.pid) } });
  for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}
