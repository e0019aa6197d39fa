#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size
// Memory before speed: the daemon waits on the network, not the CPU. A 1 MB young generation and
// --optimize-for-size keep it under 80 MB after thousands of rounds (README, Benchmarks).
import '../dist/cli.js';
