#!/usr/bin/env node
// Bundles the compiled CLI (dist/cli/main.js, from `npm run build`) and its production dependencies into
// ES modules for the Debian package: no node_modules tree to ship, nothing arch-specific.
// Usage: node scripts/bundle.mjs OUTDIR. It writes
//   OUTDIR/lib/cli.mjs and its chunks (installed in /usr/share/nat64-health/lib),
//   OUTDIR/package.json (installed as /usr/share/nat64-health/package.json),
//   OUTDIR/bundled-modules.txt: the npm packages inside, and OUTDIR/copyright: debian/copyright
//   with a paragraph for each of them.
// src/lib/paths.ts finds the templates beside lib/, and the package.json this writes there too
// (/usr/share/nat64-health/templates).
//
// Memory (docs/benchmarks.md, Memory): what the daemon loads lazily (ssh2 for SSH targets,
// prom-client and the status page for http.listen) goes into chunks of its own, loaded only when
// configured; whitespace and syntax are minified, since node keeps every loaded module's source
// text in memory. Identifiers keep their names, so that stack traces stay readable.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const outDir = process.argv[2];
if (!outDir) {
  console.error('usage: node scripts/bundle.mjs OUTDIR');
  process.exit(64);
}
const libDir = path.join(outDir, 'lib');
mkdirSync(libDir, { recursive: true });

const result = await build({
  entryPoints: { cli: 'dist/cli/main.js' },
  outdir: libDir,
  outExtension: { '.js': '.mjs' },
  splitting: true,
  minifyWhitespace: true,
  minifySyntax: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // CommonJS dependencies call require() for Node built-ins and use __dirname/__filename: give
  // the ES module a real require, and the bundle's own directory and file name for the others.
  banner: {
    js: [
      "import { createRequire as __nh_createRequire } from 'node:module';",
      "import { fileURLToPath as __nh_fileURLToPath } from 'node:url';",
      'const require = __nh_createRequire(import.meta.url);',
      'const __nh_filename = __nh_fileURLToPath(import.meta.url);',
      "const __nh_dirname = __nh_fileURLToPath(new URL('.', import.meta.url));",
    ].join('\n'),
  },
  define: { __dirname: '__nh_dirname', __filename: '__nh_filename' },
  // Optional native speed-ups of ssh2 (each required inside try/catch, with a JavaScript fallback):
  // an arch-all package ships no compiled code.
  external: ['cpu-features', '*.node'],
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

// The version for --version (src/lib/paths.ts reads it beside templates/, above the bundle's lib/).
const own = JSON.parse(readFileSync('package.json', 'utf8'));
writeFileSync(
  path.join(outDir, 'package.json'),
  JSON.stringify(
    { name: own.name, version: own.version, description: own.description, license: own.license, private: true },
    null,
    2,
  ) + '\n',
);

// Which npm packages ended up inside, with their licenses and copyright notices: the build turns
// debian/copyright into the package's copyright file with one Files paragraph per package.
const LICENSES = ['MIT', 'ISC', 'BSD-3-Clause', 'Apache-2.0', 'Unlicense']; // each has a License paragraph there
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = /^(.*?node_modules\/((?:@[^/]+\/)?[^/]+))\//.exec(input);
  if (!m || packages.has(m[2])) continue;
  const dir = m[1];
  const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const licenseFile = readdirSync(dir).find((f) => /^(licen[sc]e|copying)(\.|$)/i.test(f));
  const text = licenseFile ? readFileSync(path.join(dir, licenseFile), 'utf8') : '';
  // Notices such as "Copyright (c) 2015 Name", not the license's own wording about copyright.
  const notices = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => /^(copyright\s*(\(c\)|©|\d)|\(c\)\s*\d)/i.test(l) && !/\[yyyy\]/i.test(l))
    .map((l) => l.replace(/^copyright\s*/i, '').replace(/^(\(c\)|©)\s*/i, ''));
  const author = typeof pkg.author === 'string' ? pkg.author : pkg.author?.name;
  // Old packages (ssh2) still use "licenses": [{ "type": ... }].
  const license =
    typeof pkg.license === 'string'
      ? pkg.license
      : Array.isArray(pkg.licenses) && pkg.licenses.length === 1
        ? pkg.licenses[0].type
        : undefined;
  packages.set(m[2], { name: m[2], version: pkg.version, license, notices: [...new Set(notices)], author });
}
const list = [...packages.values()].sort((a, b) => a.name.localeCompare(b.name));
const unknown = list.filter((p) => !LICENSES.includes(p.license));
if (unknown.length > 0) {
  const names = unknown.map((p) => `${p.name} (${JSON.stringify(p.license)})`).join(', ');
  console.error(`bundle: no License paragraph in debian/copyright for: ${names}`);
  console.error('add the license text to debian/copyright and its name to LICENSES in scripts/bundle.mjs');
  process.exit(1);
}
writeFileSync(
  path.join(outDir, 'bundled-modules.txt'),
  list.map((p) => `${p.name} ${p.version} ${p.license}`).join('\n') + '\n',
);

const paragraphs = readFileSync('debian/copyright', 'utf8').trimEnd().split(/\n\n+/);
const lastFiles = paragraphs.findLastIndex((p) => p.startsWith('Files:'));
const generated = list.map((p) => {
  const holders = p.notices.length > 0 ? p.notices : [`${p.author ?? `the ${p.name} authors`}`];
  return [
    `Files: node_modules/${p.name}/*`,
    `Copyright: ${holders.join('\n ')}`,
    `License: ${p.license}`,
    `Comment: npm package ${p.name} ${p.version}, bundled in /usr/share/nat64-health/lib`,
  ].join('\n');
});
paragraphs.splice(lastFiles + 1, 0, ...generated);
writeFileSync(path.join(outDir, 'copyright'), paragraphs.join('\n\n') + '\n');
