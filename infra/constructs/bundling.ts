/**
 * How every Celerity Lambda is bundled, apart from CDK: `function.ts` hands these to
 * NodejsFunction and `bench/bundle.ts` to esbuild, so the bench measures what the stack deploys.
 * The choices and their measurements: docs/decisions.md, "The worker bundle, as deployed".
 */

/** esbuild's options besides entry and output, as NodejsFunction passes them (see `function.ts`). */
export const BUNDLE_OPTIONS = {
  format: 'esm',
  target: 'node22',
  platform: 'node',
  minify: true,
  keepNames: true,
  mainFields: ['module', 'main'],
} as const;

/**
 * SDK packages left out of the bundle though the rest of the SDK is in it: the credential
 * providers other than the environment's, and what only they use (the STS/SSO clients), ~110 KB
 * and ~10 ms of every cold start. The SDK reaches them only by `import()`, when the environment
 * holds no credentials, which a Lambda's always does; were one reached, it would come from the
 * runtime's own SDK. `test/unit/worker-bundle.test.ts` checks nothing imports them statically.
 */
export const CREDENTIAL_CHAIN_EXTERNALS: readonly string[] = [
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
  '@smithy/credential-provider-imds',
];

/**
 * Node built-ins bundled through a CommonJS shim (`./builtins/`) rather than imported as ES
 * modules: Node builds an ES module's namespace by reading every export, and for these that costs
 * a cold start dearly (`node:http`'s lazy `WebSocket` loads undici: ~25 ms). Paths are relative to
 * the project root, where CDK runs the project's own esbuild (a devDependency); bundling in
 * Docker (`forceDockerBundling`, or no local esbuild) runs from `/` and would not find them.
 */
export const BUILTIN_SHIMS: Readonly<Record<string, string>> = {
  'node:http': './infra/constructs/builtins/http.cjs',
  http: './infra/constructs/builtins/http.cjs',
  'node:process': './infra/constructs/builtins/process.cjs',
  process: './infra/constructs/builtins/process.cjs',
};

/**
 * A CommonJS dependency that require()s a Node built-in would meet esbuild's throwing shim in an
 * ESM bundle; a real require() keeps that from failing only once deployed.
 */
export const BUNDLE_BANNER =
  "import{createRequire as __celerityRequire}from'node:module';const require=__celerityRequire(import.meta.url);";

/**
 * Packages a bundle loads with `require` on first use instead of carrying them
 * (`shared/beat/solar.ts`): copied beside it, as `node_modules/<name>/`, with the files Node's
 * `require` resolves to. astronomy-engine is needed only to plan a solar schedule.
 */
export const LAZY_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  'astronomy-engine': ['package.json', 'astronomy.js'],
};

/** The shell commands that copy `LAZY_PACKAGES` from the project into a bundle's directory. */
export function copyLazyPackages(inputDir: string, outputDir: string): string[] {
  return Object.entries(LAZY_PACKAGES).flatMap(([name, files]) => [
    `mkdir -p "${outputDir}/node_modules/${name}"`,
    ...files.map(
      (file) => `cp "${inputDir}/node_modules/${name}/${file}" "${outputDir}/node_modules/${name}/${file}"`,
    ),
  ]);
}
