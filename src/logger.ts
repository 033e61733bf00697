import pino, { type Logger } from 'pino';

/** Paths that may carry a secret; the logger writes [REDACTED] in their place. */
export const redactedLogPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'headers.authorization',
  'headers.cookie',
  'password',
  'new_password',
  'current_password',
  'token',
  'access_token',
  'refresh_token',
  '*.password',
  '*.new_password',
  '*.current_password',
  '*.token',
  '*.access_token',
  '*.refresh_token',
  'body.password',
  'body.new_password',
  'body.current_password',
  'body.token',
  'body.refresh_token',
];

export function createLogger(options: { level: string; destination?: pino.DestinationStream }): Logger {
  return pino(
    { level: options.level, redact: { paths: redactedLogPaths, censor: '[REDACTED]' } },
    options.destination,
  );
}
