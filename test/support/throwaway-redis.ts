import { spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { spawnTracked, stopChild } from './children.ts';
import { findFreePort } from './ports.ts';
import { waitUntil } from './wait.ts';

/**
 * A redis-server of the test's own on a free port (no persistence), which the test may stop, restart, freeze
 * and thaw. The machine's Redis is never touched.
 */
export interface ThrowawayRedis {
  readonly port: number;
  readonly url: string;
  isRunning(): boolean;
  /** Ends the server (SIGKILL by default: a crash; SIGTERM: a clean stop). Its data is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts an empty server on the same port; resolves once it answers PING. */
  start(): Promise<void>;
  /** SIGSTOP: the port stays open, nothing answers (a hung server). */
  freeze(): void;
  /** SIGCONT after freeze(). */
  thaw(): void;
  close(): Promise<void>;
}

const startTimeoutMilliseconds = 10_000;

/** A redis-server on 127.0.0.1:`port` in the foreground that keeps nothing on disk. */
export function redisServerArguments(port: number): string[] {
  return [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--daemonize',
    'no',
    '--loglevel',
    'warning',
  ];
}

export function redisServerAvailable(): boolean {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

export async function startThrowawayRedis(): Promise<ThrowawayRedis> {
  const port = await findFreePort();
  let child: ChildProcess | null = null;
  let log = '';

  async function start(): Promise<void> {
    if (child !== null) throw new Error('throwaway Redis is already running');
    const started = spawnTracked('redis-server', redisServerArguments(port), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    started.stdout?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
    started.stderr?.on('data', (chunk: Buffer) => (log = (log + chunk.toString()).slice(-4_000)));
    child = started;
    started.once('exit', () => {
      if (child === started) child = null;
    });
    await waitUntil(`throwaway Redis answers PING on ${port}`, () => ping(port), {
      timeoutMilliseconds: startTimeoutMilliseconds,
      intervalMilliseconds: 50,
    }).catch((error: unknown) => {
      throw new Error(`${(error as Error).message}\nredis-server output:\n${log}`);
    });
  }

  async function stop(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const running = child;
    if (running === null) return;
    // A frozen server cannot act on SIGTERM.
    running.kill('SIGCONT');
    await stopChild(running, signal, 5_000);
    child = null;
  }

  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    isRunning: () => child !== null,
    stop,
    start,
    freeze: () => void child?.kill('SIGSTOP'),
    thaw: () => void child?.kill('SIGCONT'),
    close: () => stop('SIGKILL'),
  };
}

/** One raw PING, so that no client library's retries get in the way. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    let reply = '';
    const finish = (answer: boolean): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => finish(false));
    socket.once('error', () => finish(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      reply += chunk.toString();
      if (reply.includes('\r\n')) finish(reply.startsWith('+PONG'));
    });
  });
}
