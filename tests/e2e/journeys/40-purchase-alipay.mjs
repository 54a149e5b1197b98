// An anonymous reader buys a document with Alipay, on a phone (390×844,
// alipay.trade.wap.pay) and on a desktop (1366×768, alipay.trade.page.pay):
// taps buy, registers, chooses 支付宝, confirms on the Alipay stand-in's
// cashier ("确认付款 ¥2.80"), which notifies the site and sends the browser
// back, and reads the paid text on the document. Before paying, and for a
// reader who has not paid, the paid text is nowhere in what they receive.
import { SIZES, assertLocked, buyAsNewReader, importDocument } from '../gateway_purchase.mjs';

export const name = 'purchase-alipay';
export const gateways = true;

const TITLE = '楼道灯更换记录';
const FREE = '三号楼的楼道灯今年换过两回，这里记下经过。';
const PAID = '第二回换灯时发现是开关里进了雨水，已经加装了防水盒。';
const PRICE = '2.80';

let docId;

export async function setup(world) {
  docId = importDocument(world, { file: 'loudao.txt', title: TITLE, free: FREE, paid: PAID, price: PRICE });
}

export async function run(t) {
  const { world } = t;
  // The phone and the desktop buy at the same time, each in its own browser.
  await Promise.all(SIZES.map((size) =>
    buyAsNewReader(t, size, {
      docId,
      title: TITLE,
      paid: PAID,
      method: '支付宝',
      email: `alipay-${size.name}@example.cn`,
      shotPaid: size.name === 'phone',
      async onGateway(page) {
        const method = new URL(page.url()).searchParams.get('method');
        const want = size.name === 'phone' ? 'alipay.trade.wap.pay' : 'alipay.trade.page.pay';
        if (method !== want) throw new Error(`${size.name}: Alipay was asked for ${method}, expected ${want}`);
        await page.getByRole('heading', { name: `确认付款 ¥${PRICE}` }).waitFor();
        await world.shot(page, `${size.name}-cashier`);
        await page.getByRole('button', { name: '确认付款' }).click();
      },
      async onQr() {
        throw new Error('Alipay showed a QR code');
      },
    })));

  t.step('a reader who has not paid still gets no paid text');
  const other = await t.page();
  await other.goto(world.url(`/d/${docId}`));
  await other.getByText(FREE).waitFor();
  await assertLocked(world, other, docId, PAID, 'an anonymous reader after the purchases');
}
