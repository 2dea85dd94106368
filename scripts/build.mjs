// Bundles p2p.ts into the top-level p2p.js, with code that only some runs need (each
// command, the WASM signature code) split into chunks under dist/ and loaded on demand: a
// one-shot CLI pays for every byte it loads on every run (measured here: bundling alone saves
// ~50 ms over loading from node_modules).

import { execFileSync } from 'node:child_process'
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { build } from 'esbuild'

const require = createRequire(import.meta.url)

/** OpenClaw's skill library and its Cloud Worker skill delivery refuse any file over 1 MiB. */
const MAX_SKILL_FILE = 1024 * 1024

/** tiny-secp256k1's WASM (1.24 MB of it precomputed tables, which no compression brings under
 *  1 MiB) goes into dist/ in parts under MAX_SKILL_FILE, and its loader reads them back into one
 *  module: as fast as reading one file (~0.4 ms), for the runs with many key agreements that load
 *  it. It stays: OpenSSL takes twice as long to open 500 gift wraps, noble's JavaScript ten times. */
const secpWasm = readFileSync(join(dirname(require.resolve('tiny-secp256k1')), '..', 'secp256k1.wasm')) // beside lib/cjs
const secpPartCount = Math.ceil(secpWasm.length / MAX_SKILL_FILE)
const secpPartSize = Math.ceil(secpWasm.length / secpPartCount)
const secpParts = Array.from({ length: secpPartCount }, (_, i) => `secp256k1-${i + 1}.wasm`)
const splitSecpWasm = {
  name: 'split-secp256k1-wasm',
  setup(b) {
    b.onLoad({ filter: /[\\/]tiny-secp256k1[\\/]lib[\\/]wasm_loader\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8')
      // its own path() resolves each name beside the chunk it ends up in (import.meta.url)
      const read = 'readFileSync(path("secp256k1.wasm"))'
      if (!source.includes(read)) throw new Error('tiny-secp256k1 reads its WASM otherwise now: update scripts/build.mjs')
      return { contents: source.replace(read, `Buffer.concat(${JSON.stringify(secpParts)}.map((part) => readFileSync(path(part))))`) }
    })
  },
}

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
  plugins: [lazyStringWidth, splitSecpWasm],
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

// With the WASM parts beside the chunks, p2p.js and dist/ need no node_modules.
mkdirSync('dist', { recursive: true })
for (const [i, part] of secpParts.entries()) writeFileSync(join('dist', part), secpWasm.subarray(i * secpPartSize, (i + 1) * secpPartSize))
// nostr-wasm embeds its module as base64 and decodes it a character at a time on every start
// (~16 ms): the bytes go beside the chunks instead (lib/nostr/schnorr.ts loads them).
const nostrWasmMain = readFileSync(require.resolve('nostr-wasm'), 'utf8')
const embedded = /\bsb64_data = "([A-Za-z0-9+/=]+)"/.exec(nostrWasmMain)
if (!embedded) throw new Error('nostr-wasm no longer embeds its module as sb64_data: update scripts/build.mjs')
writeFileSync(join('dist', 'nostr.wasm'), Buffer.from(embedded[1], 'base64'))
chmodSync('p2p.js', 0o755)

// The usage text, for `node p2p.js` and `--help` to print without loading anything.
const help = execFileSync(process.execPath, ['p2p.js', '--help'], { env: { ...process.env, P2P_BUILD_HELP: '1', COLUMNS: '100' } })
writeFileSync('dist/help.txt', help)
