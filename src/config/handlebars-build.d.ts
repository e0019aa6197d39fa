// Handlebars' own prebuilt single-file build (the same version and API as the package's main
// entry): src/config/template.ts loads it because the daemon then takes about 1.2 MB less memory
// than with the CommonJS tree and its inline source maps (docs/benchmarks.md, Memory).
declare module 'handlebars/dist/handlebars.min.js' {
  import Handlebars from 'handlebars';
  export default Handlebars;
}
