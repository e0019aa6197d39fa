#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size --no-opt
// Memory before speed: the daemon waits on the network, not the CPU. A 1 MB young generation,
// --optimize-for-size and no optimizing compiler (TurboFan) keep it near 66 MB instead of ~90 MB,
// with the same CPU time per probe round (README, Benchmarks). The Debian package's wrapper
// reads these flags from this line.
import '../dist/cli.js';
