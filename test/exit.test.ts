// The process ends on its own once its work is done, and by force only when something else holds
// it open: never while its output is still on its way to a slow reader (an agent's tool that
// reads a large `history --json` late must get all of it).
import { spawn } from 'node:child_process'
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { addEntry } from '../lib/calls/transcript.ts'
import { homePaths } from '../lib/store/home.ts'
import { StateStore } from '../lib/store/state.ts'
import { CLI } from './helpers/cli.ts'
import { activeCall } from './helpers/entries.ts'

const NOW = Math.floor(Date.now() / 1000)
const PEER = 'b'.repeat(64)

describe('leaving the process', () => {
  it('a reader that starts reading 2 s late still gets the whole 3 MB of output', async () => {
    const home = mkdtempSync(join(tmpdir(), 'p2p-exit-'))
    const store = new StateStore(homePaths({ P2P_HOME: home }), () => {})
    await store.update((s) => {
      s.calls.ca11ca11 = activeCall('ca11ca11', PEER, NOW)
      for (let i = 0; i < 2_000; i++)
        addEntry(s, s.calls.ca11ca11, { id: `m${i}`, from: PEER, at: NOW, text: `${'x'.repeat(1_500)} ${i}` }, NOW)
    })
    // as an agent's tool reads it: through a pipe whose reader starts 2 s late
    const child = spawn('sh', ['-c', `"${process.execPath}" "${CLI}" history ca11ca11 --json | (sleep 2; cat)`], {
      env: { PATH: process.env.PATH ?? '', P2P_HOME: home },
    })
    let stdout = ''
    child.stdout.on('data', (d) => (stdout += d))
    const code = await new Promise((resolve) => child.on('close', resolve))
    expect(code).toBe(0)
    expect(stdout.length).toBeGreaterThan(3_000_000) // it was cut at 64 KB, the pipe's buffer
    expect(JSON.parse(stdout).transcript.messages).toHaveLength(2_000)
  })
})
