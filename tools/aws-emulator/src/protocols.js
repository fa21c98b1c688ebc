// Error responses in each AWS wire protocol the emulator speaks:
//   rest-json (Lambda): x-amzn-ErrorType header + JSON {"message", "Type", ...}
//   json (ECR, Service Quotas; JSON 1.1): JSON {"__type", "message"} (+ x-amzn-ErrorType)
//   query (STS), query-iam (IAM, its own namespace): XML
//     <ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>
//   s3 (rest-xml): XML <Error><Code/><Message/>...<RequestId/></Error>
import { send, send_json, xml_escape, request_id } from './util.js';

// sso is the IAM Identity Center portal API (GetRoleCredentials), which is not SigV4-signed.
export const PROTOCOL_OF_SERVICE = { lambda: 'rest-json', ecr: 'json', servicequotas: 'json', sts: 'query', s3: 's3',
  iam: 'query-iam', sso: 'rest-json' };
const QUERY_NS = { query: 'https://sts.amazonaws.com/doc/2011-06-15/', 'query-iam': 'https://iam.amazonaws.com/doc/2010-05-08/' };

export function send_error(res, protocol, status, code, message, extra = {}, headers = {}) {
  const rid = res.emulator_request_id || request_id();
  res.emulator_error = code;
  if (protocol === 'rest-json') {
    const body = { Type: status >= 500 ? 'Service' : 'User', message, ...extra };
    send_json(res, status, body, { 'x-amzn-ErrorType': code, 'x-amzn-RequestId': rid, ...headers });
  } else if (protocol === 'json') {
    send(res, status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-ErrorType': code, 'x-amzn-RequestId': rid, ...headers },
      JSON.stringify({ __type: code, message, ...extra }));
  } else if (protocol in QUERY_NS) {
    const type = status >= 500 ? 'Receiver' : 'Sender';
    const body = `<ErrorResponse xmlns="${QUERY_NS[protocol]}">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xml_escape(code)}</Code>\n` +
      `    <Message>${xml_escape(message)}</Message>\n  </Error>\n  <RequestId>${rid}</RequestId>\n</ErrorResponse>\n`;
    send(res, status, { 'Content-Type': 'text/xml', 'x-amzn-RequestId': rid, ...headers }, body);
  } else {
    const fields = Object.entries(extra).map(([k, v]) => `<${k}>${xml_escape(v)}</${k}>`).join('');
    const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xml_escape(code)}</Code>` +
      `<Message>${xml_escape(message)}</Message>${fields}<RequestId>${rid}</RequestId><HostId>emulator</HostId></Error>`;
    send(res, status, { 'Content-Type': 'application/xml', 'x-amz-request-id': rid, ...headers }, body);
  }
}

// Authentication failures. kind: missing | malformed | unknown_key | bad_token | expired |
// mismatch | skewed | payload_hash | region | service
const AUTH = {
  missing: { 'rest-json': [403, 'MissingAuthenticationTokenException'], json: [400, 'MissingAuthenticationTokenException'],
    query: [403, 'MissingAuthenticationToken'], s3: [403, 'AccessDenied'] },
  malformed: { 'rest-json': [400, 'IncompleteSignatureException'], json: [400, 'IncompleteSignatureException'],
    query: [400, 'IncompleteSignature'], s3: [400, 'AuthorizationHeaderMalformed'] },
  unknown_key: { 'rest-json': [403, 'UnrecognizedClientException'], json: [400, 'UnrecognizedClientException'],
    query: [403, 'InvalidClientTokenId'], s3: [403, 'InvalidAccessKeyId'] },
  bad_token: { 'rest-json': [403, 'UnrecognizedClientException'], json: [400, 'UnrecognizedClientException'],
    query: [403, 'InvalidClientTokenId'], s3: [400, 'InvalidToken'] },
  expired: { 'rest-json': [403, 'ExpiredTokenException'], json: [400, 'ExpiredTokenException'],
    query: [403, 'ExpiredToken'], s3: [400, 'ExpiredToken'] },
  mismatch: { 'rest-json': [403, 'InvalidSignatureException'], json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'], s3: [403, 'SignatureDoesNotMatch'] },
  skewed: { 'rest-json': [403, 'InvalidSignatureException'], json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'], s3: [403, 'RequestTimeTooSkewed'] },
  payload_hash: { 'rest-json': [403, 'InvalidSignatureException'], json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'], s3: [400, 'XAmzContentSHA256Mismatch'] },
  region: { 'rest-json': [403, 'InvalidSignatureException'], json: [400, 'InvalidSignatureException'],
    query: [403, 'SignatureDoesNotMatch'], s3: [400, 'AuthorizationHeaderMalformed'] },
};

export function send_auth_error(res, protocol, kind, message, s3_extra = {}) {
  const [status, code] = AUTH[kind][protocol === 'query-iam' ? 'query' : protocol];
  send_error(res, protocol, status, code, message, protocol === 's3' ? s3_extra : {});
}

// Throttling as each service reports it.
export function send_throttle(res, service, reason) {
  const protocol = PROTOCOL_OF_SERVICE[service];
  if (service === 'lambda') {
    send_error(res, protocol, 429, 'TooManyRequestsException', 'Rate Exceeded.',
      { Reason: reason, retryAfterSeconds: '1' }, { 'Retry-After': '1' });
  } else if (service === 'ecr') {
    send_error(res, protocol, 400, 'ThrottlingException', 'Rate exceeded');
  } else if (service === 'servicequotas') {
    send_error(res, protocol, 400, 'TooManyRequestsException', 'Rate exceeded');
  } else if (service === 'sts' || service === 'iam') {
    send_error(res, protocol, 400, 'Throttling', 'Rate exceeded');
  } else if (service === 'sso') {
    send_error(res, protocol, 429, 'TooManyRequestsException', 'Rate exceeded');
  } else {
    send_error(res, protocol, 503, 'SlowDown', 'Please reduce your request rate.');
  }
}

export function send_server_error(res, service) {
  const protocol = PROTOCOL_OF_SERVICE[service];
  const code = { lambda: 'ServiceException', ecr: 'ServerException', servicequotas: 'ServiceException',
    sts: 'InternalFailure', s3: 'InternalError', iam: 'ServiceFailure', sso: 'InternalServerException' }[service];
  send_error(res, protocol, 500, code, 'We encountered an internal error. Please try again.');
}
