// The world most integration tests run in: a network namespace of their own with the simulated
// NAT64 prefixes (services.ts answers through every prefix that is alive), optionally a named of
// its own in it, and a temp folder. One start, one stop, in the right order.
import { startNamed, type NamedInstance, type NamedOptions } from './named.js';
import { cleanupStaleNetns, createNetns, type Netns } from './netns.js';
import { startServices, type Services } from './services.js';
import { setPrefixAlive, tempDir } from './daemon-fixture.js';

export interface WorldOptions {
  /** prefixes whose simulated gateway answers from the start */
  alive?: readonly string[];
  /** a named in the namespace (include mode), listening on this address */
  named?: string;
  /** more of named's options (dns64, zones) */
  namedOptions?: Partial<NamedOptions>;
}

export interface World {
  ns: Netns;
  services: Services;
  /** a temp folder of this world's own */
  dir: string;
  /** null unless asked for */
  named: NamedInstance | null;
  /** stops named, the services and the namespace */
  stop(): Promise<void>;
}

/** Starts a world labelled `label` (namespace nh-LABEL-PID, folder nh-LABEL-XXXX). */
export async function startWorld(label: string, opts: WorldOptions = {}): Promise<World> {
  await cleanupStaleNetns();
  const ns = await createNetns(label);
  let services: Services | null = null;
  let named: NamedInstance | null = null;
  const stop = async () => {
    await named?.stop();
    await services?.stop();
    await ns.destroy();
  };
  try {
    services = await startServices(ns, { tcpPorts: [80], httpPort: 8080, dnsPort: 5353 });
    for (const p of opts.alive ?? []) await setPrefixAlive(ns, p, true);
    const dir = await tempDir(label);
    if (opts.named !== undefined)
      named = await startNamed({ netns: ns, listen: opts.named, mode: 'include', ...opts.namedOptions });
    return { ns, services, dir, named, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}
