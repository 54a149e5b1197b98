// An anonymous reader buys a document with WeChat Pay: on a phone (390×844,
// H5: the stand-in's page "确认付款 ¥3.60", which notifies the site and
// sends the browser back) and on a desktop (1366×768, Native: the site's QR
// page, scanned and paid through the stand-in's control endpoint; the page
// refreshes itself and moves on). Both end on the document with the paid
// text; before paying, and for a reader who has not paid, it is nowhere in
// what they receive.
import { SIZES, assertLocked, buyAsNewReader, importDocument } from '../gateway_purchase.mjs';

export const name = 'purchase-wechat';
export const gateways = true;

const TITLE = '小区快递柜使用说明';
const FREE = '快递柜在东门保安亭旁边，取件码会发到手机上。';
const PAID = '超过四十八小时未取的包裹会被送到物业办公室的二号货架。';
const PRICE = '3.60';

let docId;

export async function setup(world) {
  docId = importDocument(world, { file: 'kuaidi.txt', title: TITLE, free: FREE, paid: PAID, price: PRICE });
}

export async function run(t) {
  const { world } = t;
  // The phone and the desktop buy at the same time, each in its own browser.
  await Promise.all(SIZES.map((size) =>
    buyAsNewReader(t, size, {
      docId,
      title: TITLE,
      paid: PAID,
      method: '微信支付',
      email: `wechat-${size.name}@example.cn`,
      shotPaid: size.name === 'desktop',
      async onGateway(page) {
        if (size.name !== 'phone') throw new Error(`${size.name}: WeChat H5 on a desktop (${page.url()})`);
        await page.getByRole('heading', { name: `确认付款 ¥${PRICE}` }).waitFor();
        await world.shot(page, `${size.name}-h5`);
        await page.getByRole('button', { name: '确认付款' }).click();
      },
      async onQr(page) {
        if (size.name === 'phone') throw new Error('a phone got the QR code, not WeChat H5');
        await world.shot(page, `${size.name}-qr`);
        const paid = await world.scanWechat();
        if (paid.description !== TITLE || paid.total !== Math.round(Number(PRICE) * 100))
          throw new Error(`the scanned trade is not this document's: ${JSON.stringify(paid)}`);
      },
    })));

  t.step('a reader who has not paid still gets no paid text');
  const other = await t.page();
  await other.goto(world.url(`/d/${docId}`));
  await other.getByText(FREE).waitFor();
  await assertLocked(world, other, docId, PAID, 'an anonymous reader after the purchases');
}
