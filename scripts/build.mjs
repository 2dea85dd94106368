// Bundles p2p.ts into the top-level p2p.js, with code that only some runs need (each
// command, the WASM signature code) split into chunks under dist/ and loaded on demand: a
// one-shot CLI pays for every byte it loads on every run (measured here: bundling alone saves
// ~50 ms over loading from node_modules).

import { execFileSync } from 'node:child_process'
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { build } from 'esbuild'

/** string-width (yargs' and cliui's copies) builds an Intl.Segmenter and Unicode property
 *  regexes when it loads, on every run (~10 ms, the RGI_Emoji one ~6 ms), for widths that are
 *  only measured to lay out help: each importer gets a stand-in that loads its own copy on the
 *  first call (a require() of a bundled module runs it then). */
const lazyStringWidth = {
  name: 'lazy-string-width',
  setup(b) {
    b.onResolve({ filter: /^string-width$/ }, (args) =>
      args.kind === 'require-call' ? undefined : { path: args.resolveDir, namespace: 'lazy-string-width' },
    )
    b.onLoad({ filter: /.*/, namespace: 'lazy-string-width' }, (args) => ({
      resolveDir: args.path,
      contents:
        "let real; export default function stringWidth(text, options) { real ??= require('string-width').default; return real(text, options) }",
    }))
  },
}

rmSync('dist', { recursive: true, force: true })
await build({
  plugins: [lazyStringWidth],
  // the worker thread that opens half of a large batch of gift wraps (lib/nostr/nip17.ts) finds
  // its file beside the chunk that starts it
  entryPoints: ['p2p.ts', { in: 'lib/nostr/open-worker.ts', out: 'dist/open-worker' }],
  outdir: '.',
  entryNames: '[dir]/[name]',
  chunkNames: 'dist/[name]-[hash]',
  splitting: true,
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  legalComments: 'none',
  // nostr-tools' NIP-77 module has no package export (lib/nostr/nostr-tools-nip77.d.ts)
  alias: { 'nostr-tools/nip77': './node_modules/nostr-tools/lib/esm/nip77.js' },
  // `ws` and yargs use require() of Node built-ins; an ESM bundle has no require of its own.
  banner: {
    js: "#!/usr/bin/env node\nimport { createRequire as __p2pCreateRequire } from 'node:module';\nconst require = __p2pCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
})

// tiny-secp256k1 reads its WASM file beside its own module at run time (import.meta.url): bundled
// into a chunk under dist/, it looks for it there. With it, p2p.js and dist/ need no node_modules.
const secp = dirname(createRequire(import.meta.url).resolve('tiny-secp256k1')) // its lib/cjs folder
mkdirSync('dist', { recursive: true })
copyFileSync(join(secp, '..', 'secp256k1.wasm'), join('dist', 'secp256k1.wasm'))
// nostr-wasm embeds its module as base64 and decodes it a character at a time on every start
// (~16 ms): the bytes go beside the chunks instead (lib/nostr/schnorr.ts loads them).
const nostrWasmMain = readFileSync(createRequire(import.meta.url).resolve('nostr-wasm'), 'utf8')
const embedded = /\bsb64_data = "([A-Za-z0-9+/=]+)"/.exec(nostrWasmMain)
if (!embedded) throw new Error('nostr-wasm no longer embeds its module as sb64_data: update scripts/build.mjs')
writeFileSync(join('dist', 'nostr.wasm'), Buffer.from(embedded[1], 'base64'))
chmodSync('p2p.js', 0o755)

// The usage text, for `node p2p.js` and `--help` to print without loading anything.
const help = execFileSync(process.execPath, ['p2p.js', '--help'], { env: { ...process.env, P2P_BUILD_HELP: '1', COLUMNS: '100' } })
writeFileSync('dist/help.txt', help)
