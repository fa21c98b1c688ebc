// Prints the data a Playwright HTML report embeds (report.json and one JSON per spec file, a
// base64 zip in index.html) as one JSON object {"report.json": ..., "<fileId>.json": ...}.
// Usage: node html_report.js <report dir>/index.html
const fs = require('fs');
const zlib = require('zlib');

const html = fs.readFileSync(process.argv[2], 'utf8');
const m = html.match(/<template id="playwrightReportBase64">data:application\/zip;base64,([^<]*)<\/template>/);
if (!m) {
  console.error(`no embedded report data in ${process.argv[2]}`);
  process.exit(1);
}
const zip = Buffer.from(m[1], 'base64');
// Walk the zip's central directory (end record, then one header per entry).
const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
const count = zip.readUInt16LE(eocd + 10);
let at = zip.readUInt32LE(eocd + 16);
const files = {};
for (let i = 0; i < count; i++) {
  const method = zip.readUInt16LE(at + 10);
  const size = zip.readUInt32LE(at + 20);
  const nameLength = zip.readUInt16LE(at + 28);
  const skip = nameLength + zip.readUInt16LE(at + 30) + zip.readUInt16LE(at + 32);
  const local = zip.readUInt32LE(at + 42);
  const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
  const dataAt = local + 30 + zip.readUInt16LE(local + 26) + zip.readUInt16LE(local + 28);
  const raw = zip.subarray(dataAt, dataAt + size);
  files[name] = JSON.parse((method === 8 ? zlib.inflateRawSync(raw) : raw).toString('utf8'));
  at += 46 + skip;
}
console.log(JSON.stringify(files));
