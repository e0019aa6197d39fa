/** The V8 flags of bin/nat64-health.js's "#!/usr/bin/env -S node ..." line */
export function cliNodeFlags(): string[];
