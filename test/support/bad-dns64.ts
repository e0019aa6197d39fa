/** DNS64 resolvers that answer RFC 7050 discovery wrongly, inside a test netns (bad-dns64-server.mjs). */
import { fileURLToPath } from 'node:url';
import { terminate, type Netns } from './netns.js';

export type BadMode = 'garbage' | 'no-well-known' | 'silent';
const SCRIPT = fileURLToPath(new URL('./bad-dns64-server.mjs', import.meta.url));

export async function startBadDns64(
  ns: Netns,
  address: string,
  servers: Array<{ port: number; mode: BadMode }>,
): Promise<{ stop(): Promise<void> }> {
  await ns.addAddress(address);
  const child = ns.spawn([process.execPath, SCRIPT, JSON.stringify({ address, servers })]);
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`bad-dns64-server not ready:\n${out}`)), 10_000);
    child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (/^READY$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('close', () => reject(new Error(`bad-dns64-server exited:\n${out}`)));
  });
  return { stop: () => terminate(child) };
}
