// The nat64-health command line's entry point (bin/nat64-health.js, the Debian bundle): it runs the
// program (program.ts) with the process's arguments.
import { main } from './program.js';

await main();
