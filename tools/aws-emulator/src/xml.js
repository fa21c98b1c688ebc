// A small XML reader and writer for the request bodies S3 bucket configurations arrive in
// (PutBucketEncryption, PutPublicAccessBlock, PutBucketLifecycleConfiguration, CreateBucket):
// elements, text, attributes, entities, CDATA, comments and the XML declaration; no DTDs.
import { xml_escape } from './util.js';

export class XmlError extends Error {}

const ENTITIES = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function decode_entities(text) {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-z]+);/g, (m, e) => {
    if (e[0] === '#') return String.fromCodePoint(e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10));
    if (!(e in ENTITIES)) throw new XmlError(`unknown entity &${e};`);
    return ENTITIES[e];
  });
}

// -> {name, attrs, children: [element], text} for the document element. `name` drops any prefix.
export function parse_xml(input) {
  const s = Buffer.isBuffer(input) ? input.toString('utf8') : String(input);
  let pos = 0;
  const skip_misc = () => {
    for (;;) {
      while (pos < s.length && /\s/.test(s[pos])) pos += 1;
      if (s.startsWith('<?', pos)) {
        const end = s.indexOf('?>', pos);
        if (end < 0) throw new XmlError('unterminated processing instruction');
        pos = end + 2;
      } else if (s.startsWith('<!--', pos)) {
        const end = s.indexOf('-->', pos);
        if (end < 0) throw new XmlError('unterminated comment');
        pos = end + 3;
      } else if (s.startsWith('<!', pos)) {
        throw new XmlError('DTDs are not accepted');
      } else {
        return;
      }
    }
  };
  const element = () => {
    const m = /^<([A-Za-z_][\w.:-]*)((?:\s+[A-Za-z_][\w.:-]*\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/.exec(s.slice(pos, pos + 4096));
    if (!m) throw new XmlError(`expected an element at offset ${pos}`);
    pos += m[0].length;
    const qname = m[1];
    const attrs = {};
    for (const a of m[2].matchAll(/([A-Za-z_][\w.:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) attrs[a[1]] = decode_entities(a[2] ?? a[3]);
    const node = { name: qname.includes(':') ? qname.slice(qname.indexOf(':') + 1) : qname, attrs, children: [], text: '' };
    if (m[3]) return node;
    let text = '';
    for (;;) {
      if (pos >= s.length) throw new XmlError(`element <${qname}> is not closed`);
      if (s.startsWith('</', pos)) {
        const close = /^<\/([A-Za-z_][\w.:-]*)\s*>/.exec(s.slice(pos, pos + 300));
        if (!close || close[1] !== qname) throw new XmlError(`mismatched closing tag for <${qname}>`);
        pos += close[0].length;
        node.text = text;
        return node;
      }
      if (s.startsWith('<!--', pos)) {
        const end = s.indexOf('-->', pos);
        if (end < 0) throw new XmlError('unterminated comment');
        pos = end + 3;
      } else if (s.startsWith('<![CDATA[', pos)) {
        const end = s.indexOf(']]>', pos);
        if (end < 0) throw new XmlError('unterminated CDATA');
        text += s.slice(pos + 9, end);
        pos = end + 3;
      } else if (s[pos] === '<') {
        node.children.push(element());
      } else {
        const next = s.indexOf('<', pos);
        if (next < 0) throw new XmlError(`element <${qname}> is not closed`);
        text += decode_entities(s.slice(pos, next));
        pos = next;
      }
    }
  };
  skip_misc();
  if (pos >= s.length) throw new XmlError('empty document');
  const root = element();
  skip_misc();
  if (pos !== s.length) throw new XmlError('content after the document element');
  return root;
}

export function children(node, name) {
  return node.children.filter((c) => c.name === name);
}

export function child(node, name) {
  return node.children.find((c) => c.name === name) || null;
}

// The element's text, or null when it is absent.
export function child_text(node, name) {
  const c = child(node, name);
  return c ? c.text.trim() : null;
}

// Writes a tree back ({name, children, text}); the root gets the S3 namespace.
export function write_xml(node, ns = null) {
  const attrs = ns ? ` xmlns="${ns}"` : '';
  if (node.children.length) return `<${node.name}${attrs}>${node.children.map((c) => write_xml(c)).join('')}</${node.name}>`;
  return `<${node.name}${attrs}>${xml_escape(node.text)}</${node.name}>`;
}

export const el = (name, ...kids) => ({ name, attrs: {}, children: kids, text: '' });
export const leaf = (name, text) => ({ name, attrs: {}, children: [], text: String(text) });
