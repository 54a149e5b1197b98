// A reader buys a document with wallet money; an admin refunds the order from
// /admin/orders, disables the reader's account at /admin/users (the
// reader's open session ends and signing in again is refused), and finds
// the refund and the disabling in /admin/audit under their email.
import { login } from '../lib.mjs';

export const name = 'admin-refund';

const TITLE = '社区菜园轮值表';
const PAID = '周三负责浇水的是住在五号楼的老周。';

let admin, reader, docId;

export async function setup(world) {
  admin = world.addUser('admin@example.cn', 'admin');
  reader = world.addUser('reader@example.cn', 'reader');
  const source = world.file(
    'caiyuan.txt',
    `${TITLE}\n菜园每周轮值，名单贴在工具棚门口。\n##paidbegin##\n${PAID}\n##paidend##\n有事请在群里说一声。\n`,
  );
  const out = world.cli(['import', '--price', '3.50', source]);
  const m = /imported (\d+)/.exec(out);
  if (!m) throw new Error(`import did not report an id:\n${out}`);
  docId = m[1];
  world.cli(['wallet', 'credit', '--email', reader.email, '--amount', '20', '--note', 'e2e']);
}

export async function run(t) {
  const { world } = t;

  t.step('the reader buys the document with wallet money');
  const rp = await t.page();
  await login(rp, world, reader);
  await rp.goto(world.url(`/d/${docId}`));
  await rp.getByRole('button', { name: /余额支付/ }).click();
  await rp.getByText(PAID).waitFor();

  t.step('the admin opens the order list');
  const page = await t.page();
  await login(page, world, admin);
  await page.goto(world.url('/admin/orders'));
  await page.getByRole('heading', { name: '订单管理' }).waitFor();
  await world.shot(page, 'orders');

  t.step('the admin refunds the order to the wallet');
  const order = page.getByRole('listitem').filter({ hasText: TITLE });
  await order.getByRole('button', { name: '退回钱包' }).click();
  await page.getByText('订单已退款。').waitFor();
  await world.shot(page, 'orders-refunded');

  t.step('the admin disables the reader');
  await page.goto(world.url('/admin/users'));
  await page.getByRole('heading', { name: '用户管理' }).waitFor();
  const row = page.getByRole('listitem').filter({ hasText: reader.email });
  await row.getByRole('button', { name: '停用' }).click();
  await page.getByText('账号已停用，其登录已全部失效。').waitFor();
  await page.getByRole('listitem').filter({ hasText: reader.email }).getByText('已停用').waitFor();
  await world.shot(page, 'user-disabled');

  t.step("the reader's session has ended and signing in is refused");
  await rp.goto(world.url('/me'));
  if (new URL(rp.url()).pathname !== '/login')
    throw new Error(`a disabled reader still reaches /me: ${rp.url()}`);
  await rp.getByLabel('邮箱').fill(reader.email);
  await rp.getByLabel('密码').fill(reader.password);
  await rp.getByRole('button', { name: '登录' }).click();
  await rp.getByText('该账号已停用，请联系管理员。').waitFor();
  await world.shot(rp, 'disabled-login');

  t.step('the audit log shows the refund and the disabling under the admin');
  await page.goto(world.url('/admin/audit'));
  await page.getByRole('heading', { name: '操作日志' }).waitFor();
  const entry = page.getByRole('listitem').filter({ hasText: '订单退款' });
  await entry.filter({ hasText: admin.email }).first().waitFor();
  await page.getByRole('listitem').filter({ hasText: '停用账号' }).filter({ hasText: admin.email })
    .first().waitFor();
  await world.shot(page, 'audit');
}
