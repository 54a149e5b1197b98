// An editor uploads a .docx whose markers are wrong, sees the failure at its
// paragraph on the summary page, uploads the fixed file and sees it
// imported; a reader who is not signed in then sees the free part and the
// paywall, never the paid text.
import { login } from '../lib.mjs';

export const name = 'editor-upload';

const TITLE = '渡口值班手记';
const FREE = '清晨六点，渡船照常从南岸出发，船工先检查了救生衣的数量。';
const PAID = '船工在缆绳的第三个结里藏了一把备用钥匙。';
const CLOSING = '傍晚收班后，值班员把当天的记录交回站里。';

let editor;

export async function setup(world) {
  editor = world.addUser('editor@example.cn', 'editor');
}

export async function run(t) {
  const { world } = t;
  // The paid section's end marker comes first: a stray ##paidend## in
  // paragraph 3, typed across two runs as Word would split it.
  const broken = world.docx('shouji.docx', [TITLE, FREE, '##paid|end##', PAID, CLOSING]);
  const page = await t.page();

  t.step('the editor signs in through the login page');
  await login(page, world, editor);

  t.step('the upload form');
  await page.goto(world.url('/admin/upload'));
  await page.getByRole('heading', { name: '上传文档' }).waitFor();
  await world.shot(page, 'upload-form');

  t.step('uploading the .docx with a stray end marker');
  await page.getByLabel('文件', { exact: true }).setInputFiles(broken);
  await page.getByRole('button', { name: '上传' }).click();
  await page.getByRole('heading', { name: '上传结果' }).waitFor();
  const failed = page.getByRole('listitem').filter({ hasText: 'shouji.docx' });
  await failed.getByText('失败', { exact: true }).waitFor();
  const message = await failed.innerText();
  if (!/shouji\.docx: paragraph 3: stray ##paidend##/.test(message))
    throw new Error(`the failure does not name paragraph 3:\n${message}`);
  if (message.includes('upload/')) throw new Error(`the message shows the internal path:\n${message}`);
  await world.shot(page, 'upload-failed');

  t.step('uploading the fixed .docx');
  const fixed = world.docx('shouji.docx', [TITLE, FREE, '##paid|begin##', PAID, '##paidend##', CLOSING]);
  await page.getByLabel('文件', { exact: true }).setInputFiles(fixed);
  await page.getByRole('button', { name: '上传' }).click();
  await page.getByRole('heading', { name: '上传结果' }).waitFor();
  const imported = page.getByRole('listitem').filter({ hasText: 'shouji.docx' });
  await imported.getByText('已导入', { exact: true }).waitFor();
  await imported.getByText(TITLE).waitFor();
  await world.shot(page, 'upload-imported');
  const href = await imported.getByRole('link', { name: '查看' }).getAttribute('href');
  if (!/^\/d\/\d+$/.test(href || '')) throw new Error(`unexpected document link ${href}`);

  t.step('a reader who is not signed in opens the document');
  const reader = await t.page();
  await reader.goto(world.url(href));
  await reader.getByRole('heading', { name: TITLE }).waitFor();
  await reader.getByText(FREE).waitFor();
  await reader.getByText(CLOSING).waitFor();
  await reader.getByRole('region', { name: '付费内容' }).waitFor();
  const html = await reader.content();
  if (html.includes('备用钥匙')) throw new Error('the paid text is on the page of a reader without access');
  await world.shot(reader, 'reader-document');
}
