// Apply latency against a real named: render + named-checkconf (shadow) + atomic write + rndc reconfig.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createNetns } from '../test/support/netns.js';
import { startNamed } from '../test/support/named.js';
import { parseConfig } from '../src/config/load.js';
import { renderDns64 } from '../src/render/render.js';
import { LocalBindTarget } from '../src/apply/local-target.js';
import { median, percentile, report } from './lib.js';

const RUNS = Number(process.env.RUNS ?? 20);

export async function benchApply(): Promise<void> {
  const ns = await createNetns('bench-apply');
  try {
    const named = await startNamed({ netns: ns, listen: '2001:db8:53::1', mode: 'include' });
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
`,
      );
      const config = parseConfig(readFileSync(file, 'utf8'), file, dir);
      const target = new LocalBindTarget(config.bind);
      const sets = [
        ['2001:db8:64:a::/96', '2001:db8:64:b::/96'],
        ['2001:db8:64:b::/96', '2001:db8:64:c::/64'],
      ];
      const total: number[] = [];
      const reload: number[] = [];
      for (let i = 0; i < RUNS + 1; i++) {
        const start = performance.now();
        const text = renderDns64(config, { active: sets[i % 2]!, draining: {}, failsafe: false });
        const r = await target.apply(text);
        if (r.result !== 'applied') throw new Error(`apply ${i} ${r.result}: ${r.error}`);
        if (i > 0) {
          total.push(performance.now() - start); // the first run warms caches
          reload.push(r.reload_ms!);
        }
      }
      const unchanged = performance.now();
      const same = await target.apply(renderDns64(config, { active: sets[RUNS % 2]!, draining: {}, failsafe: false }));
      const unchangedMs = performance.now() - unchanged;
      report(`apply against a real named (${RUNS} runs)`, [
        ['render+validate+write+reconfig, median', `${median(total).toFixed(1)} ms`, '<= 150 ms'],
        ['render+validate+write+reconfig, p95', `${percentile(total, 95).toFixed(1)} ms`],
        ['  of which rndc reconfig, median', `${median(reload).toFixed(1)} ms`],
        [`unchanged text (${same.result}), no write/reload`, `${unchangedMs.toFixed(1)} ms`],
      ]);
    } finally {
      await named.stop();
    }
  } finally {
    await ns.destroy();
  }
}
