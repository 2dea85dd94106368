// A deal closed with the owner's approval (issue 27, points 1-3): the agent escalates, its owner
// answers from a third-party client (rust-nostr, its own NIP-44/59), the agent shows the answer
// to the peer with `share`, and the peer's poll shows it verified; `notify` tells the owner the
// deal is closed, and the peer nothing.
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { RelaySocket } from '../lib/nostr/relay/socket.ts'
import { connected, named, pollEvents, whoami } from './helpers/agents.ts'
import type { Agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

let relay: TestRelay
let socket: RelaySocket
let rust: typeof import('@rust-nostr/nostr-sdk')
beforeAll(async () => {
  relay = await startRelay()
  rust = await import('@rust-nostr/nostr-sdk')
  rust.loadWasmSync()
  const { RelaySocket } = await import('../lib/nostr/relay/socket.ts')
  socket = new RelaySocket(relay.url, { log: () => {} })
  await socket.connect(2_000)
})
afterAll(async () => {
  socket.close()
  await relay.stop()
})

/** The owner's phone: a rust-nostr key that opens what its agent sends it and answers. */
function ownerClient() {
  const keys = rust.Keys.generate()
  const signer = rust.NostrSigner.keys(keys)
  return {
    npub: keys.publicKey.toBech32(),
    /** every DM from its agent, opened (the rumors: their ids are what replies name) */
    async inbox() {
      const wraps: unknown[] = []
      await socket.query([{ kinds: [1059], '#p': [keys.publicKey.toHex()] }], Date.now() + 2_000, (e) => void wraps.push(e))
      const opened = await Promise.all(wraps.map((w) => rust.UnwrappedGift.fromGiftWrap(signer, rust.Event.fromJson(JSON.stringify(w)))))
      return opened.map((o) => ({ id: o.rumor.id?.toHex(), content: o.rumor.content }))
    },
    /** a reply to `to`, naming the message it answers as Amethyst does; the reply's id */
    async reply(to: Agent, text: string, answers: string): Promise<string | undefined> {
      const agentKey = rust.PublicKey.parse((await whoami(to)).pubkey)
      const rumor = rust.EventBuilder.privateMsgRumor(agentKey, text)
        .tags([rust.Tag.parse(['e', answers, '', 'reply', agentKey.toHex()])])
        .build(keys.publicKey)
      const wrap = await rust.EventBuilder.giftWrap(signer, agentKey, rumor)
      expect((await socket.publish(JSON.parse(wrap.asJson()), Date.now() + 2_000)).ok).toBe(true)
      return rumor.id?.toHex()
    },
  }
}

const ok = async (a: Agent, args: string[]) => {
  const r = await a.run([...args, '--json'])
  expect(r.code, r.stderr || r.stdout).toBe(0)
  return r.json()
}

describe('a deal the owner approves, shown to the peer (issue 27, points 1-3)', () => {
  it("the owner's reply to an escalation reaches the peer as a verified owner-proof, with the question; a note reaches the owner only", async () => {
    const [buyer, desk] = await Promise.all([named('buyer', [relay.url]), named('fx-desk', [relay.url])])
    const owner = ownerClient()
    await ok(desk, ['config', 'set', 'owner', owner.npub])
    // a budget asked outside any call: its answer may be shown in any call
    const budget = await ok(desk, ['escalate', 'what may I spend on feeds?'])
    const budgetReply = await owner.reply(desk, 'Up to 50 USD a month.', budget.escalationId)
    expect(await pollEvents(desk)).toEqual([
      expect.objectContaining({ type: 'owner-message', id: budgetReply, escalationId: budget.escalationId, callId: null }),
    ])
    const callId = await connected(buyer, desk, 'a feed price')

    // point 2: escalate says which escalation it sent, as the owner's client names it
    const escalated = await ok(desk, ['escalate', 'buyer offers 12 USD a file for 3 files: accept?'])
    expect(escalated.escalationId).toMatch(/^[0-9a-f]{64}$/)
    const question = (await owner.inbox()).find((m) => m.id === escalated.escalationId)
    if (!question) throw new Error("the escalation's id is not the id of what the owner's client opened")
    expect((await pollEvents(buyer)).map((e) => e.type)).toEqual(['escalation'])

    const replyId = await owner.reply(desk, 'Approved: 12 USD a file, at most 3 files.', question.id as string)
    const [answer] = await pollEvents(desk)
    expect(answer).toMatchObject({ type: 'owner-message', id: replyId, escalationId: escalated.escalationId, callId })

    // point 1: shown to the peer, who checks it
    const shared = await ok(desk, ['share', answer.id])
    expect(shared).toMatchObject({ callId, ownerMessageId: replyId, owner: owner.npub, escalationId: escalated.escalationId })
    const [proof] = await pollEvents(buyer)
    expect(proof).toMatchObject({
      type: 'owner-proof',
      callId,
      from: (await whoami(desk)).npub,
      verified: true,
      text: 'Approved: 12 USD a file, at most 3 files.',
      owner: owner.npub,
      escalationId: escalated.escalationId,
      sentAt: expect.any(Number),
    })
    expect(proof.question).toBe(question.content)
    expect(proof.question).toContain('buyer offers 12 USD a file for 3 files: accept?')
    expect(proof.reason).toBeUndefined()
    expect(await ok(desk, ['share', budgetReply as string])).toMatchObject({ callId, escalationId: budget.escalationId })
    expect(await pollEvents(buyer)).toEqual([
      expect.objectContaining({
        type: 'owner-proof',
        verified: true,
        text: 'Up to 50 USD a month.',
        question: expect.stringContaining('Not in a call.'),
      }),
    ])
    const unknown = await desk.run(['share', 'ab'.repeat(32), '--json'])
    expect([unknown.code, unknown.json().error.code]).toEqual([3, 'no-such-owner-message'])
    // both transcripts say it
    for (const a of [buyer, desk]) expect((await a.run(['history', callId])).stdout).toMatch(/🔏 .*verified: signed by the owner's key/)
    const text = await buyer.run(['history', callId])
    expect(text.stdout).toContain('Approved: 12 USD a file')

    // point 3: a note that asks nothing; the peer is not told
    const note = await ok(desk, ['notify', 'Deal closed with buyer: 3 files at 12 USD.'])
    expect(note).toMatchObject({ callId: null, noteId: expect.stringMatching(/^[0-9a-f]{64}$/) })
    const notes = (await owner.inbox()).filter((m) => m.id === note.noteId)
    expect(notes).toHaveLength(1)
    expect(notes[0].content).toContain('Deal closed with buyer: 3 files at 12 USD.')
    expect(await pollEvents(buyer)).toEqual([])

    // a kept seal damaged on disk is refused with the reason, not a crash
    const file = join(desk.home, 'p2p-state.json')
    const state = JSON.parse(readFileSync(file, 'utf8'))
    state.ownerMessages.find((m: { id: string }) => m.id === answer.id).seal.content = 'not a payload'
    writeFileSync(file, JSON.stringify(state))
    const damaged = await desk.run(['share', answer.id, '--json'])
    expect([damaged.code, damaged.json().error.code]).toEqual([3, 'not-shareable'])
    expect(damaged.json().error.message).toContain('does not open')

    // an answer given in this call is not shown in the next one: its question names this call's
    // peer and topic (and the peer would see it unverified: asked in another call)
    expect((await desk.run(['end'])).code).toBe(0)
    await connected(buyer, desk, 'another deal')
    const elsewhere = await desk.run(['share', answer.id, '--json'])
    expect([elsewhere.code, elsewhere.json().error.code]).toEqual([3, 'not-shareable'])
    expect(elsewhere.json().error.message).toContain(`call ${callId}`)

    // a message of an earlier owner is not shown as the word of the one set now
    await ok(desk, ['config', 'set', 'owner', ownerClient().npub])
    const former = await desk.run(['share', answer.id, '--json'])
    expect([former.code, former.json().error.code]).toEqual([3, 'not-shareable'])
    expect(former.json().error.message).toContain(`from ${owner.npub}, not from your owner now`)
  })

  it('share and notify refuse what they cannot do: an id that is none, no owner, no call', async () => {
    const desk = await named('lonely-desk', [relay.url])
    const bad = await desk.run(['share', 'not-an-id', '--json'])
    expect(bad.code).toBe(2)
    expect(bad.json().error.code).toBe('bad-message-id')
    for (const args of [
      ['notify', 'hello'],
      ['share', 'ab'.repeat(32)],
    ]) {
      const r = await desk.run([...args, '--json'])
      expect(r.code).toBe(3)
      expect(r.json().error).toMatchObject({ code: 'no-owner', hint: expect.stringContaining('config set owner') })
    }
    await ok(desk, ['config', 'set', 'owner', ownerClient().npub])
    const none = await desk.run(['share', 'ab'.repeat(32), '--json'])
    expect(none.code).toBe(3)
    expect(none.json().error.code).toBe('no-active-call')
  })
})
