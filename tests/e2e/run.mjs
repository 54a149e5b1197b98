// Runs the browser journeys in journeys/*.mjs (or those named on the command
// line), each against its own paidoc server with fresh data.
//
//   node tests/e2e/run.mjs [journey ...]
//
// A journey module exports `name` and `async run(t)`, where t has:
//   t.world        the World (lib.mjs): cli(), addUser(), docx(), url(), shot()
//   t.page(opts)   a new page in a new browser context (cookies of its own)
//   t.step(text)   names the current step (printed, and in failure reports)
// The runner starts the server after the journey's `setup(world)` (users,
// documents, wallet credits through the CLI), and always stops it and
// removes the temp folder. A journey that exports `gateways = true` gets the
// Alipay and WeChat Pay stand-ins (e2e_gateways) started before the server,
// which then has both providers on. Exit codes: 0 all passed, 1 a journey failed,
// 77 skipped (no playwright-core, no Chromium, or no paidoc build).
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CHROMIUM, DOCX, GATEWAYS, PAIDOC, World, pageText } from './lib.mjs';

const SKIP = 77;
const here = new URL('.', import.meta.url).pathname;

async function loadPlaywright() {
  try {
    return (await import('playwright-core')).chromium;
  } catch {
    return null;
  }
}

async function main() {
  const chromium = await loadPlaywright();
  if (!chromium) {
    console.log('SKIP: playwright-core is not installed (run scripts/install-deps.sh --test, which runs npm ci in tests/e2e)');
    return SKIP;
  }
  for (const [what, path] of [['Chromium', CHROMIUM], ['paidoc', PAIDOC], ['e2e_docx', DOCX],
                              ['e2e_gateways', GATEWAYS]]) {
    if (!existsSync(path)) {
      console.log(`SKIP: ${what} not found at ${path}`);
      return SKIP;
    }
  }
  const wanted = process.argv.slice(2);
  const files = readdirSync(join(here, 'journeys'))
    .filter((f) => f.endsWith('.mjs'))
    .sort();
  const journeys = [];
  for (const f of files) {
    const mod = await import(join(here, 'journeys', f));
    if (wanted.length === 0 || wanted.includes(mod.name)) journeys.push(mod);
  }
  if (journeys.length === 0) {
    console.error(`no journey matches ${wanted.join(' ')}`);
    return 1;
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  });
  let failed = 0;
  try {
    for (const j of journeys) {
      const started = Date.now();
      const world = new World(j.name);
      const contexts = [];
      let current = null;
      let stepName = 'setup';
      const t = {
        world,
        step(text) {
          stepName = text;
          console.log(`  · ${text}`);
        },
        async page(opts = {}) {
          const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 }, locale: 'zh-CN', ...opts });
          ctx.setDefaultTimeout(10000);
          contexts.push(ctx);
          current = await ctx.newPage();
          return current;
        },
      };
      console.log(`journey ${j.name}`);
      try {
        if (j.setup) await j.setup(world);
        if (j.gateways) await world.startGateways();
        await world.start();
        await j.run(t);
        console.log(`ok ${j.name} (${((Date.now() - started) / 1000).toFixed(1)} s, ${world.shots.length} screenshots)`);
      } catch (e) {
        failed++;
        console.error(`FAIL ${j.name} at step "${stepName}": ${e.stack || e}`);
        if (current) console.error(`--- the page showed:\n${await pageText(current)}`);
        if (world.log) console.error(`--- server log (last lines):\n${world.log.split('\n').slice(-20).join('\n')}`);
      } finally {
        for (const c of contexts) await c.close().catch(() => {});
        await world.stop();
      }
    }
  } finally {
    await browser.close();
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    console.error(e.stack || e);
    process.exit(1);
  },
);
