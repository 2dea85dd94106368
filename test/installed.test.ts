// The skill installed as skills are (issue 15, points 15 and 16): its built files copied alone
// into a folder, with no node_modules anywhere above it, run a whole call with a 2 MB file (big
// enough to load every lazily imported module, the WASM key agreement included); and run
// through a link named `p2p`, as `npm install -g` makes one, the hints name `p2p`. Every file
// it ships fits what OpenClaw accepts in a skill (issue 27, point 8).
import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { agent, CLI, HERMETIC, runCli } from './helpers/cli.ts'
import { whoami } from './helpers/inject.ts'
import { startRelay, type TestRelay } from './helpers/relay.ts'
import { sendDms } from './helpers/stranger.ts'

let relay: TestRelay
let folder: string
beforeAll(async () => {
  relay = await startRelay()
  folder = join(mkdtempSync(join(tmpdir(), 'p2p-skill-')), 'p2p-comm')
  for (const f of ['p2p.js', 'dist', 'SKILL.md']) cpSync(join(dirname(CLI), f), join(folder, f), { recursive: true })
})
afterAll(() => relay.stop())

describe('the skill folder, copied alone', () => {
  it('runs a whole call with a 2 MB file', async () => {
    const cli = join(folder, 'p2p.js')
    const alice = agent([relay.url], undefined, cli)
    const bob = agent([relay.url], undefined, cli)
    expect((await bob.run(['status'])).code).toBe(0)
    const called = await alice.run(['call', (await whoami(bob)).npub, 'a file'])
    expect(called.code).toBe(0)
    expect(called.stdout).toMatch(/up to 5 min to answer \(this command does not wait\)/) // issue 15, point 14
    expect((await bob.run(['poll'])).code).toBe(0)
    expect((await bob.run(['answer', 'accept'])).code).toBe(0)
    const data = randomBytes(2 * 1024 * 1024)
    const sent = await alice.run(['sendfile', 'data.bin', '-', '--timeout', '30000'], { stdin: data.toString('base64') })
    expect(sent.code, sent.stderr).toBe(0)
    const got = await bob.run(['poll', '--json', '--timeout', '30000'])
    expect(got.code, got.stderr).toBe(0)
    const file = got.json().events.find((e: { type: string }) => e.type === 'file')?.file
    expect(file.sha256).toBe(createHash('sha256').update(data).digest('hex'))
    expect(readFileSync(file.path).equals(data)).toBe(true)
    expect((await alice.run(['end'])).code).toBe(0)
  }, 120_000)

  it('a worker thread that fails leaves its half of a large batch to the main thread', async () => {
    const broken = join(mkdtempSync(join(tmpdir(), 'p2p-skill-')), 'p2p-comm')
    cpSync(folder, broken, { recursive: true })
    writeFileSync(join(broken, 'dist', 'open-worker.js'), "throw new Error('broken on purpose')\n")
    const bob = agent([relay.url], undefined, join(broken, 'p2p.js'))
    expect((await bob.run(['status'])).code).toBe(0)
    await sendDms(relay.url, (await whoami(bob)).pubkey, 450, undefined, (i) => `dm ${i}`)
    const got = await bob.run(['poll', '--json', '--verbose', '--timeout', '30000'])
    expect(got.code, got.stderr).toBe(0)
    expect(got.stderr).toContain('opening 450 gift wraps on two threads')
    expect(got.stderr).toMatch(/the worker thread failed \(.*broken on purpose.*\): its half is opened here/)
    const texts = got.json().events.map((e: { text: string }) => e.text)
    expect(new Set(texts)).toEqual(new Set(Array.from({ length: 450 }, (_, i) => `dm ${i}`)))
    expect(texts).toHaveLength(450)
  }, 120_000)

  it('run through a link named p2p, names `p2p` in its hints and help', async () => {
    const link = join(folder, 'p2p')
    symlinkSync(join(folder, 'p2p.js'), link)
    const env = { ...HERMETIC, P2P_HOME: mkdtempSync(join(tmpdir(), 'p2p-home-')), P2P_RELAYS: relay.url }
    const r = await runCli(['end'], env, undefined, undefined, link)
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/next: .*`p2p call <agent>/)
    expect(r.stderr).not.toContain('node p2p.js')
    expect((await runCli(['--help'], env, undefined, undefined, link)).stdout).toMatch(/^ {2}p2p list/m)
    expect((await runCli(['send', '--help'], env, undefined, undefined, link)).stdout).toMatch(/^ {2}p2p send "/m)
  })
})

describe('what the package ships', () => {
  // OpenClaw's skill library and its Cloud Worker refuse a skill with a file over 1 MiB or over
  // 8 MiB in all, and the worker's refusal fails the agent's whole turn
  it('every file is at most 1 MiB, and all of them at most 8 MiB', () => {
    const listing = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dirname(CLI), encoding: 'utf8' })
    const files: Array<{ path: string; size: number }> = JSON.parse(listing)[0].files
    expect(files.map((f) => f.path)).toContain('dist/help.txt') // the build's output is there
    expect(files.filter((f) => f.size > 1024 * 1024)).toEqual([])
    expect(files.reduce((sum, f) => sum + f.size, 0)).toBeLessThanOrEqual(8 * 1024 * 1024)
  })
})
