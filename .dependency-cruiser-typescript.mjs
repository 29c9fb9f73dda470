/**
 * Preloaded (`node --import`) before dependency-cruiser: dependency-cruiser reads TypeScript through
 * the `typescript` package's JavaScript API (`transpileModule`, versions below 7), and this project
 * compiles with TypeScript 7, whose package has no JavaScript API. So dependency-cruiser's
 * `import('typescript')` is answered with Node's own type stripper (`module.stripTypeScriptTypes`),
 * which turns each file into the JavaScript Node itself would run: the graph checked is the runtime
 * graph, type-only imports erased (dependency-cruiser's default without `tsPreCompilationDeps`).
 */
import { registerHooks } from 'node:module';

const MAIN = `${import.meta.url}?typescript`;
const MANIFEST = `${import.meta.url}?typescript-package-json`;
// Within dependency-cruiser's supported range; the version the stripper stands in for.
const VERSION = '5.9.3';

const SHIM = `
import { stripTypeScriptTypes } from 'node:module';
export const version = ${JSON.stringify(VERSION)};
export function transpileModule(source) {
  return { outputText: stripTypeScriptTypes(source, { mode: 'transform' }) };
}
// Read at load time by dependency-cruiser's tsc extractor, which runs only with tsPreCompilationDeps.
export const SyntaxKind = {};
export default { version, transpileModule, SyntaxKind };
`;

const fromCruiser = (parentURL) => parentURL?.includes('/dependency-cruiser/') ?? false;

registerHooks({
  resolve(specifier, context, next) {
    if (fromCruiser(context.parentURL)) {
      if (specifier === 'typescript') return { url: MAIN, format: 'module', shortCircuit: true };
      if (specifier === 'typescript/package.json')
        return { url: MANIFEST, format: 'json', shortCircuit: true };
    }
    return next(specifier, context);
  },
  load(url, context, next) {
    if (url === MAIN) return { format: 'module', source: SHIM, shortCircuit: true };
    if (url === MANIFEST)
      return { format: 'json', source: JSON.stringify({ version: VERSION }), shortCircuit: true };
    return next(url, context);
  },
});
