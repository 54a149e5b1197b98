// A reader who forgot their password: "忘记密码？" on the sign-in page, the
// reset mail (delivered to the local SMTP stand-in), the link in it, a new
// password, signing in with it; the old password is refused and the link
// does not work twice. Skips itself without python3-aiosmtpd.
import { login, startSmtpStandin } from '../lib.mjs';

export const name = 'password-reset';

const NEW_PASSWORD = 'e2e-brand-new-secret-7';

let reader, smtp;

export async function setup(world) {
  reader = world.addUser('reader@example.cn', 'reader');
  smtp = await startSmtpStandin(world);
}

// Every visible form field has a label that names it.
async function assertLabelled(page) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll('input, select, textarea')]
      .filter((el) => el.type !== 'hidden')
      .filter((el) => !(el.labels && el.labels.length && el.labels[0].textContent.trim()))
      .map((el) => el.name || el.id),
  );
  if (unlabelled.length) throw new Error(`fields without a label: ${unlabelled.join(', ')}`);
}

export async function run(t) {
  const { world } = t;
  if (!smtp) {
    console.log('  SKIP password-reset: python3-aiosmtpd is not installed (scripts/install-deps.sh --test)');
    return;
  }

  t.step('the sign-in page links "忘记密码？"');
  const page = await t.page();
  await page.goto(world.url('/login'));
  await page.getByRole('link', { name: '忘记密码？' }).click();
  await page.getByRole('heading', { name: '找回密码' }).waitFor();
  await assertLabelled(page);
  await world.shot(page, 'forgot');

  t.step('the reader asks for a reset link');
  await page.getByLabel('邮箱').fill(reader.email);
  await page.getByRole('button', { name: '发送重置邮件' }).click();
  await page.getByText('如果该邮箱已注册本站账号，我们已向它发送了一封重置密码的邮件').waitFor();
  await world.shot(page, 'sent');

  t.step('the mail arrives with a link');
  const mail = await smtp.message(1);
  if (!mail) throw new Error('no mail reached the SMTP stand-in');
  if (!mail.headers['content-type'].startsWith('text/plain; charset=UTF-8'))
    throw new Error(`unexpected Content-Type: ${mail.headers['content-type']}`);
  const link = (mail.body.match(/https?:\/\/\S+\/password\/reset\?token=\S+/) || [])[0];
  if (!link || !link.startsWith(world.url('/password/reset?token=')))
    throw new Error(`no reset link for this site in the mail:\n${mail.body}`);

  t.step('the link opens the new-password form');
  await page.goto(link);
  await page.getByRole('heading', { name: '设置新密码' }).waitFor();
  await assertLabelled(page);
  await world.shot(page, 'reset-form');

  t.step('the reader sets a new password');
  await page.getByLabel(/^新密码/).fill(NEW_PASSWORD);
  await page.getByLabel('确认新密码').fill(NEW_PASSWORD);
  await page.getByRole('button', { name: '设置新密码' }).click();
  await page.getByText('密码已重置，请用新密码登录。').waitFor();
  if (new URL(page.url()).pathname !== '/login') throw new Error(`expected /login, got ${page.url()}`);
  await world.shot(page, 'done');

  t.step('the old password is refused');
  await page.getByLabel('邮箱').fill(reader.email);
  await page.getByLabel('密码', { exact: true }).fill(reader.password);
  await page.getByRole('button', { name: '登录' }).click();
  await page.getByText('邮箱或密码不正确。').waitFor();

  t.step('the new password signs in');
  await login(page, world, { email: reader.email, password: NEW_PASSWORD });
  await page.goto(world.url('/me'));
  await page.getByText(reader.email).first().waitFor();

  t.step('the link does not work twice');
  await page.goto(link);
  await page.getByRole('heading', { name: '链接无效或已过期' }).waitFor();
  await page.getByRole('link', { name: '重新申请重置密码' }).waitFor();
  await world.shot(page, 'used-link');
}
