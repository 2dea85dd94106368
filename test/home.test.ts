// The home as hostile hands may leave it (issue 23, point 10): a folder or a call log replaced
// by a link that leads out of it is never written or deleted through, and an ids file larger
// than any we write is refused with a clear warning and replaced, not read.

import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateSecretKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agent } from './helpers/cli.ts'
import { callBetween, inject, secretOf, whoami } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

/** A folder outside every home, holding a file someone cares about. */
function outside(): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'p2p-outside-'))
  const file = join(dir, 'precious.txt')
  writeFileSync(file, 'precious\n')
  return { dir, file }
}

const dm = (text: string) => ({ type: 'dm' as const, text })

describe.concurrent('links in P2P_HOME (issue 23, point 10)', () => {
  it('p2p-known linked to a folder elsewhere: nothing there is deleted or written, and the run says what to do', async () => {
    const bob = agent([relay.url])
    const { pubkey } = await whoami(bob)
    const away = outside()
    symlinkSync(away.dir, join(bob.home, 'p2p-known'))
    await inject(relay.url, dm('hello'), { author: generateSecretKey(), to: pubkey })
    const r = await bob.run(['poll', '--json'])
    expect(readdirSync(away.dir)).toEqual(['precious.txt'])
    expect(readFileSync(away.file, 'utf8')).toBe('precious\n')
    expect(r.code, r.stderr).toBe(3)
    expect(r.json().error).toMatchObject({ code: 'home-link', message: expect.stringContaining('p2p-known') })
    // the way out the hint gives: a folder of its own; the message was not lost
    expect(r.json().error.hint).toMatch(/replace the link/)
    rmSync(join(bob.home, 'p2p-known'))
    const next = await bob.run(['poll', '--json'])
    expect(next.code, next.stderr).toBe(0)
    expect(next.json().events.map((e: { text: string }) => e.text)).toEqual(['hello'])
  })

  it('a call log linked to a file elsewhere: that file is neither cut nor written', async () => {
    const { alice, bob, callId, bobKey } = await callBetween([relay.url])
    const away = outside()
    const log = join(bob.home, 'p2p-calls', `${callId}.jsonl`)
    mkdirSync(join(bob.home, 'p2p-calls'), { recursive: true })
    rmSync(log, { force: true })
    symlinkSync(away.file, log)
    await inject(relay.url, { type: 'message', callId, text: 'into the log' }, { author: secretOf(alice), to: bobKey })
    const r = await bob.run(['poll', '--json'])
    expect(readFileSync(away.file, 'utf8')).toBe('precious\n')
    expect(r.code, r.stderr).toBe(3)
    expect(r.json().error).toMatchObject({ code: 'home-link', message: expect.stringContaining(`${callId}.jsonl`) })
  })

  it('p2p-files linked to a folder elsewhere: a received file is reported, not written there', async () => {
    const { alice, bob, callId, bobKey } = await callBetween([relay.url])
    const away = outside()
    rmSync(join(bob.home, 'p2p-files'), { recursive: true, force: true })
    symlinkSync(away.dir, join(bob.home, 'p2p-files'))
    const data = Buffer.from('a file')
    const chunk = { fileId: 'ab'.repeat(8), name: 'f.txt', size: data.length, index: 0, total: 1, data: data.toString('base64') }
    const sha256 = (await import('node:crypto')).createHash('sha256').update(data).digest('hex')
    await inject(relay.url, { type: 'file-chunk', callId, chunk: { ...chunk, sha256 } }, { author: secretOf(alice), to: bobKey })
    const r = await bob.run(['poll', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/could not save file f\.txt .*leads out of/)
    expect(readdirSync(away.dir)).toEqual(['precious.txt'])
  })
})

describe('an ids file over 2 GiB (issue 23, point 10)', () => {
  it('is refused with a warning, not read, and replaced by the next write: every command works', async () => {
    const bob = agent([relay.url])
    const { pubkey } = await whoami(bob)
    await inject(relay.url, dm('first'), { author: generateSecretKey(), to: pubkey })
    expect((await bob.run(['poll'])).code).toBe(0)
    const { knownIds } = JSON.parse(readFileSync(join(bob.home, 'p2p-state.json'), 'utf8'))
    const ids = join(bob.home, 'p2p-known', `${knownIds}.bin`)
    truncateSync(ids, 2 ** 31 + 1) // sparse: no disk is spent
    const status = await bob.run(['status', '--json'])
    expect(status.code, status.stderr).toBe(0)
    expect(status.stderr).toMatch(/ids already taken were unreadable .*2147483649 bytes, more than/)
    await inject(relay.url, dm('second'), { author: generateSecretKey(), to: pubkey })
    const poll = await bob.run(['poll', '--json'])
    expect(poll.code, poll.stderr).toBe(0)
    expect(poll.json().events.map((e: { text: string }) => e.text)).toContain('second')
    expect(existsSync(ids)).toBe(false)
    const after = JSON.parse(readFileSync(join(bob.home, 'p2p-state.json'), 'utf8')).knownIds
    expect(statSync(join(bob.home, 'p2p-known', `${after}.bin`)).size).toBeLessThan(10_000)
    expect((await bob.run(['poll'])).stderr).toBe('')
  })
})
