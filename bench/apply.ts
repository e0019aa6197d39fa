// Apply latency against a real named: render + named-checkconf (shadow) + atomic write + rndc reconfig,
// then the verification (AAAA ipv4only.arpa to named, compared with the decided set), timed on its own.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startNamed } from '../test/support/named.js';
import { parseConfig } from '../src/config/load.js';
import { renderDns64 } from '../src/render/render.js';
import { localTarget } from '../src/apply/fleet.js';
import { compareServed } from '../src/apply/verify.js';
import { median, percentile, report } from './lib.js';

const RUNS = Number(process.env.RUNS ?? 20);

export async function benchApply(): Promise<void> {
  // on host loopback: the verification's query goes from this process to named
  const named = await startNamed({ listen: '127.0.0.1', mode: 'include' });
  try {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'nh-bench-'));
    const file = path.join(dir, 'config.yaml');
    writeFileSync(
      file,
      `prefixes: [2001:db8:64:a::/96, 2001:db8:64:b::/96, 2001:db8:64:c::/64]
probes: [{ type: tcp, address: 192.0.2.10, port: 80 }]
bind:
  output: ${named.includeFile}
  checkconf: ${JSON.stringify(named.checkconfArgv)}
  reload: ${JSON.stringify([...named.rndcArgv, 'reconfig'])}
  verify: { server: ${named.listen}, port: ${named.port} }
`,
    );
    const config = parseConfig(readFileSync(file, 'utf8'), file, dir);
    const target = localTarget(config.bind);
    const sets = [
      ['2001:db8:64:a::/96', '2001:db8:64:b::/96'],
      ['2001:db8:64:b::/96', '2001:db8:64:c::/64'],
    ];
    const total: number[] = [];
    const reload: number[] = [];
    const verify: number[] = [];
    const withVerify: number[] = [];
    for (let i = 0; i < RUNS + 1; i++) {
      const start = performance.now();
      const text = renderDns64(config, { active: sets[i % 2]!, draining: {}, failsafe: false });
      const r = await target.apply(text);
      if (r.result !== 'applied') throw new Error(`apply ${i} ${r.result}: ${r.error}`);
      const applied = performance.now();
      const v = compareServed(sets[i % 2]!, await target.verification!.ask());
      if (!v.ok) throw new Error(`verification ${i}: ${v.detail}`);
      if (i > 0) {
        total.push(applied - start); // the first run warms caches
        reload.push(r.reload_ms!);
        verify.push(performance.now() - applied);
        withVerify.push(performance.now() - start);
      }
    }
    const unchanged = performance.now();
    const same = await target.apply(renderDns64(config, { active: sets[RUNS % 2]!, draining: {}, failsafe: false }));
    const unchangedMs = performance.now() - unchanged;
    report(`apply against a real named (${RUNS} runs)`, [
      ['render+validate+write+reconfig, median', `${median(total).toFixed(1)} ms`, '<= 150 ms'],
      ['render+validate+write+reconfig, p95', `${percentile(total, 95).toFixed(1)} ms`],
      ['  of which rndc reconfig, median', `${median(reload).toFixed(1)} ms`],
      ['verification (ipv4only.arpa), median', `${median(verify).toFixed(1)} ms`],
      ['apply + verification, median', `${median(withVerify).toFixed(1)} ms`, '<= 150 ms'],
      [`unchanged text (${same.result}), no write/reload`, `${unchangedMs.toFixed(1)} ms`],
    ]);
  } finally {
    await named.stop();
  }
}
