// Which folder of src/ may import which. `npm run lint` runs `depcruise` with these rules, and
// test/unit/architecture/layers.test.ts holds them against the tree and proves that each fires.
// The pipeline is a stack: a folder imports only folders below it, never above or beside it; lib/
// (files, commands, the ipv4only.arpa question, RFC 6052 prefixes, logging) is below them all.
// docs/architecture.md draws the picture.
export const LAYERS = [
  ['lib'],
  ['config'],
  ['probe', 'discover'],
  ['health'],
  ['select'],
  ['render'],
  ['core'],
  ['apply'],
  ['daemon'],
  ['observe'],
  ['service'],
  ['cli'],
];

const folder = (names) => `^src/(${names.join('|')})/`;

const layerRules = LAYERS.flatMap((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return layer.map((name) => {
    const beside = layer.filter((n) => n !== name);
    const forbidden = [...beside, ...above];
    return {
      name: `layer-${name}`,
      severity: 'error',
      comment: `src/${name}/ imports only ${LAYERS.slice(0, i).flat().join(', ') || 'npm packages and node'}`,
      from: { path: folder([name]) },
      to: { path: forbidden.length > 0 ? folder(forbidden) : '^$' },
    };
  });
});

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'an import cycle: the stages no longer build on one another',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'unknown-folder',
      severity: 'error',
      comment: 'every module of src/ lives in a folder named in LAYERS, which says what it may import',
      from: { path: '^src/', pathNot: folder(LAYERS.flat()) },
      to: {},
    },
    ...layerRules,
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '\\.d\\.ts$' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.cts', '.js', '.cjs', '.mjs'] },
  },
};
