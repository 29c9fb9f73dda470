// Bundled in place of `node:http` (see BUILTIN_SHIMS in ../function.ts): an ES-module import of
// `node:http` reads every export, and its lazy `WebSocket` getter then loads undici, ~25 ms of
// every cold start; through CommonJS the exports are read only when used.
module.exports = process.getBuiltinModule('node:http');
