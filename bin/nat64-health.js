#!/usr/bin/env -S node --max-semi-space-size=1 --optimize-for-size --no-opt --no-sparkplug
// Memory before speed: the daemon waits on the network, not the CPU. A 1 MB young generation,
// --optimize-for-size and neither the optimizing compiler (TurboFan) nor the baseline one
// (Sparkplug) keep the package's daemon near 58 MB instead of ~90 MB. Without Sparkplug it takes
// 2-3 MB less for ~0.1-0.3 points of a core more at the fast profile (docs/benchmarks.md, Memory).
// The Debian package's wrapper reads these flags from this line.
import '../dist/cli/main.js';
