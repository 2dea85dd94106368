// Interoperation with an independent Nostr implementation: NDK (@nostr-dev-kit/ndk 3.0.3,
// its own NIP-59/NIP-17 gift-wrap code) plays the owner's phone and a stranger's client.

import NDK, { giftUnwrap, giftWrap, NDKEvent, NDKPrivateKeySigner, NDKRelaySet, NDKUser } from '@nostr-dev-kit/ndk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import { type Agent, agent } from './helpers/cli.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'

// Node 20 has no global WebSocket; NDK opens its sockets with the global one.
;(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket

let agentRelay: TestRelay
let ownerInbox: TestRelay
beforeAll(async () => {
  ;[agentRelay, ownerInbox] = await Promise.all([startRelay(), startRelay()])
})
afterAll(async () => {
  await Promise.all([agentRelay.stop(), ownerInbox.stop()])
})

/** A person's Nostr client: an NDK instance with its own key. */
async function client(relays: string[]) {
  const signer = NDKPrivateKeySigner.generate()
  const ndk = new NDK({ explicitRelayUrls: relays, signer })
  await ndk.connect(2_000)
  const user = await signer.user()
  const set = (urls: string[]) => NDKRelaySet.fromRelayUrls(urls, ndk)
  return {
    ndk,
    signer,
    user,
    /** publishes a kind 10050 inbox list naming `inbox`, on `on` */
    async publishInboxList(inbox: string[], on: string[]) {
      const list = new NDKEvent(ndk, {
        kind: 10050,
        content: '',
        tags: inbox.map((u) => ['relay', u]),
        created_at: Math.floor(Date.now() / 1000),
      })
      await list.sign(signer)
      await list.publish(set(on))
    },
    /** every NIP-17 DM waiting for this user on `urls`, opened */
    async inbox(urls: string[]) {
      const wraps = await ndk.fetchEvents({ kinds: [1059], '#p': [user.pubkey] }, { closeOnEose: true, groupable: false }, set(urls))
      return Promise.all([...wraps].map((w) => giftUnwrap(w, undefined, signer)))
    },
    /** sends a NIP-17 DM the way NDK does it: to the recipient's kind 10050 relays */
    async dm(recipientHex: string, text: string, lookupOn: string[]) {
      const lists = await ndk.fetchEvents(
        { kinds: [10050], authors: [recipientHex] },
        { closeOnEose: true, groupable: false },
        set(lookupOn),
      )
      const inboxRelays = [...lists].flatMap((e) => e.tags.filter((t) => t[0] === 'relay').map((t) => t[1]))
      expect(inboxRelays.length).toBeGreaterThan(0)
      const rumor = new NDKEvent(ndk, { kind: 14, content: text, tags: [['p', recipientHex]], created_at: Math.floor(Date.now() / 1000) })
      const recipient = new NDKUser({ pubkey: recipientHex })
      const wrap = await giftWrap(rumor, recipient, signer)
      const published = await wrap.publish(set(inboxRelays))
      expect(published.size).toBeGreaterThan(0)
    },
  }
}

async function named(name: string): Promise<Agent> {
  const a = agent([agentRelay.url])
  expect((await a.run(['config', 'set', 'name', name])).code).toBe(0)
  expect((await a.run(['status'])).code).toBe(0)
  return a
}
const whoami = async (a: Agent) => (await a.run(['whoami', '--json'])).json() as { npub: string; pubkey: string }
const poll = async (a: Agent) => {
  const r = await a.run(['poll', '--json'])
  expect(r.code, r.stderr).toBe(0)
  return r.json().events as Array<Record<string, string | undefined>>
}

// independent tests (each its own agents and owner keys; the shared relays only serve them): two at a time
describe.concurrent('interop', () => {
  describe('escalation to a human owner on an ordinary Nostr client (NDK)', () => {
    it('the owner reads the escalation on their inbox relays, the peer is told, and the reply comes back', async () => {
      const owner = await client([agentRelay.url, ownerInbox.url])
      // the owner's phone announces its inbox relay on the relay the agent uses
      await owner.publishInboxList([ownerInbox.url], [agentRelay.url])

      const alice = await named('alice')
      const bob = await named('bob')
      expect((await alice.run(['config', 'set', 'owner', owner.user.npub])).code).toBe(0)
      expect((await alice.run(['whoami', '--json'])).json().owner).toBe(owner.user.npub)

      const call = await alice.run(['call', (await whoami(bob)).npub, 'buy the dataset', '--json'])
      const callId = call.json().call.id
      await poll(bob)
      expect((await bob.run(['answer', 'accept'])).code).toBe(0)
      await poll(alice)

      const escalated = await alice.run(['escalate', 'bob asks for 40 USD for the dataset: approve?', '--json'])
      expect(escalated.code, escalated.stderr).toBe(0)
      expect(escalated.json()).toMatchObject({
        callId,
        queued: false,
        peerNotified: true,
        owner: { npub: owner.user.npub, relaySource: 'nip17' },
      })
      expect(escalated.json().relays).toEqual([{ url: ownerInbox.url, ok: true }])

      const received = await owner.inbox([ownerInbox.url])
      expect(received).toHaveLength(1)
      const [dm] = received
      expect(dm.kind).toBe(14)
      expect(dm.pubkey).toBe((await whoami(alice)).pubkey)
      expect(dm.content).toContain('bob asks for 40 USD for the dataset: approve?')
      expect(dm.content).toContain('alice')
      expect(dm.content).toContain(`nostr:${(await whoami(alice)).npub}`) // a link in phone clients (NIP-21)
      expect(dm.content).toContain('buy the dataset')
      expect(dm.content).toMatch(/reply/i)

      expect(await poll(bob)).toEqual([
        expect.objectContaining({ type: 'escalation', callId, reason: 'bob asks for 40 USD for the dataset: approve?' }),
      ])

      await owner.dm((await whoami(alice)).pubkey, 'Approved, but no more than 40.', [agentRelay.url])
      const events = await poll(alice)
      expect(events).toEqual([
        expect.objectContaining({ type: 'owner-message', callId, from: owner.user.npub, text: 'Approved, but no more than 40.' }),
      ])
      expect(events[0].escalationId).toEqual(expect.any(String))
      const transcript = (await alice.run(['history', callId, '--json'])).json().transcript.messages
      expect(transcript.map((m: { text: string }) => m.text)).toContain('Approved, but no more than 40.')
    })

    it('an escalation outside a call still reaches the owner, through their NIP-65 relays when they list no inbox', async () => {
      const owner = await client([agentRelay.url, ownerInbox.url])
      const list = new NDKEvent(owner.ndk, {
        kind: 10002,
        content: '',
        tags: [['r', ownerInbox.url, 'read']],
        created_at: Math.floor(Date.now() / 1000),
      })
      await list.sign(owner.signer)
      await list.publish(NDKRelaySet.fromRelayUrls([agentRelay.url], owner.ndk))

      const carol = await named('carol')
      expect((await carol.run(['config', 'set', 'owner', owner.user.pubkey])).code).toBe(0)
      const r = await carol.run(['escalate', 'may I share the report publicly?', '--json'])
      expect(r.code, r.stderr).toBe(0)
      expect(r.json()).toMatchObject({ callId: null, peerNotified: null, owner: { relaySource: 'nip65' } })
      const [dm] = await owner.inbox([ownerInbox.url])
      expect(dm.content).toContain('may I share the report publicly?')
      expect(dm.content).toContain('Not in a call.')
    })

    it('indexer relays get our lists and profile, and find the owner whose lists only they have (issue 14, point 4)', async () => {
      const indexer = await startRelay()
      try {
        const owner = await client([indexer.url, ownerInbox.url])
        // the owner's client publishes its inbox list to the indexer only
        await owner.publishInboxList([ownerInbox.url], [indexer.url])
        const hana = agent([agentRelay.url])
        expect((await hana.run(['config', 'set', 'indexers', indexer.url])).code).toBe(0)
        expect((await hana.run(['config', 'set', 'owner', owner.user.npub])).code).toBe(0)
        const first = await hana.run(['status', '--verbose'])
        expect(first.stderr).toMatch(/indexers: lists and profile published/)
        const pubkey = (await whoami(hana)).pubkey
        const onIndexer = await owner.ndk.fetchEvents(
          { kinds: [0, 10002, 10050], authors: [pubkey] },
          { closeOnEose: true, groupable: false },
          NDKRelaySet.fromRelayUrls([indexer.url], owner.ndk),
        )
        expect([...onIndexer].map((e) => e.kind).sort((a, b) => (a ?? 0) - (b ?? 0))).toEqual([0, 10002, 10050])
        // not every run: only when what we say changes, or once a day
        expect((await hana.run(['status', '--verbose'])).stderr).not.toMatch(/indexers:/)
        const escalated = (await hana.run(['escalate', 'found you through the indexer?', '--json'])).json()
        expect(escalated.owner.relaySource).toBe('nip17')
        expect(escalated.relays).toEqual([{ url: ownerInbox.url, ok: true }])
        expect((await owner.inbox([ownerInbox.url])).map((dm) => dm.content).join('\n')).toContain('found you through the indexer?')
      } finally {
        await indexer.stop()
      }
    })

    it('without an owner, escalate says how to set one', async () => {
      const dave = await named('dave')
      const r = await dave.run(['escalate', 'help', '--json'])
      expect(r.code).toBe(3)
      expect(r.json().error).toMatchObject({ code: 'no-owner' })
      expect(r.json().error.hint).toContain('config set owner')
    })
  })

  describe('direct messages from other clients', () => {
    it('a DM from a stranger with no call shows as a direct-message event', async () => {
      const erin = await named('erin')
      const stranger = await client([agentRelay.url])
      await stranger.dm((await whoami(erin)).pubkey, 'hi erin, are you the agent that summarises papers?', [agentRelay.url])
      expect(await poll(erin)).toEqual([
        expect.objectContaining({
          type: 'direct-message',
          callId: null,
          from: stranger.user.npub,
          text: 'hi erin, are you the agent that summarises papers?',
        }),
      ])
      expect(await poll(erin)).toEqual([])
    })
  })

  describe('a second independent implementation: rust-nostr (Rust compiled to WASM, its own NIP-44/59)', () => {
    it('opens our escalation, and its reply reaches the agent as an owner-message', async () => {
      const {
        loadWasmSync,
        Keys,
        NostrSigner,
        EventBuilder,
        UnwrappedGift,
        Event: RustEvent,
        PublicKey,
      } = await import('@rust-nostr/nostr-sdk')
      const { RelaySocket } = await import('../lib/nostr/relay/socket.ts')
      loadWasmSync()
      const keys = Keys.generate()
      const signer = NostrSigner.keys(keys)
      const frank = await named('frank')
      expect((await frank.run(['config', 'set', 'owner', keys.publicKey.toBech32()])).code).toBe(0)
      expect((await frank.run(['escalate', 'rust check: may I proceed?'])).code).toBe(0)

      // the owner has no relay list: the escalation went to the agent's own relays
      const socket = new RelaySocket(agentRelay.url, { log: () => {} })
      await socket.connect(2_000)
      const wraps: unknown[] = []
      await socket.query([{ kinds: [1059], '#p': [keys.publicKey.toHex()] }], Date.now() + 2_000, (e) => void wraps.push(e))
      expect(wraps).toHaveLength(1)
      const opened = await UnwrappedGift.fromGiftWrap(signer, RustEvent.fromJson(JSON.stringify(wraps[0])))
      expect(opened.sender.toHex()).toBe((await whoami(frank)).pubkey)
      expect(opened.rumor.content).toContain('rust check: may I proceed?')

      const agentKey = PublicKey.parse((await whoami(frank)).pubkey)
      const reply = EventBuilder.privateMsgRumor(agentKey, 'Rust says yes.').build(keys.publicKey)
      const wrap = await EventBuilder.giftWrap(signer, agentKey, reply)
      const status = await socket.publish(JSON.parse(wrap.asJson()), Date.now() + 2_000)
      socket.close()
      expect(status.ok).toBe(true)
      expect(await poll(frank)).toEqual([expect.objectContaining({ type: 'owner-message', text: 'Rust says yes.', callId: null })])
    })

    it('a reply to an earlier escalation, a reaction and a file message reach the agent, each linked (issue 14, points 2-3)', async () => {
      const { loadWasmSync, Keys, NostrSigner, EventBuilder, Kind, Tag, EventId, PublicKey, Metadata } = await import(
        '@rust-nostr/nostr-sdk'
      )
      const { RelaySocket } = await import('../lib/nostr/relay/socket.ts')
      loadWasmSync()
      const keys = Keys.generate()
      const signer = NostrSigner.keys(keys)
      const gina = await named('gina')
      expect((await gina.run(['config', 'set', 'owner', keys.publicKey.toBech32()])).code).toBe(0)
      const first = (await gina.run(['escalate', 'first question', '--json'])).json()
      const second = (await gina.run(['escalate', 'second question', '--json'])).json()
      expect(first.code ?? 0).toBe(0)
      // the escalations' ids, as the owner's client sees them: the rumors it opened
      const socket = new RelaySocket(agentRelay.url, { log: () => {} })
      await socket.connect(2_000)
      const agentKey = PublicKey.parse((await whoami(gina)).pubkey)
      const send = async (builder: InstanceType<typeof EventBuilder>) => {
        const wrap = await EventBuilder.giftWrap(signer, agentKey, builder.build(keys.publicKey))
        expect((await socket.publish(JSON.parse(wrap.asJson()), Date.now() + 2_000)).ok).toBe(true)
      }
      const [firstId, secondId] = [first.owner.escalationId, second.owner.escalationId] as string[]
      expect(firstId).toMatch(/^[0-9a-f]{64}$/)
      // Amethyst's reply form: ["e", id, relay, "reply", pubkey]
      await send(
        EventBuilder.privateMsgRumor(agentKey, 'yes to the first').tags([Tag.parse(['e', firstId, '', 'reply', agentKey.toHex()])]),
      )
      await send(EventBuilder.reactionExtended(EventId.parse(secondId), agentKey, new Kind(14), '👍'))
      const key = 'a'.repeat(64)
      await send(
        new EventBuilder(new Kind(15), 'https://files.example/abc.jpg').tags([
          Tag.parse(['p', agentKey.toHex()]),
          Tag.parse(['file-type', 'image/jpeg']),
          Tag.parse(['encryption-algorithm', 'aes-gcm']),
          Tag.parse(['decryption-key', key]),
          Tag.parse(['decryption-nonce', 'b'.repeat(24)]),
          Tag.parse(['size', '1234']),
        ]),
      )
      // the agent's profile, as this client reads it (kind 0, NIP-24's bot flag kept)
      const profiles: Array<{ content: string }> = []
      await socket.query([{ kinds: [0], authors: [agentKey.toHex()] }], Date.now() + 2_000, (e) => void profiles.push(e))
      expect(profiles).toHaveLength(1)
      const metadata = Metadata.fromJson(profiles[0].content)
      expect(metadata.getName()).toBe('gina')
      expect(JSON.parse(metadata.asJson())).toMatchObject({ name: 'gina', bot: true })
      // 0xchat's disappearing message: already expired, never shown
      await send(
        EventBuilder.privateMsgRumor(agentKey, 'gone').tags([Tag.parse(['expiration', String(Math.floor(Date.now() / 1000) - 5)])]),
      )
      socket.close()
      const events = await poll(gina)
      expect(events).toHaveLength(3)
      const byKind = Object.fromEntries(events.map((e) => [String(e.kind), e]))
      expect(byKind['14']).toMatchObject({ type: 'owner-message', text: 'yes to the first', escalationId: firstId })
      expect(byKind['7']).toMatchObject({ type: 'owner-message', text: '👍', reactsTo: secondId, escalationId: secondId })
      expect(byKind['15']).toMatchObject({
        type: 'owner-message',
        escalationId: secondId,
        file: {
          url: 'https://files.example/abc.jpg',
          type: 'image/jpeg',
          size: 1234,
          encryption: { algorithm: 'aes-gcm', key, nonce: 'b'.repeat(24) },
        },
      })
    })
  })
})
