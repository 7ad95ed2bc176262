// A real `ahub serve` for the browser tests: a private data directory, tokens created before
// the server starts, the seed packages of packages/, and a wait until their verification has
// settled. Also the headless Chromium that drives the pages.
import {execFileSync, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const CHROMIUM = '/usr/bin/chromium';

// Flags for Debian's chromium in a container: no sandbox (root), no GPU, nothing fetched.
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run'];

export async function launchBrowser() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: scripts/install-deps.sh installs Debian's chromium`);
  }
  let chromium;
  try {
    ({chromium} = await import('playwright-core'));
  } catch (e) {
    throw new Error(`playwright-core is not installed (${e.message}): run scripts/install-deps.sh, `
      + 'which runs npm ci --prefix tests/web');
  }
  // An empty profile for every run; Playwright passes it as --user-data-dir.
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'ahub-web-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS,
    viewport: {width: 1280, height: 900},
  });
  return {
    context,
    async close() {
      await context.close();
      fs.rmSync(profile, {recursive: true, force: true});
    },
  };
}

export class Hub {
  constructor(ahub) {
    this.ahub = ahub;
    // Mode 0711: the sandbox's unprivileged uid must traverse it to reach job checkouts.
    this.data = fs.mkdtempSync(path.join(os.tmpdir(), 'ahub-web-test-'));
    fs.chmodSync(this.data, 0o711);
    this.process = null;
    this.url = '';
    this.stderr = '';
  }

  // Tokens are created in the store before the server opens it.
  createToken(role, name) {
    return execFileSync(this.ahub, ['token', 'create', '--role', role, '--name', name,
      '--data', this.data], {encoding: 'utf8', env: cleanEnv()}).trim();
  }

  async start() {
    this.process = spawn(this.ahub, ['serve', '--listen', '127.0.0.1:0', '--data', this.data],
      {env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe']});
    this.process.stderr.setEncoding('utf8');
    this.process.stderr.on('data', (chunk) => { this.stderr += chunk; });
    this.url = await new Promise((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`ahub serve did not start:\n${this.stderr}`)), 30000);
      this.process.stdout.setEncoding('utf8');
      this.process.stdout.on('data', (chunk) => {
        out += chunk;
        const m = /AttentionHub serving (http:\/\/[^\s]+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      this.process.on('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`ahub serve exited with ${code}:\n${this.stderr}`));
      });
    });
  }

  async json(pathAndQuery, init) {
    const res = await fetch(this.url + pathAndQuery, init);
    const body = await res.json();
    if (!res.ok) throw new Error(`${pathAndQuery}: ${res.status} ${JSON.stringify(body)}`);
    return body;
  }

  // Until every seed package is stored and its verification job is done (or errored).
  async settle(expectedPackages, timeoutMs = 240000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const list = await this.json('/api/v1/packages?limit=100');
      if (list.total >= expectedPackages) {
        const states = await Promise.all(list.items.map((p) =>
          this.json(`/api/v1/packages/${p.id}`).then((d) => d.verification && d.verification.state)));
        if (states.every((s) => !s || s === 'done' || s === 'error')) return list;
      }
      if (Date.now() > deadline) throw new Error(`verification did not settle:\n${this.stderr}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  async stop() {
    if (this.process && this.process.exitCode === null) {
      const exited = new Promise((r) => this.process.once('exit', r));
      this.process.kill('SIGTERM');
      await exited;
    }
    fs.rmSync(this.data, {recursive: true, force: true});
  }
}

// The test's environment without AHUB_* (a developer's settings must not change the test).
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('AHUB_')));
}

// A .tar.gz of a package directory written from {relative path: text}.
export function packageArchive(files) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ahub-web-pkg-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  const archive = `${dir}.tgz`;
  execFileSync('tar', ['czf', archive, '-C', dir, '.']);
  const bytes = fs.readFileSync(archive);
  fs.rmSync(dir, {recursive: true, force: true});
  fs.rmSync(archive, {force: true});
  return bytes;
}
