// A small XML well-formedness check, enough for the suite's hand-written SVG: one root
// element, tags nested and closed in order, attributes quoted and not repeated, only the five
// predefined entities or numeric references, no stray '<' or '&'. Returns the problem, or null.

const NAME = '[A-Za-z_:][-A-Za-z0-9_:.]*';
const ATTR = new RegExp(`\\s+(${NAME})\\s*=\\s*("[^"<]*"|'[^'<]*')`, 'y');
const ENTITY = /^&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9A-Fa-f]+);/;

function badText(text: string): string | null {
  for (let i = text.indexOf('&'); i >= 0; i = text.indexOf('&', i + 1)) {
    if (!ENTITY.test(text.slice(i))) return `bad entity at "${text.slice(i, i + 12)}"`;
  }
  return null;
}

export function xmlProblem(doc: string): string | null {
  let pos = 0;
  const open: string[] = [];
  let roots = 0;
  const decl = /^<\?xml[^?]*\?>/.exec(doc);
  if (decl) pos = decl[0].length;
  while (pos < doc.length) {
    const lt = doc.indexOf('<', pos);
    const text = doc.slice(pos, lt < 0 ? doc.length : lt);
    if (open.length === 0 && text.trim() !== '') return `text outside the root element: "${text.trim().slice(0, 20)}"`;
    const t = badText(text);
    if (t) return t;
    if (lt < 0) break;
    if (doc.startsWith('<!--', lt)) {
      const end = doc.indexOf('-->', lt + 4);
      if (end < 0) return 'unclosed comment';
      pos = end + 3;
      continue;
    }
    const close = new RegExp(`</(${NAME})\\s*>`, 'y');
    close.lastIndex = lt;
    const c = close.exec(doc);
    if (c) {
      const top = open.pop();
      if (top !== c[1]) return `</${c[1]}> closes <${top ?? 'nothing'}>`;
      pos = close.lastIndex;
      continue;
    }
    const start = new RegExp(NAME, 'y');
    start.lastIndex = lt + 1;
    const name = start.exec(doc);
    if (!name) return `malformed tag at offset ${lt}`;
    let at = start.lastIndex;
    const seen = new Set<string>();
    for (;;) {
      ATTR.lastIndex = at;
      const a = ATTR.exec(doc);
      if (!a) break;
      if (seen.has(a[1])) return `attribute ${a[1]} repeated in <${name[0]}>`;
      seen.add(a[1]);
      const bad = badText(a[2]);
      if (bad) return bad;
      at = ATTR.lastIndex;
    }
    const end = /\s*(\/?)>/y;
    end.lastIndex = at;
    const e = end.exec(doc);
    if (!e) return `malformed tag <${name[0]}> at offset ${lt}`;
    if (open.length === 0) roots++;
    if (roots > 1) return 'more than one root element';
    if (e[1] !== '/') open.push(name[0]);
    pos = end.lastIndex;
  }
  if (open.length > 0) return `unclosed <${open[open.length - 1]}>`;
  return roots === 1 ? null : 'no root element';
}
