// Every command line in the examples of SKILL.md and of its Chinese twin SKILL.zh.md, run in
// order against a local relay, with a second agent (research-bot) and the owner playing their
// parts: the skill files cannot drift from the code. The hook the skill shows is the hook the
// examples run, and the sample event it shows has the fields a real one has. The two files
// cannot drift from each other: same front matter keys, same sections, the same code blocks
// byte for byte (commands, the hook, the sample event) and the same inline code per section.
// The examples are written `node {baseDir}/p2p.js …`, OpenClaw's placeholder for the skill's own
// folder: they run with it replaced by the folder the skill is installed in, from another folder.

import { spawn } from 'node:child_process'
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { generateSecretKey } from 'nostr-tools/pure'
import { describe, expect, it } from 'vitest'
import {
  DEFAULT_IDLE_TIMEOUT_S,
  DEFAULT_ONLINE_WINDOW_S,
  HOOK_TIMEOUT_MS,
  MAX_WAIT_S,
  PARTIAL_FILE_TTL_S,
  PRESENCE_EXPIRY_S,
  PRESENCE_REFRESH_S,
  RING_TIMEOUT_S,
} from '../lib/timing.ts'
import { type Agent, agent, CLI, HERMETIC, tempHome } from './helpers/cli.ts'
import { inject } from './helpers/inject.ts'
import { startRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

const read = (file: string) => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8')

interface Skill {
  file: string
  text: string
  frontMatter: Array<[key: string, value: string]>
  /** `#` and `##` headings, and the text under each */
  sections: Array<{ heading: string; body: string }>
  blocks: Array<{ lang: string; body: string }>
  /** the lines of the ```bash blocks, in order: what the test runs (`{baseDir}` not yet replaced) */
  examples: string[]
}

function parse(file: string): Skill {
  const text = read(file)
  const head = text.match(/^---\n([\s\S]*?)\n---\n/)
  const frontMatter = (head?.[1].split('\n') ?? []).map((l): [string, string] => {
    const at = l.indexOf(':')
    return [l.slice(0, at), l.slice(at + 1).trim()]
  })
  const blocks = [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((m) => ({ lang: m[1], body: m[2] }))
  const prose = text.replace(/^```\w*\n[\s\S]*?^```$/gm, '')
  const sections = prose
    .split(/^(?=#{1,2} )/m)
    .slice(1)
    .map((s) => ({ heading: s.split('\n')[0], body: s }))
  const examples = blocks.filter((b) => b.lang === 'bash').flatMap((b) => b.body.split('\n').filter((l) => l.trim()))
  return { file, text, frontMatter, sections, blocks, examples }
}

const SKILLS = [parse('SKILL.md'), parse('SKILL.zh.md')]
const [EN, ZH] = SKILLS
// the owner in SKILL.md's example: the key whose secret is 32 bytes of 7
/** a stranger's call that the sample hook must decline */
const STRANGER_CALL = '57a11e7ca1'
const OWNER_SECRET = new Uint8Array(32).fill(7)
// how each file writes a duration
const UNITS: Record<string, { s: string; min: string; days: string }> = {
  'SKILL.md': { s: ' seconds', min: ' minutes', days: ' days' },
  'SKILL.zh.md': { s: ' 秒', min: ' 分钟', days: ' 天' },
}
/** How the skill runs the CLI: from its own folder, whatever the shell's folder. */
const RUN = 'node {baseDir}/p2p.js'
/** An example line as the agent runs it: `{baseDir}` is the folder the skill is installed in. */
const inFolder = (line: string, skillDir: string) => line.replaceAll('{baseDir}', skillDir)
/** The event types of the contract, as the code declares them. */
const EVENT_TYPES = [
  ...(read('lib/store/schema.ts').match(/export interface P2PEvent \{\s*type:([^}]*?)callId/)?.[1] ?? '').matchAll(/'([a-z-]+)'/g),
].map((m) => m[1])

function shell(line: string, cwd: string, env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', line], { cwd, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

const inlineCode = (s: string) => [...s.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]).sort()

// independent tests (each its own agents; shared relays only serve them): two at a time
describe.concurrent('skill', () => {
  describe('SKILL.md and SKILL.zh.md say the same', () => {
    it('same front matter keys and name, a translated description', () => {
      expect(EN.text).toMatch(/^---\nname: p2p-comm\ndescription: .+\nversion: .+\nmetadata: .+\n---\n/)
      expect(ZH.frontMatter.map(([k]) => k)).toEqual(EN.frontMatter.map(([k]) => k))
      expect(Object.fromEntries(ZH.frontMatter).name).toBe(Object.fromEntries(EN.frontMatter).name)
      expect(Object.fromEntries(ZH.frontMatter).description).toMatch(/\p{Script=Han}/u)
    })

    it('front matter as OpenClaw and ClawHub read it: a short description, the version, node, the environment (issue 27, point 8)', () => {
      const version = JSON.parse(read('package.json')).version
      for (const skill of SKILLS) {
        const head = Object.fromEntries(skill.frontMatter)
        // OpenClaw advises at most 160 characters, and its compact prompt cuts at 220
        expect([...head.description].length, skill.file).toBeLessThanOrEqual(160)
        expect(head.description, skill.file).not.toMatch(/: /) // a plain YAML scalar: no ": " inside
        expect(head.version, skill.file).toBe(version)
        // one line of JSON: OpenClaw's own front matter parser reads single-line keys
        const { openclaw } = JSON.parse(head.metadata)
        expect(openclaw.requires.bins).toEqual(['node'])
        expect(openclaw.envVars.map((v: { name: string; required: boolean }) => `${v.name} ${v.required}`)).toEqual([
          'P2P_HOME false',
          'P2P_RELAYS false',
        ])
      }
    })

    it('same sections, the same code blocks byte for byte, the same inline code per section', () => {
      expect(ZH.sections.length).toBe(EN.sections.length)
      expect(ZH.sections.map((s) => s.heading.match(/^#+/)?.[0])).toEqual(EN.sections.map((s) => s.heading.match(/^#+/)?.[0]))
      expect(ZH.blocks).toEqual(EN.blocks)
      EN.sections.forEach((en, i) => {
        expect(inlineCode(ZH.sections[i].body), `${en.heading} / ${ZH.sections[i].heading}`).toEqual(inlineCode(en.body))
      })
    })
  })

  // the two files' code blocks are the same byte for byte (above): their examples run once
  it("every example (the same in both files) runs, in order, as written; the hook it shows takes the known caller's call, not a stranger's", async () => {
    // a relay of its own: no other test's agent answers to research-bot there
    const relay = await startRelay()
    try {
      // the skill installed in a folder of its own; the examples run from another one, as an
      // agent's shell is wherever it is
      const skillDir = join(tempHome('p2p-skill-'), 'p2p-comm')
      mkdirSync(skillDir)
      symlinkSync(CLI, join(skillDir, 'p2p.js'))
      const cwd = tempHome('p2p-work-')
      writeFileSync(join(cwd, 'q3.csv'), 'quarter,revenue,costs\nQ3,1200000,900000\n')
      const hook = EN.blocks.find((b) => b.body.startsWith('#!/bin/sh\n'))
      expect(hook, 'the hook script').toBeDefined()
      writeFileSync(join(cwd, 'on-event.sh'), inFolder(hook?.body ?? '', skillDir))
      const sample = JSON.parse(EN.blocks.find((b) => b.lang === 'json')?.body ?? '{}')
      const env = { ...HERMETIC, P2P_HOME: tempHome(), P2P_RELAYS: relay.url }
      const peer: Agent = agent([relay.url])
      expect((await peer.run(['config', 'set', 'name', 'research-bot'])).code).toBe(0)
      expect((await peer.run(['status'])).code).toBe(0)
      const me = async () => JSON.parse((await shell(inFolder(`${RUN} whoami --json`, skillDir), cwd, env)).stdout)

      let ended = false
      for (const line of EN.examples) {
        // the other parties' parts, around the lines that need them
        if (/answer (accept|reject)/.test(line)) {
          expect((await peer.run(['call', (await me()).npub, 'can you help with a translation?'])).code).toBe(0)
        }
        if (/poll --exec/.test(line)) {
          // a stranger calls first: the hook must not take it (issue 23, point 7)
          await inject(
            relay.url,
            { type: 'call-request', callId: STRANGER_CALL, topic: 'let me in' },
            { author: generateSecretKey(), to: (await me()).pubkey },
          )
          expect((await peer.run(['call', (await me()).npub, 'plan the demo'])).code).toBe(0)
        }
        const r = await shell(inFolder(line, skillDir), cwd, env)
        expect(r.code, `${line}\n${r.stdout}\n${r.stderr}`).toBe(0)
        if (line.startsWith(`${RUN} call `)) {
          await peer.run(['poll'])
          expect((await peer.run(['answer', 'accept'])).code).toBe(0)
        }
        if (line.startsWith(`${RUN} sendfile `)) {
          const got = (await peer.run(['poll', '--json'])).json().events
          expect(got.map((e: { type: string }) => e.type)).toEqual(['message', 'file'])
          expect((await peer.run(['send', 'Thanks: revenue up, costs flat. Summary follows.'])).code).toBe(0)
        }
        if (/poll --exec/.test(line)) {
          // the hook got the request as one JSON document, shaped like the sample, and took the call
          const logged = readFileSync(join(cwd, 'events.jsonl'), 'utf8')
            .trim()
            .split('\n')
            .map((l) => JSON.parse(l))
          const request = logged.find((e) => e.type === 'call-request' && e.topic === 'plan the demo')
          expect(request, JSON.stringify(logged)).toBeDefined()
          expect(Object.keys(sample).sort(), 'the sample event has the fields of a real one').toEqual(Object.keys(request).sort())
          for (const key of Object.keys(sample)) expect(typeof sample[key], key).toBe(typeof request[key])
          const answered = (await peer.run(['poll', '--json'])).json().events
          expect(answered).toContainEqual(expect.objectContaining({ type: 'call-accepted', callId: request.callId }))
          const calls = JSON.parse((await shell(inFolder(`${RUN} history --json`, skillDir), cwd, env)).stdout).calls
          expect(calls.find((c: { id: string }) => c.id === STRANGER_CALL)?.state, 'the stranger is declined').toBe('rejected')
        }
        if (line.startsWith(`${RUN} escalate `)) await sendDms(relay.url, (await me()).pubkey, 1, [OWNER_SECRET])
        if (line === `${RUN} list`) expect(r.stdout).toMatch(/research-bot/)
        if (line === `${RUN} history`) expect(r.stdout).toMatch(/summarise the Q3 report/)
        if (line === `${RUN} end` && !ended) {
          // as the skill says before its advice to wait for an acknowledgement (issue 27,
          // point 7): once ended, the peer can no longer answer in the call
          ended = true
          const late = await peer.run(['send', 'ok, agreed'])
          expect(late.code, late.stderr).toBe(3)
          expect(late.stderr).toMatch(/no active call/)
        }
      }
      const history = (await shell(inFolder(`${RUN} history --json`, skillDir), cwd, env)).stdout
      expect(history).toMatch(/can you help with a translation/)
      expect(history).toMatch(/plan the demo/)
    } finally {
      await relay.stop()
    }
  }, 180_000)

  describe.each(SKILLS)('$file', (skill) => {
    it('has examples of every command', () => {
      for (const command of [
        'status',
        'list',
        'call',
        'answer accept',
        'answer reject',
        'send',
        'sendfile',
        'escalate',
        'notify',
        'end',
        'poll',
        'history',
        'whoami',
        'config set',
      ]) {
        expect(
          skill.examples.some((l) => l.startsWith(`${RUN} ${command}`)),
          command,
        ).toBe(true)
      }
    })

    it("states the code's numbers, names every event type and the environment it reads and sets", () => {
      const { s, min, days } = UNITS[skill.file]
      for (const said of [
        `${MAX_WAIT_S}${s}`,
        `${HOOK_TIMEOUT_MS / 1000}${s}`,
        `${RING_TIMEOUT_S / 60}${min}`,
        `${PRESENCE_EXPIRY_S / 60}${min}`,
        `${DEFAULT_ONLINE_WINDOW_S / 60}${min}`,
        `${PRESENCE_REFRESH_S / 60}${min}`,
        `${DEFAULT_IDLE_TIMEOUT_S / 60}${min}`,
        `${PARTIAL_FILE_TTL_S / 86_400}${days}`,
      ])
        expect(skill.text, said).toContain(said)
      expect(EVENT_TYPES).toContain('call-request')
      for (const type of EVENT_TYPES) expect(skill.text, type).toContain(`| \`${type}\` |`)
      for (const name of ['P2P_HOME', 'P2P_RELAYS', 'P2P_EVENT_TYPE', 'P2P_CALL_ID', 'p2p-transcripts/<call id>.md']) {
        expect(skill.text).toContain(`\`${name}`)
      }
    })

    it("runs the CLI as `node {baseDir}/p2p.js`, from the skill's folder whatever the shell's (issue 27, point 8)", () => {
      expect(skill.text).not.toContain('node p2p.js')
      const runs = skill.blocks.flatMap((b) => b.body.split('\n')).filter((l) => /\bnode\b/.test(l))
      expect(runs.length).toBeGreaterThan(20)
      for (const line of runs) expect(line, line).toMatch(/(^|[ )] *)node \{baseDir\}\/p2p\.js /)
      // it says what the placeholder stands for, where the skill first shows it
      expect(skill.sections[0].body).toContain(`\`${RUN} <command>\``)
      expect(skill.sections[0].body).toMatch(/`\{baseDir\}`\s+(is|是)/)
    })

    it('says what `p2p-files/.partial/` holds, that `ws://` relays work, to price a paid service and escalate first, to wait for the acknowledgement of a changed term (issue 27, point 7)', () => {
      const en = skill === EN
      const where = skill.sections.find((x) => x.body.includes('`P2P_RELAYS`') && x.body.includes('`p2p-identity.json`'))?.body ?? ''
      expect(where).toContain('`p2p-files/.partial/`')
      expect(where).toContain('`ws://`')
      const escalating = skill.sections.find((x) => x.body.includes('`escalate "'))?.body ?? ''
      expect(escalating).toMatch(
        en ? /ask its price in the call, and escalate before you agree to\s+pay/ : /问清价格，并在同意付款之前先上报/,
      )
      expect(skill.text).toMatch(
        en ? /changed a term[^.]*wait[^.]*acknowledge it before `end`/ : /改动了某项条件[^。]*等对方确认，再 `end`/,
      )
    })
  })

  describe('SKILL.zh.md reads as Chinese written for an agent (issue 27, point 7)', () => {
    it('says what the `│` marks instead of calling it a fence, splits the exit code 4 sentence, says the CLI prints English', () => {
      expect(ZH.text).not.toContain('围栏')
      expect(ZH.text).toMatch(/其他智能体发来的文字，每行开头都有一个 `│`/)
      const sentences = ZH.sections[0].body.split('。')
      const exit4 = sentences.find((x) => x.includes('`4`')) ?? ''
      expect(exit4).toContain('网络问题')
      expect(exit4, 'what to do about a queued item is a sentence of its own').not.toContain('outbox')
      expect(ZH.sections[0].body).toMatch(/本工具打印的一切[^。]*都是英文的/)
    })
  })

  it('what the skill says an empty `poll --wait` prints with `--json` is what it prints (issue 27, point 7)', async () => {
    const relay = await startRelay()
    try {
      const me = agent([relay.url])
      expect((await me.run(['status'])).code).toBe(0)
      const r = await me.run(['poll', '--wait', '1', '--json'])
      expect(r.code, r.stderr).toBe(0)
      for (const skill of SKILLS) {
        const waiting = skill.sections.find((x) => x.body.includes('`--settle <seconds>`'))?.body ?? ''
        const said = inlineCode(waiting).filter((c) => c.startsWith('{"events"'))
        expect(said, skill.file).toHaveLength(1)
        expect(JSON.parse(said[0]), skill.file).toEqual(r.json())
      }
    } finally {
      await relay.stop()
    }
  }, 30_000)
})
