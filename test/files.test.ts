// Received files (issue 12, points 2-6): a file that cannot be saved is reported and never stops
// a sync, no file replaces another, a queued file whose copy is gone is given up, overlapping
// polls save a file once, and a file sent before `end` is kept like a message.

import { createHash, randomBytes } from 'node:crypto'
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CHUNK_BYTES, MAX_FILE_NAME_BYTES } from '../lib/limits.ts'
import { isSafeFileName, type P2PMessage } from '../lib/nostr/p2p.ts'
import { PARTIAL_CLAIM_STALE_MS } from '../lib/timing.ts'
import { forwardAll, type GateRelay, refuseKind, startGate } from './helpers/gate-relay.ts'
import { callBetween, inject, secretOf } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
beforeAll(async () => {
  relay = await startRelay()
})
afterAll(() => relay.stop())

const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex')

/** A one-chunk file as a peer sends it. */
function oneChunk(callId: string, name: string, content: string): P2PMessage {
  const data = Buffer.from(content)
  const chunk = { fileId: randomBytes(8).toString('hex'), name, size: data.length, sha256: sha256(data), index: 0, total: 1 }
  return { type: 'file-chunk', callId, chunk: { ...chunk, data: data.toString('base64') } }
}

const types = (events: Array<{ type: string }>) => events.map((e) => e.type)

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('files', () => {
  describe('a file that cannot be saved (point 2)', () => {
    it('names are limited in UTF-8 bytes, not UTF-16 units', () => {
      expect(isSafeFileName('報'.repeat(66))).toBe(true) // 198 bytes
      expect(isSafeFileName('報'.repeat(67))).toBe(false) // 201 bytes, 67 units
      expect(isSafeFileName('a'.repeat(MAX_FILE_NAME_BYTES))).toBe(true)
    })

    it('a name too long in bytes, or a folder that cannot be written, is reported and never stops the sync', async () => {
      const { alice, bob, callId, bobKey } = await callBetween([relay.url])
      const cjk = '報'.repeat(100) // 100 UTF-16 units, 300 bytes: more than a file name may take
      await inject(relay.url, oneChunk(callId, cjk, 'long name'), { author: secretOf(alice), to: bobKey })
      await inject(relay.url, { type: 'message', callId, text: 'still here' }, { author: secretOf(alice), to: bobKey })
      const r = await bob.run(['poll', '--json', '--verbose'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json().events.map((e: { text?: string }) => e.text)).toEqual(['still here'])
      // nor can we send such a name: refused before anything is recorded
      const sent = await alice.run(['sendfile', cjk, Buffer.from('x').toString('base64'), '--json'])
      expect(sent.code).toBe(2)
      expect(sent.json().error.code).toBe('bad-file-name')

      // a place that cannot be written (as a full disk): the file is reported, the rest goes on
      const partial = join(bob.home, 'p2p-files', '.partial')
      rmSync(partial, { recursive: true, force: true })
      mkdirSync(dirname(partial), { recursive: true })
      writeFileSync(partial, '')
      await inject(relay.url, oneChunk(callId, 'ok.txt', 'fine'), { author: secretOf(alice), to: bobKey })
      await inject(relay.url, { type: 'message', callId, text: 'after the file' }, { author: secretOf(alice), to: bobKey })
      const next = await bob.run(['poll', '--json'])
      expect(next.code, next.stderr).toBe(0)
      expect(next.json().events.map((e: { text?: string }) => e.text)).toEqual(['after the file'])
      expect(next.stderr).toMatch(/could not save file ok\.txt .*ENOTDIR/)
      // the wrap was marked seen: later runs are quiet, and every command works
      const again = await bob.run(['poll', '--json'])
      expect(again.code, again.stderr).toBe(0)
      expect(again.stderr).toBe('')
      expect((await bob.run(['send', 'all good'])).code).toBe(0)
    })
  })

  describe('a full disk (issue 23, point 11)', () => {
    it('leaves no temp file of a file it could not save, and clears those a killed run left', async () => {
      const { alice, bob, callId, bobKey } = await callBetween([relay.url])
      const data = randomBytes(3 * CHUNK_BYTES)
      const file = { fileId: randomBytes(8).toString('hex'), name: 'big.bin', size: data.length, sha256: sha256(data), total: 3 }
      for (let index = 0; index < 3; index++) {
        const part = data.subarray(index * CHUNK_BYTES, (index + 1) * CHUNK_BYTES).toString('base64')
        const chunk = { ...file, index, data: part }
        await inject(relay.url, { type: 'file-chunk', callId, chunk }, { author: secretOf(alice), to: bobKey })
      }
      await inject(relay.url, { type: 'message', callId, text: 'after the file' }, { author: secretOf(alice), to: bobKey })
      // each chunk fits, the assembled file does not: its write fails part way, as on a full disk
      const full = await bob.run(['poll', '--json'], { maxFileBytes: 2 * CHUNK_BYTES })
      expect(full.code, full.stderr).toBe(0)
      expect(full.stderr).toMatch(/could not save file big\.bin .*EFBIG/)
      expect(full.json().events.map((e: { text?: string }) => e.text)).toEqual(['after the file'])
      const folder = join(bob.home, 'p2p-files', callId)
      expect(readdirSync(folder)).toEqual([])

      // what a run killed while saving left: cleared once untouched for a while, not before
      const old = join(folder, '.0123456789abcdef.4242.cafe.tmp')
      const fresh = join(folder, '.fedcba9876543210.4343.beef.tmp')
      for (const path of [old, fresh]) writeFileSync(path, 'half a file')
      const longAgo = (Date.now() - PARTIAL_CLAIM_STALE_MS - 60_000) / 1000
      utimesSync(old, longAgo, longAgo)
      await inject(relay.url, oneChunk(callId, 'small.txt', 'fits'), { author: secretOf(alice), to: bobKey })
      const next = await bob.run(['poll', '--json'])
      expect(next.code, next.stderr).toBe(0)
      expect(readdirSync(folder).sort()).toEqual([basename(fresh), 'small.txt'])
    })
  })

  describe('names on disk (point 3)', () => {
    it('a received file never replaces another received file, nor our own sent copy', async () => {
      const { alice, bob, callId } = await callBetween([relay.url])
      const ours = await alice.run(['sendfile', 'report.txt', Buffer.from('AAAA').toString('base64'), '--json'])
      expect(ours.code, ours.stderr).toBe(0)
      const oursPath = ours.json().file.path
      for (const content of ['BBBB', 'CCCC']) {
        expect((await bob.run(['sendfile', 'report.txt', Buffer.from(content).toString('base64')])).code).toBe(0)
      }
      const events = (await alice.run(['poll', '--json'])).json().events.filter((e: { type: string }) => e.type === 'file')
      expect(events.map((e: { file: { sha256: string } }) => e.file.sha256)).toEqual([sha256('BBBB'), sha256('CCCC')])
      for (const e of events) expect(sha256(readFileSync(e.file.path))).toBe(e.file.sha256)
      expect(readFileSync(oursPath, 'utf8')).toBe('AAAA')
      expect(new Set([oursPath, ...events.map((e: { file: { path: string } }) => e.file.path)]).size).toBe(3)
      expect(readdirSync(join(alice.home, 'p2p-files', callId)).sort()).toHaveLength(3)
    })
  })

  describe('a queued file whose saved copy is gone (point 4)', () => {
    let gate: GateRelay
    beforeAll(async () => {
      gate = await startGate(relay.url)
    })
    afterAll(() => gate.stop())

    it('is given up with that reason, and every command still works', async () => {
      const { alice } = await callBetween([gate.url])
      gate.policy = refuseKind(1059, 'error: try again later')
      const sent = await alice.run(['sendfile', 'gone.txt', Buffer.from('soon gone').toString('base64'), '--json'])
      expect(sent.code).toBe(4)
      rmSync(sent.json().file.path)
      gate.policy = forwardAll
      const next = await alice.run(['send', 'and now?'])
      expect(next.code, next.stderr).toBe(0)
      expect(next.stderr).toMatch(/gave up .*gone\.txt.*saved copy cannot be read/)
      const state = JSON.parse(readFileSync(join(alice.home, 'p2p-state.json'), 'utf8'))
      expect(state.outbox.map((e: { gaveUp?: { why: string } }) => e.gaveUp?.why)).toEqual([expect.stringMatching(/ENOENT/)])
      for (const args of [['status'], ['poll'], ['end']]) expect((await alice.run(args)).code).toBe(0)
    })
  })

  describe('overlapping polls (point 5)', () => {
    it('receive a file once, without errors, and leave no partial chunks behind', async () => {
      const { alice, bob, callId } = await callBetween([relay.url])
      const files: Buffer[] = []
      for (let round = 0; round < 3; round++) {
        const data = randomBytes(5 * 15_000 - 7) // five chunks
        files.push(data)
        expect((await bob.run(['sendfile', `f${round}.bin`, '-'], { stdin: data.toString('base64') })).code).toBe(0)
        const polls = await Promise.all(Array.from({ length: 8 }, () => alice.run(['poll', '--json', '--timeout', '15000'])))
        for (const p of polls) expect(p.code, p.stdout + p.stderr).toBe(0)
        const got = polls.flatMap((p) => p.json().events).filter((e) => e.type === 'file')
        expect(got).toHaveLength(1)
        expect(readFileSync(got[0].file.path).equals(data)).toBe(true)
      }
      expect(readdirSync(join(alice.home, 'p2p-files', callId)).sort()).toEqual(['f0.bin', 'f1.bin', 'f2.bin'])
      const partial = join(alice.home, 'p2p-files', '.partial')
      const left = readdirSync(partial).filter((f) => statSync(join(partial, f)).isDirectory())
      expect(left).toEqual([])
    }, 120_000)
  })

  describe('a file sent before the end (point 6)', () => {
    it('arriving after the end joins the transcript, as a message would; one dated after it does not', async () => {
      const { alice, bob, callId, bobKey } = await callBetween([relay.url])
      expect((await alice.run(['end'])).code).toBe(0)
      expect(types(await bob.run(['poll', '--json']).then((r) => r.json().events))).toEqual(['call-ended'])
      const endedAt = (await bob.run(['history', callId, '--json'])).json().call.endedAt
      await inject(relay.url, oneChunk(callId, 'before.txt', 'sent in time'), { author: secretOf(alice), to: bobKey, at: endedAt - 1 })
      await inject(relay.url, oneChunk(callId, 'after.txt', 'too late'), { author: secretOf(alice), to: bobKey, at: endedAt + 5 })
      const r = await bob.run(['poll', '--json'])
      expect(r.code, r.stderr).toBe(0)
      const events = r.json().events
      expect(types(events)).toEqual(['file'])
      expect(events[0].file).toMatchObject({ name: 'before.txt', sha256: sha256('sent in time') })
      const transcript = (await bob.run(['history', callId, '--json'])).json().transcript
      expect(transcript.messages.map((m: { text: string }) => m.text)).toEqual(['before.txt'])
      expect(readFileSync(join(bob.home, 'p2p-transcripts', `${callId}.md`), 'utf8')).toContain('before.txt')
    })
  })
})
