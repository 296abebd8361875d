/**
 * A PDF of fax pages: each page one image XObject whose stream is the page's T.4 data
 * under CCITTFaxDecode, so the pixels are the fax's own, not re-encoded. The page is
 * sized from the fax resolution (204 dpi across, 98 or 196 lines per inch). Pure.
 */
import { FAX_XDPI, faxYdpi, type FaxPage } from './page.js';

export interface PdfMeta {
  title?: string;
  /** CreationDate in PDF form, e.g. D:20261202153000Z. */
  creationDate?: string;
  producer?: string;
}

/** A PDF literal string: backslash, parentheses and non-printables escaped. */
function pdfString(s: string): string {
  let out = '(';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0x3f;
    if (ch === '\\' || ch === '(' || ch === ')') out += `\\${ch}`;
    else if (c < 0x20 || c > 0x7e) out += c < 0x100 ? `\\${c.toString(8).padStart(3, '0')}` : '?';
    else out += ch;
  }
  return `${out})`;
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3).replace(/0+$/, '');
}

export function writePdf(pages: readonly FaxPage[], meta: PdfMeta = {}): Buffer {
  const chunks: Buffer[] = [];
  const offsets: number[] = [];
  let at = 0;
  const put = (b: Buffer | string): void => {
    const buf = typeof b === 'string' ? Buffer.from(b, 'latin1') : b;
    chunks.push(buf);
    at += buf.length;
  };
  const obj = (n: number, body: () => void): void => {
    offsets[n] = at;
    put(`${n} 0 obj\n`);
    body();
    put('\nendobj\n');
  };
  // Object numbers: 1 catalog, 2 pages, 3 info, then per page: page, contents, image.
  const pageObj = (i: number): number => 4 + i * 3;
  put('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n');
  obj(1, () => put('<< /Type /Catalog /Pages 2 0 R >>'));
  obj(2, () => put(`<< /Type /Pages /Count ${pages.length} /Kids [${pages.map((_, i) => `${pageObj(i)} 0 R`).join(' ')}] >>`));
  obj(3, () => {
    const fields = [
      meta.title !== undefined ? `/Title ${pdfString(meta.title)}` : '',
      meta.producer !== undefined ? `/Producer ${pdfString(meta.producer)}` : '',
      meta.creationDate !== undefined ? `/CreationDate ${pdfString(meta.creationDate)}` : '',
    ].filter((f) => f !== '');
    put(`<< ${fields.join(' ')} >>`);
  });
  pages.forEach((p, i) => {
    const n = pageObj(i);
    const w = (p.width * 72) / FAX_XDPI;
    const h = (p.height * 72) / faxYdpi(p);
    obj(n, () =>
      put(`<< /Type /Page /Parent 2 0 R /MediaBox [0 0 ${fmt(w)} ${fmt(h)}] /Resources << /XObject << /Im0 ${n + 2} 0 R >> >> /Contents ${n + 1} 0 R >>`),
    );
    const content = `q ${fmt(w)} 0 0 ${fmt(h)} 0 0 cm /Im0 Do Q`;
    obj(n + 1, () => put(`<< /Length ${content.length} >>\nstream\n${content}\nendstream`));
    obj(n + 2, () => {
      // K 0 = pure 1-D; K > 0 = mixed 1-D/2-D (MR). Damaged rows are tolerated: a
      // received fax may have some, and a viewer should still show the page.
      const parms = `<< /K ${p.twoD ? 1 : 0} /Columns ${p.width} /Rows ${p.height} /EndOfLine true /DamagedRowsBeforeError ${Math.max(p.height, 1)} >>`;
      put(
        `<< /Type /XObject /Subtype /Image /Width ${p.width} /Height ${p.height} /ColorSpace /DeviceGray /BitsPerComponent 1 ` +
          `/Filter /CCITTFaxDecode /DecodeParms ${parms} /Length ${p.g3.length} >>\nstream\n`,
      );
      put(Buffer.from(p.g3));
      put('\nendstream');
    });
  });
  const xref = at;
  const count = 4 + pages.length * 3;
  put(`xref\n0 ${count}\n0000000000 65535 f \n`);
  for (let i = 1; i < count; i++) put(`${String(offsets[i] ?? 0).padStart(10, '0')} 00000 n \n`);
  put(`trailer\n<< /Size ${count} /Root 1 0 R /Info 3 0 R >>\nstartxref\n${xref}\n%%EOF\n`);
  return Buffer.concat(chunks);
}
