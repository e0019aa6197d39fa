// The command handlers called as functions (no process, no probes): what they print and return.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CliError, EXIT, type Common, type Io } from '../../../src/cli/common.js';
import { history } from '../../../src/cli/commands/history.js';
import { maintenance, maintenanceList } from '../../../src/cli/commands/maintenance.js';
import { render } from '../../../src/cli/commands/render.js';
import { status } from '../../../src/cli/commands/status.js';
import { synth } from '../../../src/cli/commands/synth.js';
import { validate } from '../../../src/cli/commands/validate.js';
import { maintenanceFile, readMaintenance } from '../../../src/daemon/maintenance.js';
import { A, B } from '../../support/prefixes.js';

function setup() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-cmd-'));
  const stateFile = path.join(dir, 'state', 'state.json');
  mkdirSync(path.dirname(stateFile));
  const config = path.join(dir, 'config.yaml');
  writeFileSync(
    config,
    `prefixes: [{ prefix: ${A}, name: local-a }, ${B}]\n` +
      'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n' +
      `state_file: ${stateFile}\n`,
  );
  const printed: string[] = [];
  const io: Io = { out: (t) => void printed.push(t), color: false };
  const argv: Common = { config, 'log-format': 'text', 'log-level': 'error' };
  const state = (active: string[], bStatus: 'up' | 'down') =>
    writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        active,
        failsafe: false,
        draining: [],
        prefixes: [
          { prefix: A, active: active.includes(A), status: 'up', latency_ms: 5 },
          { prefix: B, active: active.includes(B), status: bStatus, latency_ms: 9 },
        ],
      }),
    );
  return { dir, stateFile, io, argv, printed, state, text: () => printed.join('') };
}

describe('command handlers', () => {
  it('render --static prints every configured prefix', async () => {
    const { argv, io, text } = setup();
    expect(await render({ ...argv, static: true }, io)).toBe(EXIT.ok);
    expect(text()).toContain(`dns64 ${A} {`);
    expect(text()).toContain(`dns64 ${B} {`);
  });

  it('validate says what it checked', async () => {
    const { argv, io, text } = setup();
    expect(await validate(argv, io)).toBe(EXIT.ok);
    expect(text()).toMatch(/configuration is valid \(2 prefixes, 1 probe targets\)\ntemplate .*dns64\.conf\.hbs: OK\n/);
  });

  it('status without a state file ends with exit 3, and prints the state file as JSON with --json', async () => {
    const { argv, io, text, state, stateFile } = setup();
    await expect(status(argv, io)).rejects.toMatchObject({
      exitCode: EXIT.noState,
      message: `no state file at ${stateFile}: is the daemon running?`,
    });
    state([A], 'up');
    expect(await status({ ...argv, json: true }, io)).toBe(EXIT.ok);
    expect(JSON.parse(text())).toMatchObject({ active: [A] });
  });

  it('maintenance on refuses to leave the set with no healthy prefix, --force writes it, off undoes it', async () => {
    const { argv, io, text, state, stateFile } = setup();
    state([A], 'down');
    const on = { ...argv, prefix: A, state: 'on' as const, reason: 'upgrade' };
    const refused = maintenance(on, io);
    await expect(refused).rejects.toBeInstanceOf(CliError);
    await expect(refused).rejects.toMatchObject({
      exitCode: EXIT.some,
      message: expect.stringMatching(
        /^refused: without \S+ the active set would have no healthy prefix; the set would become: /,
      ) as unknown,
    });
    expect((await readMaintenance(maintenanceFile(stateFile))).size).toBe(0);
    expect(await maintenance({ ...on, force: true }, io)).toBe(EXIT.ok);
    expect([...(await readMaintenance(maintenanceFile(stateFile))).keys()]).toEqual([A]);
    expect(await maintenanceList({ ...argv, json: true }, io)).toBe(EXIT.ok);
    expect(text()).toContain('"state": "in force"');
    expect(await maintenance({ ...argv, prefix: A, state: 'off' }, io)).toBe(EXIT.ok);
    expect(readFileSync(maintenanceFile(stateFile), 'utf8')).not.toContain(A);
  });

  it('maintenance on in fail-safe: refused without calling the down prefix healthy', async () => {
    const { argv, io, stateFile } = setup();
    writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        active: [A],
        failsafe: true,
        draining: [],
        prefixes: [
          { prefix: A, active: true, status: 'down', latency_ms: 5 },
          { prefix: B, active: false, status: 'down', latency_ms: 9 },
        ],
      }),
    );
    const refused = maintenance({ ...argv, prefix: A, state: 'on' }, io);
    await expect(refused).rejects.toMatchObject({
      exitCode: EXIT.some,
      message: expect.stringMatching(
        /^refused: without \S+ the active set would have no healthy prefix; the set would become: .*\(fail-safe\)/,
      ) as unknown,
    });
    expect((await readMaintenance(maintenanceFile(stateFile))).size).toBe(0);
  });

  it('maintenance off works beside a truncated state file; on refuses to guess (exit 3)', async () => {
    const { argv, io, state, stateFile } = setup();
    state([A, B], 'up');
    expect(await maintenance({ ...argv, prefix: A, state: 'on' }, io)).toBe(EXIT.ok);
    writeFileSync(stateFile, readFileSync(stateFile, 'utf8').slice(0, 40)); // a power loss
    await expect(maintenance({ ...argv, prefix: B, state: 'on' }, io)).rejects.toMatchObject({
      exitCode: EXIT.noState,
    });
    expect(await maintenance({ ...argv, prefix: A, state: 'off' }, io)).toBe(EXIT.ok);
    expect((await readMaintenance(maintenanceFile(stateFile))).size).toBe(0);
  });

  it('maintenance counts discovered prefixes: one configured, one discovered, both up and served', async () => {
    const { argv, io, text, printed, stateFile } = setup();
    const source = '[2001:db8::53]:53';
    writeFileSync(
      argv.config!,
      `prefixes: [${A}, { discover: { server: 2001:db8::53 }, name: isp }]\n` +
        'probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]\n' +
        `state_file: ${stateFile}\n`,
    );
    const answeredAt = new Date(Date.now() - 60_000).toISOString();
    writeFileSync(
      stateFile,
      JSON.stringify({
        version: 1,
        active: [A, B],
        failsafe: false,
        draining: [],
        prefixes: [
          { prefix: A, name: A, active: true, status: 'up', latency_ms: 5, discovered_from: null },
          { prefix: B, name: 'isp-1', active: true, status: 'up', latency_ms: 9, discovered_from: source },
        ],
        discovery: [
          {
            source,
            name: 'isp',
            group: null,
            prefixes: [B],
            answered_at: answeredAt,
            next_at: answeredAt,
            error: null,
            kept_until: null,
          },
        ],
      }),
    );
    expect(await maintenance({ ...argv, prefix: A, state: 'on', reason: 'upgrade' }, io)).toBe(EXIT.ok);
    expect(text()).toContain(`the set would become: ${B}\n`);
    expect([...(await readMaintenance(maintenanceFile(stateFile))).keys()]).toEqual([A]);
    // a discovered prefix is taken too, and the last healthy one of the set is refused
    await expect(maintenance({ ...argv, prefix: B, state: 'on' }, io)).rejects.toMatchObject({
      exitCode: EXIT.some,
      message: expect.stringMatching(/^refused: without \S+ the active set would have no healthy prefix/) as unknown,
    });
    expect(await maintenance({ ...argv, prefix: B, state: 'on', force: true }, io)).toBe(EXIT.ok);
    printed.length = 0;
    expect(await maintenanceList({ ...argv, json: true }, io)).toBe(EXIT.ok);
    expect(JSON.parse(text())).toMatchObject({
      prefixes: [
        { prefix: A, name: A, state: 'in force' },
        { prefix: B, name: 'isp-1', state: 'in force' },
      ],
    });
  });

  it('maintenance on a prefix that is not configured names the configured ones (exit 65)', async () => {
    const { argv, io } = setup();
    await expect(maintenance({ ...argv, prefix: '2001:db8:64:ff::/96', state: 'on' }, io)).rejects.toMatchObject({
      exitCode: EXIT.dataErr,
      message: expect.stringContaining(`configured: ${A} (local-a), ${B}`) as unknown,
    });
  });

  it('history without applies says so', async () => {
    const { argv, io, text } = setup();
    expect(await history({ ...argv, n: 20 }, io)).toBe(EXIT.ok);
    expect(text()).toMatch(/^no apply recorded yet \(/);
  });

  it('synth prints the RFC 6052 address; a bad prefix is exit 65', () => {
    const { io, text } = setup();
    expect(synth({ prefix: '64:ff9b::/96', ipv4: '192.0.2.33' }, io)).toBe(EXIT.ok);
    expect(text()).toBe('64:ff9b::c000:221\n');
    expect(() => synth({ prefix: '64:ff9b::/95', ipv4: '192.0.2.33' }, io)).toThrow(CliError);
  });
});

describe('the program', () => {
  // built (npm test builds first): vitest does not load the .cts that brings in yargs' CommonJS build
  const built = new URL('../../../dist/cli/program.js', import.meta.url).href;
  const program = () => import(built) as Promise<typeof import('../../../src/cli/program.js')>;

  it('registers every command, and --help lists each', async () => {
    const { buildCli, COMMANDS } = await program();
    let help = '';
    await buildCli(['--help'])
      .exitProcess(false)
      .parseAsync(['--help'], {}, (_err, _argv, output) => {
        help = output;
      });
    expect(COMMANDS).toHaveLength(9);
    for (const name of ['run', 'check', 'render', 'validate', 'status', 'targets', 'maintenance', 'history', 'synth'])
      expect(help).toMatch(new RegExp(`^ {2}nat64-health ${name}\\b`, 'm'));
  });
});
