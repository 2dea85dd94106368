import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // nostr-tools' NIP-77 module has no package export (lib/nostr/nostr-tools-nip77.d.ts)
  resolve: { alias: { 'nostr-tools/nip77': resolve(import.meta.dirname, 'node_modules/nostr-tools/lib/esm/nip77.js') } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e files each start their own relays and spawn CLI processes: two at a time suits 2 cores
    maxWorkers: 2,
  },
})
