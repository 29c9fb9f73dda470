import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';

const LAUNCHER = fileURLToPath(new URL('./moto_server.py', import.meta.url));

/** A running AWS API emulator: one we started (moto_server) or one given by `AWS_ENDPOINT_URL`. */
export interface Emulator {
  readonly endpoint: string;
  /** Whether this process started it (and so must stop it). */
  readonly owned: boolean;
  readonly kind: 'moto' | 'external';
  /** The moto process (its group's leader), when this process owns it. */
  readonly pid?: number;
  /** Forgets every resource (moto only; an external emulator is left as it is). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

/** A free TCP port on the loopback interface, chosen by the kernel. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function waitUntilAnswering(endpoint: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const started = Date.now();
  let lastError = '';
  while (Date.now() - started < timeoutMs) {
    if (child.exitCode !== null)
      throw new Error(`moto_server exited with code ${child.exitCode} before answering`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
      if (response.status < 500) return;
      lastError = `HTTP ${response.status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`moto_server did not answer at ${endpoint} within ${timeoutMs} ms (${lastError})`);
}

/**
 * Forgets every resource the emulator holds: moto's reset, or LocalStack's state reset. An
 * emulator that offers neither is left as it is (suites then rely on fresh names).
 */
export async function resetEmulator(endpoint: string): Promise<'moto' | 'localstack' | 'none'> {
  const moto = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' }).catch(() => undefined);
  if (moto?.ok) return 'moto';
  const localstack = await fetch(`${endpoint}/_localstack/state/reset`, { method: 'POST' }).catch(
    () => undefined,
  );
  if (localstack?.ok) return 'localstack';
  return 'none';
}

function external(endpoint: string): Emulator {
  return {
    endpoint,
    owned: false,
    kind: 'external',
    async reset() {
      await resetEmulator(endpoint);
    },
    async stop() {},
  };
}

/**
 * The emulator to use: `AWS_ENDPOINT_URL` when set (LocalStack, or a moto already running), else
 * `moto_server` started on a free 127.0.0.1 port. Fails with the reason when neither is possible.
 */
export async function startEmulator(
  /** `plainMoto`: moto_server itself, without the launcher's fixes (to test that they keep its behaviour). */
  options: { endpoint?: string; timeoutMs?: number; plainMoto?: boolean } = {},
): Promise<Emulator> {
  const given = options.plainMoto ? undefined : (options.endpoint ?? process.env.AWS_ENDPOINT_URL);
  if (given) return external(given.replace(/\/$/, ''));
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const args = ['-H', '127.0.0.1', '-p', String(port)];
  // Our launcher is moto_server with fixes to the speed of transactions and deep queues (see moto_server.py).
  const [command, argv] = options.plainMoto ? ['moto_server', args] : ['python3', [LAUNCHER, ...args]];
  const child = spawn(command, argv, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  const spawnError = new Promise<never>((_, reject) =>
    child.once('error', (error) =>
      reject(
        new Error(
          `could not start moto_server (${error.message}); install moto (pip install 'moto[server]') or set AWS_ENDPOINT_URL to a running emulator such as LocalStack`,
        ),
      ),
    ),
  );
  try {
    await Promise.race([waitUntilAnswering(endpoint, child, options.timeoutMs ?? 30_000), spawnError]);
  } catch (error) {
    killGroup(child);
    throw new Error(`${(error as Error).message}${stderr ? `\n${stderr}` : ''}`);
  }
  return {
    endpoint,
    owned: true,
    kind: 'moto',
    ...(child.pid !== undefined ? { pid: child.pid } : {}),
    reset: () => resetMoto(endpoint),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      killGroup(child);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) killGroup(child, 'SIGKILL');
    },
  };
}

async function resetMoto(endpoint: string): Promise<void> {
  if ((await resetEmulator(endpoint)) !== 'moto') throw new Error(`could not reset moto at ${endpoint}`);
}

/** Whether a moto answers at `endpoint` (within a second). */
export async function motoAnswers(endpoint: string): Promise<boolean> {
  try {
    const response = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(1000) });
    return response.status < 500;
  } catch {
    return false;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * A moto an earlier run started and left behind (`npm run dev` killed with SIGKILL never stops
 * its emulator, which runs in its own process group): taken over with its data, and stopped,
 * group and all, when this run stops it.
 */
export function adoptEmulator(endpoint: string, pid: number): Emulator {
  return {
    endpoint,
    owned: true,
    kind: 'moto',
    pid,
    reset: () => resetMoto(endpoint),
    async stop() {
      const signal = (name: NodeJS.Signals) => {
        try {
          process.kill(-pid, name);
        } catch {
          // Already gone.
        }
      };
      signal('SIGTERM');
      for (let waited = 0; waited < 5000 && processAlive(pid); waited += 100) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      if (processAlive(pid)) signal('SIGKILL');
    },
  };
}

/** moto_server runs as its own process group (werkzeug may fork): signal the whole group. */
function killGroup(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    child.kill(signal);
  }
}
