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
    // e2e files each start their own relays and spawn CLI processes, which wait on sockets and
    // timers part of the time: three files at a time keep 2 cores busy (measured: 1.69 cores in
    // use with two, 1.85 with three; the suite 270 s -> 231 s)
    maxWorkers: 3,
    // one process per worker for all its files: no file changes globals another relies on, and a
    // fresh process per file cost ~0.3 s of CPU each (vitest and the relay helpers loaded again)
    isolate: false,
    // files whose tests are independent run them `describe.concurrent`: a CLI run waits on its
    // sockets part of the time, and two at a time fill a worker's core without crowding it
    maxConcurrency: 2,
  },
})
