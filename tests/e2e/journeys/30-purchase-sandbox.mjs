// An anonymous reader on a phone (390×844) and on a desktop (1366×768)
// taps buy on the paywall, registers, pays with the sandbox and reads the
// paid text; a signed-in reader tops up from the paywall and buys with the
// wallet; a keyboard-only reader buys with Tab and Enter alone.
//
// Page loads from the paywall tap to the paid text (main-frame loads; a
// 303 chain is one):
//   - anonymous: 4 — /register, the document again (its buy buttons),
//     /sandbox/pay, the unlocked document;
//   - signed in: 2 — /sandbox/pay, the unlocked document.
// At both sizes: no horizontal overflow (shot), the buy button in the first
// screen of the paywall card, body text >= 16 px, every field labelled.
import {
  VIEWPORTS,
  assertBodyTextSize,
  assertBuyButtonInFirstScreen,
  assertFieldsLabelled,
  countPageLoads,
  login,
  tabTo,
} from '../lib.mjs';

export const name = 'purchase-sandbox';

const TITLE = '小区停车位轮换使用说明';
const PAID = '夜间访客车辆统一停放在东门外侧的临时车位。';
const LATER = '车位编号每季度抽签一次。';

let docId, secondId, reader;

function source(title, paid) {
  const free = [
    '为缓解小区停车紧张，业委会商定以下轮换办法，自下月一日起试行。',
    '本说明适用于本小区全部地面车位，地下车库另有规定。',
    '各楼栋的联络员负责收集意见，每月底汇总一次。',
    '轮换期间如遇特殊情况，可向物业服务中心申请临时调整。',
  ];
  const headings = ['一、轮换规则', '二、访客车辆', '三、充电车位', '四、违规处理', '五、意见反馈'];
  const paidLines = headings.flatMap((h, i) => [h, i === 1 ? paid : `第${i + 1}部分的具体安排由业委会另行公布。`]);
  return `${title}\n${free.join('\n')}\n##paidbegin##\n${paidLines.join('\n')}\n##paidend##\n${LATER}\n`;
}

export async function setup(world) {
  const first = world.file('parking.txt', source(TITLE, PAID));
  const second = world.file('parking2.txt', source('小区充电桩预约办法', '预约时段以半小时为单位。'));
  const out = world.cli(['import', '--price', '9.90', first, second]);
  const ids = [...out.matchAll(/imported (\d+)/g)].map((m) => m[1]);
  if (ids.length !== 2) throw new Error(`import did not report two ids:\n${out}`);
  [docId, secondId] = ids;
  reader = world.addUser('keyboard@example.cn', 'reader');
}

// What both sizes check on a document page with a paywall card.
async function checkPaywall(page, button) {
  await assertBodyTextSize(page, 16);
  await assertFieldsLabelled(page);
  await assertBuyButtonInFirstScreen(page, button);
  if ((await page.locator('.buy-bar').count()) !== 1) throw new Error('no buy bar');
  const bar = await page.locator('.buy-bar').innerText();
  if (bar.includes(PAID)) throw new Error('the buy bar carries paid text');
}

export async function run(t) {
  const { world } = t;
  for (const vp of VIEWPORTS) {
    const size = `${vp.width}`;
    const shoot = vp === VIEWPORTS[0];  // shot() takes both sizes at once
    t.step(`${size}: an anonymous reader sees the paywall card and the buy bar`);
    const page = await t.page({ viewport: vp });
    await page.goto(world.url(`/d/${docId}`));
    const card = page.locator('#buy');
    const buy = card.getByRole('link', { name: /购买全文/ });
    await checkPaywall(page, buy);
    if (!(await card.innerText()).includes('沙箱支付')) throw new Error('the card does not name the sandbox');
    if (shoot) await world.shot(page, 'paywall-anonymous');

    t.step(`${size}: buy → register → back on the document → sandbox → paid text`);
    const loads = countPageLoads(page);
    await buy.click();
    await page.waitForURL(/\/register\?next=/);
    await assertFieldsLabelled(page);
    if (shoot) await world.shot(page, 'register');
    await page.getByLabel('邮箱').fill(`reader${size}@example.cn`);
    await page.getByLabel(/^密码/).fill('e2e-correct-horse-42');
    await page.getByLabel('确认密码').fill('e2e-correct-horse-42');
    await page.getByRole('button', { name: '注册' }).click();
    await page.waitForURL(new RegExp(`/d/${docId}#buy$`));
    const pay = page.locator('#buy').getByRole('button', { name: /沙箱支付/ });
    await checkPaywall(page, pay);
    if (shoot) await world.shot(page, 'paywall-signed-in-no-balance');
    await pay.click();
    await page.waitForURL(/\/sandbox\/pay\?/);
    if (shoot) await world.shot(page, 'sandbox');
    await page.getByRole('button', { name: '确认支付' }).click();
    await page.waitForURL(new RegExp(`/d/${docId}\\?msg=paid`));
    await page.getByText(PAID).waitFor();
    loads.stop();
    if (loads.count() !== 4)
      throw new Error(`anonymous: ${loads.count()} page loads from the paywall to the paid text: ${loads.paths().join(' → ')}`);
    if ((await page.locator('.buy-bar').count()) !== 0) throw new Error('a buy bar on an unlocked document');
    await assertBodyTextSize(page, 16);
    if (shoot) await world.shot(page, 'paid-text');

    t.step(`${size}: signed in, a second document in two page loads`);
    await page.goto(world.url(`/d/${secondId}`));
    const pay2 = page.locator('#buy').getByRole('button', { name: /沙箱支付/ });
    await checkPaywall(page, pay2);
    const loads2 = countPageLoads(page);
    await pay2.click();
    await page.getByRole('button', { name: '确认支付' }).click();
    await page.waitForURL(new RegExp(`/d/${secondId}\\?msg=paid`));
    await page.getByText('预约时段以半小时为单位。').waitFor();
    loads2.stop();
    if (loads2.count() !== 2)
      throw new Error(`signed in: ${loads2.count()} page loads: ${loads2.paths().join(' → ')}`);
  }

  t.step('a signed-in reader tops up from the paywall and buys with the wallet');
  const page = await t.page({ viewport: VIEWPORTS[0] });
  await login(page, world, reader);
  await page.waitForURL(/\/me$/);  // signed in (the form's redirect has landed)
  await page.goto(world.url(`/d/${docId}`));
  await page.locator('#buy').getByRole('link', { name: '充值' }).click();
  await page.waitForURL(/\/wallet\/topup\?back=/);
  await assertFieldsLabelled(page);
  await world.shot(page, 'topup');
  await page.getByRole('button', { name: '10 元' }).click();
  await page.waitForURL(/\/orders\/\d+/);
  await world.shot(page, 'order-topup');
  await page.getByRole('button', { name: '沙箱支付' }).click();
  await page.getByRole('button', { name: '确认支付' }).click();
  await page.waitForURL(new RegExp(`/d/${docId}\\?msg=topped_up#buy$`));
  await page.getByText('充值成功，余额已到账。').waitFor();
  const wallet = page.locator('#buy').getByRole('button', { name: /余额支付/ });
  await checkPaywall(page, wallet);
  await world.shot(page, 'paywall-wallet-covers');
  await wallet.click();
  await page.getByText(PAID).waitFor();

  t.step('keyboard only: Tab and Enter from the paywall to the paid text');
  const kb = await t.page({ viewport: VIEWPORTS[0] });
  await kb.goto(world.url(`/d/${secondId}`));
  await tabTo(kb, () => document.activeElement?.closest('#buy') && /购买全文/.test(document.activeElement.textContent),
    'the card\'s buy link');
  await kb.keyboard.press('Enter');
  await kb.waitForURL(/\/register\?next=/);
  await tabTo(kb, () => document.activeElement?.textContent.trim() === '直接登录', 'the sign-in link');
  await kb.keyboard.press('Enter');
  await kb.waitForURL(/\/login\?next=/);
  await tabTo(kb, () => document.activeElement?.id === 'login-email', 'the email field');
  await kb.keyboard.type(reader.email);
  await kb.keyboard.press('Tab');
  await kb.keyboard.type(reader.password);
  await kb.keyboard.press('Enter');
  await kb.waitForURL(new RegExp(`/d/${secondId}#buy$`));
  await tabTo(kb, () => document.activeElement?.closest('#buy') && /沙箱支付/.test(document.activeElement.textContent),
    'the sandbox button');
  await kb.keyboard.press('Enter');
  await kb.waitForURL(/\/sandbox\/pay\?/);
  await tabTo(kb, () => document.activeElement?.textContent.trim() === '确认支付', 'the confirm button');
  await kb.keyboard.press('Enter');
  await kb.waitForURL(new RegExp(`/d/${secondId}\\?msg=paid`));
  await kb.getByText('预约时段以半小时为单位。').waitFor();
}
