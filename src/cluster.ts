// WORKERS > 1: the first process becomes a supervisor that forks that many copies of main.ts (node:cluster),
// shares the listening port with them, restarts one that crashes, and passes SIGTERM/SIGINT on to all of them.
// Each worker is a whole service (its own pools, its own outbox dispatcher: claims are SKIP LOCKED-safe).
// Metrics: the worker that gets a /metrics scrape asks the supervisor, which gathers every worker's registry
// (the Prometheus client's cluster aggregation) and answers with the sum, so one scrape counts every process.
import client, { type Registry } from '@prometheus-io/client';
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

const restartDelayMilliseconds = 1_000;
/** More crashes than this within the window means the workers cannot run (database down, bad schema): give up. */
const crashLimit = 5;
const crashWindowMilliseconds = 60_000;

export interface WorkerSupervisor {
  /** Resolves with the primary's exit code once every worker has exited after `stop`, or after too many crashes. */
  readonly exited: Promise<number>;
  /** Passes the signal on to every worker; each finishes its requests and email sends, then exits. */
  stop(signal: NodeJS.Signals): void;
}

/** True in the process that must supervise workers instead of serving. */
export function isWorkerSupervisor(workers: number): boolean {
  return workers > 1 && cluster.isPrimary;
}

export function superviseWorkers(workers: number, logger: Logger): WorkerSupervisor {
  let stopping = false;
  let failed = false;
  const crashTimes: number[] = [];
  let resolveExited: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => (resolveExited = resolve));

  const live = (): Worker[] => Object.values(cluster.workers ?? {}).filter((worker) => worker !== undefined);

  function stop(signal: NodeJS.Signals): void {
    if (stopping) return;
    stopping = true;
    logger.info({ signal, workers: live().length }, 'stopping workers');
    for (const worker of live()) worker.process.kill(signal);
    if (live().length === 0) resolveExited(failed ? 1 : 0);
  }

  cluster.on('exit', (worker, code, signal) => {
    if (stopping) {
      if (code !== 0 && code !== null) failed = true;
      if (live().length === 0) resolveExited(failed ? 1 : 0);
      return;
    }
    const now = Date.now();
    crashTimes.push(now);
    while (crashTimes.length > 0 && (crashTimes[0] as number) < now - crashWindowMilliseconds)
      crashTimes.shift();
    logger.error({ pid: worker.process.pid, code, signal }, 'worker exited unexpectedly');
    if (crashTimes.length > crashLimit) {
      logger.error({ crashes: crashTimes.length }, 'workers keep crashing; stopping');
      failed = true;
      stop('SIGTERM');
      return;
    }
    setTimeout(() => {
      if (!stopping) cluster.fork();
    }, restartDelayMilliseconds);
  });

  answerClusterMetricsRequests(logger);
  for (let i = 0; i < workers; i++) cluster.fork();
  logger.info({ workers }, 'supervising workers');
  return { exited, stop };
}

/** The whole cluster's metrics, in the Prometheus text format. */
export interface ClusterMetrics {
  readonly contentType: string;
  readonly text: string;
}

const metricsRequestType = 'latchkey:cluster-metrics-request';
const metricsAnswerType = 'latchkey:cluster-metrics-answer';
/** Longer than the client's own wait for the workers (5 s), so its error, naming the late worker, comes first. */
const clusterMetricsTimeoutMilliseconds = 6_000;

interface MetricsRequest {
  readonly type: typeof metricsRequestType;
  readonly requestId: number;
}
interface MetricsAnswer {
  readonly type: typeof metricsAnswerType;
  readonly requestId: number;
  readonly metrics?: ClusterMetrics;
  readonly error?: string;
}

function isMessageOfType<T extends { type: string }>(message: unknown, type: T['type']): message is T {
  return typeof message === 'object' && message !== null && (message as { type?: unknown }).type === type;
}

/** In the supervisor: gathers every worker's metrics for the worker that asks. */
function answerClusterMetricsRequests(logger: Logger): void {
  const aggregator = new client.AggregatorRegistry();
  cluster.on('message', (worker, message: unknown) => {
    if (!isMessageOfType<MetricsRequest>(message, metricsRequestType)) return;
    const answer = (fields: Partial<MetricsAnswer>): void => {
      if (worker.isConnected())
        worker.send({ type: metricsAnswerType, requestId: message.requestId, ...fields });
    };
    aggregator.clusterMetrics().then(
      (text) => answer({ metrics: { contentType: aggregator.contentType, text } }),
      (error: unknown) => {
        logger.warn({ err: error }, 'cluster metrics could not be gathered');
        answer({ error: error instanceof Error ? error.message : String(error) });
      },
    );
  });
}

let nextMetricsRequestId = 0;
let listeningForMetricsAnswers = false;
const pendingMetricsRequests = new Map<
  number,
  { resolve: (metrics: ClusterMetrics) => void; reject: (error: Error) => void }
>();

/** True in a worker forked by superviseWorkers. */
export function isClusterWorker(): boolean {
  return cluster.isWorker;
}

/**
 * In a worker: offers `registry` to the supervisor's aggregation (one registry per process: the app's) and
 * returns the function that reads the whole cluster's metrics through the supervisor.
 */
export function shareMetricsWithSupervisor(registry: Registry): () => Promise<ClusterMetrics> {
  client.AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes this worker answer the supervisor's requests for its metrics.
  new client.AggregatorRegistry();
  if (!listeningForMetricsAnswers) {
    listeningForMetricsAnswers = true;
    process.on('message', (message: unknown) => {
      if (!isMessageOfType<MetricsAnswer>(message, metricsAnswerType)) return;
      const pending = pendingMetricsRequests.get(message.requestId);
      pendingMetricsRequests.delete(message.requestId);
      if (message.metrics !== undefined) pending?.resolve(message.metrics);
      else pending?.reject(new Error(message.error ?? 'no metrics'));
    });
  }
  return () =>
    new Promise<ClusterMetrics>((resolve, reject) => {
      const requestId = nextMetricsRequestId++;
      const timer = setTimeout(() => {
        pendingMetricsRequests.delete(requestId);
        reject(new Error('the supervisor did not answer with the cluster metrics in time'));
      }, clusterMetricsTimeoutMilliseconds);
      pendingMetricsRequests.set(requestId, {
        resolve: (metrics) => {
          clearTimeout(timer);
          resolve(metrics);
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
      process.send?.({ type: metricsRequestType, requestId } satisfies MetricsRequest);
    });
}
