// Where a DM goes (issue 22, points 5 and 6): NIP-17 says a sender "MUST only publish to the
// relays listed in the recipient's kind 10050", so a 10050 that only an indexer has beats a
// 10002 on our own relays; and a recipient with no list at all is told plainly in the report.
// Built CLI as child processes, real local relays: ours, an indexer, and the owner's relays.

import * as nip19 from 'nostr-tools/nip19'
import { type Event, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agent } from './helpers/cli.ts'
import { publishTo, signed } from './helpers/publish.ts'
import { connect, now, wrapsFor } from './helpers/raw-client.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let ours: TestRelay
let indexer: TestRelay
let ownerInbox: TestRelay
let ownerRead: TestRelay
beforeAll(async () => {
  ;[ours, indexer, ownerInbox, ownerRead] = await Promise.all([startRelay(), startRelay(), startRelay(), startRelay()])
})
afterAll(async () => {
  await Promise.all([ours, indexer, ownerInbox, ownerRead].map((r) => r.stop()))
})

/** An agent on our relay, with the test's indexer and an owner of its own. */
async function agentOwnedBy(ownerSk: Uint8Array) {
  const a = agent([ours.url])
  for (const [key, value] of [
    ['indexers', indexer.url],
    ['owner', nip19.npubEncode(getPublicKey(ownerSk))],
  ]) {
    const set = await a.run(['config', 'set', key, value])
    expect(set.code, set.stderr).toBe(0)
  }
  return a
}

const inboxList = (relays: string[], sk: Uint8Array, at = now()) =>
  signed({ kind: 10050, created_at: at, tags: relays.map((url) => ['relay', url]), content: '' }, sk)
const readRelays = (relays: string[], sk: Uint8Array, at = now()) =>
  signed({ kind: 10002, created_at: at, tags: relays.map((url) => ['r', url, 'read']), content: '' }, sk)

/** The events of `kind` by `pubkey` that `url` holds. */
async function heldBy(url: string, pubkey: string, kind: number): Promise<Event[]> {
  const c = await connect(url)
  try {
    return (await c.req('lists', { kinds: [kind], authors: [pubkey] })).filter((f) => f[0] === 'EVENT').map((f) => f[2] as Event)
  } finally {
    c.close()
  }
}

describe.concurrent('the recipient inbox lookup', () => {
  it("a 10050 only an indexer has wins over a 10002 on our relay: the DM goes to the 10050's relays only", async () => {
    const ownerSk = generateSecretKey()
    await publishTo(ours.url, readRelays([ownerRead.url], ownerSk))
    await publishTo(indexer.url, inboxList([ownerInbox.url], ownerSk))
    const a = await agentOwnedBy(ownerSk)

    const r = await a.run(['escalate', 'may I buy the dataset?', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json()).toMatchObject({ owner: { relaySource: 'nip17' }, inboxSource: 'nip17', delivered: true, queued: false })
    expect(r.json().relays).toEqual([{ url: ownerInbox.url, ok: true }])
    expect(await wrapsFor(ownerInbox.url, ownerSk)).toHaveLength(1)
    expect(await wrapsFor(ownerRead.url, ownerSk)).toHaveLength(0)
    expect(await wrapsFor(ours.url, ownerSk)).toHaveLength(0)
  })

  it('the newest 10050 wins wherever it is, and a 10002 is used only when no 10050 exists anywhere', async () => {
    const ownerSk = generateSecretKey()
    // an old inbox list on our relay, a newer one on the indexer: the indexer's is the list
    await publishTo(ours.url, inboxList([ownerRead.url], ownerSk, now() - 3600))
    await publishTo(indexer.url, inboxList([ownerInbox.url], ownerSk))
    const a = await agentOwnedBy(ownerSk)
    const r = await a.run(['escalate', 'which list?', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json().relays).toEqual([{ url: ownerInbox.url, ok: true }])

    // only a 10002 (on the indexer): its read relays
    const otherSk = generateSecretKey()
    await publishTo(indexer.url, readRelays([ownerRead.url], otherSk))
    const b = await agentOwnedBy(otherSk)
    const s = await b.run(['escalate', 'read relays then', '--json'])
    expect(s.code, s.stderr).toBe(0)
    expect(s.json()).toMatchObject({ owner: { relaySource: 'nip65' }, inboxSource: 'nip65', delivered: true })
    expect(s.json().relays).toEqual([{ url: ownerRead.url, ok: true }])
  })

  it('our own 10050, 10002 and profile reach a new indexer on the next run, not a day later', async () => {
    const a = await agentOwnedBy(generateSecretKey())
    expect((await a.run(['status', '--verbose'])).stderr).toMatch(/indexers: lists and profile published/)
    const another = await startRelay()
    try {
      expect((await a.run(['config', 'set', 'indexers', another.url])).code).toBe(0)
      expect((await a.run(['status', '--verbose'])).stderr).toMatch(/indexers: lists and profile published/)
      const pubkey = (await a.run(['whoami', '--json'])).json().pubkey
      const held = await Promise.all([0, 10002, 10050].map((kind) => heldBy(another.url, pubkey, kind)))
      expect(held.map((events) => events.length)).toEqual([1, 1, 1])
      expect(held[2][0].tags).toEqual([['relay', ours.url]])
    } finally {
      await another.stop()
    }
  })

  it('a recipient with no list anywhere: published to our relays, and the report says it may never be seen', async () => {
    const ownerSk = generateSecretKey()
    const a = await agentOwnedBy(ownerSk)

    const r = await a.run(['escalate', 'anyone there?', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(r.json()).toMatchObject({
      owner: { relaySource: 'ours' },
      inboxSource: 'ours',
      inboxListed: false,
      delivered: false,
      queued: false,
      failed: false,
    })
    expect(r.json().relays).toEqual([{ url: ours.url, ok: true }])
    expect(await wrapsFor(ours.url, ownerSk)).toHaveLength(1)
    // not queued: a later run does not publish it again
    expect((await a.run(['outbox', '--json'])).json().outbox).toEqual([])

    const plain = await a.run(['escalate', 'still there?'])
    expect(plain.code, plain.stderr).toBe(0)
    expect(plain.stdout).toMatch(/publishes no inbox list/)
    expect(plain.stdout).toMatch(/may never see it/)
  })
})
