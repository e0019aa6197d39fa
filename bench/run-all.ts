// `npm run bench`: the core benchmarks of issue 2. Figures only; nothing here fails on a slow machine.
import { benchApply } from './apply.js';
import { benchProbeRound } from './probe-round.js';
import { benchDaemonRss } from './daemon-rss.js';
import { benchDaemonFast } from './daemon-fast.js';

console.log(`nat64-health benchmarks, node ${process.version}, ${new Date().toISOString()}`);
await benchApply();
await benchProbeRound();
await benchDaemonRss();
await benchDaemonFast();
