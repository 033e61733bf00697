import type { FastifyBaseLogger } from 'fastify';
import type { Bindings, ChildLoggerOptions } from 'pino';

/**
 * fastify gives every request a child logger carrying its request id. pino builds a child eagerly (bindings
 * serialised, redaction applied): about 2 % of the CPU of a session check, for requests that mostly log
 * nothing. This stand-in builds the real child at the first line the request logs, with the same bindings.
 */
export function deferredChildLogger(
  logger: FastifyBaseLogger,
  bindings: Bindings,
  options: ChildLoggerOptions,
): FastifyBaseLogger {
  return new DeferredChildLogger(logger, bindings, options);
}

class DeferredChildLogger implements FastifyBaseLogger {
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  get #logger(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.#logger.level = level;
  }

  fatal(...args: unknown[]): void {
    Reflect.apply(this.#logger.fatal, this.#logger, args);
  }
  error(...args: unknown[]): void {
    Reflect.apply(this.#logger.error, this.#logger, args);
  }
  warn(...args: unknown[]): void {
    Reflect.apply(this.#logger.warn, this.#logger, args);
  }
  info(...args: unknown[]): void {
    Reflect.apply(this.#logger.info, this.#logger, args);
  }
  debug(...args: unknown[]): void {
    Reflect.apply(this.#logger.debug, this.#logger, args);
  }
  trace(...args: unknown[]): void {
    Reflect.apply(this.#logger.trace, this.#logger, args);
  }
  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.#logger.child(bindings, options);
  }
}
