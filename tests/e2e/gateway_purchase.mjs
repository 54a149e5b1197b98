// The anonymous reader's purchase through a payment gateway's stand-in,
// shared by the journeys 40-purchase-alipay and 41-purchase-wechat (which
// export `gateways = true`, so the runner starts e2e_gateways).
//
// A reader who is not signed in opens a paid document, taps the buy button,
// registers, chooses 支付宝 or 微信支付, pays on the stand-in's page (or
// scans the QR code), and must end on the document with the paid text. The
// way there is followed by what each page offers (the purchase path is being
// shortened, so the journey names buttons and links by role and text, not
// by URL or CSS class), and every main-frame page load from the tap to the
// paid text is counted against MAX_LOADS.
//
// The stand-ins speak plain http on 127.0.0.1, while real gateways are
// https: and the site's CSP admits exactly that (form-action 'self' https:
// on pages whose forms lead to a gateway). So these pages run with the CSP
// bypassed, and instead each hand-off to a gateway is checked: the page the
// buyer left had a CSP whose form-action admits https:, so the same hand-off
// to the real gateway is allowed.
import { pageText } from './lib.mjs';

// Page loads from the tap on the buy button to the paid text, at most (issue
// 14): register (its page), the document again with its buy buttons, the
// gateway's page, and the document unlocked: 4. On a desktop, WeChat's QR
// page takes the gateway page's place.
export const MAX_LOADS = 4;

// A phone (iOS Safari's user agent: Alipay wap.pay, WeChat H5) and a desktop.
export const SIZES = [
  {
    name: 'phone',
    context: {
      viewport: { width: 390, height: 844 },
      userAgent:
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 ' +
        '(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1',
      isMobile: true,
      hasTouch: true,
    },
  },
  { name: 'desktop', context: { viewport: { width: 1366, height: 768 } } },
];

// Imports a document with a paid part through the CLI; answers its id.
export function importDocument(world, { file, title, free, paid, price }) {
  const source = world.file(file, `${title}\n${free}\n##paidbegin##\n${paid}\n##paidend##\n`);
  const out = world.cli(['import', '--price', price, source]);
  const m = /imported (\d+)/.exec(out);
  if (!m) throw new Error(`import did not report an id:\n${out}`);
  return m[1];
}

// The paid text must not reach a reader without access: not in the page's
// HTML, not in the API's answer.
export async function assertLocked(world, page, docId, paid, who) {
  const html = await page.content();
  if (html.includes(paid)) throw new Error(`${who} received the paid text on ${page.url()}`);
  const r = await fetch(world.url(`/api/v1/documents/${docId}`));
  const body = await r.text();
  if (body.includes(paid)) throw new Error(`the API gave ${who} the paid text`);
}

// One purchase at one size. `method` is the payment button's name (支付宝 or
// 微信支付); `onGateway(page)` acts on a stand-in's page; `onQr(page)` on
// the site's WeChat QR page; `shotPaid`: a screenshot of the paid document.
// Answers { loads, handoffs }: the URLs loaded from
// the buy tap to the paid text, and the gateway URLs the browser was sent to.
export async function buyAsNewReader(t, size, { docId, title, paid, method, email, onGateway, onQr, shotPaid = false }) {
  const { world } = t;
  const page = await t.page({ ...size.context, bypassCSP: true });
  const site = new URL(world.base).origin;
  const gatewayOrigins = [world.gateways.alipay.gateway, world.gateways.wechat.api_base].map(
    (u) => new URL(u).origin,
  );
  const atGateway = () => gatewayOrigins.includes(new URL(page.url()).origin);

  // Main-frame loads, and the CSP of the site page shown last.
  const loads = [];
  page.on('framenavigated', (f) => {
    if (f === page.mainFrame()) loads.push(f.url());
  });
  let shownCsp = null;
  const handoffs = [];
  page.on('response', (r) => {
    const q = r.request();
    if (q.isNavigationRequest() && q.frame() === page.mainFrame() && r.url().startsWith(site) && r.status() === 200)
      shownCsp = r.headers()['content-security-policy'] || '';
  });
  page.on('request', (q) => {
    if (q.isNavigationRequest() && q.frame() === page.mainFrame() &&
        gatewayOrigins.includes(new URL(q.url()).origin) && !atGateway())
      handoffs.push({ url: q.url(), csp: shownCsp });
  });

  t.step(`${size.name}: an anonymous reader opens the paid document`);
  await page.goto(world.url(`/d/${docId}`));
  await page.getByRole('heading', { name: title }).first().waitFor();
  await assertLocked(world, page, docId, paid, 'an anonymous reader');

  t.step(`${size.name}: taps the buy button`);
  loads.length = 0;
  const buy = page.getByRole('link', { name: /购买全文/ }).or(page.getByRole('button', { name: /购买全文/ }));
  await buy.first().click();

  let registered = false;
  let paidAtGateway = false;
  for (let i = 0; i < 3 * MAX_LOADS; i++) {
    await page.waitForLoadState('load');
    const url = new URL(page.url());
    if (url.origin === site && url.pathname === `/d/${docId}` && (await page.getByText(paid).count()) > 0) break;
    if (url.origin === site && !paidAtGateway) await assertLocked(world, page, docId, paid, 'the reader before paying');
    if (atGateway()) {
      t.step(`${size.name}: pays on the gateway's page`);
      await onGateway(page, size);
      paidAtGateway = true;
      continue;
    }
    if (url.pathname === '/login') {
      t.step(`${size.name}: goes on to register`);
      // The register link that keeps the way back to the document (the
      // header's plain 注册 link does not).
      const links = page.getByRole('link', { name: /注册/ });
      let register = null;
      for (let k = 0; k < (await links.count()); k++)
        if (((await links.nth(k).getAttribute('href')) || '').includes('next=')) register = links.nth(k);
      if (!register) throw new Error(`${size.name}: no register link leads back to the document:\n${await pageText(page)}`);
      await register.click();
      continue;
    }
    if (url.pathname === '/register' && !registered) {
      t.step(`${size.name}: registers as ${email}`);
      await page.getByLabel('邮箱').fill(email);
      await page.getByLabel(/^密码/).fill('e2e-correct-horse-42');
      await page.getByLabel('确认密码').fill('e2e-correct-horse-42');
      // Hashing the password may take a few seconds on a busy machine.
      await page.getByRole('button', { name: '注册' }).click({ timeout: 30000 });
      registered = true;
      continue;
    }
    const qr = page.getByRole('img', { name: /二维码/ });
    if (!paidAtGateway && (await qr.count()) > 0) {
      t.step(`${size.name}: scans the QR code`);
      await onQr(page, size);
      paidAtGateway = true;
      // The QR page refreshes itself and moves on once the order is paid.
      await page.waitForURL((u) => u.pathname !== url.pathname, { timeout: 12000 });
      continue;
    }
    // The card's buttons carry the price after the method ("支付宝 ¥3.60").
    const pay = page.getByRole('button', { name: new RegExp(`^${method}`) });
    if (!paidAtGateway && (await pay.count()) > 0) {
      t.step(`${size.name}: chooses ${method}`);
      await pay.first().click();
      continue;
    }
    const read = page.getByRole('link', { name: /阅读全文|查看文档/ });
    if (paidAtGateway && (await read.count()) > 0) {
      t.step(`${size.name}: goes back to the document`);
      await read.first().click();
      continue;
    }
    if (!paidAtGateway && (await buy.count()) > 0) {
      t.step(`${size.name}: taps the buy button again, signed in`);
      await buy.first().click();
      continue;
    }
    throw new Error(`${size.name}: nothing to do on ${page.url()}:\n${await pageText(page)}`);
  }

  t.step(`${size.name}: reads the paid text`);
  await page.getByText(paid).first().waitFor();
  if (new URL(page.url()).pathname !== `/d/${docId}`)
    throw new Error(`${size.name}: the paid text is shown on ${page.url()}, not the document`);
  if (shotPaid) await world.shot(page, `${size.name}-paid`);
  console.log(`    ${size.name}: ${loads.length} page loads from the buy tap to the paid text: ` +
              loads.map((u) => new URL(u).pathname).join(' → ') +
              `; ${handoffs.length} hand-off(s) to a gateway, CSP checked`);
  if (loads.length > MAX_LOADS)
    throw new Error(`${size.name}: ${loads.length} page loads from the buy tap to the paid text ` +
                    `(at most ${MAX_LOADS}): ${loads.join(' → ')}`);
  for (const h of handoffs) {
    const formAction = /form-action([^;]*)/.exec(h.csp || '');
    if (!formAction || !/(^|\s)https:(\s|$)/.test(formAction[1]))
      throw new Error(`${size.name}: the page that sent the buyer to ${h.url} has CSP "${h.csp}", ` +
                      'whose form-action would block a real (https:) gateway');
  }
  return { page, loads, handoffs };
}
