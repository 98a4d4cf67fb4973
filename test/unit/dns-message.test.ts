import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildReply,
  encodeName,
  frameTcp,
  maxReplySize,
  parseQuery,
  parseReplyHead,
  rcodeReply,
  readName,
  TcpFrameReader,
  TYPE,
  RCODE,
  withId,
  type Answer,
  type Query,
} from '../../src/network/dns/message.js';

/** Bytes from a readable mix of hex strings, ASCII strings ('"...') and numbers. */
function bytes(...parts: Array<string | number | Buffer>): Buffer {
  const out: number[] = [];
  for (const p of parts) {
    if (typeof p === 'number') out.push(p);
    else if (Buffer.isBuffer(p)) out.push(...p);
    else if (p.startsWith('"')) out.push(...Buffer.from(p.slice(1), 'latin1'));
    else out.push(...Buffer.from(p.replace(/\s+/g, ''), 'hex'));
  }
  return Buffer.from(out);
}

const HEADER_RD = (id: string, ar = '0000') => `${id} 0100 0001 0000 0000 ${ar}`;
/** A query for "WeB" type A, recursion desired. */
const QUERY_WEB = bytes(HEADER_RD('1234'), 3, '"WeB', 0, '0001 0001');
/** The same with an EDNS OPT record: payload 4096, version 0, DO bit. */
const OPT = (version = 0) => bytes(0, '0029 1000', 0, version, '8000 0000');
const QUERY_WEB_EDNS = bytes(HEADER_RD('1234', '0001'), 3, '"WeB', 0, '0001 0001', OPT());

function query(buf: Buffer): Query {
  const p = parseQuery(buf);
  assert.equal(p.kind, 'query', `expected a query, got ${p.kind}`);
  return (p as { kind: 'query'; query: Query }).query;
}

function errorReply(buf: Buffer): Buffer {
  const p = parseQuery(buf);
  assert.equal(p.kind, 'error');
  return (p as { kind: 'error'; reply: Buffer }).reply;
}

const A = (...octets: number[]): Answer => ({ type: TYPE.A, address: Uint8Array.from(octets) });

describe('dns message: parsing queries', () => {
  it('reads header, question (lowercased) and the question bounds', () => {
    const q = query(QUERY_WEB);
    assert.deepEqual(q, { id: 0x1234, flags: 0x0100, question: { name: 'web', type: 1, class: 1 }, questionEnd: 21, edns: undefined });
  });

  it('reads the EDNS OPT record from the additional section', () => {
    assert.deepEqual(query(QUERY_WEB_EDNS).edns, { udpSize: 4096, version: 0 });
  });

  it('skips answer and authority records before the OPT record', () => {
    const buf = bytes('0001 0000 0001 0001 0001 0001', 1, '"a', 0, '0001 0001', /* an */ 'c00c 0001 0001 00000000 0004 01020304', /* ns */ 'c00c 0001 0001 00000000 0000', OPT());
    const q = query(buf);
    assert.equal(q.question.name, 'a');
    assert.deepEqual(q.edns, { udpSize: 4096, version: 0 });
  });

  it('follows compression pointers in names', () => {
    // "x" then a pointer to "web" written at offset 12 of a hand-made buffer.
    const buf = bytes('0000 0000 0000 0000 0000 0000', 3, '"web', 0, 1, '"x', 'c00c');
    assert.deepEqual(readName(buf, 17), { name: 'x.web', end: 21 });
  });

  it('escapes dots, backslashes and unprintable bytes inside labels', () => {
    const buf = bytes(3, '"a.b', 2, '"\\', 0x07, 0);
    assert.equal(readName(buf, 0).name, 'a\\.b.\\\\\\007');
  });

  it('reads the root name as ""', () => {
    assert.equal(query(bytes(HEADER_RD('0001'), 0, '0002 0001')).question.name, '');
  });

  it('drops packets too short for a header and replies (QR set)', () => {
    assert.equal(parseQuery(bytes('1234 0100 0001')).kind, 'drop');
    assert.equal(parseQuery(bytes('1234 8180 0001 0000 0000 0000', 0, '0001 0001')).kind, 'drop');
    assert.equal(parseQuery(Buffer.alloc(0)).kind, 'drop');
  });

  it('answers NOTIMP to other opcodes, echoing id and opcode', () => {
    // opcode 2 (STATUS) with RD
    assert.deepEqual(errorReply(bytes('abcd 1100 0001 0000 0000 0000', 0, '0001 0001')), bytes('abcd 9184 0000 0000 0000 0000'));
  });

  it('answers FORMERR to malformed questions', () => {
    const formerr = bytes('1234 8181 0000 0000 0000 0000');
    const cases: Array<[string, Buffer]> = [
      ['no question', bytes('1234 0100 0000 0000 0000 0000')],
      ['two questions', bytes('1234 0100 0002 0000 0000 0000', 0, '0001 0001', 0, '0001 0001')],
      ['label past the end', bytes(HEADER_RD('1234'), 9, '"web')],
      ['no type and class', bytes(HEADER_RD('1234'), 3, '"web', 0, '00')],
      ['pointer to itself', bytes(HEADER_RD('1234'), 'c00c 0001 0001')],
      ['pointer forwards', bytes(HEADER_RD('1234'), 'c00e 0001 0001')],
      ['extended label type', bytes(HEADER_RD('1234'), 0x41, '"web', 0, '0001 0001')],
      ['name over 255 bytes', bytes(HEADER_RD('1234'), ...Array.from({ length: 5 }, () => bytes(63, '"' + 'a'.repeat(63))), 0, '0001 0001')],
      ['additional record past the end', bytes(HEADER_RD('1234', '0001'), 0, '0001 0001', 0, '0029 1000 0000')],
      ['two OPT records', bytes(HEADER_RD('1234', '0002'), 0, '0001 0001', OPT(), OPT())],
    ];
    for (const [what, buf] of cases) assert.deepEqual(errorReply(buf), formerr, what);
  });

  it('never throws on random or mutated packets', () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000);
    for (let i = 0; i < 20_000; i++) {
      const base = i % 2 === 0 ? QUERY_WEB_EDNS : Buffer.alloc(Math.floor(rnd() * 64));
      const buf = Buffer.from(base);
      for (let k = 0; k < 1 + Math.floor(rnd() * 4); k++) if (buf.length > 0) buf[Math.floor(rnd() * buf.length)] = Math.floor(rnd() * 256);
      const p = parseQuery(buf.subarray(0, Math.floor(rnd() * (buf.length + 1))));
      if (p.kind === 'query') buildReply(buf, p.query, { answers: [A(1, 2, 3, 4)], maxSize: 512, truncatable: true });
    }
  });
});

describe('dns message: building replies', () => {
  it('answers A with the question echoed and the owner by pointer (golden)', () => {
    const reply = buildReply(QUERY_WEB, query(QUERY_WEB), { answers: [A(172, 20, 0, 2)], maxSize: 512, truncatable: true });
    assert.deepEqual(
      reply,
      bytes('1234 8180 0001 0001 0000 0000', 3, '"WeB', 0, '0001 0001', 'c00c 0001 0001 00000258 0004 ac140002'),
    );
  });

  it('answers AAAA', () => {
    const q = bytes(HEADER_RD('0007'), 3, '"web', 0, '001c 0001');
    const address = Uint8Array.from(Buffer.from('fd000000000000000000000000000002', 'hex'));
    const reply = buildReply(q, query(q), { answers: [{ type: TYPE.AAAA, address }], maxSize: 512, truncatable: true });
    assert.deepEqual(reply, bytes('0007 8180 0001 0001 0000 0000', 3, '"web', 0, '001c 0001', 'c00c 001c 0001 00000258 0010', Buffer.from(address)));
  });

  it('answers PTR, compressing the target against the question', () => {
    const q = bytes(HEADER_RD('0009'), 1, '"x', 5, '"mynet', 0, '000c 0001');
    const reply = buildReply(q, query(q), { answers: [{ type: TYPE.PTR, target: 'db.mynet' }], maxSize: 512, truncatable: true });
    // "mynet" of the question sits at offset 12 + 2 = 0x0e.
    assert.deepEqual(reply, bytes('0009 8180 0001 0001 0000 0000', 1, '"x', 5, '"mynet', 0, '000c 0001', 'c00c 000c 0001 00000258 0005', 2, '"db', 'c00e'));
  });

  it('answers PTR with a full name and compresses later targets against earlier ones', () => {
    const q = bytes(HEADER_RD('000a'), 1, '"3', 1, '"0', 2, '"20', 3, '"172', 7, '"in-addr', 4, '"arpa', 0, '000c 0001');
    const end = q.length;
    const reply = buildReply(q, query(q), {
      answers: [
        { type: TYPE.PTR, target: 'db.mynet' },
        { type: TYPE.PTR, target: 'web.mynet.' },
      ],
      maxSize: 512,
      truncatable: true,
    });
    const first = bytes('c00c 000c 0001 00000258 000a', 2, '"db', 5, '"mynet', 0);
    const mynetAt = end + 12 + 3;
    const second = bytes('c00c 000c 0001 00000258 0006', 3, '"web', 0xc0, mynetAt);
    assert.deepEqual(reply.subarray(end), Buffer.concat([first, second]));
    assert.equal(reply.readUInt16BE(6), 2);
  });

  it('echoes an OPT record when the query had one (RFC 6891), advertising 1232', () => {
    const reply = buildReply(QUERY_WEB_EDNS, query(QUERY_WEB_EDNS), { answers: [A(10, 0, 0, 1)], maxSize: 1232, truncatable: true });
    assert.deepEqual(
      reply,
      bytes('1234 8180 0001 0001 0000 0001', 3, '"WeB', 0, '0001 0001', 'c00c 0001 0001 00000258 0004 0a000001', 0, '0029 04d0 00000000 0000'),
    );
  });

  it('answers BADVERS to an EDNS version above 0', () => {
    const q = bytes(HEADER_RD('1234', '0001'), 3, '"web', 0, '0001 0001', OPT(1));
    const reply = buildReply(q, query(q), { answers: [A(10, 0, 0, 1)], maxSize: 1232, truncatable: true });
    assert.deepEqual(reply, bytes('1234 8180 0001 0000 0000 0001', 3, '"web', 0, '0001 0001', 0, '0029 04d0 01000000 0000'));
  });

  it('keeps RD and CD, sets RA, and answers without RD when not asked', () => {
    const q = bytes('0001 0010 0001 0000 0000 0000', 0, '0001 0001');
    assert.equal(buildReply(q, query(q), { maxSize: 512, truncatable: true }).readUInt16BE(2), 0x8090);
  });

  it('answers SERVFAIL, REFUSED and NXDOMAIN with the question', () => {
    for (const [rcode, flags] of [
      [RCODE.SERVFAIL, '8182'],
      [RCODE.REFUSED, '8185'],
      [RCODE.NXDOMAIN, '8183'],
    ] as const) {
      assert.deepEqual(rcodeReply(QUERY_WEB, query(QUERY_WEB), rcode), bytes(`1234 ${flags} 0001 0000 0000 0000`, 3, '"WeB', 0, '0001 0001'));
    }
  });

  it('sets the AA bit on request', () => {
    const reply = buildReply(QUERY_WEB, query(QUERY_WEB), { maxSize: 512, truncatable: true, authoritative: true });
    assert.equal(reply.readUInt16BE(2), 0x8580);
  });

  it('truncates over UDP with TC, keeping what fits', () => {
    const answers = Array.from({ length: 40 }, (_, i) => A(10, 0, 0, i));
    const reply = buildReply(QUERY_WEB, query(QUERY_WEB), { answers, maxSize: 512, truncatable: true });
    // 21 bytes of header and question, 16 per A record: 30 fit in 512.
    assert.equal(reply.readUInt16BE(6), 30);
    assert.equal(reply.length, 21 + 30 * 16);
    assert.equal(reply.readUInt16BE(2) & 0x0200, 0x0200);
  });

  it('keeps room for the OPT record when truncating', () => {
    const answers = Array.from({ length: 100 }, (_, i) => A(10, 0, 0, i));
    const q = query(QUERY_WEB_EDNS);
    const reply = buildReply(QUERY_WEB_EDNS, q, { answers, maxSize: maxReplySize(q, 'udp'), truncatable: true });
    assert.ok(reply.length <= 1232);
    assert.equal(reply.readUInt16BE(6), Math.floor((1232 - 21 - 11) / 16));
    assert.equal(reply.readUInt16BE(10), 1);
  });

  it('drops answers without TC over TCP', () => {
    const answers = Array.from({ length: 5000 }, (_, i) => A(10, 0, i >> 8, i & 0xff));
    const reply = buildReply(QUERY_WEB, query(QUERY_WEB), { answers, maxSize: maxReplySize(query(QUERY_WEB), 'tcp'), truncatable: false });
    assert.ok(reply.length <= 65535);
    assert.equal(reply.readUInt16BE(2) & 0x0200, 0);
    assert.equal(reply.readUInt16BE(6), Math.floor((65535 - 21) / 16));
  });

  it('sizes replies: 512 without EDNS, the asked size capped at 1232 with it, 65535 over TCP', () => {
    const withSize = (n: number) => query(bytes(HEADER_RD('0001', '0001'), 0, '0001 0001', 0, '0029', n >> 8, n & 0xff, '00000000 0000'));
    assert.equal(maxReplySize(query(QUERY_WEB), 'udp'), 512);
    assert.equal(maxReplySize(withSize(4096), 'udp'), 1232);
    assert.equal(maxReplySize(withSize(1000), 'udp'), 1000);
    assert.equal(maxReplySize(withSize(100), 'udp'), 512);
    assert.equal(maxReplySize(withSize(100), 'tcp'), 65535);
  });
});

describe('dns message: helpers', () => {
  it('encodes names', () => {
    assert.deepEqual(encodeName('db.mynet.'), bytes(2, '"db', 5, '"mynet', 0));
    assert.deepEqual(encodeName(''), bytes(0));
    assert.deepEqual(encodeName('a\\.b'), bytes(3, '"a.b', 0));
  });

  it('reads the head of a reply (and nothing from a query)', () => {
    const reply = bytes('beef 8583 0001 0000 0000 0000', 3, '"WEB', 0, '001c 0001');
    assert.deepEqual(parseReplyHead(reply), {
      id: 0xbeef,
      rcode: RCODE.NXDOMAIN,
      truncated: false,
      authoritative: true,
      question: { name: 'web', type: TYPE.AAAA, class: 1 },
    });
    assert.equal(parseReplyHead(QUERY_WEB), undefined);
    assert.equal(parseReplyHead(bytes('beef 8380 0001')), undefined);
    assert.equal(parseReplyHead(bytes('beef 8380 0001 0000 0000 0000', 9))?.question, undefined);
    assert.equal(parseReplyHead(bytes('beef 8380 0001 0000 0000 0000', 0, '0001 0001'))?.truncated, true);
  });

  it('copies a message with another id', () => {
    const copy = withId(QUERY_WEB, 0xabcd);
    assert.equal(copy.readUInt16BE(0), 0xabcd);
    assert.equal(QUERY_WEB.readUInt16BE(0), 0x1234);
    assert.deepEqual(copy.subarray(2), QUERY_WEB.subarray(2));
  });

  it('frames TCP messages and splits a stream back into them', () => {
    assert.deepEqual(frameTcp(bytes('0102 03')), bytes('0003 0102 03'));
    const stream = Buffer.concat([frameTcp(QUERY_WEB), frameTcp(QUERY_WEB_EDNS), frameTcp(Buffer.alloc(0))]);
    const reader = new TcpFrameReader();
    const got: Buffer[] = [];
    for (let i = 0; i < stream.length; i += 5) got.push(...reader.push(stream.subarray(i, i + 5)));
    assert.deepEqual(got, [QUERY_WEB, QUERY_WEB_EDNS, Buffer.alloc(0)]);
    assert.equal(reader.pending, 0);
    assert.deepEqual(reader.push(bytes('0004 01')), []);
    assert.equal(reader.pending, 3);
  });
});
