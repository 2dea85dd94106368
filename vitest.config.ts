import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'

export default defineConfig({
  // nostr-tools' NIP-77 module has no package export (lib/nostr/nostr-tools-nip77.d.ts)
  resolve: { alias: { 'nostr-tools/nip77': resolve(import.meta.dirname, 'node_modules/nostr-tools/lib/esm/nip77.js') } },
  test: {
    include: ['test/**/*.test.ts'],
    // end-to-end tests spawn many CLI runs: on a busy 2-core machine a flow of 20 runs takes 30 s
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // e2e files each start their own relays and spawn CLI processes: two at a time suits 2 cores
    maxWorkers: 2,
    // files whose tests are independent run them `describe.concurrent`: a CLI run waits on its
    // sockets part of the time, and two at a time fill a worker's core without crowding it
    maxConcurrency: 2,
  },
})
