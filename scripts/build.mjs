// Bundles p2p.ts into the top-level p2p.js, with code that only some runs need (each
// command, the WASM signature code) split into chunks under dist/ and loaded on demand: a
// one-shot CLI pays for every byte it loads on every run (measured here: bundling alone saves
// ~50 ms over loading from node_modules).

import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { build } from 'esbuild'

rmSync('dist', { recursive: true, force: true })
await build({
  entryPoints: ['p2p.ts'],
  outdir: '.',
  entryNames: '[name]',
  chunkNames: 'dist/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // loads its WASM file from its own folder at run time, so it stays in node_modules
  external: ['tiny-secp256k1'],
  // nostr-tools' NIP-77 module has no package export (lib/nostr/nostr-tools-nip77.d.ts)
  alias: { 'nostr-tools/nip77': './node_modules/nostr-tools/lib/esm/nip77.js' },
  // `ws` and yargs use require() of Node built-ins; an ESM bundle has no require of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __p2pCreateRequire } from 'node:module';\nconst require = __p2pCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})

// The usage text, for `node p2p.js` and `--help` to print without loading anything.
const help = execFileSync(process.execPath, ['p2p.js', '--help'], { env: { ...process.env, P2P_BUILD_HELP: '1', COLUMNS: '100' } })
writeFileSync('dist/help.txt', help)
