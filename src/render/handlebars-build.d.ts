// Handlebars' own prebuilt single-file build (the same version and API as the package's main
// entry): src/render/template.ts loads it because it takes about 1.4 MB less memory than the
// CommonJS tree with its inline source maps (README, Benchmarks).
declare module 'handlebars/dist/handlebars.min.js' {
  import Handlebars from 'handlebars';
  export default Handlebars;
}
