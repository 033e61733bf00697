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

const logMethodNames = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;
type LogMethodName = (typeof logMethodNames)[number];

class DeferredChildLogger implements FastifyBaseLogger {
  // On the prototype (below): each hands its arguments, as given, to the real child.
  declare fatal: FastifyBaseLogger[LogMethodName];
  declare error: FastifyBaseLogger[LogMethodName];
  declare warn: FastifyBaseLogger[LogMethodName];
  declare info: FastifyBaseLogger[LogMethodName];
  declare debug: FastifyBaseLogger[LogMethodName];
  declare trace: FastifyBaseLogger[LogMethodName];
  readonly #parent: FastifyBaseLogger;
  readonly #bindings: Bindings;
  readonly #options: ChildLoggerOptions;
  #child: FastifyBaseLogger | undefined;

  constructor(parent: FastifyBaseLogger, bindings: Bindings, options: ChildLoggerOptions) {
    this.#parent = parent;
    this.#bindings = bindings;
    this.#options = options;
  }

  /** The real child logger, built at the first line this request logs. */
  materialize(): FastifyBaseLogger {
    this.#child ??= this.#parent.child(this.#bindings, this.#options);
    return this.#child;
  }

  get level(): string {
    return this.#child?.level ?? this.#options.level ?? this.#parent.level;
  }

  set level(level: string) {
    this.materialize().level = level;
  }

  silent(): void {}

  child(bindings: Bindings, options?: ChildLoggerOptions): FastifyBaseLogger {
    return this.materialize().child(bindings, options);
  }
}

for (const name of logMethodNames) {
  Object.defineProperty(DeferredChildLogger.prototype, name, {
    value(this: DeferredChildLogger, ...args: unknown[]): void {
      const logger = this.materialize();
      Reflect.apply(logger[name], logger, args);
    },
    writable: true,
    configurable: true,
  });
}
