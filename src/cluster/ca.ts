/**
 * The cluster's certificate authority, as swarm mode has one: a self-signed root (ECDSA
 * P-256) made at `swarm init`, which signs each node's certificate (CN = node ID, OU =
 * its role, O = the cluster ID; the node's addresses as SANs) from a request the node
 * makes with its own key, so no private key ever leaves the node that made it. The
 * same certificates are etcd's client and peer TLS and the join endpoint's.
 * X.509 through @peculiar/x509 over Node's WebCrypto; keys are PKCS#8 PEM.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { invalid } from '../errors.js';

x509.cryptoProvider.set(webcrypto as Crypto);

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
/** Docker's root lasts 20 years; node certificates 90 days unless the swarm's CAConfig.NodeCertExpiry says otherwise. */
const ROOT_DAYS = 20 * 365;
export const DEFAULT_NODE_CERT_NS = 90 * 86_400 * 1e9;

export type NodeRole = 'manager' | 'worker';

/** A certificate and its key, PEM. */
export interface KeyedCert {
  cert: string;
  key: string;
}

export interface NodeIdentity {
  nodeId: string;
  role: NodeRole;
  clusterId: string;
}

const days = (n: number): Date => new Date(Date.now() + n * 86_400_000);
/** A random 128-bit serial number, positive (its top bit clear, as DER integers are signed). */
function serial(): string {
  const b = webcrypto.getRandomValues(new Uint8Array(16));
  b[0] = b[0]! & 0x7f;
  return Buffer.from(b).toString('hex');
}

async function keyPair(): Promise<CryptoKeyPair> {
  return webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']) as Promise<CryptoKeyPair>;
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', key);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importKey(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decode(pem)[0]!, ALG, true, ['sign']);
}

/** A new root for a new cluster. */
export async function createRootCa(clusterId: string): Promise<KeyedCert> {
  const keys = await keyPair();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=swarm-ca,O=${clusterId}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: days(ROOT_DAYS),
    keys,
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(true, 1, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { cert: cert.toString('pem'), key: await pemKey(keys.privateKey) };
}

/** A node's key and its certificate request (what a joining node sends). */
export async function nodeRequest(nodeId: string): Promise<{ key: string; csr: string }> {
  const keys = await keyPair();
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${nodeId}`, keys, signingAlgorithm: ALG });
  return { key: await pemKey(keys.privateKey), csr: csr.toString('pem') };
}

/**
 * Sign a node's request: the identity and addresses are the CA's decision, not the
 * request's (only its public key is taken, once its signature checks out).
 */
export async function signNode(root: KeyedCert, csrPem: string, who: NodeIdentity, addresses: readonly string[], lifetimeNs = DEFAULT_NODE_CERT_NS): Promise<string> {
  const csr = new x509.Pkcs10CertificateRequest(csrPem);
  if (!(await csr.verify())) throw invalid('the certificate request is not signed by its key');
  const issuer = new x509.X509Certificate(root.cert);
  const names = [{ type: 'dns' as const, value: who.nodeId }, { type: 'dns' as const, value: 'localhost' }, { type: 'ip' as const, value: '127.0.0.1' }];
  for (const a of addresses) names.push({ type: 'ip' as const, value: a });
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: `CN=${who.nodeId},OU=swarm-${who.role},O=${who.clusterId}`,
    issuer: issuer.subject,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + lifetimeNs / 1e6),
    publicKey: await csr.publicKey.export(ALG, ['verify']),
    signingKey: await importKey(root.key),
    signingAlgorithm: ALG,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(names),
    ],
  });
  return cert.toString('pem');
}

/** The identity a node certificate carries (CN, OU, O), after checking the root signed it. */
export async function certIdentity(certPem: string, rootPem: string): Promise<NodeIdentity> {
  const cert = new x509.X509Certificate(certPem);
  const root = new x509.X509Certificate(rootPem);
  if (!(await cert.verify({ publicKey: root.publicKey, signatureOnly: true }))) throw invalid('the certificate is not signed by this cluster');
  const part = (key: string): string => cert.subjectName.getField(key)[0] ?? '';
  const ou = part('OU');
  if (ou !== 'swarm-manager' && ou !== 'swarm-worker') throw invalid(`the certificate names no swarm role (OU=${ou})`);
  return { nodeId: part('CN'), role: ou === 'swarm-manager' ? 'manager' : 'worker', clusterId: part('O') };
}

/** Docker's TLSInfo of a root: its PEM, and the DER of its subject and public key (base 64, as Go's []byte). */
export function tlsInfo(rootPem: string): { trustRoot: string; certIssuerSubject: string; certIssuerPublicKey: string } {
  const root = new x509.X509Certificate(rootPem);
  return {
    trustRoot: rootPem,
    certIssuerSubject: Buffer.from(root.subjectName.toArrayBuffer()).toString('base64'),
    certIssuerPublicKey: Buffer.from(root.publicKey.rawData).toString('base64'),
  };
}
