// Bundles p2p.ts into the single top-level p2p.js: one file to read at start-up is the
// fastest a one-shot CLI can load (NOTES.md: ~130 ms bundled vs ~180 ms from node_modules).
import { build } from 'esbuild'

await build({
  entryPoints: ['p2p.ts'],
  outfile: 'p2p.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // `ws` and yargs use require() of Node built-ins; an ESM bundle has no require of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __p2pCreateRequire } from 'node:module';\nconst require = __p2pCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})
