// Fault injection for the AWS API front door and for Invoke, driven by a seeded RNG so a test
// that sets {seed} sees the same sequence every run. Knobs (POST /_emulator/faults):
//   seed                 RNG seed (default 1)
//   throttleRate         0..1: answer with the service's throttling error
//   throttleReason       Lambda TooManyRequestsException Reason (default CallerRateLimitExceeded)
//   serverErrorRate      0..1: answer with the service's 500 error
//   dropConnectionRate   0..1: destroy the socket without answering
//   slowMs               delay every matching request by this many ms
//   functionError        {errorType, errorMessage} or true: Invoke answers Unhandled without running
//   functionErrorRate    0..1 chance to apply functionError (default 1)
//   invokeTimeoutOverride seconds: used instead of each function's Timeout
//   services             only these signing names (lambda, ecr, s3, sts, servicequotas, iam, sso)
//   operations           only these operation names (Invoke, GetFunction, PutObject, ...)
//   maxFaults            stop injecting after this many faults (throttle/5xx/drop/functionError)
import { seeded_rng } from './util.js';

const NUMBER_KNOBS = ['throttleRate', 'serverErrorRate', 'dropConnectionRate', 'slowMs', 'functionErrorRate',
  'invokeTimeoutOverride', 'maxFaults', 'seed'];

export class Faults {
  constructor() {
    this.set({});
  }

  set(knobs) {
    for (const name of NUMBER_KNOBS) {
      if (knobs[name] !== undefined && (typeof knobs[name] !== 'number' || !(knobs[name] >= 0))) {
        throw new Error(`fault knob ${name} must be a non-negative number`);
      }
    }
    for (const name of ['services', 'operations']) {
      if (knobs[name] !== undefined && !Array.isArray(knobs[name])) throw new Error(`fault knob ${name} must be an array`);
    }
    this.knobs = { throttleReason: 'CallerRateLimitExceeded', functionErrorRate: 1, ...knobs };
    this.rng = seeded_rng(knobs.seed ?? 1);
    this.injected = 0;
  }

  get() {
    return { ...this.knobs, injected: this.injected };
  }

  matches(service, operation) {
    const { services, operations } = this.knobs;
    return (!services || services.includes(service)) && (!operations || operations.includes(operation));
  }

  budget_left() {
    return this.knobs.maxFaults === undefined || this.injected < this.knobs.maxFaults;
  }

  // One of: null, 'drop', 'throttle', 'server' (checked in that order, one RNG draw each).
  decide(service, operation) {
    if (!this.matches(service, operation)) return null;
    for (const [knob, outcome] of [['dropConnectionRate', 'drop'], ['throttleRate', 'throttle'], ['serverErrorRate', 'server']]) {
      const rate = this.knobs[knob] || 0;
      if (rate > 0 && this.budget_left() && this.rng() < rate) {
        this.injected += 1;
        return outcome;
      }
    }
    return null;
  }

  delay_ms(service, operation) {
    return this.matches(service, operation) ? this.knobs.slowMs || 0 : 0;
  }

  // {errorType, errorMessage} to answer an Invoke with, or null.
  function_error() {
    const fe = this.knobs.functionError;
    if (!fe || !this.budget_left() || this.rng() >= this.knobs.functionErrorRate) return null;
    this.injected += 1;
    const base = { errorType: 'Function.InjectedError', errorMessage: 'error injected by the emulator' };
    return typeof fe === 'object' ? { ...base, ...fe } : base;
  }

  timeout_override() {
    return this.knobs.invokeTimeoutOverride || null;
  }
}
