// Function log lines as Lambda writes them, and the emulator's request log (requests.jsonl).
import fs from 'node:fs';

// "REPORT RequestId: <id>\tDuration: 1.23 ms\tBilled Duration: 2 ms\tMemory Size: 128 MB\t
//  Max Memory Used: 40 MB\tInit Duration: 100.50 ms\t" (fields tab-separated, as Lambda does).
// Billed Duration includes the init phase, as for container images and custom runtimes.
export function format_report({ id, duration, memory, used, init = null, status = null }) {
  const billed = Math.max(1, Math.ceil(duration + (init ?? 0)));
  let line = `REPORT RequestId: ${id}\tDuration: ${duration.toFixed(2)} ms\tBilled Duration: ${billed} ms\t` +
    `Memory Size: ${memory} MB\tMax Memory Used: ${Math.max(1, used)} MB\t`;
  if (init !== null) line += `Init Duration: ${init.toFixed(2)} ms\t`;
  if (status) line += `Status: ${status}\t`;
  return `${line}\n`;
}

// X-Amz-Log-Result: base64 of the last 4 KB of the invocation's log.
export function log_tail(log) {
  const bytes = Buffer.from(log, 'utf8');
  return bytes.subarray(Math.max(0, bytes.length - 4096)).toString('base64');
}

// One JSON object per AWS API request: {time, method, path, service, operation, accessKeyId,
// signed, signatureOk, status, error?, canonicalRequest?}. signatureOk is null for the calls AWS
// accepts unsigned (STS AssumeRoleWithWebIdentity).
export class RequestLog {
  constructor(file) {
    this.fd = fs.openSync(file, 'a');
  }

  write(entry) {
    fs.writeSync(this.fd, `${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);
  }

  close() {
    fs.closeSync(this.fd);
  }
}
