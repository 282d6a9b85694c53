import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Key, Keyring, Keystore, Writer, Reader, verify, verifyChains, verifyIdentities, timestampQuery, convert, version,
  typeCode, fourcc, MaifAccessError,
  MaifError, MaifNotFoundError, MaifExistsError, MaifValueError, MaifFormatError, MaifStateError,
} from '../src/index.js';
import { tmpdir } from './helpers.js';

let dir, key;
beforeAll(() => {
  dir = tmpdir();
  key = Key.generate();
});
afterAll(() => {
  key.free();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('library', () => {
  it('reports its version', () => {
    expect(version()).toMatch(/^\d+\.\d+\.\d+$/);
  });
  it('parses block types both ways', () => {
    expect(typeCode('text')).toBe(0x54455854);
    expect(typeCode('EMBD')).toBe(0x454d4244);
    expect(fourcc(0x4a534f4e)).toBe('JSON');
    expect(() => typeCode('no such type')).toThrow(MaifValueError);
  });
});

describe('Key', () => {
  it('saves, loads and derives the same public key', () => {
    const p = path.join(dir, 'k.key');
    key.save(p);
    expect(fs.existsSync(p + '.pub')).toBe(true);
    const k2 = Key.load(p);
    expect(k2.publicKey.equals(key.publicKey)).toBe(true);
    k2.free();
    expect(k2.closed).toBe(true);
  });
  it('derives a key from a seed deterministically', () => {
    const seed = Buffer.alloc(32, 7);
    const a = Key.fromSeed(seed), b = Key.fromSeed(seed);
    expect(a.publicKey.toString('hex')).toBe(b.publicKey.toString('hex'));
    expect(() => Key.fromSeed(Buffer.alloc(5))).toThrow(MaifError);
  });
  it('loads the default key from MAIF_HOME, making it once', () => {
    const home = path.join(dir, 'home');
    const saved = process.env.MAIF_HOME;
    process.env.MAIF_HOME = home;
    try {
      const a = Key.default();
      expect(a.path).toBe(path.join(home, 'default.key'));
      expect(fs.existsSync(a.path)).toBe(true);
      const b = Key.default();
      expect(b.publicKey.equals(a.publicKey)).toBe(true);
    } finally {
      if (saved === undefined) delete process.env.MAIF_HOME;
      else process.env.MAIF_HOME = saved;
    }
  });
  it('rejects a missing key file with the library code and message', () => {
    try {
      Key.load(path.join(dir, 'missing.key'));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(MaifNotFoundError);
      expect(e.code).toBe(-4);
      expect(e.codeName).toBe('MAIF_ENOTFOUND');
      expect(e.message).toMatch(/missing\.key/);
    }
  });
});

describe('Writer and Reader', () => {
  it('round-trips text, binary, json and embedding blocks with metadata', () => {
    const p = path.join(dir, 'rt.maif');
    const w = Writer.create(p, { key, agentId: 'agent-js' });
    const t = w.addText('héllo wörld', { source: 'chat', n: 1 });
    const b = w.addBinary(Buffer.from([0, 1, 2, 255]), { name: 'raw' });
    const j = w.addJson({ a: [1, 2], b: 'x' });
    const e = w.addEmbedding([[1, 2, 3], [0.5, -1, 4]], { model: 'test', source_block: t });
    expect(w.count).toBe(4);
    w.commit();
    w.close();

    const r = new Reader(p);
    expect(r.count).toBe(4);
    expect(r.format).toBe('native');
    const b0 = r.block(0);
    expect(b0).toMatchObject({ type: 'TEXT', id: t, text: 'héllo wörld', metadata: { source: 'chat', n: 1 } });
    expect(r.block(1).payload.equals(Buffer.from([0, 1, 2, 255]))).toBe(true);
    expect(r.block(1).type).toBe('BINA');
    expect(JSON.parse(r.block(2).text)).toEqual({ a: [1, 2], b: 'x' });
    const eb = r.block(3);
    expect(eb.type).toBe('EMBD');
    expect(eb.metadata).toMatchObject({ model: 'test', source_block: t, count: 2, dimensions: 3, dtype: 'float32' });
    expect(Array.from(eb.vectors[1])).toEqual([0.5, -1, 4]);
    expect(r.find(e)).toBe(3);
    expect(r.find(j)).toBe(2);
    expect(r.find(b)).toBe(1);
    expect(r.info()).toMatchObject({ format: 'native', blockCount: 4, agent: 'agent-js' });
    expect(r.info().signer).toBe(key.publicKey.toString('hex'));
    expect([...r.blocks()].map((x) => x.type)).toEqual(['TEXT', 'BINA', 'JSON', 'EMBD']);
    r.close();
    expect(() => r.count).toThrow(MaifStateError);
  });

  it('takes chosen ids and times, and compresses with the CLI spelling', () => {
    const p = path.join(dir, 'ids.maif');
    const w = Writer.create(p, { key, compress: 'zstd:9' });
    const tid = 'ab'.repeat(16), eid = 'cd'.repeat(16);
    const long = 'all work and no play makes jack a dull boy. '.repeat(200);
    expect(w.addText(long, null, { id: tid, timestampUs: 1700000000000000 })).toBe(tid);
    expect(w.addEmbedding([3, 4], { model: 'm' }, { id: eid, timestampUs: 1700000000000001 })).toBe(eid);
    w.commit();
    w.close();
    const r = new Reader(p);
    const t = r.block(r.find(tid));
    expect(t.text).toBe(long);
    expect(t.codec).toBe(1); // zstd
    expect(t.payloadSize).toBeLessThan(Buffer.byteLength(long));
    expect(t.timestampUs).toBe(1700000000000000);
    const e = r.block(r.find(eid));
    expect(e.metadata).toEqual({ model: 'm', count: 1, dimensions: 2, dtype: 'float32' });
    expect(Array.from(e.vectors[0])).toEqual([3, 4]);
    r.close();
    expect(verify(p).ok).toBe(true);
  });

  it('rolls back, and close drops what was not committed', () => {
    const p = path.join(dir, 'rb.maif');
    const w = Writer.create(p, { key });
    w.addText('kept');
    w.commit();
    w.addText('rolled back');
    w.rollback();
    w.addText('dropped at close');
    w.close();
    const r = new Reader(p);
    expect(r.count).toBe(1);
    expect(r.block(0).text).toBe('kept');
    r.close();
  });

  it('appends with open, supersedes, and follows history', () => {
    const p = path.join(dir, 'hist.maif');
    let w = Writer.create(p, { key });
    const v1 = w.addText('v1');
    w.commit();
    w.close();
    const r = new Reader(p);
    w = Writer.open(p, { key });
    const v2 = w.addText('v2', null, { supersedes: v1 });
    w.commit();
    const v3 = w.addText('v3', null, { supersedes: v2 });
    w.commit();
    w.close();
    expect(r.count).toBe(1);
    expect(r.refresh()).toBe(true);
    expect(r.count).toBe(3);
    expect(r.block(1).supersedes).toBe(v1);
    expect(r.history(v3)).toEqual([0, 1, 2]);
    expect(r.history(v1)).toEqual([0, 1, 2]);
    r.close();
  });

  it('throws library errors as Error subclasses', () => {
    const p = path.join(dir, 'exists.maif');
    Writer.create(p, { key }).close();
    expect(() => Writer.create(p, { key })).toThrow(MaifExistsError);
    Writer.create(p, { key, overwrite: true }).close();
    const w = Writer.open(p, { key });
    expect(() => w.addText('x', { bad: undefined, nested: { ok: 1 } }).length).not.toThrow();
    expect(() => w.add('json', '{not json', null)).not.toThrow(); // raw add does not parse payloads
    expect(() => w.addEmbedding([[1, 2], [3]])).toThrow(MaifValueError);
    expect(() => w.add('text', 'x', '{"a":1,"a":2}')).toThrow(MaifValueError);
    w.close();
    fs.writeFileSync(path.join(dir, 'junk.maif'), 'this is not a maif file at all, not even close');
    expect(() => new Reader(path.join(dir, 'junk.maif'))).toThrow(MaifFormatError);
    const r = new Reader(p);
    expect(() => r.find('00'.repeat(16))).toThrow(MaifNotFoundError);
    expect(() => r.block(99)).toThrow(MaifNotFoundError);
    r.close();
  });
});

describe('files written by the original MAIF 2.1 implementation', () => {
  const data = path.join(import.meta.dirname, '..', '..', 'tests', 'data', 'v21');
  it('reads and verifies them', () => {
    const r = new Reader(path.join(data, 'sample_multimodal.maif'));
    expect(r.format).toBe('v21');
    const blocks = [...r.blocks()];
    expect(blocks.map((b) => b.type)).toEqual(['TEXT', 'AUDI', 'VIDE', 'IMAG', 'EMBD']);
    expect(blocks[0].text).toMatch(/multimodal/);
    expect(blocks[4].vectors[0].length).toBe(blocks[4].metadata.dimensions);
    r.close();
    for (const f of fs.readdirSync(data)) expect(verify(path.join(data, f)).ok).toBe(true);
  });
});

describe('encryption at rest', () => {
  it('seals payloads for a recipient and a passphrase; opens them with either', () => {
    const p = path.join(dir, 'sealed.maif');
    const bob = Key.generate();
    const kr = new Keyring({ recipients: [bob] });
    kr.addPassphrase('correct horse battery staple', 'pbkdf2');
    const w = Writer.create(p, { key });
    w.addText('public note');
    w.encrypt(kr, 'chacha20-poly1305');
    const sid = w.addText('secret note', { kind: 'diary' });
    w.commit();
    w.close();
    expect(fs.readFileSync(p).includes(Buffer.from('secret note'))).toBe(false);
    expect(verify(p).ok).toBe(true);
    const r = new Reader(p);
    const i = r.find(sid);
    expect(r.header(i).metadata).toEqual({ kind: 'diary' }); // metadata stays public
    expect(r.header(i).cipher).toBe(2);
    expect(() => r.read(i)).toThrow(MaifAccessError);
    r.setKeyring(new Keyring({ identities: [bob] }));
    expect(r.block(i).text).toBe('secret note');
    r.close();
    const r2 = Reader.open(p, { keyring: new Keyring({ passphrases: ['correct horse battery staple'] }) });
    expect(r2.block(r2.find(sid)).text).toBe('secret note');
    r2.close();
    const r3 = Reader.open(p, { keyring: new Keyring({ identities: [Key.generate()] }) });
    expect(() => r3.read(r3.find(sid))).toThrow(MaifAccessError);
    r3.close();
    expect(() => new Keyring().addPassphrase('x', 'md5')).toThrow(MaifValueError);
  });
});

describe('crypto-shredding', () => {
  it('erases a block through its keystore; a copy of the keystore from before opens nothing', () => {
    const p = path.join(dir, 'shred.maif');
    const ksPath = path.join(dir, 'shred.keystore'), master = path.join(dir, 'shred.master');
    expect(() => Keystore.open(ksPath, master)).toThrow(MaifNotFoundError);
    const ks = Keystore.open(ksPath, master, { create: true });
    const w = Writer.create(p, { key });
    w.encryptShreddable(ks);
    w.addText('forget me');
    w.encryptShreddable(ks, 'chacha20');
    w.addText('keep me');
    w.commit();
    expect(ks.count).toBe(2);
    const backup = fs.readFileSync(ksPath);
    const kr = new Keyring();
    kr.addKeystore(ks);
    let r = Reader.open(p, { keyring: kr });
    expect(r.block(0).text).toBe('forget me');
    r.close();
    expect(ks.shred(w, [0], { punch: true })).toBe(1);
    expect(() => ks.shred(w, [2])).toThrow(MaifValueError); // the erasure record is not shreddable
    w.close();
    expect(ks.count).toBe(1);
    r = Reader.open(p, { keyring: kr });
    expect(() => r.read(0)).toThrow(MaifAccessError);
    expect(r.block(1).text).toBe('keep me');
    r.close();
    fs.writeFileSync(path.join(dir, 'old.keystore'), backup);
    expect(() => Keystore.open(path.join(dir, 'old.keystore'), master)).toThrow(/master key/);
    const rep = verify(p);
    expect(rep.ok).toBe(true);
    expect(rep.findings.some((f) => f.code === 'erased')).toBe(true);
    ks.rekey();
    ks.close();
  });
  it('checks certificate chains; a malformed CRL file is refused', () => {
    const p = path.join(dir, 'chains.maif');
    const w = Writer.create(p, { key });
    w.addText('no certificate attached');
    w.commit();
    w.close();
    const root = path.join(dir, 'root.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-keyout', path.join(dir, 'root.key'), '-subj', '/CN=JS-Root', '-days', '30', '-out', root], { stdio: 'ignore' });
    const rep = verifyChains(p, root);
    expect(rep.ok).toBe(false);
    expect(rep.findings.map((f) => f.code)).toEqual(['identity-no-chain']);
    expect(() => verifyChains(p, fs.readFileSync(root), { crls: Buffer.from('not a CRL') })).toThrow(MaifFormatError);
  });
});

describe('trusted timestamps', () => {
  it('asks for a token over the last commit, stores a TSA answer, verifies it', () => {
    const d = path.join(dir, 'tsa');
    fs.mkdirSync(d, { recursive: true });
    const run = (...args) => execFileSync('openssl', args, { cwd: d, stdio: 'ignore' });
    fs.writeFileSync(path.join(d, 'ext.cnf'), '[t]\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n' +
      'extendedKeyUsage=critical,timeStamping\n');
    fs.writeFileSync(path.join(d, 'tsa.cnf'), '[tsa]\ndefault_tsa = t\n[t]\nserial = ./serial\nsigner_cert = ./tsa.pem\n' +
      'certs = ./tsa.pem\nsigner_key = ./tsa.key\nsigner_digest = sha256\ndefault_policy = 1.2.3.4.1\n' +
      'digests = sha256\ness_cert_id_alg = sha256\n');
    fs.writeFileSync(path.join(d, 'serial'), '01\n');
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'root.key',
      '-subj', '/CN=JS-TSA-Root', '-days', '30', '-out', 'root.pem');
    run('req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', 'tsa.key',
      '-subj', '/CN=JS-TSA', '-out', 'tsa.csr');
    run('x509', '-req', '-in', 'tsa.csr', '-CA', 'root.pem', '-CAkey', 'root.key', '-set_serial', '5', '-days', '30',
      '-extfile', 'ext.cnf', '-extensions', 't', '-out', 'tsa.pem');
    const p = path.join(d, 't.maif');
    let w = Writer.create(p, { key });
    w.addText('worth a timestamp');
    w.commit();
    w.close();
    fs.writeFileSync(path.join(d, 'q.tsq'), timestampQuery(p));
    run('ts', '-reply', '-config', 'tsa.cnf', '-queryfile', 'q.tsq', '-out', 'r.tsr');
    w = Writer.open(p, { key });
    const got = w.addTimestamp(fs.readFileSync(path.join(d, 'r.tsr')));
    expect(got.commit).toBe(1);
    expect(() => w.addTimestamp(Buffer.from('not a response'))).toThrow(MaifFormatError);
    w.commit();
    w.close();
    const rep = verifyIdentities(p, { tsaRoots: path.join(d, 'root.pem') });
    expect(rep.ok).toBe(true);
    expect(rep.findings.map((f) => f.code)).toEqual(['timestamp']);
    expect(() => verifyIdentities(p, {})).toThrow(MaifValueError);
  });
});

describe('verify and convert', () => {
  it('verifies, detects a flipped byte, and converts to MAIF 2.1 and back', () => {
    const p = path.join(dir, 'v.maif');
    const w = Writer.create(p, { key });
    w.addText('the quick brown fox jumps over the lazy dog', { k: 'v' });
    w.commit();
    w.close();
    const rep = verify(p, { trustedKeys: [key] });
    expect(rep.ok).toBe(true);
    expect(rep.format).toBe('native');
    expect(rep.blocks).toBe(1);
    expect(rep.signers).toEqual([{ publicKey: key.publicKey.toString('hex'), pinned: true }]);
    expect(verify(p, { trustedKeys: [Key.generate()] }).ok).toBe(false);

    const v21 = path.join(dir, 'v.v21.maif');
    expect(convert(p, v21, { key, to: 'v21' }).ok).toBe(true);
    const r = new Reader(v21);
    expect(r.format).toBe('v21');
    expect(r.block(0).text).toBe('the quick brown fox jumps over the lazy dog');
    r.close();
    expect(verify(v21).ok).toBe(true);

    const bytes = fs.readFileSync(p);
    const at = bytes.indexOf(Buffer.from('quick'));
    bytes[at] ^= 1;
    const bad = path.join(dir, 'bad.maif');
    fs.writeFileSync(bad, bytes);
    const br = verify(bad);
    expect(br.ok).toBe(false);
    expect(br.errors.length).toBeGreaterThan(0);
    expect(br.findings.some((f) => f.severity === 'error' && f.block === 0)).toBe(true);
    let thrown;
    try {
      convert(bad, path.join(dir, 'never.maif'), { key });
    } catch (e) {
      thrown = e;
    }
    expect(thrown?.codeName).toBe('MAIF_EVERIFY');
    expect(thrown.report.ok).toBe(false);
    expect(fs.existsSync(path.join(dir, 'never.maif'))).toBe(false);
  });
});
