/**
 * Maintenance against a real named: `nat64-health maintenance` writes the file beside the state file,
 * the running daemon drains the prefix, keeps probing it, brings it back; a malformed file changes nothing.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Netns } from '../../support/netns.js';
import { startWorld, type World } from '../../support/world.js';
import type { NamedInstance } from '../../support/named.js';
import {
  CLI,
  configText,
  DaemonProcess,
  readFile,
  readState,
  replaceFile,
  waitFor,
  writeFile,
  www,
} from '../../support/daemon-fixture.js';
import { A, B, C } from '../../support/prefixes.js';

const NOT_CONFIGURED = '2001:db8:64:e::/96';
const NAMED_ADDR = '2001:db8:53::1';
const LISTEN = '127.0.0.1:9464';

let ns: Netns;
let named: NamedInstance;
let daemon: DaemonProcess;
let dir: string;
let configFile: string;
let stateFile: string;
let maintenanceFile: string;

interface Held {
  prefixes: Array<{
    prefix: string;
    status: string;
    active: boolean;
    draining: boolean;
    maintenance?: { reason: string; until: string | null } | null;
  }>;
  maintenance?: Record<string, { reason: string }>;
  active: string[];
  failsafe: boolean;
}

let world: World;

beforeAll(async () => {
  world = await startWorld('maint', { alive: [A, B, C], named: NAMED_ADDR });
  ({ ns, dir } = world);
  named = world.named!;
  configFile = path.join(dir, 'config.yaml');
  stateFile = path.join(dir, 'state', 'state.json');
  maintenanceFile = path.join(dir, 'state', 'maintenance.json');
  const extra = `http: { listen: "${LISTEN}" }\n`;
  await writeFile(configFile, configText({ prefixes: [A, B, C], named, maxActive: 3, extra }, stateFile));
  daemon = DaemonProcess.start(ns, configFile, path.join(dir, 'daemon-1.log'));
  await waitFor('all three served', async () => (await named.aaaa('www.example.test')).length === 3);
});

afterAll(async () => {
  await daemon?.stop();
  await world?.stop();
});

const cli = (args: string[]) => ns.run(['node', CLI, ...args, '-c', configFile], { timeoutMs: 20_000 });
const served = async () => (await named.aaaa('www.example.test')).sort();
const state = async () => (await readState(stateFile)) as unknown as Held;

async function curl(urlPath: string): Promise<string> {
  const r = await ns.run(['curl', '-sS', '--max-time', '5', `http://${LISTEN}${urlPath}`], { timeoutMs: 10_000 });
  if (r.exitCode !== 0) throw new Error(`curl ${urlPath}: ${r.stderr}`);
  return r.stdout;
}

describe('maintenance', () => {
  it('on: the prefix leaves the answers at once and drains; it is still probed; shown everywhere', async () => {
    const r = await cli(['maintenance', A, 'on', '--reason', 'gateway upgrade']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`the set would become: ${B}, ${C}`);
    await waitFor('A out of the answers', async () => !(await served()).includes(www(A)));
    expect(await served()).toEqual([B, C].map(www).sort());
    expect(await readFile(named.includeFile, 'utf8')).toMatch(
      new RegExp(`dns64 ${A.replace(/[/.]/g, '\\$&')} \\{\\n\\t// .* is draining.*\\n\\tclients \\{ none; \\};`),
    );
    const round = (await readState(stateFile)).round;
    await waitFor('two more rounds', async () => (await readState(stateFile)).round >= round + 2);
    const s = await state();
    expect(s.prefixes.find((p) => p.prefix === A)).toMatchObject({
      status: 'up',
      active: false,
      draining: true,
      maintenance: { reason: 'gateway upgrade', until: null },
    });
    expect(Object.keys(s.maintenance ?? {})).toEqual([A]);
    const logs = await daemon.logs();
    expect(logs.find((l) => l.msg === `prefix ${A} deactivated`)).toMatchObject({
      reason: 'in maintenance: gateway upgrade; draining',
    });
    const status = await cli(['status']);
    expect(status.stdout).toMatch(new RegExp(`${A.replace(/[/.]/g, '\\$&')}.*draining, maintenance`));
    expect(status.stdout).toContain(`${A}: maintenance (gateway upgrade)`);
    expect((await cli(['maintenance', 'list'])).stdout).toMatch(/in force .* gateway upgrade/);
    const json = JSON.parse(await curl('/status.json')) as Held;
    expect(json.maintenance?.[A]?.reason).toBe('gateway upgrade');
    expect(await curl('/metrics')).toContain(`nat64_health_prefix_maintenance{prefix="${A}"} 1`);
    expect(await curl('/')).toContain('In maintenance: 2001:db8:64:a::/96: maintenance (gateway upgrade)');
  });

  it('refuses the last healthy prefix without --force and says what the set would become', async () => {
    expect((await cli(['maintenance', B, 'on'])).exitCode).toBe(0);
    await waitFor('B out', async () => !(await served()).includes(www(B)));
    const before = await readFile(maintenanceFile, 'utf8');
    const r = await cli(['maintenance', C, 'on']);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /refused: without \S+ the active set would have no healthy prefix; the set would become: none/,
    );
    expect(await readFile(maintenanceFile, 'utf8')).toBe(before);
    expect(await served()).toEqual([www(C)]);
  });

  it('an unconfigured prefix or a bad --until is refused and changes nothing', async () => {
    const before = await readFile(maintenanceFile, 'utf8');
    const unknown = await cli(['maintenance', NOT_CONFIGURED, 'on']);
    expect([unknown.exitCode, unknown.stderr]).toEqual([65, expect.stringMatching(/is not a configured prefix/)]);
    // it says which prefixes exist
    expect(unknown.stderr).toContain(`configured: ${A}, ${B}, ${C}`);
    const unknownOff = await cli(['maintenance', NOT_CONFIGURED, 'off']);
    expect([unknownOff.exitCode, unknownOff.stderr]).toEqual([65, expect.stringContaining(`configured: ${A}, ${B}`)]);
    const bad = await cli(['maintenance', C, 'on', '--until', 'soon']);
    expect([bad.exitCode, bad.stderr]).toEqual([64, expect.stringMatching(/--until "soon": expected a time/)]);
    const junk = await cli(['maintenance', 'not-a-prefix', 'on']);
    expect(junk.exitCode).toBe(65);
    expect(await readFile(maintenanceFile, 'utf8')).toBe(before);
  });

  it('survives a restart: the prefixes stay out', async () => {
    await daemon.stop();
    daemon = DaemonProcess.start(ns, configFile, path.join(dir, 'daemon-2.log'));
    await waitFor(
      'rounds of the new daemon',
      async () => (await readState(stateFile)).pid === daemon.child.pid && (await readState(stateFile)).round >= 3,
    );
    expect(await served()).toEqual([www(C)]);
    expect(Object.keys((await state()).maintenance ?? {}).sort()).toEqual([A, B]);
  });

  it('a malformed maintenance file is logged and changes nothing', async () => {
    const good = await readFile(maintenanceFile, 'utf8');
    await replaceFile(maintenanceFile, good.replace('"version": 1', '"version": 2'));
    await waitFor('the rejection logged', async () => (await daemon.count(/^maintenance file rejected/)) > 0);
    const line = (await daemon.logs()).find((l) => /^maintenance file rejected/.test(l.msg))!;
    expect(line.error).toMatch(new RegExp(`${maintenanceFile.replace(/[/.]/g, '\\$&')}: version: `));
    const round = (await readState(stateFile)).round;
    await waitFor('two more rounds', async () => (await readState(stateFile)).round >= round + 2);
    expect(await served()).toEqual([www(C)]);
    const list = await cli(['maintenance', 'list']);
    expect([list.exitCode, list.stderr]).toEqual([65, expect.stringContaining('version')]);
    await replaceFile(maintenanceFile, good);
  });

  it('off and --until bring prefixes back through the selection rules (free slots at once)', async () => {
    expect((await cli(['maintenance', A, 'off'])).exitCode).toBe(0);
    await waitFor('A back', async () => (await served()).includes(www(A)));
    const r = await cli(['maintenance', B, 'on', '--until', '3s', '--reason', 'short']);
    expect(r.exitCode, r.stderr).toBe(0);
    await waitFor('B back after its --until', async () => (await served()).length === 3);
    expect(await served()).toEqual([A, B, C].map(www).sort());
    expect(await daemon.count(new RegExp(`^prefix ${B.replace(/[/.]/g, '\\$&')}: maintenance ended`))).toBe(1);
    // the daemon drops the ended entry from the file (regression: it stayed there forever)
    await waitFor('B dropped from the file', async () => !(await readFile(maintenanceFile, 'utf8')).includes(B));
    expect(JSON.parse(await readFile(maintenanceFile, 'utf8'))).toEqual({ version: 1, prefixes: {} });
    expect((await daemon.logs()).find((l) => l.msg === 'maintenance file: dropped the ended entries')).toMatchObject({
      ended: [B],
    });
    expect((await cli(['maintenance', 'list'])).stdout).not.toContain(B);
    expect(await daemon.count(/taken out of maintenance/)).toBe(1); // A's off only
  });

  it('--force takes the last one too: every prefix drains, named synthesizes with none', async () => {
    for (const p of [A, B]) expect((await cli(['maintenance', p, 'on'])).exitCode).toBe(0);
    await waitFor('only C', async () => (await served()).length === 1);
    const r = await cli(['maintenance', C, 'on', '--force']);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain('the set would become: none (every prefix in maintenance)');
    await waitFor('no AAAA synthesized', async () => (await served()).length === 0);
    expect((await readFile(named.includeFile, 'utf8')).match(/clients \{ none; \}/g)).toHaveLength(3);
    // said as what it is, not as the fail-safe (regression: "FAIL-SAFE: no prefix passed its probes")
    const allHeld = 'ALL IN MAINTENANCE: every prefix (3) is in maintenance';
    await waitFor('the warning', async () => (await daemon.logs()).some((l) => l.msg.startsWith(allHeld)));
    const since = (await daemon.logs()).findIndex((l) => l.msg.startsWith(allHeld));
    const after = (await daemon.logs()).slice(since);
    expect(after[0]).toMatchObject({ level: 'warn', active: [] });
    expect(after.filter((l) => /FAIL-SAFE|passed its probes/.test(l.msg))).toEqual([]);
    // the warning is logged when the round decides, the state file written after its apply
    const written = await waitFor('the state file with the empty set', async () => {
      const s = await state();
      return s.active.length === 0 && s;
    });
    expect(written).toMatchObject({ active: [], failsafe: false });
    expect((await cli(['status'])).stdout).toContain(allHeld);
    expect(await curl('/')).toContain('id="all-in-maintenance"');
    expect(await curl('/metrics')).toContain('nat64_health_failsafe 0');
    for (const p of [A, B, C]) expect((await cli(['maintenance', p, 'off'])).exitCode).toBe(0);
    await waitFor('all back', async () => (await served()).length === 3);
  });
});
