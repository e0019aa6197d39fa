/**
 * Fake upstream services (TCP accept, HTTP, DNS-over-UDP) inside a test netns, listening on [::]
 * so every address on the namespace's lo answers. See services-server.mjs for the behaviour.
 */
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { terminate, type Netns } from './netns.js';

export interface ServicesOptions {
  /** plain TCP listeners: accept and hold the connection */
  tcpPorts?: number[];
  /** GET / -> 200 'ok', GET /health -> 200, anything else -> 404 */
  httpPort?: number;
  /** UDP DNS: every A question gets 192.0.2.1 */
  dnsPort?: number;
}

export interface Services {
  stop(): Promise<void>;
}

const SERVER_SCRIPT = fileURLToPath(new URL('./services-server.mjs', import.meta.url));
const READY_TIMEOUT_MS = 10_000;

/** Resolve once the child printed READY (all listeners bound); reject with its stderr otherwise. */
function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    const fail = (why: string): void => {
      clearTimeout(timer);
      reject(new Error(`services-server ${why}:\n${stderr}${stdout}`));
    };
    const timer = setTimeout(() => fail(`not ready after ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
    const onExit = (code: number | null, sig: string | null): void => fail(`exited (code ${code}, signal ${sig})`);
    child.once('close', onExit); // 'close': after stderr is fully read
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (/^READY$/m.test(stdout)) {
        clearTimeout(timer);
        child.removeListener('close', onExit);
        resolve();
      }
    });
  });
}

export async function startServices(ns: Netns, opts: ServicesOptions): Promise<Services> {
  // process.execPath: the same node that runs vitest; `ip netns exec` may have a different PATH.
  const child = ns.spawn([process.execPath, SERVER_SCRIPT, JSON.stringify(opts)]);
  try {
    await waitForReady(child);
  } catch (e) {
    await terminate(child);
    throw e;
  }
  let stopped: Promise<void> | undefined;
  return {
    stop: () => (stopped ??= terminate(child)),
  };
}
