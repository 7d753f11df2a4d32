// Bundles the chaincode with @credex/core, @credex/schemas and their dependencies into
// dist/index.js (CommonJS, node18), so that the chaincode folder alone installs and starts on
// a peer: `npm ci --omit=dev && npm start`. fabric-contract-api and fabric-shim stay external:
// they are the package's only dependencies.
//
// fabric-contract-api's @Transaction reads `design:paramtypes` metadata, which esbuild does not
// emit, so the chaincode's own sources are compiled by TypeScript (experimentalDecorators,
// emitDecoratorMetadata) before esbuild bundles them.
import { build } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// `node scripts/build.mjs [outfile]`: dist/index.js unless another file is named.
const outfile = process.argv[2] ?? join(root, 'dist', 'index.js');
const srcDir = join(root, 'src') + sep;

/** @type {import('esbuild').Plugin} */
const decoratorMetadata = {
  name: 'typescript-decorator-metadata',
  setup(b) {
    b.onLoad({ filter: /\.ts$/ }, async (args) => {
      if (!args.path.startsWith(srcDir)) return undefined;
      const source = await readFile(args.path, 'utf8');
      const { outputText, diagnostics } = ts.transpileModule(source, {
        fileName: args.path,
        reportDiagnostics: true,
        compilerOptions: {
          module: ts.ModuleKind.ESNext,
          target: ts.ScriptTarget.ES2022,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          useDefineForClassFields: false,
          isolatedModules: true,
          sourceMap: false,
          inlineSourceMap: true,
          inlineSources: true,
        },
      });
      const errors = (diagnostics ?? []).map((d) => ({ text: ts.flattenDiagnosticMessageText(d.messageText, '\n') }));
      return { contents: outputText, loader: 'js', resolveDir: dirname(args.path), errors };
    });
  },
};

await build({
  entryPoints: [join(root, 'src', 'index.ts')],
  outfile,
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node18',
  external: ['fabric-contract-api', 'fabric-shim'],
  sourcemap: 'inline',
  keepNames: true,
  legalComments: 'none',
  logLevel: 'warning',
  plugins: [decoratorMetadata],
});
