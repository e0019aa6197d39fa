// yargs, loaded through its CommonJS build. Its ES module build lays out --help with cliui's own
// ESM fallback, which breaks lines in the middle of words; the CommonJS build wraps at word
// boundaries (wrap-ansi). And yargs 17, not 18: yargs 18's cliui builds an ICU Intl.Segmenter as
// it loads, about 2.4 MB the daemon would then hold for its whole life only to lay out --help
// (docs/benchmarks.md, Memory). A .cts file, so that node and esbuild both take the CommonJS build.
/* eslint-disable @typescript-eslint/no-require-imports -- loading the CommonJS build is the point */
import yargs = require('yargs');
import helpers = require('yargs/helpers');

export = { yargs, hideBin: helpers.hideBin };
