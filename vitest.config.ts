import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // e2e files each start their own relays and spawn CLI processes: two at a time suits 2 cores
    maxWorkers: 2,
  },
})
