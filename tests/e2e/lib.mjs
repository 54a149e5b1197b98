// What every journey shares: a paidoc server on a free port with a fresh
// data folder, the paidoc CLI against that folder, a headless Chromium
// (Debian's /usr/bin/chromium through playwright-core), screenshots at
// phone and desktop widths, and .docx files made by build/e2e_docx.
//
// Paths come from the environment (run.mjs sets them from its flags):
//   PAIDOC_BIN       the paidoc binary (default build/paidoc)
//   PAIDOC_DOCX      the .docx helper (default build/e2e_docx)
//   E2E_ARTIFACTS    where screenshots go (default build/e2e-artifacts)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   PAIDOC_GATEWAYS  the Alipay / WeChat Pay stand-ins (default build/e2e_gateways)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, mkdirSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(new URL('../..', import.meta.url).pathname);
export const PAIDOC = process.env.PAIDOC_BIN || join(ROOT, 'build/paidoc');
export const DOCX = process.env.PAIDOC_DOCX || join(ROOT, 'build/e2e_docx');
export const ARTIFACTS = process.env.E2E_ARTIFACTS || join(ROOT, 'build/e2e-artifacts');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const GATEWAYS = process.env.PAIDOC_GATEWAYS || join(ROOT, 'build/e2e_gateways');
export const PASSWORD = 'e2e-correct-horse-42';

export const VIEWPORTS = [
  { width: 390, height: 844 },
  { width: 1366, height: 768 },
];

// A port nobody listens on right now.
export function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// One journey's world: a data folder, the CLI on it, and the server.
export class World {
  constructor(journey) {
    this.journey = journey;
    this.dir = mkdtempSync(join(tmpdir(), `paidoc-e2e-${journey}-`));
    this.data = join(this.dir, 'data');
    this.server = null;
    this.log = '';
    this.shots = [];
    this.serveArgs = [];  // more `serve` flags, set by a journey's setup()
  }

  // Runs `paidoc --data <folder> ...args` with `input` on stdin; throws
  // with its output when it fails.
  cli(args, input = '') {
    const r = spawnSync(PAIDOC, ['--data', this.data, ...args], { input, encoding: 'utf8' });
    if (r.status !== 0)
      throw new Error(`paidoc ${args.join(' ')} exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  }

  // `paidoc user add` (the password on stdin, twice in case it asks again).
  addUser(email, role) {
    this.cli(['user', 'add', '--email', email, '--role', role], `${PASSWORD}\n${PASSWORD}\n`);
    return { email, password: PASSWORD };
  }

  // A file in the journey's temp folder; returns its path.
  file(name, bytes) {
    const path = join(this.dir, name);
    writeFileSync(path, bytes);
    return path;
  }

  // A .docx whose paragraphs are `lines` ('|' splits a line into runs).
  docx(name, lines) {
    const path = join(this.dir, name);
    const r = spawnSync(DOCX, [path], { input: lines.join('\n') + '\n', encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`e2e_docx failed: ${r.stderr}`);
    return path;
  }

  // Starts `paidoc serve` on a free port with the payment sandbox, and waits
  // until /healthz answers.
  async start() {
    const port = await freePort();
    this.base = `http://127.0.0.1:${port}`;
    this.server = spawn(
      PAIDOC,
      ['--data', this.data, 'serve', '--listen', `127.0.0.1:${port}`, '--payment-sandbox',
       '--threads', '2', '--store-threads', '4', ...(this.gateways ? this.gateways.serve_args : []),
       ...this.serveArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.server.stdout.on('data', (d) => (this.log += d));
    this.server.stderr.on('data', (d) => (this.log += d));
    const exited = new Promise((r) => this.server.once('exit', (code) => r(code)));
    for (let i = 0; i < 100; i++) {
      const done = await Promise.race([exited.then(() => true), sleep(100).then(() => false)]);
      if (done) throw new Error(`paidoc serve exited early:\n${this.log}`);
      try {
        const r = await fetch(`${this.base}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
    }
    throw new Error(`paidoc serve did not answer /healthz within 10 s:\n${this.log}`);
  }

  // Stops the server (SIGTERM, then SIGKILL), then the gateway stand-ins,
  // and removes the temp folder.
  async stop() {
    if (this.server && this.server.exitCode === null) {
      const exited = new Promise((r) => this.server.once('exit', r));
      this.server.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(5000).then(() => false)]);
      if (!done) {
        this.server.kill('SIGKILL');
        await exited;
      }
    }
    await this.stopGateways();
    rmSync(this.dir, { recursive: true, force: true });
  }

  // Starts e2e_gateways (tests/e2e/gateways.cc): the Alipay and WeChat Pay
  // stand-ins on free ports, with fresh keys in the temp folder. Call before
  // start(), which then passes their flags to `paidoc serve` (the sandbox
  // stays on). this.gateways is their JSON line: alipay {gateway, …},
  // wechat {api_base, scan_url, …}, serve_args. Their notification log goes
  // into this.log when they stop.
  async startGateways() {
    const proc = spawn(GATEWAYS, [join(this.dir, 'gateway-keys')], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.gatewayProcess = proc;
    let out = '';
    proc.stderr.on('data', (d) => (this.log += d));
    const line = await new Promise((ok, fail) => {
      const timer = setTimeout(() => fail(new Error('e2e_gateways printed nothing within 15 s')), 15000);
      proc.stdout.on('data', (d) => {
        out += d;
        const nl = out.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          ok(out.slice(0, nl));
        }
      });
      proc.once('exit', (code) => {
        clearTimeout(timer);
        fail(new Error(`e2e_gateways exited ${code}:\n${this.log}`));
      });
    });
    this.gateways = JSON.parse(line);
    return this.gateways;
  }

  // Stops e2e_gateways: its stdin closes (it exits), SIGKILL after 3 s.
  async stopGateways() {
    const proc = this.gatewayProcess;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise((r) => proc.once('exit', r));
    proc.stdin.end();
    const done = await Promise.race([exited.then(() => true), sleep(3000).then(() => false)]);
    if (!done) {
      proc.kill('SIGKILL');
      await exited;
    }
  }

  // A buyer scans the WeChat Pay QR code and pays (the stand-in's control
  // endpoint): the latest unpaid Native order, or `outTradeNo`. Answers the
  // stand-in's JSON (out_trade_no, description, total, notify_status,
  // notify_answer); throws unless the site accepted the notification.
  async scanWechat(outTradeNo = '') {
    const q = outTradeNo ? `?out_trade_no=${encodeURIComponent(outTradeNo)}` : '';
    const r = await fetch(this.gateways.wechat.scan_url + q, { method: 'POST' });
    const body = await r.json();
    if (!r.ok || body.notify_status !== 200)
      throw new Error(`WeChat scan did not pay: ${r.status} ${JSON.stringify(body)}`);
    return body;
  }

  url(path) {
    return this.base + path;
  }

  // Screenshots of what `page` shows, at each width in VIEWPORTS, as
  // <journey>-<step>-<width>.png; the page is checked for horizontal
  // overflow at each width (nothing may be wider than the screen).
  async shot(page, step) {
    mkdirSync(ARTIFACTS, { recursive: true });
    const before = page.viewportSize();
    for (const vp of VIEWPORTS) {
      await page.setViewportSize(vp);
      const path = join(ARTIFACTS, `${this.journey}-${step}-${vp.width}.png`);
      await page.screenshot({ path, fullPage: true });
      this.shots.push(path);
      const overflow = await page.evaluate(
        () => document.documentElement.scrollWidth - document.documentElement.clientWidth,
      );
      if (overflow > 0)
        throw new Error(`${step}: the page is ${overflow}px wider than a ${vp.width}px screen (${page.url()})`);
    }
    if (before) await page.setViewportSize(before);
  }
}

// What a page shows, for failure reports.
export async function pageText(page) {
  try {
    return `${page.url()}\n${(await page.locator('body').innerText()).slice(0, 2000)}`;
  } catch (e) {
    return `(page text unavailable: ${e.message})`;
  }
}

// Signs in through the login page.
export async function login(page, world, user) {
  await page.goto(world.url('/login'));
  await page.getByLabel('邮箱').fill(user.email);
  await page.getByLabel('密码').fill(user.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.waitForLoadState('load');
  if (new URL(page.url()).pathname === '/login')
    throw new Error(`login as ${user.email} failed:\n${await pageText(page)}`);
}

// --- the reader's way to a purchase (issue 14): shared assertions ---------

// Counts the page loads of `page`'s main frame from now on: navigation
// responses that are not redirects (a 303 chain is one load; a jump to
// #buy on the same page is none). count() answers how many so far.
export function countPageLoads(page) {
  const loads = [];
  const onResponse = (r) => {
    const req = r.request();
    if (!req.isNavigationRequest() || req.frame() !== page.mainFrame()) return;
    if (r.status() >= 300 && r.status() < 400) return;
    loads.push(new URL(r.url()).pathname);
  };
  page.on('response', onResponse);
  return {
    count: () => loads.length,
    paths: () => loads.slice(),
    stop: () => page.off('response', onResponse),
  };
}

// The buy button is in the first screen of the paywall card: once the
// card's top is scrolled to the top of the viewport, the button's bottom is
// within the viewport's height.
export async function assertBuyButtonInFirstScreen(page, button, card = page.locator('#buy')) {
  await card.evaluate((el) => el.scrollIntoView({ block: 'start' }));
  const box = await button.boundingBox();
  const { height } = page.viewportSize();
  if (!box) throw new Error('the buy button is not visible');
  if (box.y + box.height > height)
    throw new Error(`the buy button ends ${Math.round(box.y + box.height)}px down, below the ${height}px screen`);
}

// Body text is at least `min` px: the computed size of every paragraph of
// the document's text (.doc-body > p; the paywall card's notes are not it).
export async function assertBodyTextSize(page, min = 16) {
  const sizes = await page.$$eval('.doc-body > p', (ps) =>
    ps.map((p) => parseFloat(getComputedStyle(p).fontSize)),
  );
  if (sizes.length === 0) throw new Error('no .doc-body > p on the page');
  const small = sizes.filter((s) => s < min);
  if (small.length) throw new Error(`body text below ${min}px: ${small.join(', ')}`);
}

// Every form field a reader can see (input other than hidden, select,
// textarea) has an accessible name: a <label>, aria-label(ledby) or title.
export async function assertFieldsLabelled(page) {
  const unnamed = await page.$$eval('input, select, textarea', (els) =>
    els
      .filter((el) => el.type !== 'hidden' && el.type !== 'submit' && el.type !== 'button')
      .filter((el) => {
        const byLabel = el.labels && [...el.labels].some((l) => l.textContent.trim() !== '');
        const byAria = (el.getAttribute('aria-label') || '').trim() !== '';
        const byRef = (el.getAttribute('aria-labelledby') || '')
          .split(/\s+/)
          .some((id) => id && document.getElementById(id)?.textContent.trim());
        return !(byLabel || byAria || byRef || (el.title || '').trim());
      })
      .map((el) => el.outerHTML.slice(0, 120)),
  );
  if (unnamed.length) throw new Error(`form fields without a label:\n${unnamed.join('\n')}`);
}

// Presses Tab until the focused element is the one `matches` (a function
// of the element, run in the page) accepts; throws after `max` presses.
export async function tabTo(page, matches, what, max = 80) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const hit = await page.evaluate(matches);
    if (hit) return;
  }
  throw new Error(`Tab never reached ${what}`);
}

// --- outgoing mail: the SMTP stand-in (tests/support/smtp_standin.py) -----
// Starts the stand-in (Debian's python3-aiosmtpd) on a free port for
// `world`, before world.start(), and adds the --mail-* flags that send
// paidoc's mail to it (world.serveArgs). It stops with the world (and when
// this process ends: it exits when its stdin closes). Answers null when
// python3-aiosmtpd is missing; the journey then skips itself.
export async function startSmtpStandin(world) {
  const python = spawnSync('/usr/bin/python3', ['-c', 'import aiosmtpd.controller']).status === 0
    ? '/usr/bin/python3'
    : null;
  if (!python) return null;
  const dir = join(world.dir, 'mail');
  const proc = spawn(python, [join(ROOT, 'tests/support/smtp_standin.py'), '--dir', dir], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const port = await new Promise((ok, fail) => {
    let out = '';
    proc.stdout.on('data', (d) => {
      out += d;
      if (out.includes('\n')) ok(Number(out.trim()));
    });
    proc.once('exit', (code) => fail(new Error(`the SMTP stand-in exited (${code})`)));
  });
  world.serveArgs = [...(world.serveArgs ?? []),
    '--mail-host', '127.0.0.1', '--mail-port', String(port), '--mail-security', 'none',
    '--mail-from', 'noreply@example.cn', '--mail-from-name', 'paidoc 文库'];
  const stopWorld = world.stop.bind(world);
  world.stop = async () => {
    proc.stdin.end();
    proc.kill('SIGTERM');
    await stopWorld();
  };
  return {
    port,
    // The n-th message (1-based), waiting up to timeoutMs; null if none came.
    async message(n, timeoutMs = 10000) {
      const path = join(dir, `${String(n).padStart(4, '0')}.eml`);
      for (let waited = 0; waited <= timeoutMs; waited += 100) {
        if (existsSync(path)) return parseMail(readFileSync(path, 'latin1'));
        await sleep(100);
      }
      return null;
    },
  };
}

// A raw message (as the stand-in saved it) as { headers, body }: header
// names lower-cased and unfolded, a base64 body decoded as UTF-8.
export function parseMail(raw) {
  const split = raw.indexOf('\r\n\r\n');
  const headers = {};
  for (const line of raw.slice(0, split).replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.slice(split + 4);
  if ((headers['content-transfer-encoding'] || '').toLowerCase() === 'base64')
    body = Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
  return { headers, body };
}
