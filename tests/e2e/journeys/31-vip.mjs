// VIP from the paywall, at 390×844 and 1366×768: a signed-in reader with an
// empty wallet taps 开通 VIP 会员 on a document's paywall card, picks the
// monthly plan, pays with the sandbox and lands back on that document,
// unlocked, with a note that VIP is on.
//
// Page loads from the paywall's VIP link to the paid text: 4 — /vip, the
// plan's order page, /sandbox/pay, the unlocked document.
import { VIEWPORTS, assertBodyTextSize, assertFieldsLabelled, countPageLoads, login } from '../lib.mjs';

export const name = 'vip';

const PAID = '活动室钥匙由值班的志愿者在早上八点领取。';
let docId;
const readers = [];

export async function setup(world) {
  const source = world.file(
    'huodongshi.txt',
    `社区活动室开放安排\n活动室向全体居民开放，请爱护公共设施。\n开放时间以公告栏为准。\n##paidbegin##\n一、钥匙管理\n${PAID}\n二、预约办法\n预约请提前一天登记。\n##paidend##\n欢迎大家提出建议。\n`,
  );
  const out = world.cli(['import', '--price', '5', source]);
  const m = /imported (\d+)/.exec(out);
  if (!m) throw new Error(`import did not report an id:\n${out}`);
  docId = m[1];
  for (const vp of VIEWPORTS) readers.push(world.addUser(`vip${vp.width}@example.cn`, 'reader'));
}

export async function run(t) {
  const { world } = t;
  for (const [i, vp] of VIEWPORTS.entries()) {
    const shoot = i === 0;
    t.step(`${vp.width}: the paywall's VIP link keeps the document`);
    const page = await t.page({ viewport: vp });
    await login(page, world, readers[i]);
    await page.waitForURL(/\/me$/);  // signed in (the form's redirect has landed)
    await page.goto(world.url(`/d/${docId}`));
    const loads = countPageLoads(page);
    await page.locator('#buy').getByRole('link', { name: '开通 VIP 会员' }).click();
    await page.waitForURL(/\/vip\?back=/);
    await assertFieldsLabelled(page);
    if (shoot) await world.shot(page, 'vip-page');

    t.step(`${vp.width}: the monthly plan through the sandbox`);
    await page.getByRole('listitem').filter({ hasText: 'VIP 月卡' }).getByRole('button', { name: '立即开通' }).click();
    await page.waitForURL(/\/orders\/\d+/);
    if (shoot) await world.shot(page, 'vip-order');
    await page.getByRole('button', { name: '沙箱支付' }).click();
    await page.getByRole('button', { name: '确认支付' }).click();

    t.step(`${vp.width}: back on the document, unlocked, VIP confirmed`);
    await page.waitForURL(new RegExp(`/d/${docId}\\?msg=vip_on`));
    await page.getByText('VIP 会员已开通').waitFor();
    await page.getByText(PAID).waitFor();
    loads.stop();
    if (loads.count() !== 4)
      throw new Error(`${loads.count()} page loads from the VIP link to the paid text: ${loads.paths().join(' → ')}`);
    await assertBodyTextSize(page, 16);
    if ((await page.locator('.buy-bar').count()) !== 0) throw new Error('a buy bar for a VIP');
    if (shoot) await world.shot(page, 'vip-unlocked');
  }
}
