// Functions the emulator answers itself, without starting a runtime process: for benchmarks of
// the client side (signing, HTTP, parsing, dispatch), where a real runtime would only add noise.
// A function gets one with {builtinAnswer: "<kind>"} at creation (admin API or --setup). Kinds:
//   hypertest-passed  an event with a `tests` array gets a hypertest InvocationResult (version 1,
//                     see src/plugins/model.hpp) in which every test passed; anything else gets
//                     an Unhandled Emulator.NotAnInvocationEvent error.
import { format_report } from './logs.js';

export const BUILTIN_ANSWERS = ['hypertest-passed'];

// -> {body: Buffer, error: bool, log: string}
export function builtin_answer(fn, payload, id) {
  const started = Date.now();
  let event = null;
  try {
    event = JSON.parse(payload.toString('utf8'));
  } catch { /* answered below */ }
  let answer;
  let error = false;
  if (event && typeof event === 'object' && Array.isArray(event.tests)) {
    answer = {
      version: 1,
      invocationId: typeof event.invocationId === 'string' ? event.invocationId : '',
      outcomes: event.tests.map((t) => ({ id: String(t?.id ?? ''), status: 'passed', frameworkStatus: 'expected',
        durationMs: 0, startMs: started, retry: 0, artifacts: [] })),
      blobReport: '',
      runner: { version: `aws-emulator builtin ${fn.builtinAnswer}`, coldStart: false, initMs: 0, durationMs: 0 },
    };
  } else {
    error = true;
    answer = { errorType: 'Emulator.NotAnInvocationEvent', stackTrace: [],
      errorMessage: `function ${fn.name} answers hypertest invocation events (an object with a tests array) only` };
  }
  const log = `START RequestId: ${id} Version: $LATEST\nEND RequestId: ${id}\n` +
    format_report({ id, duration: Date.now() - started, memory: fn.memory, used: 1 });
  return { body: Buffer.from(JSON.stringify(answer)), error, log };
}
