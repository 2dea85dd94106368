// A stand-in for an agent of the original openclaw-p2p skill (v0.3), written from its wire format
// as its public source has it (plugin/src/nostr-client.ts): presence as kind 30078 with plaintext
// JSON, and every call message as a NIP-04 kind 4 DM whose plaintext is JSON {type, roomId, …}.
// It uses nostr-tools' own NIP-04, so our implementation is checked against another one.
import { randomUUID } from 'node:crypto'
import { decrypt, encrypt } from 'nostr-tools/nip04'
import { type Event, finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure'
import { publishTo } from './publish.ts'
import { inboxFor } from './raw-client.ts'

export type LegacyPayload = { type: string; roomId: string; [key: string]: unknown }

const now = () => Math.floor(Date.now() / 1000)

export class LegacyAgent {
  readonly sk = generateSecretKey()
  readonly pubkey = getPublicKey(this.sk)
  /** DM ids already handed out by `next` */
  private taken = new Set<string>()

  constructor(
    readonly url: string,
    readonly agentId: string,
    readonly name: string,
  ) {}

  /** Announces itself as the original skill does (no `protocols`: it speaks no NIP-17). */
  async announce(capabilities: string[] = []): Promise<void> {
    const content = JSON.stringify({ agentId: this.agentId, name: this.name, capabilities, timestamp: Date.now() })
    const tags = [
      ['d', this.agentId],
      ['t', 'openclaw-p2p'],
    ]
    await publishTo(this.url, finalizeEvent({ kind: 30078, created_at: now(), tags, content }, this.sk))
  }

  /** Sends one protocol message as a kind 4 DM, with `origin` (its agentId) as v0.3 adds to each;
   *  dated `at` (a test may date it back). */
  async send(to: string, payload: LegacyPayload, at = now()): Promise<Event> {
    const content = encrypt(this.sk, to, JSON.stringify({ ...payload, origin: this.agentId }))
    const event = finalizeEvent({ kind: 4, created_at: at, tags: [['p', to]], content }, this.sk)
    await publishTo(this.url, event)
    return event
  }

  /** call_request, as its `call` command sends it; the new roomId. */
  async call(to: string, topic: string, at = now()): Promise<string> {
    const roomId = randomUUID()
    await this.send(to, { type: 'call_request', roomId, agentId: this.agentId, agentName: this.name, topic }, at)
    return roomId
  }

  /** A file as `room_file` (whole, in one DM, as its sendfile does); the event it went in. */
  sendFile(to: string, roomId: string, filename: string, data: Buffer): Promise<Event> {
    return this.send(to, {
      type: 'room_file',
      roomId,
      sender: this.name,
      filename,
      content: data.toString('base64'),
      mimeType: 'application/octet-stream',
    })
  }

  /** Every protocol message sent to it, oldest first, with who sent it and its event. */
  async inbox(): Promise<Array<{ id: string; from: string; payload: LegacyPayload; event: Event }>> {
    const events = (await inboxFor(this.url, this.sk, 4)).sort((a, b) => a.created_at - b.created_at)
    return events.map((e) => ({ id: e.id, from: e.pubkey, payload: JSON.parse(decrypt(this.sk, e.pubkey, e.content)), event: e }))
  }

  /** The first message of `type` not handed out before, waiting up to `ms` for it. */
  async next(type: string, ms = 8_000): Promise<{ from: string; payload: LegacyPayload; event: Event }> {
    const until = Date.now() + ms
    for (;;) {
      const found = (await this.inbox()).find((m) => m.payload.type === type && !this.taken.has(m.id))
      if (found) {
        this.taken.add(found.id)
        return found
      }
      if (Date.now() > until) throw new Error(`no ${type} within ${ms} ms`)
      await new Promise((resolve) => setTimeout(resolve, 200))
    }
  }
}
