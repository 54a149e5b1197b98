// An editor uploads a .docx whose markers are wrong, sees the failure at its
// paragraph on the summary page, uploads the fixed file as a draft (readers
// get 404), then in the editor breaks a marker, sees the error at its line
// in the preview, fixes it, sets a price, a category and tags, previews
// both views and publishes. A reader who is not signed in then sees the
// free part, the teaser with its outline and the price, never the paid
// text.
import { login } from '../lib.mjs';

export const name = 'editor-upload';

const TITLE = '渡口值班手记';
const FREE = '清晨六点，渡船照常从南岸出发，船工先检查了救生衣的数量。';
const PAID = '船工在缆绳的第三个结里藏了一把备用钥匙。';
const HEADING = '一、钥匙的存放';
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

  t.step('uploading the .docx with a stray end marker, and a good .md with it');
  const notes = world.file('jiaojie.md',
    '# 交接班须知\n\n交班前把登记簿放回抽屉。\n\n##paidbegin##\n\n抽屉的钥匙挂在门后。\n\n##paidend##\n');
  await page.getByLabel('文件', { exact: true }).setInputFiles([broken, notes]);
  await page.getByRole('button', { name: '上传' }).click();
  await page.getByRole('heading', { name: '上传结果' }).waitFor();
  const failed = page.getByRole('listitem').filter({ hasText: 'shouji.docx' });
  await failed.getByText('失败', { exact: true }).waitFor();
  const message = await failed.innerText();
  if (!/shouji\.docx: paragraph 3: stray ##paidend##/.test(message))
    throw new Error(`the failure does not name paragraph 3:\n${message}`);
  if (message.includes('upload/')) throw new Error(`the message shows the internal path:\n${message}`);
  await page.getByRole('listitem').filter({ hasText: 'jiaojie.md' }).getByText('已导入', { exact: true })
    .waitFor();
  await page.getByText('共 2 个文件：已导入 1 个，已更新 0 个，未变化 0 个，失败 1 个。').waitFor();
  await world.shot(page, 'upload-failed');

  t.step('uploading the fixed .docx as a draft');
  const fixed = world.docx('shouji.docx',
    [TITLE, FREE, '##paid|begin##', HEADING, PAID, '##paidend##', CLOSING]);
  await page.getByLabel('文件', { exact: true }).setInputFiles(fixed);
  await page.getByLabel(/保存为草稿/).check();
  await page.getByRole('button', { name: '上传' }).click();
  await page.getByRole('heading', { name: '上传结果' }).waitFor();
  const imported = page.getByRole('listitem').filter({ hasText: 'shouji.docx' });
  await imported.getByText('已导入', { exact: true }).waitFor();
  await imported.getByText(TITLE).waitFor();
  await imported.getByText('草稿', { exact: true }).waitFor();
  await world.shot(page, 'upload-imported');
  const href = await imported.getByRole('link', { name: '查看' }).getAttribute('href');
  if (!/^\/d\/\d+$/.test(href || '')) throw new Error(`unexpected document link ${href}`);

  t.step('the draft is not public yet');
  const early = await fetch(world.url(href));
  if (early.status !== 404) throw new Error(`a draft answered ${early.status} to a reader, not 404`);

  t.step('the editor opens the draft in the editor');
  await imported.getByRole('link', { name: '编辑' }).click();
  await page.getByRole('heading', { name: /编辑文档/ }).waitFor();
  const source = page.getByLabel(/^正文/);
  const text = await source.inputValue();
  if (!text.includes('##paidbegin##') || !text.includes(PAID))
    throw new Error(`the editor does not show the source with its markers:\n${text}`);

  t.step('a broken marker shows its error at its line in the preview');
  const broken2 = text.replace('##paidend##', '##paidend#');
  const badLine = broken2.split('\n').findIndex((l) => l.includes('##paidend#')) + 1;
  await source.fill(broken2);
  await page.getByRole('button', { name: '预览' }).click();
  const alert = page.getByRole('alert');
  await alert.waitFor();
  const shown = await alert.innerText();
  if (!shown.includes(`第 ${badLine} 行`))
    throw new Error(`the preview error does not name line ${badLine}:\n${shown}`);
  await world.shot(page, 'editor-error');

  t.step('fixed, priced, categorised, tagged and previewed');
  await page.getByLabel(/^正文/).fill(text);
  await page.getByLabel(/^价格/).fill('6.80');
  await page.getByLabel(/^分类/).fill('值班记录');
  await page.getByLabel(/^标签/).fill('渡口，值班');
  await page.getByLabel('状态').selectOption('published');
  await page.getByRole('button', { name: '预览' }).click();
  const buyer = page.getByRole('region', { name: '购买者看到的内容' });
  const readerPane = page.getByRole('region', { name: '未购买的读者看到的内容' });
  await buyer.getByText(PAID).waitFor();
  await readerPane.getByText(FREE).waitFor();
  await readerPane.getByText(HEADING).waitFor();  // the outline of the hidden part
  if ((await readerPane.innerText()).includes(PAID))
    throw new Error('the reader preview shows the paid text');
  await world.shot(page, 'editor-preview');

  t.step('published');
  await page.getByRole('button', { name: '保存' }).click();
  await page.getByText('已保存为新版本。').waitFor();
  await page.getByText(/第 2 版/).first().waitFor();
  await world.shot(page, 'editor-saved');

  t.step('a reader who is not signed in opens the document');
  const reader = await t.page();
  await reader.goto(world.url(href));
  await reader.getByRole('heading', { name: TITLE }).waitFor();
  await reader.getByText(FREE).waitFor();
  await reader.getByText(CLOSING).waitFor();
  const paywall = reader.getByRole('region', { name: '付费内容' });
  await paywall.waitFor();
  await paywall.getByText(HEADING).waitFor();
  await reader.getByText('¥6.80').first().waitFor();
  await reader.getByRole('link', { name: '值班记录' }).first().waitFor();
  await reader.getByRole('link', { name: '渡口' }).first().waitFor();
  const html = await reader.content();
  if (html.includes('备用钥匙')) throw new Error('the paid text is on the page of a reader without access');
  await world.shot(reader, 'reader-document');
}
