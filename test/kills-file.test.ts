// A poll SIGKILLed at the one moment random kills seldom hit (kills.test.ts): while it saves a
// received file. The next polls must still deliver the file, once. (Its own file, so that the
// two workers share kills.test.ts's load.)
import { spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, watch } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI } from './helpers/cli.ts'
import { callBetween } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relays: TestRelay[]
beforeAll(async () => {
  relays = [await startRelay()]
})
afterAll(async () => {
  for (const r of relays ?? []) await r.stop()
})

describe('a poll killed while it saves a received file', () => {
  // Assembling a received file begins by creating `.partial/<fileId>.done` (the claim that keeps
  // overlapping polls from saving it twice). A kill at that moment is aimed at directly: the
  // file is large enough that assembling it takes a while, and the poll is killed as soon as the
  // claim appears. The next polls must still deliver the file.
  it('leaves the file for the next poll', async () => {
    const { alice, bob, callId } = await callBetween([relays[0].url])
    const partial = join(bob.home, 'p2p-files', '.partial')
    mkdirSync(partial, { recursive: true })
    let data = Buffer.alloc(0)
    let killedInside = false
    // a kill that came too late (the poll printed the file) missed the moment: again, with another file
    for (let attempt = 0; attempt < 3 && !killedInside; attempt++) {
      data = randomBytes(2_000_000)
      const sent = await alice.run(['sendfile', `big-${attempt}.bin`, '-', '--timeout', '30000'], { stdin: data.toString('base64') })
      expect(sent.code, sent.stderr).toBe(0)
      const poll = await killOnClaim(bob.home, [relays[0].url], partial)
      killedInside = poll.killed && !poll.stdout.includes('"file"')
    }
    expect(killedInside, 'the poll was killed while it saved the file').toBe(true)
    const got: Array<Record<string, any>> = []
    for (let i = 0; i < 3 && !got.some((e) => e.type === 'file'); i++) {
      const r = await bob.run(['poll', '--json', '--timeout', '10000'])
      expect(r.code, r.stderr).toBe(0)
      got.push(...r.json().events)
    }
    const sha = createHash('sha256').update(data).digest('hex')
    expect(got.filter((e) => e.type === 'file').map((e) => e.file.sha256)).toEqual([sha])
    const files = (await bob.run(['history', callId, '--json'])).json().transcript.messages.filter((m: any) => m.file?.sha256 === sha)
    expect(files).toHaveLength(1)
  }, 120_000)
})

/** Runs `poll` in `home` and SIGKILLs it the moment a `.done` claim appears in `partial`. */
function killOnClaim(home: string, urls: string[], partial: string): Promise<{ killed: boolean; stdout: string }> {
  const child = spawn(process.execPath, [CLI, 'poll', '--json', '--timeout', '20000'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', P2P_HOME: home, P2P_RELAYS: urls.join(',') },
    stdio: ['ignore', 'pipe', 'ignore'],
  })
  const watcher = watch(partial, (_event, name) => {
    if (name?.endsWith('.done')) child.kill('SIGKILL')
  })
  let stdout = ''
  child.stdout.on('data', (d) => (stdout += d))
  return new Promise((resolve) =>
    child.on('close', (_code, signal) => {
      watcher.close()
      resolve({ killed: signal === 'SIGKILL', stdout })
    }),
  )
}
