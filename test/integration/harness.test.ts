/**
 * Self-test of the integration harness (test/support): netns lifecycle, a real named with
 * DNS64 driven through an include file, the managed-block layout, and the fake services.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanupStaleNetns, createNetns, type Netns } from '../support/netns.js';
import { startNamed, type NamedInstance } from '../support/named.js';
import { startServices, type Services } from '../support/services.js';
import { waitFor } from '../support/wait.js';

const LISTEN = '2001:db8:53::1';
const LISTEN_BLOCK = '2001:db8:53::2';
const SYNTH_WWW = '2001:db8:64:a::c000:20a'; // 2001:db8:64:a::/96 + 192.0.2.10

let ns: Netns;

beforeAll(async () => {
  await cleanupStaleNetns();
  ns = await createNetns('harness');
  await ns.addAddress(`${LISTEN}/128`);
});

afterAll(async () => {
  await ns?.destroy();
});

/** True once pid is gone or only a zombie (this VM's init may not reap orphans promptly). */
async function isGone(pid: number): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  return status === '' || /^State:\s+Z/m.test(status);
}

describe('named, include mode', () => {
  let named: NamedInstance;

  beforeAll(async () => {
    named = await startNamed({ netns: ns, listen: LISTEN, mode: 'include' });
  });
  afterAll(async () => {
    await named?.stop();
  });

  it('writes a valid, Debian-shaped config with the include inside options', async () => {
    await execa(named.checkconfArgv[0] as string, named.checkconfArgv.slice(1));
    const options = await readFile(named.optionsConf, 'utf8');
    expect(options).toContain(`include "${named.includeFile}";`);
    expect(options).toContain('// keep { this }');
    expect(options).toContain('version "x{y}";');
    expect(options).toMatch(/\/\*[\s\S]*\{[\s\S]*\*\//);
    expect(await readFile(named.includeFile, 'utf8')).toBe('');
  });

  it('synthesizes AAAA from the include file after rndc reconfig', async () => {
    await writeFile(named.includeFile, 'dns64 2001:db8:64:a::/96 { clients { any; }; };\n');
    await named.reconfig();
    expect(await named.aaaa('www.example.test')).toEqual([SYNTH_WWW]);
    expect(await named.aaaa('two.example.test')).toEqual(['2001:db8:64:a::c000:20a', '2001:db8:64:a::cb00:7114']);
  });

  it('clients { none; } stops forward synthesis but reverse still CNAMEs to in-addr.arpa', async () => {
    await writeFile(named.includeFile, 'dns64 2001:db8:64:a::/96 { clients { none; }; };\n');
    await named.reconfig();
    expect(await named.aaaa('www.example.test')).toEqual([]);
    const rev = await named.reverse(SYNTH_WWW);
    expect(rev.status).toBe('NOERROR');
    expect(rev.answers.some((a) => / CNAME 10\.2\.0\.192\.in-addr\.arpa\.$/.test(a))).toBe(true);
    expect(rev.answers.some((a) => / PTR www\.example\.test\.$/.test(a))).toBe(true);
  });

  it('rndcArgv runs as is from the host', async () => {
    const r = await execa(named.rndcArgv[0] as string, [...named.rndcArgv.slice(1), 'status']);
    expect(r.stdout).toMatch(/server is up and running/);
  });
});

describe('named, block mode', () => {
  let named: NamedInstance;

  beforeAll(async () => {
    named = await startNamed({ netns: ns, listen: LISTEN_BLOCK, mode: 'block' });
  });
  afterAll(async () => {
    await named?.stop();
  });

  it('starts without include or dns64 and does not synthesize', async () => {
    const options = await readFile(named.optionsConf, 'utf8');
    expect(options).not.toMatch(/include|dns64/);
    expect(await named.aaaa('www.example.test')).toEqual([]);
    expect(await named.dig(['+short', 'A', 'svc.example.test'])).toBe('198.51.100.10\n');
  });
});

describe('services', () => {
  let services: Services;

  beforeAll(async () => {
    services = await startServices(ns, { tcpPorts: [8443], httpPort: 8080, dnsPort: 5353 });
  });
  afterAll(async () => {
    await services?.stop();
  });

  const tcpConnect = (port: number) =>
    ns.run(['bash', '-c', `exec 3<>/dev/tcp/${LISTEN}/${port}`], { timeoutMs: 5_000 });

  it('accepts TCP on listed ports and refuses others', async () => {
    expect((await tcpConnect(8443)).exitCode).toBe(0);
    expect((await tcpConnect(8444)).exitCode).not.toBe(0);
  });

  it('serves HTTP / and /health, 404 elsewhere', async () => {
    const code = async (path: string) =>
      (
        await ns.run(['curl', '-s', '-o', '/dev/null', '-w', '%{http_code}', `http://[${LISTEN}]:8080${path}`], {
          check: true,
        })
      ).stdout;
    expect(await code('/')).toBe('200');
    expect(await code('/health')).toBe('200');
    expect(await code('/nope')).toBe('404');
  });

  it('answers A queries over UDP DNS with 192.0.2.1', async () => {
    const r = await ns.run(
      ['dig', `@${LISTEN}`, '-p', '5353', '+short', '+time=2', '+tries=1', 'A', 'anything.invalid'],
      { check: true },
    );
    expect(r.stdout.trim()).toBe('192.0.2.1');
  });
});

describe('netns lifecycle', () => {
  it('run reports exit codes and throws only with check', async () => {
    expect((await ns.run(['false'])).exitCode).toBe(1);
    await expect(ns.run(['false'], { check: true })).rejects.toThrow(/exit 1/);
    expect((await ns.run(['sleep', '5'], { timeoutMs: 100 })).exitCode).toBe(124);
  });

  it('destroy() kills spawned and stray processes, removes the namespace, and is idempotent', async () => {
    const tmp = await createNetns('destroy');
    const spawned = tmp.spawn(['sleep', '300']);
    // A detached process the namespace does not track: destroy() must still find it.
    const stray = Number(
      (await tmp.run(['bash', '-c', 'setsid sleep 300 >/dev/null 2>&1 & echo $!'], { check: true })).stdout.trim(),
    );
    // `ip netns exec` must exec, not fork: destroy()/stop() kill by this PID. Until it has exec'd, the
    // PID shows `ip`; a fork would show `ip` for good.
    await waitFor('the spawned PID to be sleep', async () =>
      /^sleep\0/.test(await readFile(`/proc/${spawned.pid}/cmdline`, 'utf8')),
    );
    expect(await isGone(stray)).toBe(false);

    await tmp.destroy();
    await tmp.destroy();

    expect((await execa('ip', ['netns', 'list'])).stdout).not.toContain(tmp.name);
    expect(await isGone(spawned.pid as number)).toBe(true);
    await expect.poll(() => isGone(stray), { timeout: 2_000 }).toBe(true);
  });
});
