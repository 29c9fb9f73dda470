// Bundled in place of `node:process` (see BUILTIN_SHIMS in ../function.ts): its ES-module facade
// reads every property of `process` at import, ~5 ms of every cold start.
module.exports = process.getBuiltinModule('node:process');
