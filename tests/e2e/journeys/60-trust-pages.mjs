// A reader finds the trust pages from the footer of the home page: 关于我们,
// 用户协议, 隐私政策, 购买与退款说明 and 联系客服, each with its text, the
// ICP number linked to the MIIT site and the customer-service contact in
// the footer. One page comes from the operator's folder, the others are
// the built-in text. Each page is shot at both sizes (no horizontal
// overflow) and its body text is at least 16 px.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const name = 'trust-pages';

const ICP = '京ICP备12345678号-1';
const EMAIL = 'kefu@example.cn';
const PHONE = '010-1234 5678';

const PAGES = [
  { path: '/about', label: '关于我们', heading: '关于本站', text: '本站由幸福路文印社运营' },
  { path: '/terms', label: '用户协议', heading: '用户协议', text: '请使用真实、有效的邮箱' },
  { path: '/privacy', label: '隐私政策', heading: '隐私政策', text: '密码只以不可还原的方式保存' },
  { path: '/refund-policy', label: '购买与退款说明', heading: '购买与退款说明', text: '原则上不支持无理由退款' },
  { path: '/contact', label: '联系客服', heading: '联系客服', text: '我们通常在一个工作日内回复' },
];

export async function setup(world) {
  const dir = join(world.dir, 'pages');
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'about.md'),
    '# 关于本站\n\n本站由{{company}}运营，整理社区工作中常用的通知、制度与总结范本。\n\n' +
      '## 我们的承诺\n\n- 每篇付费文档先公开目录与字数；\n- 购买后立即阅读全文；\n' +
      '- 有问题请[联系客服](/contact)。\n\n' +
      '<script>alert("这一段不会运行")</script>\n',
  );
  world.serveArgs = ['--pages-dir', dir, '--company', '幸福路文印社', '--icp', ICP,
                     '--contact-email', EMAIL, '--contact-phone', PHONE];
}

export async function run(t) {
  const { world } = t;
  const page = await t.page();

  t.step('the home page footer links every trust page and shows the ICP number');
  await page.goto(world.url('/'));
  const footer = page.locator('footer');
  for (const p of PAGES) {
    const href = await footer.getByRole('link', { name: p.label, exact: true }).getAttribute('href');
    if (href !== p.path) throw new Error(`footer link ${p.label} goes to ${href}, not ${p.path}`);
  }
  const icp = footer.getByRole('link', { name: ICP });
  if ((await icp.getAttribute('href')) !== 'https://beian.miit.gov.cn/')
    throw new Error('the ICP number does not link to https://beian.miit.gov.cn/');
  await footer.getByRole('link', { name: EMAIL }).waitFor();
  await footer.getByRole('link', { name: PHONE }).waitFor();
  await world.shot(page, 'home-footer');

  for (const p of PAGES) {
    t.step(`${p.label} opens from the footer`);
    await page.goto(world.url('/'));
    await page.locator('footer').getByRole('link', { name: p.label, exact: true }).click();
    await page.waitForLoadState('load');
    if (new URL(page.url()).pathname !== p.path) throw new Error(`${p.label} opened ${page.url()}`);
    await page.getByRole('heading', { level: 1, name: p.heading }).waitFor();
    await page.getByText(p.text).first().waitFor();
    const size = await page.evaluate(() => {
      const el = document.querySelector('.prose p');
      return el ? parseFloat(getComputedStyle(el).fontSize) : 0;
    });
    if (size < 16) throw new Error(`${p.label}: body text is ${size}px, under 16px`);
    await world.shot(page, p.path.slice(1));
  }

  t.step('raw HTML in the operator file is shown as text, not run');
  await page.goto(world.url('/about'));
  await page.getByText('<script>alert("这一段不会运行")</script>').waitFor();
  if ((await page.locator('main script').count()) !== 0) throw new Error('a script element reached /about');

  t.step('联系客服 names the email and the phone');
  await page.goto(world.url('/contact'));
  const box = page.getByRole('region', { name: '客服联系方式' });
  await box.getByRole('link', { name: EMAIL }).waitFor();
  if ((await box.getByRole('link', { name: PHONE }).getAttribute('href')) !== 'tel:01012345678')
    throw new Error('the phone number is not a tel: link');
}
